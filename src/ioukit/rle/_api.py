"""Public functions of :mod:`ioukit.rle` (pycocotools ``mask`` compatible)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidMaskError, InvalidParameterError, InvalidRLEError, ShapeMismatchError
from . import _codec, _kernels
from ._table import (
    RLETable,
    lists_to_table,
    polygons_to_table,
    strings_to_table,
    table_from_counts,
    table_from_objects,
    table_to_dicts,
)

__all__ = [
    "encode",
    "decode",
    "area",
    "to_bbox",
    "merge",
    "iou",
    "from_polygons",
    "from_bbox",
    "from_uncompressed",
    "from_objects",
    "to_string",
    "from_string",
    "boundary",
    "boundary_iou",
    "dilation_width",
]

RLE = dict  # {"size": [h, w], "counts": bytes}


def _as_list(rles: Any) -> tuple[list, bool]:
    if isinstance(rles, dict):
        return [rles], True
    return list(rles), False


def _table(rles: Sequence[Any], size: tuple[int, int] | None = None) -> RLETable:
    if size is None:
        return table_from_objects(rles)
    h, w = _image_size(*size, "size") if len(size) == 2 else _image_size(None, None, "size")
    return table_from_objects(rles, [h] * len(rles), [w] * len(rles))


def encode(mask: Any) -> RLE | list[RLE]:
    """Run-length encode binary masks, column-major, as pycocotools ``encode``.

    Parameters
    ----------
    mask : (h, w) or (h, w, n) array; nonzero is foreground (NumPy, or anything
        ``np.asarray`` takes, e.g. a CPU torch tensor).

    Returns
    -------
    One RLE dict ``{"size": [h, w], "counts": bytes}`` for a 2-D mask, a list of
    ``n`` for a 3-D stack.

    Example
    -------
    >>> import numpy as np
    >>> encode(np.eye(3, dtype=np.uint8))
    {'size': [3, 3], 'counts': b'013000'}
    """
    a = np.asarray(mask)
    if a.ndim not in (2, 3):
        raise InvalidMaskError(f"mask must be (h, w) or (h, w, n); got shape {a.shape}")
    single = a.ndim == 2
    if single:
        a = a[:, :, None]
    h, w, n = a.shape
    # (h, w, n) Fortran order puts each mask's pixels column by column, contiguously.
    if a.dtype.kind not in "biuf":
        raise InvalidMaskError(f"mask must be numeric or bool; got dtype {a.dtype}")
    # (n, w, h) view: Fortran-ordered input (pycocotools' layout) is walked in place.
    counts, offsets = _kernels.encode_stack(np.transpose(a, (2, 1, 0)))
    table = RLETable(counts, offsets, np.full(n, h, np.int64), np.full(n, w, np.int64))
    out = table_to_dicts(table)
    return out[0] if single else out


def decode(rles: RLE | Sequence[RLE]) -> np.ndarray:
    """Decode RLEs to dense uint8 masks, as pycocotools ``decode``.

    Parameters
    ----------
    rles : one RLE dict, or a list of ``n`` RLEs of the same size (compressed or
        uncompressed counts).

    Returns
    -------
    (h, w) uint8 for one dict; (h, w, n) uint8, Fortran-ordered, for a list.

    Example
    -------
    >>> decode({"size": [2, 2], "counts": b"121"})
    array([[0, 1],
           [1, 0]], dtype=uint8)
    """
    lst, single = _as_list(rles)
    t = _table(lst)
    if t.n == 0:
        raise InvalidRLEError("decode needs at least one RLE")
    h, w = int(t.heights[0]), int(t.widths[0])
    bad = np.flatnonzero((t.heights != h) | (t.widths != w))
    if bad.size:
        i = int(bad[0])
        raise ShapeMismatchError(
            f"rle[{i}]: size {[int(t.heights[i]), int(t.widths[i])]} differs from rle[0]'s {[h, w]}"
        )
    out = np.zeros((t.n, h * w), np.uint8)  # decode_into writes the foreground only
    _kernels.decode_into(t.counts, t.offsets, out)
    # (n, w, h) C order is (h, w, n) Fortran order, pycocotools' layout.
    masks = out.reshape(t.n, w, h).transpose(2, 1, 0)
    return masks[:, :, 0] if single else masks


def area(rles: RLE | Sequence[RLE]) -> int | np.ndarray:
    """Foreground pixel count of each RLE (maskApi.c rleArea), as pycocotools ``area``.

    Returns a Python-compatible ``np.uint32`` scalar for one dict, (n,) uint32 for a list.

    Example
    -------
    >>> int(area({"size": [3, 3], "counts": b"054"}))  # runs 0, 5, 4
    5
    """
    lst, single = _as_list(rles)
    t = _table(lst)
    a = _kernels.areas(t.counts, t.offsets).astype(np.uint32)
    return a[0] if single else a


def to_bbox(rles: RLE | Sequence[RLE]) -> np.ndarray:
    """Tight ``[x, y, w, h]`` boxes of RLEs (maskApi.c rleToBbox), as pycocotools ``toBbox``.

    Returns (4,) float64 for one dict, (n, 4) for a list. An empty mask gives zeros.

    Example
    -------
    >>> to_bbox({"size": [3, 3], "counts": b"054"})  # the first 5 pixels
    array([0., 0., 2., 3.])
    """
    lst, single = _as_list(rles)
    t = _table(lst)
    bb = _kernels.bboxes(t.counts, t.offsets, t.heights, t.widths)
    return bb[0] if single else bb


def merge(rles: Sequence[RLE], intersect: bool = False) -> RLE:
    """Union (or intersection) of RLEs of one size, as pycocotools ``merge``.

    Example
    -------
    >>> a = {"size": [3, 3], "counts": b"054"}  # pixels 0..4 (column-major)
    >>> b = {"size": [3, 3], "counts": b"36"}  # pixels 3..8
    >>> merge([a, b], intersect=True)  # pixels 3, 4
    {'size': [3, 3], 'counts': b'324'}
    >>> merge([a, b])
    {'size': [3, 3], 'counts': b'09'}
    """
    lst = list(rles)
    if not lst:
        return {"size": [0, 0], "counts": b""}
    t = _table(lst)
    h, w = int(t.heights[0]), int(t.widths[0])
    bad = np.flatnonzero((t.heights != h) | (t.widths != w))
    if bad.size:
        i = int(bad[0])
        raise ShapeMismatchError(
            f"rle[{i}]: size {[int(t.heights[i]), int(t.widths[i])]} differs from rle[0]'s {[h, w]}"
        )
    c = _kernels.merge_many(t.counts, t.offsets, bool(intersect))
    return table_to_dicts(table_from_counts([c], [h], [w]))[0]


def _is_boxes(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype != object and x.ndim in (1, 2) and (x.ndim == 1 or x.shape[-1] == 4)
    return bool(len(x)) and all(
        isinstance(o, (list, tuple, np.ndarray))
        and len(o) == 4
        and not isinstance(o[0], (list, tuple, np.ndarray, dict))
        for o in x
    )


def iou_tables(dt: RLETable, gt: RLETable, iscrowd: np.ndarray) -> np.ndarray:
    """(m, n) IoU of two tables, crowd flags per GT (maskApi.c rleIou)."""
    bad_d = (dt.heights[:, None] != gt.heights[None, :]) | (
        dt.widths[:, None] != gt.widths[None, :]
    )
    if bad_d.any():
        d, g = (int(v[0]) for v in np.nonzero(bad_d))
        raise ShapeMismatchError(
            f"dt[{d}] size {[int(dt.heights[d]), int(dt.widths[d])]} differs from "
            f"gt[{g}] size {[int(gt.heights[g]), int(gt.widths[g])]}"
        )
    bb_d = _kernels.bboxes(dt.counts, dt.offsets, dt.heights, dt.widths)
    bb_g = _kernels.bboxes(gt.counts, gt.offsets, gt.heights, gt.widths)
    a_d = _kernels.areas(dt.counts, dt.offsets)
    a_g = _kernels.areas(gt.counts, gt.offsets)
    return _kernels.iou_matrix(
        dt.counts,
        dt.offsets,
        bb_d,
        a_d,
        gt.counts,
        gt.offsets,
        bb_g,
        a_g,
        iscrowd.astype(np.uint8),
    )


def iou(
    dt: Sequence[Any] | np.ndarray,
    gt: Sequence[Any] | np.ndarray,
    iscrowd: Sequence[int | bool] | np.ndarray,
    *,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Pairwise IoU of detections and ground truths, as pycocotools ``iou``.

    ``IoU = |d & g| / |d | g|``; for a crowd GT (``iscrowd[j]`` true) the
    denominator is ``|d|`` (pycocotools' intersection over detection).

    Parameters
    ----------
    dt, gt : lists of masks in any mix of COCO forms (compressed RLE dicts,
        uncompressed RLE dicts, polygon lists, dense (h, w) arrays), or both
        (N, 4) ``[x, y, w, h]`` boxes (pycocotools' box overload).
    iscrowd : (M,) flags, one per GT.
    size : (h, w), needed when polygons are given.

    Returns
    -------
    (N, M) float64; ``[]``-like (0-size) array when either side is empty.

    Example
    -------
    >>> a = {"size": [3, 3], "counts": b"054"}  # first 5 pixels
    >>> b = {"size": [3, 3], "counts": b"36"}  # right 6 pixels
    >>> iou([a], [b], [0])  # 2 shared of 9 -> 2/9
    array([[0.22222222]])
    >>> iou([a], [b], [1])  # crowd: 2 / |a| = 2/5
    array([[0.4]])
    """
    crowd = np.asarray(iscrowd, dtype=bool).reshape(-1)
    if len(gt) != crowd.size:
        raise InvalidParameterError(f"iscrowd has {crowd.size} flags for {len(gt)} ground truths")
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)), np.float64)
    box_d, box_g = _is_boxes(dt), _is_boxes(gt)
    if box_d and box_g:
        d = np.asarray(dt, np.float64).reshape(-1, 4)
        g = np.asarray(gt, np.float64).reshape(-1, 4)
        return _kernels.box_iou_matrix(d, g, crowd)
    if box_d or box_g:
        raise InvalidParameterError("dt and gt must both be boxes or both be masks")
    return iou_tables(_table(list(dt), size), _table(list(gt), size), crowd)


