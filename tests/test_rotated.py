"""ioukit.rotated and ioukit.nms.rotated_nms against shapely, hand values and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import torch

import ioukit.rotated as R
from _rotated_reference import clustered_boxes, corners, shapely_iou, shapely_nms
from ioukit.errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from ioukit.nms import batched_rotated_nms, rotated_nms


def _boxes(rng, n, lo=0.01):
    return np.column_stack(
        [
            rng.uniform(0, 30, n),
            rng.uniform(0, 30, n),
            rng.uniform(lo, 12, n),
            rng.uniform(lo, 12, n),
            rng.uniform(-math.pi, math.pi, n),
        ]
    )


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(2026)
    a, b = _boxes(rng, 120), _boxes(rng, 110)
    return a, b, shapely_iou(a, b)


def test_iou_float64_vs_shapely(pairs):
    a, b, ref = pairs
    got = R.iou(a, b)
    assert got.dtype == np.float64 and got.shape == (120, 110)
    assert np.abs(got - ref).max() <= 1e-9
    assert (got > 0).sum() > 1000  # the set is not trivially disjoint


def test_iou_float32_vs_shapely(pairs):
    a, b, _ = pairs
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ref = shapely_iou(a32.astype(np.float64), b32.astype(np.float64))
    got = R.iou(a32, b32)
    assert got.dtype == np.float32
    assert np.abs(got - ref).max() <= 1e-5


def test_aligned_degrees_batch(pairs):
    a, b, ref = pairs
    n = 110
    got = R.iou(a[:n], b, aligned=True)
    assert np.abs(got - np.diag(ref[:n])).max() <= 1e-9
    da, db = a.copy(), b.copy()
    da[:, 4], db[:, 4] = np.degrees(a[:, 4]), np.degrees(b[:, 4])
    assert np.abs(R.iou(da, db, angle="deg") - ref).max() <= 1e-9
    batched = R.iou(np.stack([a, a[::-1]]), b)
    assert batched.shape == (2, 120, 110)
    assert np.array_equal(batched[1], R.iou(a[::-1], b))


def test_giou_and_intersection_vs_shapely(pairs):
    a, b, ref = pairs
    a, b, ref = a[:40], b[:40], ref[:40, :40]
    pa, pb = shapely.polygons(corners(a)), shapely.polygons(corners(b))
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None]))
    hull = shapely.area(shapely.convex_hull(shapely.union(pa[:, None], pb[None])))
    union = shapely.area(pa)[:, None] + shapely.area(pb)[None] - inter
    assert np.abs(R.intersection_area(a, b) - inter).max() <= 1e-9
    assert np.abs(R.giou(a, b) - (ref - (hull - union) / hull)).max() <= 1e-9


def test_torch_in_torch_out(pairs):
    a, b, ref = pairs
    t = R.iou(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert np.abs(t.numpy() - ref).max() <= 1e-5
    t64 = R.iou(torch.tensor(a), torch.tensor(b))
    assert t64.dtype == torch.float64 and np.abs(t64.numpy() - ref).max() <= 1e-9
    h = R.iou(torch.tensor(a[:3]).half(), torch.tensor(b[:3]).half())
    assert h.dtype == torch.float16


def test_iou_pairs_equals_dense(pairs):
    a, b, _ = pairs
    dense = R.iou(a, b)
    for t in (0.05, 0.3, 1.0):
        p = R.iou_pairs(a, b, t)
        ia, ib = np.nonzero(dense >= t)
        assert np.array_equal(p.index_a, ia) and np.array_equal(p.index_b, ib)
        assert np.array_equal(p.iou, dense[ia, ib])
    same = R.iou_pairs(a, a, 1.0)  # every box with itself, exactly 1
    assert np.array_equal(same.index_a, np.arange(120)) and np.all(same.iou == 1.0)
    pt = R.iou_pairs(torch.tensor(a), torch.tensor(b), 0.3)
    assert pt.index_a.dtype == torch.int64 and pt.iou.dtype == torch.float64


def test_to_polygons_hand_and_shapely():
    p = R.to_polygons(np.array([[1.0, 2.0, 4.0, 2.0, 0.0]]))
    assert np.array_equal(p[0], [[-1, 1], [3, 1], [3, 3], [-1, 3]])
    rng = np.random.default_rng(3)
    b = _boxes(rng, 50)
    poly = R.to_polygons(b)
    assert poly.shape == (50, 4, 2)
    assert np.allclose(shapely.area(shapely.polygons(poly)), b[:, 2] * b[:, 3], rtol=1e-12)
    assert shapely.is_ccw(shapely.linearrings(poly)).all()
    tp = R.to_polygons(torch.tensor(b, requires_grad=True))
    assert tp.requires_grad  # pure array code: autograd intact


def test_from_polygons_min_area_rect():
    rng = np.random.default_rng(4)
    quads = rng.uniform(0, 10, (200, 4, 2))
    boxes = R.from_polygons(quads)
    # smallest enclosing rectangle: shapely's minimum_rotated_rectangle
    ref = shapely.area(shapely.minimum_rotated_rectangle(shapely.multipoints(quads)))
    assert np.allclose(boxes[:, 2] * boxes[:, 3], ref, rtol=1e-9, atol=1e-9)
    # it encloses every point
    rect = shapely.polygons(R.to_polygons(boxes))
    pts = shapely.multipoints(quads)
    assert shapely.covers(shapely.buffer(rect, 1e-9), pts).all()
    # le90: w >= h, angle in [-pi/2, pi/2)
    assert (boxes[:, 2] >= boxes[:, 3]).all()
    assert ((boxes[:, 4] >= -math.pi / 2) & (boxes[:, 4] < math.pi / 2)).all()
    # round trip of rectangles (flat DOTA rows accepted)
    b = _boxes(rng, 30, lo=1.0)
    back = R.from_polygons(R.to_polygons(b).reshape(30, 8))
    assert np.abs(R.iou(back, b, aligned=True) - 1).max() <= 1e-9
    assert np.array_equal(R.from_polygons(np.zeros((4, 2)), convention=None), [0, 0, 0, 0, 0])
    assert np.array_equal(R.from_polygons(np.zeros((4, 2)))[:4], [0, 0, 0, 0])


@pytest.mark.parametrize(
    ("conv", "longer", "lo", "hi"),
    [("le90", True, -90, 90), ("le135", True, -45, 135), ("oc", False, -90, 0)],
)
def test_regularize_conventions(conv, longer, lo, hi):
    rng = np.random.default_rng(5)
    b = _boxes(rng, 300, lo=1.0)
    b[:, 4] = rng.uniform(-10, 10, 300)
    r = R.regularize(b, conv)
    deg = np.degrees(r[:, 4])
    assert ((deg >= lo - 1e-9) & (deg < hi + 1e-9)).all()
    if longer:
        assert (r[:, 2] >= r[:, 3]).all()
    assert np.abs(R.iou(r, b, aligned=True) - 1).max() <= 1e-9  # same regions
    assert np.allclose(R.regularize(r, conv), r, atol=1e-12)  # idempotent
    dr = R.regularize(np.column_stack([b[:, :4], np.degrees(b[:, 4])]), conv, angle="deg")
    assert np.allclose(np.radians(dr[:, 4]), r[:, 4], atol=1e-9)


def test_errors():
    good = np.zeros((1, 5))
    with pytest.raises(InvalidBoxesError, match="a row 1 has a negative width"):
        R.iou(np.array([[0, 0, 1, 1, 0], [0, 0, -1, 1, 0]], float), good)
    with pytest.raises(InvalidBoxesError, match="b row 0 is not finite"):
        R.iou(good, np.array([[0, 0, np.nan, 1, 0]]))
    with pytest.raises(ShapeMismatchError, match=r"\[\.\.\., 5\]"):
        R.iou(np.zeros((2, 4)), good)
    with pytest.raises(InvalidParameterError, match="angle"):
        R.iou(good, good, angle="grad")
    with pytest.raises(InvalidParameterError, match="iou_threshold"):
        R.iou_pairs(good, good, 0.0)
    with pytest.raises(InvalidParameterError, match="convention"):
        R.regularize(good, "le45")
    assert R.iou(np.zeros((0, 5)), good).shape == (0, 1)
    assert R.iou([], []).shape == (0, 0)


def test_rotated_nms_vs_shapely_reference():
    rng = np.random.default_rng(6)
    boxes, scores = clustered_boxes(rng, 600, 40, extent=400.0)
    for thr in (0.1, 0.5, 0.8):
        want = shapely_nms(boxes, scores, thr)
        assert np.array_equal(rotated_nms(boxes, scores, thr), want)
    labels = rng.integers(0, 3, 600)
    want = shapely_nms(boxes, scores, 0.5, labels)
    assert np.array_equal(batched_rotated_nms(boxes, scores, labels, 0.5), want)
    deg = boxes.copy()
    deg[:, 4] = np.degrees(deg[:, 4])
    assert np.array_equal(
        rotated_nms(deg, scores, 0.5, angle="deg"), shapely_nms(boxes, scores, 0.5)
    )


def test_rotated_nms_perpendicular_cars_and_ties():
    # two cars at right angles: their axis-aligned hulls coincide, true IoU = 1/7
    cars = np.array([[0, 0, 4, 1, 0], [0, 0, 4, 1, math.pi / 2]], float)
    assert rotated_nms(cars, np.array([0.9, 0.8]), 0.3).tolist() == [0, 1]
    same = np.array([[0, 0, 2, 2, 0.3]] * 3)
    assert rotated_nms(same, np.array([0.5, 0.5, 0.5]), 0.5).tolist() == [0]  # lower index
    kept = rotated_nms(torch.tensor(same), torch.tensor([0.1, 0.7, 0.5]), 0.5)
    assert isinstance(kept, torch.Tensor) and kept.tolist() == [1]
    assert rotated_nms(np.zeros((0, 5)), np.zeros(0), 0.5).shape == (0,)
    with pytest.raises(InvalidBoxesError, match="scores row 1 is NaN"):
        rotated_nms(same[:2], np.array([0.1, np.nan]), 0.5)


def test_results_do_not_depend_on_thread_count(monkeypatch, pairs):
    import ioukit
    from ioukit.rotated import _kernels as K

    a, b, _ = pairs
    old = ioukit.get_num_threads()
    ioukit.set_num_threads(1)
    try:
        one = (R.iou(a, b), R.iou(a[:110], b, aligned=True), R.giou(a[:110], b, aligned=True))
        one_pairs = R.iou_pairs(a, b, 0.1)
        monkeypatch.setattr(K, "PARALLEL_MIN_PAIRS", 1)  # force the threaded paths
        ioukit.set_num_threads(4)
        many = (R.iou(a, b), R.iou(a[:110], b, aligned=True), R.giou(a[:110], b, aligned=True))
        many_pairs = R.iou_pairs(a, b, 0.1)
    finally:
        ioukit.set_num_threads(old)
    for x, y in zip(one, many):
        assert np.array_equal(x, y)
    for x, y in zip(one_pairs, many_pairs):
        assert np.array_equal(x, y)
