"""diou_nms and matrix_nms: hand-worked cases from the papers and plain reference loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import boxes as B
from ioukit.errors import InvalidBoxesError, InvalidMaskError, InvalidParameterError
from ioukit.nms import _kernels as K
from ioukit.nms import diou_nms, matrix_nms, nms
from ioukit.nms._diou import DIOU_EPS
from ioukit.nms._matrix import _torch_matrix

torch = pytest.importorskip("torch")
from ioukit.nms import _torch as T  # noqa: E402


def iou64(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def ref_diou_nms(boxes, scores, thr, beta=1.0):
    """DIoU-NMS (Zheng et al. 2020, eq. 12) as a plain loop over float64 boxes."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    alive = list(order)
    keep = []
    while alive:
        i = alive.pop(0)
        keep.append(i)
        rest = []
        for j in alive:
            a, b = boxes[i], boxes[j]
            rho2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + (
                (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2
            ) ** 2
            c2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
            # eps = 1e-12 is a threshold (ioukit's one meaning): no penalty where c2 <= eps
            pen = rho2 / c2 if c2 > 1e-12 else 0.0
            if not iou64(a, b) - pen**beta > thr:
                rest.append(j)
        alive = rest
    return keep


def ref_matrix_nms(boxes, scores, labels, kernel, sigma):
    """SOLOv2's matrix formulation (as in its released code), written out with NumPy."""
    n = len(scores)
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    b = boxes[order]
    lab = labels[order]
    iou = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if lab[i] == lab[j]:
                iou[i, j] = iou64(b[i], b[j])
    comp = iou.max(0, initial=0.0)  # comp[i]: max IoU of i with a higher-scored box of its class
    if kernel == "gaussian":
        dm = np.exp(-sigma * iou**2) / np.exp(-sigma * comp**2)[:, None]
    else:
        dm = (1 - iou) / (1 - comp)[:, None]
    decay = dm.min(0, initial=np.inf)
    new = scores[order] * decay
    o2 = sorted(range(n), key=lambda k: (-new[k], k))
    return [order[k] for k in o2], new[o2]


def rand_boxes(n, seed, q=None):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 30, (max(1, n // 5), 2))[rng.integers(0, max(1, n // 5), n)]
    c = c + rng.normal(0, 2, (n, 2))
    wh = rng.uniform(3, 12, (n, 2))
    b = np.concatenate([c - wh / 2, c + wh / 2], 1)
    s = rng.random(n)
    if q:
        b, s = np.round(b * q) / q, np.round(s * 5) / 5
    return b, s


# --- DIoU-NMS -------------------------------------------------------------------------


def test_diou_hand_worked():
    # [0,0,10,10] vs [3,0,13,10]: IoU = 70 / 130 = 0.53846; centres 3 apart, enclosing
    # box 13 x 10, so rho^2 / c^2 = 9 / 269 = 0.03346 and DIoU = 0.50500.
    b = np.array([[0, 0, 10, 10], [3, 0, 13, 10]], float)
    s = np.array([0.9, 0.8])
    assert nms(b, s, 0.52).tolist() == [0]
    assert diou_nms(b, s, 0.52).tolist() == [0, 1]
    assert diou_nms(b, s, 0.50).tolist() == [0]
    # beta = 0.5: penalty sqrt(9 / 269) = 0.18291 -> DIoU 0.35555.
    assert diou_nms(b, s, 0.35, beta=0.5).tolist() == [0]
    assert diou_nms(b, s, 0.36, beta=0.5).tolist() == [0, 1]


def test_diou_same_centre_is_plain_nms():
    # Concentric boxes: rho = 0, so DIoU-NMS reduces to NMS.  IoU 36/100 = 0.36.
    b = np.array([[0, 0, 10, 10], [2, 2, 8, 8]], float)
    s = np.array([0.9, 0.8])
    assert diou_nms(b, s, 0.35).tolist() == nms(b, s, 0.35).tolist() == [0]
    assert diou_nms(b, s, 0.37).tolist() == [0, 1]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 50),
    seed=st.integers(0, 10_000),
    thr=st.sampled_from([-0.2, 0.0, 0.3, 0.5]),
    beta=st.sampled_from([1.0, 0.6]),
)
def test_diou_matches_reference_loop_and_torch(n, seed, thr, beta):
    b, s = rand_boxes(n, seed, q=2 if seed % 2 else None)
    want = ref_diou_nms(b, s, thr, beta)
    assert diou_nms(b, s, thr, beta).tolist() == want
    got = T.diou_nms(torch.from_numpy(b), torch.from_numpy(s), thr, beta, DIOU_EPS)
    assert got.tolist() == want
    assert diou_nms(torch.from_numpy(b), torch.from_numpy(s), thr, beta).tolist() == want


def _degenerate_pairs():
    # zero-area boxes (IoU 0): points, segments; c^2 = 0, tiny (<= eps), just above eps
    a = [
        [1, 1, 1, 1],  # the same point twice: c^2 = 0
        [0, 0, 0, 0],  # points 1 apart: c^2 = 1
        [0, 0, 0, 0],  # points 1e-7 apart: c^2 = 1e-14 <= eps
        [0, 0, 0, 0],  # points 1.1e-6 apart: c^2 = 1.21e-12 > eps
        [0, 0, 0, 5],  # two vertical segments side by side
        [0, 0, 4, 0],  # a horizontal segment and a box, disjoint
        [2, 2, 2, 2],  # a point inside a box (IoU 0, centres apart)
    ]
    b = [
        [1, 1, 1, 1],
        [1, 0, 1, 0],
        [1e-7, 0, 1e-7, 0],
        [1.1e-6, 0, 1.1e-6, 0],
        [3, 1, 3, 4],
        [0, 2, 4, 6],
        [0, 0, 10, 10],
    ]
    return np.array(a, float), np.array(b, float)


@pytest.mark.parametrize("eps", [DIOU_EPS, 1e-6, 0.0])
def test_diou_penalty_agrees_with_boxes_diou_on_degenerate_boxes(eps):
    # one meaning of eps (a threshold) and one penalty: boxes.diou = IoU - penalty, and
    # these pairs have IoU 0, so -boxes.diou is its penalty, bit for bit
    a, b = _degenerate_pairs()
    want = -B.diou(a, b, aligned=True, eps=eps)
    assert np.array_equal(K.diou_penalties(a, b, eps), want)
    tb = T._diou_penalty(torch.from_numpy(a), torch.from_numpy(b), 1.0, eps)
    assert np.array_equal(torch.diagonal(tb).numpy(), want)
    # the default eps of both is one value
    if eps == DIOU_EPS:
        assert np.array_equal(K.diou_penalties(a, b, DIOU_EPS), -B.diou(a, b, aligned=True))
    assert want[2] == (0.0 if eps > 0 else 1.0) and want[3] == (1.0 if eps < 1e-6 else 0.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_diou_nms_suppresses_exactly_when_boxes_diou_exceeds(seed):
    # a pair: the lower-scored box goes iff boxes.diou > iou_threshold (same bits)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20, (2, 2))
    wh = rng.uniform(0, 10, (2, 2)) * (rng.uniform(size=(2, 1)) > 0.2)  # some zero-size
    bx = np.concatenate([xy, xy + wh], axis=1)
    d = float(B.diou(bx[:1], bx[1:])[0, 0])
    s = np.array([0.9, 0.8])
    assert diou_nms(bx, s, d).tolist() == [0, 1]  # DIoU > d is false
    below = math.nextafter(d, -math.inf)
    iou = float(B.iou(bx[:1], bx[1:])[0, 0])
    union_zero = (wh.prod(axis=1) == 0).all() and iou == 0
    # (two zero-area boxes: the NMS IoU is 0 / 0 = NaN, which never suppresses)
    assert diou_nms(bx, s, below).tolist() == ([0, 1] if union_zero else [0])


def test_diou_eps_is_checked():
    b = np.array([[0, 0, 1, 1.0]])
    for bad in (-1.0, float("nan"), "x"):
        with pytest.raises(InvalidParameterError, match="eps"):
            diou_nms(b, np.ones(1), 0.5, eps=bad)


def test_diou_errors():
    with pytest.raises(InvalidBoxesError, match="row 1"):
        diou_nms(np.array([[0, 0, 1, 1], [0, 0, np.inf, 1]]), np.ones(2), 0.5)
    assert diou_nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


# --- Matrix-NMS -----------------------------------------------------------------------


def test_matrix_nms_hand_worked_linear():
    # Sorted scores 0.9 (A), 0.8 (B), 0.7 (C); IoU(A,B) = 1/3, IoU(A,C) = 0, IoU(B,C) = 1/3.
    # comp: A 0, B 1/3, C 1/3.  decay_B = min(1, (1-1/3)/(1-0)) = 2/3.
    # decay_C = min(1, (1-0)/(1-0), (1-1/3)/(1-1/3)) = 1  (B's own suppression compensates).
    b = np.array([[0, 0, 2, 2], [1, 0, 3, 2], [2, 0, 4, 2]], float)
    keep, s = matrix_nms(b, np.array([0.9, 0.8, 0.7]), kernel="linear")
    assert keep.tolist() == [0, 2, 1]
    np.testing.assert_allclose(s, [0.9, 0.7, 0.8 * 2 / 3])


def test_matrix_nms_hand_worked_gaussian_and_labels():
    # Same boxes; gaussian sigma 2: decay_B = exp(-2/9); decay_C = min(1, exp(-2/9)/exp(-2/9)) = 1.
    b = np.array([[0, 0, 2, 2], [1, 0, 3, 2], [2, 0, 4, 2]], float)
    keep, s = matrix_nms(b, np.array([0.9, 0.8, 0.7]), kernel="gaussian", sigma=2.0)
    np.testing.assert_allclose(s, [0.9, 0.7, 0.8 * math.exp(-2 / 9)])
    # Different labels never decay each other.
    keep, s = matrix_nms(b, np.array([0.9, 0.8, 0.7]), labels=np.array([0, 1, 0]))
    assert keep.tolist() == [0, 1, 2]
    np.testing.assert_allclose(s, [0.9, 0.8, 0.7])
    # score_threshold filters on the decayed score (>=).
    keep, s = matrix_nms(b, np.array([0.9, 0.8, 0.7]), kernel="linear", score_threshold=0.7)
    assert keep.tolist() == [0, 2]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 40),
    seed=st.integers(0, 10_000),
    kernel=st.sampled_from(["gaussian", "linear"]),
    sigma=st.sampled_from([0.5, 2.0]),
)
def test_matrix_nms_matches_reference(n, seed, kernel, sigma):
    b, s = rand_boxes(n, seed, q=1 if seed % 3 == 0 else None)
    lab = np.random.default_rng(seed).integers(0, 2, n)
    # The reference divides by 1 - comp unguarded; keep comp < 1 (no duplicate boxes).
    if n and kernel == "linear":
        b[:, 2:] += np.arange(n)[:, None] * 1e-3
    want_k, want_s = ref_matrix_nms(b, s, lab, kernel, sigma)
    keep, dec = matrix_nms(b, s, lab, kernel=kernel, sigma=sigma)
    np.testing.assert_allclose(dec, want_s, rtol=1e-9, atol=1e-12)
    assert (dec <= s[keep] + 1e-12).all()  # decay never exceeds 1
    tk, td = _torch_matrix(
        torch.from_numpy(b),
        torch.from_numpy(s),
        torch.from_numpy(lab),
        False,
        0 if kernel == "gaussian" else 1,
        sigma,
        None,
    )
    np.testing.assert_allclose(td.numpy(), dec, rtol=1e-9, atol=1e-12)
    # Orders agree except where two decayed scores tie within rounding.
    if len(set(np.round(want_s, 9))) == len(want_s):
        assert keep.tolist() == want_k == tk.tolist()