def from_polygons(polygons: Sequence[Sequence[float]], h: int, w: int) -> list[RLE]:
    """Rasterise polygons (one RLE each), as pycocotools ``frPoly``.

    Each polygon is ``[x0, y0, x1, y1, ...]`` in pixel coordinates (pixel centres
    at integers), rasterised exactly as maskApi.c rleFrPoly: the same pixels.

    Example
    -------
    >>> rle = from_polygons([[0, 0, 0, 2, 2, 2, 2, 0]], 4, 4)[0]
    >>> int(area(rle))
    4
    """
    h, w = _image_size(h, w, "from_polygons")
    t = polygons_to_table([[p] for p in polygons], [h] * len(polygons), [w] * len(polygons))
    return table_to_dicts(t)


def _image_size(h: Any, w: Any, fn: str) -> tuple[int, int]:
    """(h, w) as ints, or InvalidParameterError: integers in [0, 2**31)."""
    for name, v in (("h", h), ("w", w)):
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))):
            raise InvalidParameterError(f"{fn}: {name} must be an integer; got {v!r}")
        if not 0 <= int(v) < 2**31:
            raise InvalidParameterError(f"{fn}: {name} must be in [0, 2**31); got {int(v)}")
    return int(h), int(w)


def from_bbox(bboxes: Sequence[Sequence[float]] | np.ndarray, h: int, w: int) -> list[RLE]:
    """Rasterise ``[x, y, w, h]`` boxes, as pycocotools ``frBbox`` (a 4-point polygon).

    Example
    -------
    >>> int(area(from_bbox([[0, 0, 2, 3]], 5, 5)[0]))
    6
    """
    h, w = _image_size(h, w, "from_bbox")
    bb = np.asarray(bboxes, np.float64).reshape(-1, 4)
    polys = [[x, y, x, y + bh, x + bw, y + bh, x + bw, y] for x, y, bw, bh in bb.tolist()]
    t = polygons_to_table([[p] for p in polys], [h] * len(polys), [w] * len(polys))
    return table_to_dicts(t)


