"""geometry/_convex.pxd via ioukit.rotated._kernels: hand-worked values, shapely, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.rotated import _kernels as K

SQ2 = math.sqrt(2.0)


def _iou(a, b, mode=K.MODE_IOU):
    out = np.empty((1, 1))
    K.pairwise(np.array([a], float), np.array([b], float), out, mode, 0.0)
    return float(out[0, 0])


# (box a, box b, IoU worked out by hand)
HAND = [
    ((0, 0, 4, 2, 0), (0, 0, 4, 2, 0), 1.0),  # identical
    ((0, 0, 4, 2, 0), (0, 0, 2, 4, math.pi / 2), 1.0),  # quarter turn, sides swapped
    ((3, -1, 4, 2, 0.3), (3, -1, 4, 2, 0.3 + math.pi), 1.0),  # half turn
    ((0, 0, 4, 2, 0), (0, 0, 2, 4, -math.pi / 2), 1.0),
    ((0, 0, 2, 2, 0), (2, 0, 2, 2, 0), 0.0),  # touching edges
    ((0, 0, 2, 2, 0), (2, 2, 2, 2, 0), 0.0),  # touching corners
    ((0, 0, 2, 2, math.pi / 4), (SQ2 * 2, 0, 2, 2, math.pi / 4), 0.0),  # touching, rotated
    ((0, 0, 4, 4, 0), (0, 0, 2, 2, math.pi / 4), 0.25),  # nested (4 / 16)
    ((0, 0, 4, 4, 0.7), (0.5, 0.2, 1, 1, 0.1), 1 / 16),  # nested, both turned
    ((0, 0, 0, 2, 0), (0, 0, 2, 2, 0), 0.0),  # zero width
    ((0, 0, 0, 0, 0), (0, 0, 0, 0, 0), 0.0),  # both empty: union 0 -> 0
    ((0, 0, 2, 2, 0), (1, 0, 2, 2, 0), 1 / 3),  # half overlap: 2 / 6
    ((0, 0, 2, 2, 0), (0, 1, 2, 4, 0), 0.5),  # collinear edges: 4 / 8
    # square and the same square turned 45 degrees: a regular octagon of inradius 1,
    # area 8 tan(pi/8) = 8 (sqrt2 - 1); IoU = (sqrt2 - 1) / (2 - sqrt2) = 1 / sqrt2
    ((0, 0, 2, 2, 0), (0, 0, 2, 2, math.pi / 4), 1 / SQ2),
    # near +-pi/2: the same rectangle to within 1e-12 rad
    ((0, 0, 4, 2, math.pi / 2 - 1e-12), (0, 0, 2, 4, 0), 1.0),
    ((0, 0, 4, 2, -math.pi / 2 + 1e-12), (0, 0, 2, 4, 0), 1.0),
    ((1e6, 1e6, 4, 2, 0.0), (1e6 + 1, 1e6, 4, 2, 0.0), 6 / 10),  # far from the origin
]


@pytest.mark.parametrize(("a", "b", "want"), HAND)
def test_hand_worked_iou(a, b, want):
    assert _iou(a, b) == pytest.approx(want, abs=1e-9)
    assert _iou(b, a) == pytest.approx(want, abs=1e-9)
    out = np.empty((1, 1), np.float32)
    K.pairwise(np.array([a], np.float32), np.array([b], np.float32), out, K.MODE_IOU, 0.0)
    tol = 1e-5 if abs(a[0]) < 1e3 else 2e-2  # float32 centres at 1e6 are rounded
    assert float(out[0, 0]) == pytest.approx(want, abs=tol)


def test_hand_worked_giou():
    # disjoint squares on a line: hull 6 x 2 = 12, union 8 -> 0 - 4 / 12
    assert _iou((0, 0, 2, 2, 0), (4, 0, 2, 2, 0), K.MODE_GIOU) == pytest.approx(-1 / 3, abs=1e-12)
    assert _iou((0, 0, 2, 2, 0), (0, 0, 2, 2, 0), K.MODE_GIOU) == pytest.approx(1.0, abs=1e-12)
    # square and the turned square: the hull is a regular octagon of circumradius sqrt2,
    # area 2 sqrt2 r^2 = 4 sqrt2; union 8 - 8 (sqrt2 - 1) = 16 - 8 sqrt2
    hull, union = 4 * SQ2, 16 - 8 * SQ2
    want = 1 / SQ2 - (hull - union) / hull
    assert _iou((0, 0, 2, 2, 0), (0, 0, 2, 2, math.pi / 4), K.MODE_GIOU) == pytest.approx(
        want, abs=1e-12
    )


def test_intersection_area_hand():
    assert _iou((0, 0, 2, 2, 0), (1, 1, 2, 2, 0), K.MODE_INTER) == pytest.approx(1.0, abs=1e-12)
    assert _iou((0, 0, 4, 4, 0), (0, 0, 2, 2, 1.0), K.MODE_INTER) == pytest.approx(4.0, abs=1e-12)


def test_convex_polygon_functions():
    sq = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    tri = np.array([[1, 1], [3, 1], [1, 3]], float)  # area 2, overlap: the square's corner
    # triangle n square = the triangle (1,1),(2,1),(1,2) plus ... worked: x in [1,2],
    # y in [1, min(2, 4 - x)] -> area = 1 (the unit square [1,2]^2 lies under x + y <= 4)
    assert K.convex_area(tri, sq) == pytest.approx(1.0, abs=1e-12)
    assert K.convex_area(sq, tri[::-1].copy()) == pytest.approx(1.0, abs=1e-12)  # clockwise clip
    assert K.convex_area(sq, sq) == pytest.approx(4.0, abs=1e-12)
    assert K.convex_area(sq, sq[:2].copy()) == 0.0  # fewer than 3 points
    assert K.hull_area(np.vstack([sq, [[1, 1], [1, 0], [0.5, 0.5]]])) == pytest.approx(4.0)
    assert K.hull_area(np.array([[0, 0], [1, 1], [2, 2], [3, 3]], float)) == 0.0  # collinear
    # concave L-shape (area 3) against the unit square in its notch corner [1,2]^2: 0
    ell = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], float)
    notch = np.array([[1, 1], [2, 1], [2, 2], [1, 2]], float)
    assert K.simple_area(ell, notch) == pytest.approx(0.0, abs=1e-12)
    assert K.simple_area(ell, sq) == pytest.approx(3.0, abs=1e-12)
    assert K.simple_area(ell[::-1].copy(), sq) == pytest.approx(3.0, abs=1e-12)


def _polys(x):
    c, s = np.cos(x[:, 4]), np.sin(x[:, 4])
    u = np.stack([x[:, 2] / 2 * c, x[:, 2] / 2 * s], -1)
    v = np.stack([-x[:, 3] / 2 * s, x[:, 3] / 2 * c], -1)
    ctr = x[:, :2]
    return np.stack([ctr - u - v, ctr + u - v, ctr + u + v, ctr - u + v], 1)


def _random_boxes(rng, n):
    return np.column_stack(
        [
            rng.uniform(0, 20, n),
            rng.uniform(0, 20, n),
            rng.uniform(0.01, 10, n),
            rng.uniform(0.01, 10, n),
            rng.uniform(-math.pi, math.pi, n),
        ]
    )


def test_shapely_random_pairs():
    rng = np.random.default_rng(15)
    a, b = _random_boxes(rng, 150), _random_boxes(rng, 150)
    pa, pb = shapely.polygons(_polys(a)), shapely.polygons(_polys(b))
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None]))
    ref = inter / (shapely.area(pa)[:, None] + shapely.area(pb)[None] - inter)
    out = np.empty((150, 150))
    K.pairwise(a, b, out, K.MODE_IOU, 0.0)
    assert np.abs(out - ref).max() <= 1e-9
    # any simple polygons: the same values through the fan decomposition
    p, q = _polys(a).reshape(-1, 8).copy(), _polys(b)[:, ::-1].reshape(-1, 8).copy()
    outp = np.empty((150, 150))
    K.polygon_pairwise_iou(p, q, outp, 0.0)
    assert np.abs(outp - ref).max() <= 1e-9


def _degenerate_box():
    quarter = st.sampled_from([0.0, math.pi / 2, -math.pi / 2, math.pi, math.pi / 4])
    jitter = st.sampled_from([0.0, 1e-15, -1e-15, 1e-9])
    side = st.sampled_from([0.0, 1e-12, 1.0, 2.0, 3.0])
    coord = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0])
    return st.tuples(coord, coord, side, side, st.builds(lambda q, j: q + j, quarter, jitter))


@settings(max_examples=300, deadline=None)
@given(_degenerate_box(), _degenerate_box())
def test_never_nan_and_in_range(a, b):
    v, w = _iou(a, b), _iou(b, a)
    assert 0.0 <= v <= 1.0 and not math.isnan(v)
    # symmetric; the intersection's absolute error is ~1e-16 x size^2, so a 1e-12-wide
    # sliver's IoU is only good to ~1e-4 (its area is 1e-12)
    thin = min(a[2], a[3], b[2], b[3]) < 1e-9
    assert v == pytest.approx(w, abs=1e-3 if thin else 1e-12)
    g = _iou(a, b, K.MODE_GIOU)
    assert -1.0 <= g <= v + 1e-12 and not math.isnan(g)
    if a == b and a[2] * a[3] > 0:
        assert v == pytest.approx(1.0, abs=1e-12)
