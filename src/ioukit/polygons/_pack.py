"""Polygon inputs -> the packed float64 arrays the kernels read.

A polygon is given as one ``[K, 2]`` ring, a list of rings (exterior first, holes
after, or several parts), a shapely ``Polygon`` / ``MultiPolygon``, or WKB bytes
(shapely is imported only when one of those two is seen). Rings are stored open
(a repeated closing vertex and repeated consecutive vertices are dropped) and are
turned by the kernel so that the region lies on their left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, InvalidPolygonError, MissingDependencyError
from . import _kernels as K

__all__ = ["Packed", "pack", "check_period"]


@dataclass(frozen=True)
class Packed:
    """Polygons packed for the kernels (see ``_kernels.pyx``)."""

    xy: np.ndarray  # [V, 2] float64, rings oriented region-on-the-left
    ring_start: np.ndarray  # [R + 1] int64
    poly_ring: np.ndarray  # [N + 1] int64
    bbox: np.ndarray  # [N, 4] (xmin, ymin, xmax, ymax); empty polygons: all 0
    area: np.ndarray  # [N]

    def __len__(self) -> int:
        return len(self.bbox)


def _shapely_rings(geom: Any, where: str) -> list[Any]:
    kind = geom.geom_type
    if kind == "Polygon":
        parts = [geom]
    elif kind == "MultiPolygon":
        parts = list(geom.geoms)
    else:
        raise InvalidPolygonError(f"{where} is a shapely {kind}; expected Polygon or MultiPolygon")
    rings = []
    for p in parts:
        if p.is_empty:
            continue
        rings.append(np.asarray(p.exterior.coords)[:, :2])
        rings.extend(np.asarray(h.coords)[:, :2] for h in p.interiors)
    return rings


def _from_wkb(data: bytes, where: str) -> Any:
    try:
        import shapely
    except ImportError as e:  # pragma: no cover - shapely is a test dependency
        raise MissingDependencyError(
            f"{where} is WKB bytes, which needs shapely (pip install shapely)"
        ) from e
    try:
        return shapely.from_wkb(data)
    except Exception as e:
        raise InvalidPolygonError(f"{where}: not valid WKB ({e})") from e


def _rings(obj: Any, where: str) -> list[Any]:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        obj = _from_wkb(bytes(obj), where)
    if hasattr(obj, "geom_type"):  # a shapely geometry (duck-typed: no import needed)
        return _shapely_rings(obj, where)
    try:
        arr = np.asarray(obj, dtype=np.float64)
    except (ValueError, TypeError):
        arr = None  # ragged: a list of rings of different lengths
    if arr is not None and arr.size == 0:
        return []
    if arr is not None and arr.ndim == 2:
        return [arr]
    if arr is not None and arr.ndim == 3:
        return list(arr)
    if arr is None and isinstance(obj, (list, tuple)):
        return [np.asarray(r, dtype=np.float64) for r in obj]
    raise InvalidPolygonError(
        f"{where} must be a [K, 2] ring, a list of rings, a shapely Polygon/MultiPolygon "
        f"or WKB bytes; got {type(obj).__name__}"
        + (f" of shape {arr.shape}" if arr is not None else "")
    )


def _ring_array(ring: Any, where: str) -> np.ndarray:
    ring = np.asarray(ring, dtype=np.float64)
    if ring.ndim != 2 or ring.shape[1] != 2:
        raise InvalidPolygonError(f"{where} must have shape [K, 2]; got {ring.shape}")
    return ring


def _clean(raw: np.ndarray, lengths: np.ndarray, where: list[str]) -> tuple[np.ndarray, Any]:
    """Drop repeated consecutive vertices and closing copies of each ring's first vertex,
    for all rings at once; returns the kept vertices and each ring's kept count."""
    bad = ~np.isfinite(raw).all(axis=1)
    starts = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    ring_of = np.repeat(np.arange(len(lengths)), lengths)
    if bad.any():
        r = int(ring_of[np.argmax(bad)])
        raise InvalidPolygonError(f"{where[r]} has a NaN or infinite coordinate")
    keep = np.ones(len(raw), bool)
    keep[1:] = (raw[1:] != raw[:-1]).any(axis=1)
    nonempty = lengths > 0
    keep[starts[nonempty]] = True  # a ring's first vertex is always kept
    # the last kept vertex of each ring, dropped when it repeats the first (a closed ring)
    kept_idx = np.flatnonzero(keep)
    last = np.searchsorted(kept_idx, starts + lengths, side="left") - 1
    rings = np.flatnonzero(nonempty)
    last_v = kept_idx[last[rings]]
    closing = (last_v != starts[rings]) & (raw[last_v] == raw[starts[rings]]).all(axis=1)
    keep[last_v[closing]] = False
    counts = np.bincount(ring_of[keep], minlength=len(lengths))
    short = np.flatnonzero(counts < 3)
    if len(short):
        r = int(short[0])
        raise InvalidPolygonError(
            f"{where[r]} has {counts[r]} distinct vertices; a ring needs at least 3"
        )
    return np.ascontiguousarray(raw[keep]), counts