def from_uncompressed(rles: Sequence[dict]) -> list[RLE]:
    """Compress RLEs with list counts (``iscrowd`` GT style), as ``frUncompressedRLE``.

    Example
    -------
    >>> from_uncompressed([{"size": [2, 2], "counts": [1, 2, 1]}])
    [{'size': [2, 2], 'counts': b'121'}]
    """
    hs = [int(r["size"][0]) for r in rles]
    ws = [int(r["size"][1]) for r in rles]
    return table_to_dicts(lists_to_table([r["counts"] for r in rles], hs, ws))


def from_objects(obj: Any, h: int, w: int) -> RLE | list[RLE]:
    """pycocotools ``frPyObjects``: boxes, polygons or uncompressed RLEs -> RLEs.

    A list gives a list (boxes if its items have 4 numbers, polygons if more,
    RLE dicts); a single box / polygon / dict gives one RLE.

    Example
    -------
    >>> from_objects([[0, 0, 2, 0, 2, 2, 0, 2]], 3, 3)
    [{'size': [3, 3], 'counts': b'02103'}]
    """
    if isinstance(obj, np.ndarray):
        return from_bbox(obj, h, w)
    if isinstance(obj, dict):
        return from_objects([obj], h, w)[0]
    if isinstance(obj, (list, tuple)) and obj:
        first = obj[0]
        if isinstance(first, dict):
            return [
                o if isinstance(o["counts"], (bytes, str)) else from_uncompressed([o])[0]
                for o in obj
            ]
        if isinstance(first, (list, tuple, np.ndarray)):
            if len(first) == 4:
                return from_bbox(obj, h, w)
            return from_polygons(obj, h, w)
        if len(obj) == 4:
            return from_bbox([obj], h, w)[0]
        return from_polygons([obj], h, w)[0]
    raise InvalidParameterError(f"from_objects: unsupported input {type(obj).__name__}")


