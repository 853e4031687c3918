"""ioukit.nms.nms / batched_nms against torchvision (when installed) and a plain loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.errors import InvalidBoxesError, ShapeMismatchError
from ioukit.nms import batched_nms, nms

torch = pytest.importorskip("torch")
from ioukit.nms import _torch as T  # noqa: E402

try:
    import torchvision  # noqa: F401
    from torchvision.ops import batched_nms as tv_batched_nms
    from torchvision.ops import nms as tv_nms

    HAVE_TV = True
except Exception:  # pragma: no cover - depends on the environment
    HAVE_TV = False
needs_tv = pytest.mark.skipif(
    not HAVE_TV, reason="torchvision not installed (the benchmark venv .bench-venv has it)"
)


def ref_nms(boxes, scores, thr, labels=None):
    """Greedy NMS written out plainly, with torchvision's per-pair arithmetic."""
    boxes = np.asarray(boxes)
    dt = boxes.dtype.type
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    area = [dt((b[2] - b[0]) * (b[3] - b[1])) for b in boxes]
    supp = [False] * len(boxes)
    keep = []
    for a, i in enumerate(order):
        if supp[i]:
            continue
        keep.append(i)
        for j in order[a + 1 :]:
            if supp[j] or (labels is not None and labels[i] != labels[j]):
                continue
            w = max(dt(0), dt(min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])))
            h = max(dt(0), dt(min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])))
            inter = dt(w * h)
            with np.errstate(invalid="ignore", divide="ignore"):
                ovr = dt(inter / dt(dt(area[i] + area[j]) - inter))
            if float(ovr) > thr:
                supp[j] = True
    return np.array(keep, dtype=np.int64)


def clustered(n, seed, n_clusters=None, dtype=np.float32, scale=100.0, quantize=None):
    """Boxes jittered around cluster centres (so many overlap), scores in [0, 1)."""
    rng = np.random.default_rng(seed)
    k = n_clusters or max(1, n // 10)
    centres = rng.uniform(0, scale, (k, 2))
    wh = rng.uniform(2, 15, (k, 2))
    c = rng.integers(0, k, n)
    ctr = centres[c] + rng.normal(0, 1.5, (n, 2))
    size = wh[c] * rng.uniform(0.8, 1.25, (n, 2))
    b = np.concatenate([ctr - size / 2, ctr + size / 2], 1)
    if quantize:
        b = np.round(b * quantize) / quantize
    s = rng.random(n)
    if quantize:
        s = np.round(s * 8) / 8  # many equal scores
    return b.astype(dtype), s.astype(dtype)


# --- hand-worked cases --------------------------------------------------------------


def test_exact_threshold_tie_is_kept():
    # [0,0,2,1] vs [0,0,1,1]: inter 1, union 2 + 1 - 1 = 2, IoU = 0.5 exactly.
    b = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], np.float32)
    s = np.array([0.9, 0.8], np.float32)
    assert nms(b, s, 0.5).tolist() == [0, 1]  # 0.5 > 0.5 is false
    assert nms(b, s, 0.4999).tolist() == [0]


def test_float32_iou_against_double_threshold():
    # IoU of [0,0,10,1] and [0,0,7,1] is 7/10 = float32 0.69999999 (< 0.7 in double).
    b = np.array([[0, 0, 10, 1], [0, 0, 7, 1]], np.float32)
    s = np.array([0.9, 0.8], np.float32)
    v = float(np.float32(7) / np.float32(10))
    assert v < 0.7
    assert nms(b, s, 0.7).tolist() == [0, 1]
    # A double threshold just below v whose float32 rounding is v itself: torchvision
    # suppresses (v > thr in double); a naive float32 comparison would not.
    thr = float(np.nextafter(v, 0.0))
    assert np.float32(thr) == np.float32(v)
    assert nms(b, s, thr).tolist() == [0]
    assert T.greedy(torch.from_numpy(b), torch.from_numpy(s), None, thr).tolist() == [0]
    assert ref_nms(b, s, thr).tolist() == [0]


def test_equal_scores_lower_index_first():
    b = np.array([[0, 0, 10, 10]] * 4, np.float64)
    s = np.ones(4)
    assert nms(b, s, 0.5).tolist() == [0]
    b2 = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1]], float)
    assert nms(b2, np.full(3, 0.3), 0.5).tolist() == [0, 1]
    assert nms(torch.from_numpy(b2), torch.full((3,), 0.3), 0.5).tolist() == [0, 1]


def test_empty_and_identical():
    e = nms(np.zeros((0, 4)), np.zeros(0), 0.5)
    assert e.dtype == np.int64 and e.shape == (0,)
    et = nms(torch.zeros((0, 4)), torch.zeros(0), 0.5)
    assert et.dtype == torch.int64 and et.shape == (0,)
    eb = batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), 0.5)
    assert eb.shape == (0,)
    b = np.tile([[1.0, 2.0, 3.0, 4.0]], (5, 1))
    assert nms(b, np.array([0.1, 0.5, 0.3, 0.5, 0.2]), 0.5).tolist() == [1]


