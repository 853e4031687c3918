"""ioukit.intervals against hand values, properties, brute-force references, gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import intervals as I
from ioukit.errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError

FAST = settings(max_examples=60, deadline=None)
coord = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@st.composite
def interval(draw):
    s = draw(coord)
    return [s, s + draw(st.floats(0, 500, allow_nan=False))]


# ------------------------------------------------------------------ hand values
def test_iou_hand_values():
    a = np.array([[0.0, 4.0]])
    b = np.array([[2.0, 6.0], [1.0, 2.0], [4.0, 9.0], [0.0, 4.0], [-3.0, 10.0], [7.0, 8.0]])
    # overlap 2 / union 6; nested 1/4; touching 0; identical 1; inside 4/13; disjoint 0
    want = [[2 / 6, 1 / 4, 0.0, 1.0, 4 / 13, 0.0]]
    np.testing.assert_allclose(I.iou(a, b), want, rtol=0, atol=1e-15)
    # two zero-length intervals: union 0 -> 0, never NaN
    assert I.iou(np.array([[3.0, 3.0]]), np.array([[3.0, 3.0]]))[0, 0] == 0.0
    # giou: disjoint [0,2] and [4,6]: 0 - 2/6; diou: 0 - 16/36
    assert I.giou([[0.0, 2.0]], [[4.0, 6.0]])[0, 0] == pytest.approx(-1 / 3, abs=1e-15)
    assert I.diou([[0.0, 2.0]], [[4.0, 6.0]])[0, 0] == pytest.approx(-16 / 36, abs=1e-15)
    # same centre: diou == iou; nested: giou == iou (C = union)
    assert I.diou([[0.0, 4.0]], [[1.0, 3.0]])[0, 0] == pytest.approx(0.5, abs=1e-15)
    assert I.giou([[0.0, 4.0]], [[1.0, 2.0]])[0, 0] == pytest.approx(0.25, abs=1e-15)


def test_shapes_batch_and_aligned():
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 100, (3, 5, 1))
    a = np.concatenate([s, s + rng.uniform(0, 20, (3, 5, 1))], -1)
    s = rng.uniform(0, 100, (1, 4, 1))
    b = np.concatenate([s, s + rng.uniform(0, 20, (1, 4, 1))], -1)
    p = I.iou(a, b)
    assert p.shape == (3, 5, 4)
    for k in range(3):
        for i in range(5):
            al = I.iou(a[k, i][None].repeat(4, 0), b[0], aligned=True)
            assert np.array_equal(p[k, i], al)  # kernel and array path: same bits
    assert I.iou(np.zeros((0, 2)), b[0]).shape == (0, 4)
    assert I.iou(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    assert I.iou([[0, 4]], [[2, 6]]).dtype == np.float64  # ints promote


def test_errors_name_the_row():
    with pytest.raises(InvalidBoxesError, match=r"b row 1 has end < start"):
        I.iou([[0.0, 1.0]], [[0.0, 1.0], [5.0, 2.0]])
    with pytest.raises(InvalidBoxesError, match=r"a row 0 has a NaN"):
        I.iou([[np.nan, 1.0]], [[0.0, 1.0]])
    with pytest.raises(ShapeMismatchError, match="last axis of 2"):
        I.iou(np.zeros((2, 4)), np.zeros((2, 2)))
    with pytest.raises(ShapeMismatchError, match="pairwise"):
        I.iou(np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(InvalidParameterError, match="eps"):
        I.iou([[0.0, 1.0]], [[0.0, 1.0]], eps=-1.0)


# ------------------------------------------------------------------ properties
@FAST
@given(interval(), interval())
def test_symmetric_and_bounded(a, b):
    x = I.iou([a], [b])[0, 0]
    assert x == I.iou([b], [a])[0, 0]
    assert 0.0 <= x <= 1.0
    g = I.giou([a], [b])[0, 0]
    d = I.diou([a], [b])[0, 0]
    assert -1.0 <= g <= x + 1e-15 and -1.0 <= d <= x + 1e-15


@FAST
@given(interval(), st.floats(0, 1), st.floats(0, 1))
def test_nested_gives_the_length_ratio(outer, u, v):
    s, e = outer
    lo, hi = sorted((s + u * (e - s), s + v * (e - s)))
    inner = [lo, hi]
    if e - s <= 1e-9:  # a union <= eps (1e-12) is 0 by definition; tested by hand above
        return
    want = (hi - lo) / (e - s)
    assert I.iou([inner], [outer])[0, 0] == pytest.approx(want, rel=1e-12, abs=1e-12)


@FAST
@given(interval(), st.floats(0, 100), st.floats(0, 100))
def test_disjoint_gives_zero(a, gap, dur):
    b = [a[1] + gap, a[1] + gap + dur]
    assert I.iou([a], [b])[0, 0] == 0.0
    assert I.iou([b], [a])[0, 0] == 0.0


def test_torch_matches_numpy_and_keeps_device_dtype():
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 50, (20, 1))
    a = np.concatenate([s, s + rng.uniform(0, 10, (20, 1))], 1)
    b = a[::-1].copy() + 1.5
    for f in (I.iou, I.giou, I.diou):
        want = f(a, b)
        got = f(torch.from_numpy(a), torch.from_numpy(b))
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-15)
    h = I.iou(torch.tensor([[0.0, 4.0]], dtype=torch.float16), torch.tensor([[2.0, 6.0]]))
    assert h.dtype == torch.float32


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("loss", [I.iou_loss, I.giou_loss, I.diou_loss])
def test_losses_gradcheck(loss):
    g = torch.Generator().manual_seed(0)
    s = torch.rand(12, 1, generator=g, dtype=torch.float64) * 10
    pred = torch.cat([s, s + 0.5 + torch.rand(12, 1, generator=g, dtype=torch.float64) * 5], 1)
    s = torch.rand(12, 1, generator=g, dtype=torch.float64) * 10
    tgt = torch.cat([s, s + 0.5 + torch.rand(12, 1, generator=g, dtype=torch.float64) * 5], 1)
    pred.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: loss(p, tgt, reduction="none"), (pred,))


def test_losses_values_reductions_and_disjoint_gradient():
    p = torch.tensor([[0.0, 2.0], [0.0, 4.0]], requires_grad=True)
    t = torch.tensor([[4.0, 6.0], [2.0, 6.0]])
    per = I.giou_loss(p, t, reduction="none")
    torch.testing.assert_close(per, torch.tensor([1 + 1 / 3, 1 - 1 / 3]))
    w = torch.tensor([1.0, 3.0])
    assert I.giou_loss(p, t, weight=w, reduction="sum").item() == pytest.approx(
        (4 / 3) + 3 * (2 / 3), rel=1e-6
    )
    assert I.iou_loss(p, t).item() == pytest.approx((1 + (1 - 1 / 3)) / 2, rel=1e-6)
    # disjoint: IoU gives no gradient, GIoU and DIoU do
    q = torch.tensor([[0.0, 2.0]], requires_grad=True)
    I.iou_loss(q, t[:1]).backward()
    assert torch.all(q.grad == 0)
    for loss in (I.giou_loss, I.diou_loss):
        q.grad = None
        loss(q, t[:1]).backward()
        assert torch.isfinite(q.grad).all() and q.grad.abs().sum() > 0
    # degenerate: identical zero-length intervals -> finite gradient
    z = torch.tensor([[1.0, 1.0]], requires_grad=True)
    I.diou_loss(z, torch.tensor([[1.0, 1.0]])).backward()
    assert torch.isfinite(z.grad).all()
    assert I.iou_loss(torch.zeros(0, 2), torch.zeros(0, 2)).item() == 0.0
    with pytest.raises(InvalidParameterError):
        I.iou_loss(p, t, reduction="avg")


# ------------------------------------------------------------------ coding
def test_offsets_hand_value_and_round_trip():
    anchors = np.array([[0.0, 10.0], [5.0, 7.0]])
    iv = np.array([[10.0, 30.0], [4.0, 10.0]])
    d = I.encode_offsets(iv, anchors)
    # centre 20 vs 5 over 10 = 1.5, ln(20/10); centre 7 vs 6 over 2 = 0.5, ln(6/2)
    np.testing.assert_allclose(d, [[1.5, math.log(2)], [0.5, math.log(3)]], rtol=1e-15)
    np.testing.assert_allclose(I.decode_offsets(d, anchors), iv, rtol=1e-14)
    w = (10.0, 5.0)
    np.testing.assert_allclose(
        I.decode_offsets(I.encode_offsets(iv, anchors, weights=w), anchors, weights=w),
        iv,
        rtol=1e-14,
    )
    big = I.decode_offsets(np.array([[0.0, 1e3]]), anchors[:1])
    assert np.isfinite(big).all()
    off = torch.zeros(1, 2, requires_grad=True)
    I.decode_offsets(off, torch.tensor([[0.0, 10.0]])).sum().backward()
    assert torch.isfinite(off.grad).all()


# ------------------------------------------------------------------ NMS
def _ref_iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def _ref_nms(iv, s, lab, thr):
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    keep, gone = [], set()
    for r, i in enumerate(order):
        if i in gone:
            continue
        keep.append(i)
        for j in order[r + 1 :]:
            if lab[j] == lab[i] and _ref_iou(iv[i], iv[j]) > thr:
                gone.add(j)
    return keep


def _ref_soft(iv, s, lab, sigma, method, nt, thr):
    s = list(map(float, s))
    rank = {i: r for r, i in enumerate(sorted(range(len(s)), key=lambda i: (-s[i], i)))}
    pool = set(range(len(s)))
    keep, kept = [], []
    while pool:
        i = min(pool, key=lambda j: (-s[j], rank[j]))
        pool.discard(i)
        if s[i] <= thr:
            break
        keep.append(i)
        kept.append(s[i])
        for j in pool:
            if lab[j] != lab[i]:
                continue
            o = _ref_iou(iv[i], iv[j])
            if method == "gaussian":
                s[j] = s[j] * math.exp(-(o * o) / sigma)
            elif o > nt:
                s[j] = s[j] * (1.0 - o)
    return keep, kept


def _random_set(seed, n, n_lab=3):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 60, n).astype(float)  # integer bounds: exact ties happen
    iv = np.stack([s, s + rng.integers(0, 15, n)], 1)
    sc = np.round(rng.random(n), 2)  # tied scores too
    return iv, sc, rng.integers(0, n_lab, n)


@pytest.mark.parametrize("seed", range(12))
def test_nms_matches_brute_force(seed):
    iv, sc, lab = _random_set(seed, 80)
    for thr in (0.0, 0.3, 0.5, 0.7, -0.1):
        want = _ref_nms(iv.tolist(), sc.tolist(), [0] * len(sc), thr)
        assert I.nms(iv, sc, thr).tolist() == want
        want = _ref_nms(iv.tolist(), sc.tolist(), lab.tolist(), thr)
        assert I.batched_nms(iv, sc, lab * 7 - 3, thr).tolist() == want


@pytest.mark.parametrize("seed", range(8))
def test_soft_nms_matches_brute_force(seed):
    iv, sc, lab = _random_set(seed + 100, 60)
    for method, labels in (("gaussian", None), ("linear", None), ("gaussian", lab)):
        keep, dec = I.soft_nms(iv, sc, sigma=0.5, method=method, iou_threshold=0.3,
                               score_threshold=0.05, labels=labels)  # fmt: skip
        ref_lab = labels.tolist() if labels is not None else [0] * len(sc)
        wk, wd = _ref_soft(iv.tolist(), sc.tolist(), ref_lab, 0.5, method, 0.3, 0.05)
        assert keep.tolist() == wk
        np.testing.assert_allclose(dec, wd, rtol=1e-15, atol=0)


def test_nms_torch_and_errors():
    iv = torch.tensor([[0.0, 10.0], [1.0, 11.0], [20.0, 30.0]])
    k = I.nms(iv, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert isinstance(k, torch.Tensor) and k.tolist() == [0, 2]
    assert I.nms(np.zeros((0, 2)), np.zeros(0), 0.5).tolist() == []
    with pytest.raises(InvalidBoxesError, match="row 1 has end < start"):
        I.nms([[0.0, 1.0], [3.0, 2.0]], [0.5, 0.4], 0.5)
    with pytest.raises(InvalidBoxesError, match="scores row 0 is NaN"):
        I.nms([[0.0, 1.0]], [np.nan], 0.5)
    with pytest.raises(InvalidParameterError, match="sigma"):
        I.soft_nms([[0.0, 1.0]], [0.5], sigma=0.0)


# ------------------------------------------------------------------ tubes
def _act_iou3dt(b1, b2):
    # ACT-detector utils.py (Kalogeiton et al. 2017), transcribed: pixel-inclusive boxes
    def area2d(b):
        return (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)

    def overlap2d(b1, b2):
        w = np.maximum(0, np.minimum(b1[:, 2] + 1, b2[:, 2] + 1) - np.maximum(b1[:, 0], b2[:, 0]))
        h = np.maximum(0, np.minimum(b1[:, 3] + 1, b2[:, 3] + 1) - np.maximum(b1[:, 1], b2[:, 1]))
        return w * h

    tmin = max(b1[0, 0], b2[0, 0])
    tmax = min(b1[-1, 0], b2[-1, 0])
    if tmax < tmin:
        return 0.0
    ti = tmax - tmin + 1
    tu = max(b1[-1, 0], b2[-1, 0]) - min(b1[0, 0], b2[0, 0]) + 1
    t1 = b1[int(np.where(b1[:, 0] == tmin)[0][0]) : int(np.where(b1[:, 0] == tmax)[0][0]) + 1]
    t2 = b2[int(np.where(b2[:, 0] == tmin)[0][0]) : int(np.where(b2[:, 0] == tmax)[0][0]) + 1]
    o = overlap2d(t1[:, 1:5], t2[:, 1:5])
    return np.mean(o / (area2d(t1[:, 1:5]) + area2d(t2[:, 1:5]) - o)) * ti / tu


def test_tube_iou_hand_and_reference():
    a = np.array([[f, 0, 0, 9, 9] for f in range(1, 11)], float)
    b = np.array([[f, 0, 0, 9, 4] for f in range(6, 16)], float)
    assert I.tube_iou(a, b) == pytest.approx(5 / 15 * 0.5, abs=1e-15)
    assert I.tube_iou(a, b, legacy=False) == pytest.approx(5 / 15 * (9 * 4) / 81, abs=1e-15)
    c = np.array([[f, 0, 0, 9, 9] for f in range(20, 25)], float)
    assert I.tube_iou(a, c) == 0.0
    rng = np.random.default_rng(3)
    for _ in range(30):
        tubes = []
        for _ in range(2):
            f0, n = rng.integers(0, 20), rng.integers(1, 25)
            xy = rng.uniform(0, 50, (n, 2))
            wh = rng.uniform(1, 30, (n, 2))
            fr = np.arange(f0, f0 + n)[:, None]
            tubes.append(np.hstack([fr, xy, xy + wh]))
        assert I.tube_iou(*tubes) == pytest.approx(_act_iou3dt(*tubes), rel=1e-12, abs=1e-15)


def test_possession_runs_and_gap_merge():
    a = np.array([[0, 0, 2, 2]] * 8, float)
    hit, miss = [0, 0, 2, 2], [5, 5, 6, 6]
    b = np.array([hit, hit, miss, hit, hit, hit, miss, miss], float)
    p = I.possession(a, b, iou_threshold=0.5)
    assert p.intervals.tolist() == [[0.0, 2.0], [3.0, 6.0]] and p.duration == 5.0
    p = I.possession(a, b, iou_threshold=0.5, min_gap=1, fps=2.0)
    assert p.intervals.tolist() == [[0.0, 3.0]] and p.duration == 3.0
    p = I.possession(a, np.array([miss] * 8, float))
    assert p.intervals.shape == (0, 2) and p.duration == 0.0
    with pytest.raises(ShapeMismatchError):
        I.possession(a, b[:3])