def pack(polygons: Any, name: str) -> Packed:
    """Pack a sequence of polygons; errors name the argument and the polygon / ring."""
    if isinstance(polygons, (bytes, bytearray, str)) or hasattr(polygons, "geom_type"):
        raise InvalidPolygonError(f"{name} must be a sequence of polygons, not one polygon")
    rings: list[np.ndarray] = []
    where: list[str] = []
    counts = []
    for i, poly in enumerate(polygons):
        got = _rings(poly, f"{name}[{i}]")
        counts.append(len(got))
        for k, r in enumerate(got):
            where.append(f"{name}[{i}] ring {k}")
            rings.append(_ring_array(r, where[-1]))
    n = len(counts)
    poly_ring = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=poly_ring[1:])
    lengths = np.array([len(r) for r in rings], np.int64)
    raw = np.concatenate(rings) if rings else np.zeros((0, 2))
    xy, kept = _clean(raw, lengths, where) if rings else (raw, lengths)
    ring_start = np.zeros(len(rings) + 1, np.int64)
    np.cumsum(kept, out=ring_start[1:])
    bbox = np.zeros((n, 4))
    if rings:
        owner = np.repeat(np.arange(n), counts)
        vert_owner = np.repeat(owner, kept)
        lo = np.full((n, 2), np.inf)
        hi = np.full((n, 2), -np.inf)
        np.minimum.at(lo, vert_owner, xy)
        np.maximum.at(hi, vert_owner, xy)
        has = np.asarray(counts) > 0
        bbox[has] = np.concatenate([lo, hi], axis=1)[has]
    area = np.zeros(n)
    K.normalize_orientation(xy, ring_start, poly_ring, area)
    return Packed(xy, ring_start, poly_ring, bbox, area)


def check_period(period: Any, packs: tuple[tuple[str, Packed], ...]) -> tuple[float, float]:
    """``period`` as (px, py) (0 = not periodic in that axis); regions must fit one period.

    A region wider or taller than one period would overlap its own translated copies
    on the torus, where the sum over copies no longer equals the area.
    """
    if period is None:
        return 0.0, 0.0
    try:
        px, py = (float(p) for p in period)
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(f"period must be a pair (px, py); got {period!r}") from e
    for axis, p in (("x", px), ("y", py)):
        if not (np.isfinite(p) and p >= 0):
            raise InvalidParameterError(
                f"period {axis} must be a finite number > 0 (0: not periodic); got {p!r}"
            )
    for name, pk in packs:
        for k, p in ((0, px), (1, py)):
            if p == 0:
                continue
            ext = pk.bbox[:, k + 2] - pk.bbox[:, k]
            bad = np.flatnonzero(ext > p)
            if len(bad):
                i = int(bad[0])
                raise InvalidPolygonError(
                    f"{name}[{i}] spans {ext[i]:g} along {'xy'[k]}, more than the period "
                    f"{p:g}: a region on the torus must fit in one period"
                )
    return px, py