def test_zero_area_boxes_never_suppress():
    # 0 / 0 is NaN, and NaN > thr is false in torchvision's kernel.
    b = np.array([[1, 1, 1, 1], [1, 1, 1, 1]], np.float32)
    assert nms(b, np.array([0.9, 0.8]), 0.1).tolist() == [0, 1]


def test_negative_threshold_suppresses_disjoint_boxes():
    b = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]], float)
    s = np.array([0.1, 0.9, 0.5])
    assert nms(b, s, -0.1).tolist() == [1]  # IoU 0 > -0.1
    assert batched_nms(b, s, np.array([0, 0, 1]), -0.1).tolist() == [1, 2]


@pytest.mark.parametrize("bad,row,word", [((2, 0), 2, "not finite"), ((1, 2), 1, "x2 < x1")])
def test_bad_boxes_name_the_row(bad, row, word):
    b = np.array([[0, 0, 1, 1]] * 3, float)
    b[bad[0], bad[1]] = np.nan if word == "not finite" else -5.0
    with pytest.raises(InvalidBoxesError, match=f"row {row}.*{word}"):
        nms(b, np.ones(3), 0.5)
    with pytest.raises(InvalidBoxesError, match=f"row {row}"):
        T.nms(torch.from_numpy(b), torch.ones(3, dtype=torch.float64), 0.5)


def test_nan_score_names_the_row():
    with pytest.raises(InvalidBoxesError, match="scores row 1 is NaN"):
        nms(np.zeros((2, 4)), np.array([0.5, np.nan]), 0.5)
    with pytest.raises(InvalidBoxesError, match="scores row 1 is NaN"):
        T.nms(torch.zeros((2, 4)), torch.tensor([0.5, float("nan")]), 0.5)
    with pytest.raises(ShapeMismatchError):
        nms(np.zeros((2, 4)), np.zeros(3), 0.5)


# --- against the plain loop (always) and torchvision (when present) -----------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7])
def test_nms_matches_reference_loop(dtype, thr):
    b, s = clustered(300, seed=int(thr * 10), dtype=dtype, quantize=4)
    want = ref_nms(b, s, thr)
    assert nms(b, s, thr).tolist() == want.tolist()
    tb, ts = torch.from_numpy(b), torch.from_numpy(s)
    assert nms(tb, ts, thr).tolist() == want.tolist()
    assert T.greedy(tb, ts, None, thr, block=64).tolist() == want.tolist()


def test_batched_paths_agree_with_reference_loop():
    b, s = clustered(400, seed=3, quantize=2)
    b = b - 50.0  # negative coordinates: torchvision's max+1 offset would be wrong here
    lab = np.random.default_rng(0).integers(-3, 4, len(b))
    want = ref_nms(b, s, 0.5, labels=lab).tolist()
    for method in ("auto", "offset", "per_class"):
        assert batched_nms(b, s, lab, 0.5, method=method).tolist() == want
    tb, ts, tl = torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(lab)
    assert T.batched_nms(tb, ts, tl, 0.5, "offset").tolist() == want
    assert T.batched_nms(tb, ts, tl, 0.5, "per_class").tolist() == want
    assert batched_nms(tb, ts, tl, 0.5).tolist() == want


def test_offset_falls_back_when_inexact():
    # float16-range precision: class offsets of 2**k on float32 coordinates with
    # fractional parts beyond the shifted ulp are not exact -> per-class path runs.
    b, s = clustered(200, seed=5)
    b = (b * 1e5).astype(np.float32) + np.float32(0.123)
    lab = np.arange(len(b)) % 50
    want = ref_nms(b, s, 0.5, labels=lab).tolist()
    assert batched_nms(b, s, lab, 0.5, method="offset").tolist() == want
    tb, ts, tl = torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(lab)
    _, exact = T.class_offsets(tb, tl)
    assert not exact
    assert T.batched_nms(tb, ts, tl, 0.5, "offset").tolist() == want


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 60),
    seed=st.integers(0, 10_000),
    thr=st.sampled_from([0.0, 0.25, 0.5, 0.6, 0.9]),
    q=st.sampled_from([1, 2, 8]),
    f64=st.booleans(),
)
def test_backends_identical(n, seed, thr, q, f64):
    b, s = clustered(
        n, seed, n_clusters=3, dtype=np.float64 if f64 else np.float32, scale=20, quantize=q
    )
    lab = np.random.default_rng(seed).integers(0, 3, n)
    want = ref_nms(b, s, thr)
    assert nms(b, s, thr).tolist() == want.tolist()
    tb, ts, tl = torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(lab)
    assert T.greedy(tb, ts, None, thr, block=16).tolist() == want.tolist()
    wb = ref_nms(b, s, thr, labels=lab).tolist()
    assert batched_nms(b, s, lab, thr, method="per_class").tolist() == wb
    assert batched_nms(b, s, lab, thr, method="offset").tolist() == wb
    assert T.batched_nms(tb, ts, tl, thr, "offset").tolist() == wb
    assert T.batched_nms(tb, ts, tl, thr, "per_class").tolist() == wb


