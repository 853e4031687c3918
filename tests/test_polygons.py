"""ioukit.polygons: shapely's overlay as the oracle, hand-worked areas, torus wrapping,
rasters against shapely's point-in-polygon and converging to the exact IoU."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from ioukit._threads import get_num_threads, set_num_threads
from shapely.geometry import MultiPolygon, Polygon

from ioukit import polygons as P
from ioukit.errors import InvalidParameterError, InvalidPolygonError, ShapeMismatchError

SQ = [[0, 0], [2, 0], [2, 2], [0, 2]]


# ---------------------------------------------------------------- random polygons
def _star(rng, centre, rmin, rmax, k):
    # star-shaped around `centre` with angular gaps < 0.6 * 2 pi / k * 2: simple, concave
    ang = (np.arange(k) + rng.uniform(-0.45, 0.45, k)) * 2 * np.pi / k + rng.uniform(0, 6.3)
    r = rng.uniform(rmin, rmax, k)
    return np.stack([centre[0] + r * np.cos(ang), centre[1] + r * np.sin(ang)], 1)


def _random_polygon(rng, lo=0.0, hi=10.0, scale=1.0):
    """A list of rings: a concave star, sometimes with a hole, sometimes two parts."""
    c = rng.uniform(lo, hi, 2)
    rmin = rng.uniform(0.5, 2) * scale
    rmax = rmin + rng.uniform(0, 3) * scale
    rings = [_star(rng, c, rmin, rmax, int(rng.integers(5, 16)))]
    u = rng.random()
    if u < 0.35:  # a hole inside the star's kernel (gaps < 0.9 pi/2.5: chords stay > .3 rmin)
        rings.append(_star(rng, c, 0.05 * rmin, 0.3 * rmin, int(rng.integers(5, 8))))
    elif u < 0.5:  # a second, disjoint part
        c2 = c + (2 * rmax + 2 * scale) * np.array([np.cos(u * 40), np.sin(u * 40)])
        rings.append(_star(rng, c2, 0.5 * scale, 1.5 * scale, int(rng.integers(5, 9))))
    return rings


def _shapely(rings):
    if len(rings) == 2 and Polygon(rings[0]).contains(Polygon(rings[1])):
        return Polygon(rings[0], [rings[1]])
    if len(rings) == 2:
        return MultiPolygon([Polygon(r) for r in rings])
    return Polygon(rings[0])


def _shapely_iou(sa, sb):
    inter = shapely.area(shapely.intersection(sa[:, None], sb[None, :]))
    union = shapely.area(shapely.union(sa[:, None], sb[None, :]))
    return inter, np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@pytest.fixture(scope="module")
def random_sets():
    rng = np.random.default_rng(20261206)
    a = [_random_polygon(rng) for _ in range(120)]
    b = [_random_polygon(rng) for _ in range(120)]
    sa = np.array([_shapely(p) for p in a])
    sb = np.array([_shapely(p) for p in b])
    assert shapely.is_valid(sa).all() and shapely.is_valid(sb).all()
    return a, b, sa, sb


def test_pairwise_matches_shapely(random_sets):
    a, b, sa, sb = random_sets
    inter_ref, iou_ref = _shapely_iou(sa, sb)
    assert (inter_ref > 0).sum() > 500  # the set exercises real overlaps
    np.testing.assert_allclose(P.intersection(a, b), inter_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(P.iou(a, b), iou_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(P.area(a), shapely.area(sa), rtol=1e-12)


def test_unions_of_grid_cells_match_shapely():
    # rectilinear regions from unions of unit cells: many shared and collinear edges,
    # holes touching their exterior at a vertex, parts meeting at corners; also turned
    # by 30 degrees (the shared edges are then collinear only up to rounding)
    import shapely.affinity

    rng = np.random.default_rng(5)
    geoms = []
    while len(geoms) < 120:
        xy = rng.integers(0, 6, (int(rng.integers(1, 12)), 2))
        g = shapely.union_all([shapely.box(x, y, x + 1, y + 1) for x, y in xy])
        if g.geom_type in ("Polygon", "MultiPolygon") and shapely.is_valid(g):
            geoms.append(g)
    for gs in (geoms, [shapely.affinity.rotate(g, 30, origin=(0, 0)) for g in geoms]):
        a, b = np.array(gs[:60]), np.array(gs[60:])
        for x, y in ((a, b), (a, a)):
            ref = shapely.area(shapely.intersection(x[:, None], y[None, :]))
            np.testing.assert_allclose(P.intersection(list(x), list(y)), ref, atol=1e-12)


def test_aligned_is_the_diagonal(random_sets):
    a, b, _, _ = random_sets
    np.testing.assert_array_equal(P.iou(a, b, aligned=True), np.diag(P.iou(a, b)))


def test_input_forms_agree(random_sets):
    a, b, sa, sb = random_sets
    ref = P.iou(a[:20], b[:20])
    # shapely geometries, WKB bytes, closed rings, clockwise rings (orientation-free)
    np.testing.assert_array_equal(P.iou(list(sa[:20]), list(sb[:20])), ref)
    np.testing.assert_array_equal(P.iou(list(shapely.to_wkb(sa[:20])), b[:20]), ref)
    closed_cw = [[np.vstack([r, r[:1]])[::-1] for r in p] for p in a[:20]]
    np.testing.assert_allclose(P.iou(closed_cw, b[:20]), ref, atol=1e-15)


def test_result_independent_of_thread_count(random_sets):
    a, b, _, _ = random_sets
    old = get_num_threads()
    try:
        set_num_threads(1)
        one = P.intersection(a * 3, b * 3)  # 360 x 360: above the threaded threshold
        set_num_threads(2)
        two = P.intersection(a * 3, b * 3)
    finally:
        set_num_threads(old)
    np.testing.assert_array_equal(one, two)


# ---------------------------------------------------------------- hand-worked cases
@pytest.mark.parametrize(
    ("other", "want"),
    [
        (SQ, 1.0),  # identical: every edge shared in the same direction
        (SQ[::-1], 1.0),  # the same square, clockwise
        ([[2, 0], [4, 0], [4, 2], [2, 2]], 0.0),  # neighbours sharing an edge
        ([[2, 2], [3, 2], [3, 3]], 0.0),  # touching at a corner
        ([[0, 0], [1, 0], [1, 2], [0, 2]], 0.5),  # the left half: three edges shared
        ([[0, 0], [1, 0], [1, 1], [0, 1]], 0.25),  # a quarter in the corner
        ([[1, 0], [3, 0], [3, 2], [1, 2]], 2 / 6),  # shifted by 1: collinear top and bottom
        ([[-1, -1], [3, -1], [3, 3], [-1, 3]], 4 / 16),  # nested, no contact
        ([[0.5, 0], [1.5, 0], [1, 1]], 0.5 / 4),  # a triangle standing on the bottom edge
        ([[0.5, 0], [1.5, 0], [1, -1]], 0.0),  # ... hanging below it
        ([[1, -1], [3, 1], [1, 3], [-1, 1]], 4 / (4 + 8 - 4)),  # a diamond around it
    ],
)
def test_hand_worked_pairs(other, want):
    assert P.iou([SQ], [other])[0, 0] == pytest.approx(want, abs=1e-15)
    assert P.iou([other], [SQ])[0, 0] == pytest.approx(want, abs=1e-15)


def test_holes_and_parts_hand_worked():
    frame = [[[0, 0], [4, 0], [4, 4], [0, 4]], [[1, 1], [3, 1], [3, 3], [1, 3]]]  # 16 - 4
    hole = [[1, 1], [3, 1], [3, 3], [1, 3]]
    np.testing.assert_array_equal(P.area([frame, hole]), [12.0, 4.0])
    assert P.intersection([frame], [hole])[0, 0] == 0.0  # the hole exactly: shared edges
    assert P.iou([frame], [frame])[0, 0] == 1.0
    # a vertical band x in [1.5, 2.5] over the frame: 4 high minus the hole's 2
    band = [[1.5, -1], [2.5, -1], [2.5, 5], [1.5, 5]]
    assert P.intersection([frame], [band])[0, 0] == pytest.approx(2.0, abs=1e-14)
    two = [[[0, 0], [1, 0], [1, 1], [0, 1]], [[2, 0], [3, 0], [3, 1], [2, 1]]]
    assert P.area([two])[0] == 2.0
    assert P.intersection([two], [[[0.5, 0], [2.5, 0], [2.5, 1], [0.5, 1]]])[0, 0] == 1.0


def test_empty_inputs_and_zero_division():
    assert P.iou([], [SQ]).shape == (0, 1)
    assert P.iou([SQ], [], aligned=False).shape == (1, 0)
    assert P.iou([[]], [SQ])[0, 0] == 0.0  # an empty polygon (no rings)
    assert P.iou([[]], [[]], zero_division=1.0)[0, 0] == 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=8, max_size=8),
)
def test_rectangles_against_closed_form(v):
    # axis-aligned rectangles: IoU = overlap widths product / union, worked by hand
    ax0, ax1, ay0, ay1, bx0, bx1, by0, by1 = v
    ax0, ax1 = sorted((ax0, ax1))
    ay0, ay1 = sorted((ay0, ay1))
    bx0, bx1 = sorted((bx0, bx1))
    by0, by1 = sorted((by0, by1))
    if min(ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0) < 1e-3:
        return
    a = [[ax0, ay0], [ax1, ay0], [ax1, ay1], [ax0, ay1]]
    b = [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]]
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    assert P.iou([a], [b])[0, 0] == pytest.approx(inter / union, abs=1e-12)


# ---------------------------------------------------------------- periodic domain
def _torus_oracle(polys, period):
    """Wrap each region onto the fundamental domain [-p/2, p/2)^2 with shapely: the
    union over shifts of (region + shift) clipped to the domain."""
    px, py = period
    dom = shapely.box(-px / 2, -py / 2, px / 2, py / 2)
    out = []
    for p in polys:
        g = _shapely(p)
        pieces = [
            shapely.intersection(shapely.affinity.translate(g, kx * px, ky * py), dom)
            for kx in (-2, -1, 0, 1, 2)
            for ky in (-2, -1, 0, 1, 2)
        ]
        out.append(shapely.union_all(pieces))
    return np.array(out)


def test_periodic_matches_shapely_on_wrapped_copies():
    import shapely.affinity  # noqa: F401  (used by the oracle)

    rng = np.random.default_rng(7)
    period = (360.0, 360.0)
    # regions of up to ~200 degrees, centred anywhere: many cross a seam (or two)
    a = [_random_polygon(rng, -180, 180, scale=25) for _ in range(40)]
    b = [_random_polygon(rng, -180, 180, scale=25) for _ in range(40)]
    a = [p for p in a if np.ptp(np.concatenate(p), axis=0).max() <= 360][:30]
    b = [p for p in b if np.ptp(np.concatenate(p), axis=0).max() <= 360][:30]
    ta, tb = _torus_oracle(a, period), _torus_oracle(b, period)
    inter_ref, iou_ref = _shapely_iou(ta, tb)
    assert (inter_ref > 0).sum() > 100
    got = P.intersection(a, b, period=period)
    np.testing.assert_allclose(got, inter_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(P.iou(a, b, period=period), iou_ref, atol=1e-9)
    # a region's area on the torus is its own area (it fits in one period)
    np.testing.assert_allclose(shapely.area(ta), P.area(a), rtol=1e-12)
    # the other reading: sum over translated (unwrapped) copies of B of area(A & (B + k P))
    sa = np.array([_shapely(p) for p in a])
    sb = np.array([_shapely(p) for p in b])
    copies = sum(
        shapely.area(
            shapely.intersection(
                sa[:, None],
                shapely.transform(sb, lambda c, k=(kx, ky): c + 360.0 * np.array(k))[None, :],
            )
        )
        for kx in (-2, -1, 0, 1, 2)
        for ky in (-2, -1, 0, 1, 2)
    )
    np.testing.assert_allclose(got, copies, rtol=1e-9, atol=1e-9)


def test_periodic_invariant_under_period_shifts():
    rng = np.random.default_rng(3)
    a = [_random_polygon(rng, -180, 180, scale=20) for _ in range(10)]
    b = [_random_polygon(rng, -180, 180, scale=20) for _ in range(10)]
    shifted = [[r + np.array([360.0, -720.0]) for r in p] for p in b]
    np.testing.assert_allclose(
        P.iou(a, shifted, period=(360, 360)), P.iou(a, b, period=(360, 360)), atol=1e-12
    )


def test_periodic_cylinder_and_seam_hand_worked():
    # phi in [170, 190] (crosses +180) against phi in [-180, -170]: 10 x 10 shared
    a = [[[170, 0], [190, 0], [190, 10], [170, 10]]]
    b = [[[-180, 0], [-170, 0], [-170, 10], [-180, 10]]]
    assert P.iou(a, b)[0, 0] == 0.0
    assert P.intersection(a, b, period=(360, 360))[0, 0] == pytest.approx(100.0, abs=1e-12)
    assert P.intersection(a, b, period=(360, 0))[0, 0] == pytest.approx(100.0, abs=1e-12)
    assert P.intersection(a, b, period=(0, 360))[0, 0] == 0.0  # only psi wraps


def test_errors_name_the_argument():
    with pytest.raises(InvalidPolygonError, match=r"a\[0\] ring 0 has 2 distinct"):
        P.iou([[[0, 0], [1, 1], [0, 0]]], [SQ])
    with pytest.raises(InvalidPolygonError, match=r"b\[1\] ring 0 has a NaN"):
        P.iou([SQ], [SQ, [[0, 0], [1, np.nan], [1, 1]]])
    with pytest.raises(InvalidPolygonError, match=r"a\[0\] spans 400 along x"):
        P.iou([[[0, 0], [400, 0], [400, 1]]], [SQ], period=(360, 360))
    with pytest.raises(InvalidParameterError, match="period"):
        P.iou([SQ], [SQ], period=(360, -1))
    with pytest.raises(ShapeMismatchError, match="aligned"):
        P.iou([SQ, SQ], [SQ], aligned=True)
    with pytest.raises(InvalidPolygonError, match="LineString"):
        P.iou([shapely.LineString([(0, 0), (1, 1)])], [SQ])
    with pytest.raises(InvalidPolygonError, match="sequence of polygons"):
        P.iou(shapely.box(0, 0, 1, 1), [SQ])
    with pytest.raises(InvalidParameterError, match="extent"):
        P.rasterize([SQ], (4, 4), (0, 0, 0, 1))


# ---------------------------------------------------------------- rasters
def test_rasterize_matches_shapely_point_in_polygon(random_sets):
    a, _, sa, _ = random_sets
    h, w, ext = 37, 53, (-2.0, 14.0, -3.0, 13.0)  # any shape: not square, odd sizes
    got = P.rasterize(a[:15], (h, w), ext)
    xs = ext[0] + (np.arange(w) + 0.5) * (ext[1] - ext[0]) / w
    ys = ext[2] + (np.arange(h) + 0.5) * (ext[3] - ext[2]) / h
    gx, gy = np.meshgrid(xs, ys)
    want = np.stack([shapely.contains_xy(g, gx, gy) for g in sa[:15]])
    np.testing.assert_array_equal(got, want)


def test_rasterize_periodic_wraps_the_seam():
    a = [[[170, -10], [190, -10], [190, 10], [170, 10]]]  # phi crosses +180
    m = P.rasterize(a, (36, 36), (-180, 180, -180, 180), period=(360, 360))[0]
    cols = np.flatnonzero(m.any(axis=0))
    assert cols.tolist() == [0, 35]  # 10-degree pixels: [-180, -170) and [170, 180)
    assert m.sum() == 2 * 2
    assert not P.rasterize(a, (36, 36), (-180, 180, -180, 180))[0, :, 0].any()


def test_raster_iou_converges_to_exact(random_sets):
    a, b, _, _ = random_sets
    pairs_a, pairs_b = a[:12], b[:12]
    exact = P.iou(pairs_a, pairs_b)
    errs = []
    for res in (32, 128, 1024):
        r = P.raster_iou(pairs_a, pairs_b, (res, res), (-20, 32, -20, 32))
        errs.append(np.abs(r - exact).max())
    assert errs[2] < errs[0] and errs[2] < 0.01
    aligned = P.raster_iou(pairs_a, pairs_b, (64, 80), (-20, 32, -20, 32), aligned=True)
    np.testing.assert_allclose(
        aligned, np.diag(P.raster_iou(pairs_a, pairs_b, (64, 80), (-20, 32, -20, 32)))
    )


def test_raster_iou_periodic_converges_to_exact():
    rng = np.random.default_rng(11)
    a = [_random_polygon(rng, -180, 180, scale=25) for _ in range(8)]
    b = [_random_polygon(rng, -180, 180, scale=25) for _ in range(8)]
    exact = P.iou(a, b, period=(360, 360))
    r = P.raster_iou(a, b, (720, 720), (-180, 180, -180, 180), period=(360, 360))
    assert np.abs(r - exact).max() < 0.01
