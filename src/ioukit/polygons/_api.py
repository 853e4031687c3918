"""Public calls of :mod:`ioukit.polygons`: area, intersection, IoU, rasters."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import masks
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels as K
from ._pack import Packed, check_period, pack

__all__ = ["area", "intersection", "iou", "rasterize", "raster_iou"]


def _pair_packs(a: Any, b: Any, aligned: bool) -> tuple[Packed, Packed]:
    pa, pb = pack(a, "a"), pack(b, "b")
    if aligned and len(pa) != len(pb):
        raise ShapeMismatchError(
            f"aligned=True needs as many polygons in a as in b; got {len(pa)} and {len(pb)}"
        )
    return pa, pb


def _intersection(pa: Packed, pb: Packed, aligned: bool, px: float, py: float) -> np.ndarray:
    fn = K.aligned_intersection if aligned else K.pairwise_intersection
    args = (pa.xy, pa.ring_start, pa.poly_ring, pa.bbox)
    return fn(*args, pb.xy, pb.ring_start, pb.poly_ring, pb.bbox, px, py)


def _ratio(inter: np.ndarray, union: np.ndarray, zero_division: float) -> np.ndarray:
    out = np.full_like(inter, float(zero_division))
    ok = union > 0
    np.divide(inter, union, out=out, where=ok)
    # inter <= union holds exactly, but rounding may put a touching pair a hair above
    return np.clip(out, 0.0, 1.0, out=out) if ok.all() else np.where(ok, np.clip(out, 0, 1), out)


def area(polygons: Any) -> np.ndarray:
    """Area of each polygon (even-odd interior of its rings: holes subtract).

    Parameters
    ----------
    polygons : sequence of N polygons
        Each a ``[K, 2]`` ring, a list of rings (exterior first, then holes), a
        shapely ``Polygon`` / ``MultiPolygon`` or WKB bytes.

    Returns
    -------
    ndarray [N] float64

    Example
    -------
    >>> square = [[0, 0], [4, 0], [4, 4], [0, 4]]
    >>> hole = [[1, 1], [1, 2], [2, 2], [2, 1]]
    >>> area([square, [square, hole]]).tolist()
    [16.0, 15.0]
    """
    return pack(polygons, "polygons").area.copy()


def intersection(a: Any, b: Any, *, aligned: bool = False, period: Any = None) -> np.ndarray:
    """Exact area of the intersection of polygons, pairwise [N, M] or aligned [N].

    Arguments as in :func:`iou`.

    Example
    -------
    >>> tri = [[0, 0], [4, 0], [0, 4]]  # area 8
    >>> intersection([tri], [[[0, 0], [2, 0], [2, 2], [0, 2]]]).tolist()  # the 2x2 corner
    [[4.0]]
    """
    pa, pb = _pair_packs(a, b, aligned)
    px, py = check_period(period, (("a", pa), ("b", pb)))
    return _intersection(pa, pb, aligned, px, py)


def iou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    period: Any = None,
    zero_division: float = 0.0,
) -> np.ndarray:
    """IoU of simple polygons (concave ones, holes and multi-part regions included).

    The intersection area is exact up to rounding (Green's theorem over the
    boundary pieces of each polygon that lie inside the other; see
    docs/polygons.md); the union is ``area(A) + area(B) - area(A & B)``.

    Parameters
    ----------
    a : sequence of N polygons, b : sequence of M polygons
        Each polygon is a ``[K, 2]`` ring, a list of rings (the exterior first,
        holes after; several exteriors make a multi-part region: the region is
        the even-odd interior of all its rings), a shapely ``Polygon`` /
        ``MultiPolygon``, or WKB bytes (those two need shapely). Rings may be
        open or closed and run either way. Rings must not cross each other or
        themselves (shapely's validity); touching at points is fine.
    aligned : bool
        False: every pair, [N, M]. True: the pairs ``(a[i], b[i])``, [N].
    period : (px, py), optional
        Compute on the torus of these periods (e.g. ``(360, 360)`` for
        Ramachandran regions in degrees on the (phi, psi) torus). The regions are
        given in unwrapped coordinates and may extend past the fundamental domain
        (``[-180, 180)`` or any other window: the result does not depend on it),
        but each must fit within one period along each axis. A region is the
        set of torus points one of whose lifts it contains, so the intersection
        is the sum over integer ``k`` of ``area(A & (B + k * period))``. A period
        of 0 along one axis leaves that axis unwrapped (a cylinder).
    zero_division : float
        IoU when the union has zero area.

    Returns
    -------
    ndarray float64, [N, M] or [N] (aligned), in [0, 1].

    Example
    -------
    Two made-up Ramachandran regions per pair, in degrees (phi, psi); the second
    pair meets only across the psi = +-180 seam:

    >>> import numpy as np
    >>> def rect(phi0, phi1, psi0, psi1):
    ...     return [[phi0, psi0], [phi1, psi0], [phi1, psi1], [phi0, psi1]]
    >>> a = [rect(-150, -90, 110, 170), rect(-150, -90, 150, 210)]  # 2nd reaches past 180
    >>> b = [rect(-120, -60, 120, 180), rect(-150, -90, -170, -130)]
    >>> iou(a, b, aligned=True).round(4).tolist()  # on the plane the seam pair is apart
    [0.2632, 0.0]
    >>> iou(a, b, aligned=True, period=(360, 360)).round(4).tolist()  # 1500/5700, 1200/4800
    [0.2632, 0.25]
    """
    pa, pb = _pair_packs(a, b, aligned)
    px, py = check_period(period, (("a", pa), ("b", pb)))
    inter = _intersection(pa, pb, aligned, px, py)
    if aligned:
        union = pa.area + pb.area - inter
    else:
        union = pa.area[:, None] + pb.area[None, :] - inter
    return _ratio(inter, union, zero_division)


def _grid(shape: Any, extent: Any) -> tuple[int, int, float, float, float, float]:
    try:
        h, w = (int(s) for s in shape)
        x0, x1, y0, y1 = (float(e) for e in extent)
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(
            f"shape must be (height, width) and extent (xmin, xmax, ymin, ymax); "
            f"got {shape!r} and {extent!r}"
        ) from e
    if h < 1 or w < 1:
        raise InvalidParameterError(f"shape must be positive; got {(h, w)}")
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise InvalidParameterError(
            f"extent must be finite with xmax > xmin and ymax > ymin; got {extent!r}"
        )
    return h, w, x0, y0, (x1 - x0) / w, (y1 - y0) / h


def rasterize(polygons: Any, shape: Any, extent: Any, *, period: Any = None) -> np.ndarray:
    """Rasterise polygons on a grid of pixel centres: ``[N, height, width]`` bool.

    Pixel ``(r, c)`` is set when its centre ``(xmin + (c + 0.5) dx, ymin + (r + 0.5)
    dy)`` lies in the polygon (even-odd over its rings; a centre exactly on a
    left/bottom edge is in, on a right/top edge out), with ``dx = (xmax - xmin) /
    width``, ``dy = (ymax - ymin) / height``. Row 0 is at ``ymin`` (matplotlib's
    ``origin="lower"``). With ``period``, a centre is set when any copy of it
    translated by a multiple of the period is in the polygon, so a region crossing
    the seam shows on both sides of the grid.

    Parameters
    ----------
    polygons : sequence of N polygons (as in :func:`iou`).
    shape : (height, width), any positive sizes.
    extent : (xmin, xmax, ymin, ymax) of the grid.
    period : (px, py), optional; as in :func:`iou`.

    Example
    -------
    >>> m = rasterize([[[0, 0], [2, 0], [2, 1], [0, 1]]], (2, 4), (0, 4, 0, 2))
    >>> m[0].astype(int).tolist()  # row 0 is y in [0, 1)
    [[1, 1, 0, 0], [0, 0, 0, 0]]
    """
    h, w, x0, y0, sx, sy = _grid(shape, extent)
    pk = pack(polygons, "polygons")
    px, py = check_period(period, (("polygons", pk),))
    out = K.rasterize(pk.xy, pk.ring_start, pk.poly_ring, pk.bbox, h, w, x0, y0, sx, sy, px, py)
    return out.view(bool)


def raster_iou(
    a: Any,
    b: Any,
    shape: Any,
    extent: Any,
    *,
    aligned: bool = False,
    period: Any = None,
    zero_division: float = 0.0,
) -> np.ndarray:
    """IoU of the polygons' rasters (:func:`rasterize`) on one grid, by :mod:`ioukit.masks`.

    Converges to :func:`iou` as the grid is refined (the error is of the order of
    the pixels the boundaries cross over the union's pixels); on a grid it is the
    IoU a pixel-based tool would report.

    Returns
    -------
    ndarray float64, [N, M] or [N] (aligned).

    Example
    -------
    >>> sq = [[0, 0], [2, 0], [2, 2], [0, 2]]
    >>> shifted = [[1, 0], [3, 0], [3, 2], [1, 2]]
    >>> raster_iou([sq], [shifted], (8, 12), (0, 3, 0, 2)).tolist()  # exact: 2 / 6
    [[0.3333333333333333]]
    """
    ma = rasterize(a, shape, extent, period=period)
    mb = rasterize(b, shape, extent, period=period)
    if aligned:
        if len(ma) != len(mb):
            raise ShapeMismatchError(
                f"aligned=True needs as many polygons in a as in b; got {len(ma)} and {len(mb)}"
            )
        return np.asarray(masks.iou(ma, mb, zero_division=zero_division))
    return np.asarray(masks.pairwise_iou(ma, mb, zero_division=zero_division))