@needs_tv
@pytest.mark.parametrize("n,seed", [(50, 0), (500, 1), (3000, 2)])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_equals_torchvision(n, seed, thr):
    for q in (None, 4):  # continuous and quantised (exact ties, equal scores)
        b, s = clustered(n, seed, quantize=q)
        tb, ts = torch.from_numpy(b), torch.from_numpy(s)
        want = tv_nms(tb, ts, thr).tolist()
        assert nms(b, s, thr).tolist() == want
        assert nms(tb, ts, thr).tolist() == want
        assert T.greedy(tb, ts, None, thr).tolist() == want


@needs_tv
@pytest.mark.parametrize("n", [200, 2000])  # both sides of torchvision's 4000-element switch
def test_batched_nms_equals_torchvision(n):
    b, s = clustered(n, seed=n, quantize=4)
    lab = np.random.default_rng(n).integers(0, 80, n)
    tb, ts, tl = torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(lab)
    want = tv_batched_nms(tb, ts, tl, 0.5)
    # torchvision's per-class path re-sorts kept boxes unstably: compare as sets and
    # check our order is the documented one (decreasing score, then index).
    for method in ("auto", "offset", "per_class"):
        got = batched_nms(b, s, lab, 0.5, method=method)
        assert sorted(got.tolist()) == sorted(want.tolist())
        key = [(-float(s[i]), i) for i in got]
        assert key == sorted(key)
    assert T.batched_nms(tb, ts, tl, 0.5, "offset").tolist() == batched_nms(b, s, lab, 0.5).tolist()


@pytest.mark.parametrize("labels", [False, True])
def test_heavy_tailed_sizes_and_degenerate_layouts(labels):
    # Log-normal sizes put many boxes in the kernel's "big" bucket; a row of
    # zero-height boxes and a single huge box stress the strip bounds.
    rng = np.random.default_rng(7)
    n = 400
    ctr = rng.uniform(-500, 500, (n, 2))
    wh = np.exp(rng.normal(2.5, 1.2, (n, 2)))
    b = np.concatenate([ctr - wh / 2, ctr + wh / 2], 1)
    b[:20, 3] = b[:20, 1]  # zero height
    b[20] = [-1e4, -1e4, 1e4, 1e4]
    b = np.round(b, 1)
    s = np.round(rng.random(n), 2)
    lab = rng.integers(0, 5, n) if labels else None
    for thr in (0.0, 0.1, 0.5):
        want = ref_nms(b, s, thr, labels=lab).tolist()
        got = batched_nms(b, s, lab, thr) if labels else nms(b, s, thr)
        assert got.tolist() == want


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, 1e-40, -1e-40, 3.0]),
        min_size=0,
        max_size=40,
    )
)
def test_stable_order_fast_path(vals):
    from ioukit.nms._common import stable_desc_order

    s32 = np.array(vals, np.float32)
    want = sorted(range(len(vals)), key=lambda i: (-float(s32[i]), i))
    assert stable_desc_order(s32).tolist() == want
    assert stable_desc_order(s32.astype(np.float64)).tolist() == want
    assert T._order(torch.from_numpy(s32)).tolist() == want


@needs_tv
@pytest.mark.parametrize("thr", [0.5, 1 / 3, 0.25, 2 / 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_ties_on_a_grid_equal_torchvision(thr, dtype):
    # Integer boxes in a 6x6 grid: many pairs have IoU exactly 1/2, 1/3, 1/4, 2/3
    # (or its float rounding), and scores in steps of 1/4 tie often.
    rng = np.random.default_rng(int(thr * 100))
    p = rng.integers(0, 6, (300, 2, 2))
    b = np.concatenate([p.min(1), p.max(1) + 1], 1).astype(dtype)
    s = (rng.integers(0, 4, 300) / 4).astype(dtype)
    tb, ts = torch.from_numpy(b), torch.from_numpy(s)
    want = tv_nms(tb, ts, thr).tolist()
    assert nms(b, s, thr).tolist() == want
    assert T.greedy(tb, ts, None, thr).tolist() == want


@needs_tv
def test_uniform_random_equal_torchvision():
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 500, (2000, 2))
    wh = rng.uniform(1, 80, (2000, 2))
    b = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    s = rng.random(2000).astype(np.float32)
    lab = rng.integers(0, 10, 2000)
    tb, ts, tl = (torch.from_numpy(x) for x in (b, s, lab))
    for thr in (0.1, 0.5, 0.8):
        assert nms(b, s, thr).tolist() == tv_nms(tb, ts, thr).tolist()
        got = sorted(batched_nms(b, s, lab, thr).tolist())
        assert got == sorted(tv_batched_nms(tb, ts, tl, thr).tolist())