def to_string(counts: Sequence[int] | np.ndarray) -> bytes:
    """Compress one list of run lengths into COCO's string (maskApi.c rleToString).

    Example
    -------
    >>> to_string([1, 2, 1])
    b'121'
    """
    c = np.asarray(counts, np.int64).reshape(-1)
    if c.size and (c.min() < 0 or c.max() > 0xFFFFFFFF):
        raise InvalidRLEError("counts must be in [0, 2**32)")
    return _codec.encode_strings(c.astype(np.uint32), np.array([0, c.size], np.int64))[0]


def from_string(s: bytes | str, h: int, w: int) -> np.ndarray:
    """Run lengths (uint32) of one COCO string (maskApi.c rleFrString), validated.

    Example
    -------
    >>> from_string(b"121", 2, 2)
    array([1, 2, 1], dtype=uint32)
    """
    h, w = _image_size(h, w, "from_string")
    t = strings_to_table([s], [h], [w])
    return t.counts.copy()


def dilation_width(h: int, w: int, dilation_ratio: float = 0.02) -> int:
    """Band width ``d`` of Boundary IoU for an h x w image.

    Cheng et al., CVPR 2021, Sec. 4: d = dilation_ratio * image diagonal, rounded
    (Python's round: half to even, as boundary-iou-api), at least 1.

    Example
    -------
    >>> dilation_width(480, 640)  # 0.02 * 800 = 16
    16
    """
    if not (dilation_ratio >= 0 and math.isfinite(dilation_ratio)):
        raise InvalidParameterError(f"dilation_ratio must be finite and >= 0; got {dilation_ratio}")
    return max(1, int(round(dilation_ratio * math.sqrt(h * h + w * w))))


def boundary_table(t: RLETable, dilation_ratio: float = 0.02) -> RLETable:
    """Boundary bands of all masks of a table (see :func:`boundary`)."""
    diag = np.sqrt((t.heights * t.heights + t.widths * t.widths).astype(np.float64))
    # np.round rounds half to even, like Python's round in boundary-iou-api.
    dil = np.maximum(1, np.round(dilation_ratio * diag)).astype(np.int64)
    c, o = _kernels.boundary_counts(t.counts, t.offsets, t.heights, t.widths, dil)
    return RLETable(c, o, t.heights, t.widths)


def boundary(rles: RLE | Sequence[RLE], dilation_ratio: float = 0.02) -> RLE | list[RLE]:
    """Boundary band of masks (Cheng et al., CVPR 2021), as RLEs.

    The band is ``G & ~erode(G, d)``: mask pixels within chessboard distance
    ``d = dilation_width(h, w, dilation_ratio)`` of the background, the outside of
    the image counting as background (boundary-iou-api pads with zeros).

    Example
    -------
    >>> import numpy as np
    >>> m = np.zeros((5, 5), np.uint8); m[:, :] = 1
    >>> decode(boundary(encode(m)))  # d = 1: the outer ring
    array([[1, 1, 1, 1, 1],
           [1, 0, 0, 0, 1],
           [1, 0, 0, 0, 1],
           [1, 0, 0, 0, 1],
           [1, 1, 1, 1, 1]], dtype=uint8)
    """
    lst, single = _as_list(rles)
    dilation_width(1, 1, dilation_ratio)  # validates the ratio
    out = table_to_dicts(boundary_table(_table(lst), dilation_ratio))
    return out[0] if single else out


def boundary_iou(
    dt: Sequence[Any],
    gt: Sequence[Any],
    iscrowd: Sequence[int | bool] | np.ndarray,
    *,
    dilation_ratio: float = 0.02,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Boundary IoU matrix (Cheng et al., CVPR 2021, Eq. 2): IoU of the boundary bands.

    This is the raw boundary term; COCO's ``boundary`` evaluation matches on
    ``min(mask IoU, boundary IoU)`` for non-crowd GT (see ``ioukit.coco``).

    Returns (N, M) float64.

    Example
    -------
    >>> import numpy as np
    >>> m = np.zeros((20, 20), np.uint8); m[2:12, 2:12] = 1
    >>> r = encode(m)
    >>> float(boundary_iou([r], [r], [0])[0, 0])
    1.0
    """
    crowd = np.asarray(iscrowd, dtype=bool).reshape(-1)
    if len(gt) != crowd.size:
        raise InvalidParameterError(f"iscrowd has {crowd.size} flags for {len(gt)} ground truths")
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)), np.float64)
    dilation_width(1, 1, dilation_ratio)
    bd = boundary_table(_table(list(dt), size), dilation_ratio)
    bg = boundary_table(_table(list(gt), size), dilation_ratio)
    return iou_tables(bd, bg, crowd)