def test_matrix_nms_masks_equal_boxes():
    # Integer boxes rasterised to masks have pixel-count IoU equal to box IoU.
    rng = np.random.default_rng(1)
    x1 = rng.integers(0, 20, (12, 2))
    wh = rng.integers(2, 10, (12, 2))
    boxes = np.concatenate([x1, x1 + wh], 1).astype(float)
    masks = np.zeros((12, 32, 32), bool)
    for k, (a, b_, c, d) in enumerate(boxes.astype(int)):
        masks[k, b_:d, a:c] = True
    s = rng.random(12)
    lab = rng.integers(0, 2, 12)
    kb, sb = matrix_nms(boxes, s, lab)
    km, sm = matrix_nms(masks, s, lab)
    assert km.tolist() == kb.tolist()
    np.testing.assert_allclose(sm, sb, rtol=1e-12)
    tk, ts = _torch_matrix(
        torch.from_numpy(masks), torch.from_numpy(s), torch.from_numpy(lab), True, 0, 2.0, None
    )
    np.testing.assert_allclose(ts.numpy(), sb, rtol=1e-9)


def test_matrix_nms_errors_and_edges():
    k, s = matrix_nms(np.zeros((0, 4)), np.zeros(0))
    assert k.shape == (0,) and s.shape == (0,)
    with pytest.raises(InvalidParameterError):
        matrix_nms(np.zeros((1, 4)), np.ones(1), kernel="box")
    with pytest.raises(InvalidMaskError):
        matrix_nms(np.full((1, 2, 2), 3), np.ones(1))
    with pytest.raises(InvalidBoxesError, match="scores row 0 is NaN"):
        matrix_nms(np.zeros((1, 2, 2), bool), np.array([np.nan]))
    # Identical boxes with the linear kernel: comp = 1, denominator floored, no NaN.
    b = np.tile([[0.0, 0.0, 1.0, 1.0]], (3, 1))
    _, s = matrix_nms(b, np.array([0.9, 0.8, 0.7]), kernel="linear")
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s, [0.9, 0.0, 0.0])


def test_package_is_callable_as_nms():
    import ioukit.nms as pkg

    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    s = np.array([0.9, 0.8, 0.7])
    assert pkg(b, s, 0.5).tolist() == pkg.nms(b, s, 0.5).tolist() == [0, 2]
    assert pkg.batched_nms is not None and callable(pkg)
