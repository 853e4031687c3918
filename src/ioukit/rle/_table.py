"""The flat RLE table and conversions from COCO Python objects into it.

A table holds ``n`` run-length encodings back to back: ``counts`` (C,) uint32,
``offsets`` (n + 1,) int64, ``heights`` and ``widths`` (n,) int64. Every kernel
in :mod:`ioukit.rle` and the COCO ``segm`` / ``boundary`` plug-ins work on it, so
that a whole data set is converted with a handful of compiled calls instead of
one call per annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidMaskError, InvalidPolygonError, InvalidRLEError, ShapeMismatchError
from . import _codec, _kernels

__all__ = ["RLETable", "table_from_objects", "table_from_counts", "table_to_dicts"]


class RLETable(NamedTuple):
    """``n`` RLEs as flat arrays (see the module docstring)."""

    counts: np.ndarray
    offsets: np.ndarray
    heights: np.ndarray
    widths: np.ndarray

    @property
    def n(self) -> int:
        return int(self.offsets.size - 1)


def _label(names: Sequence[str] | None, i: int) -> str:
    return names[i] if names is not None else f"rle[{i}]"


_ERR_TEXT = {
    _codec.ERR_BAD_CHAR: "character {pos} is outside '0'..'o' (corrupt compressed counts)",
    _codec.ERR_TRUNCATED: "string is truncated (character {pos} announces more data)",
    _codec.ERR_NEGATIVE: "count {pos} decodes to a negative run length (corrupt counts)",
    _codec.ERR_SUM: "counts add up to {pos}, not h*w = {hw}",
    _codec.ERR_TOO_LARGE: "count {pos} does not fit in 32 bits",
}


def _raise_codec(err: np.ndarray, pos: np.ndarray, hw: np.ndarray, names, index_map) -> None:
    bad = np.flatnonzero(err)
    if bad.size == 0:
        return
    i = int(bad[0])
    j = index_map[i] if index_map is not None else i
    msg = _ERR_TEXT[int(err[i])].format(pos=int(pos[i]), hw=int(hw[i]))
    raise InvalidRLEError(f"{_label(names, j)}: {msg}")


def _is_integer(v: Any) -> bool:
    # pycocotools' C side takes integers only: "48", 48.0 and True are not sizes
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _size_of(obj: dict, names, i: int) -> tuple[int, int]:
    size = obj.get("size")
    if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(map(_is_integer, size))):
        raise InvalidRLEError(
            f"{_label(names, i)}: 'size' must be [h, w], two integers; got {size!r:.60}"
        )
    h, w = int(size[0]), int(size[1])
    if h < 0 or w < 0:
        raise InvalidRLEError(f"{_label(names, i)}: negative size {[h, w]}")
    return h, w


def check_image_sizes(heights: Any, widths: Any, names=None, what: str = "size") -> None:
    """InvalidParameterError naming the first negative (or too large) ``h`` / ``w``."""
    h = np.asarray(heights, np.int64).reshape(-1)
    w = np.asarray(widths, np.int64).reshape(-1)
    bad = np.flatnonzero((h < 0) | (w < 0) | (h > 2**31 - 1) | (w > 2**31 - 1))
    if bad.size:
        i = int(bad[0])
        raise InvalidPolygonError(
            f"{_label(names, i)}: {what} {[int(h[i]), int(w[i])]} is not a valid image size "
            "(h and w must be integers in [0, 2**31))"
        )


#: Polygon coordinates beyond +-FAR are clipped to that square before rasterising: the
#: kernel's upsampled integer coordinates (5x, int64) stay exact, and nothing inside
#: any image moves (the clipped edges keep their direction to ~1e-4 pixels per 1e12).
#: Within it the kernel walks only the columns of the image (work bounded by its width).
FAR = float(2**40)


def _clip_square(p: np.ndarray, lim: float) -> np.ndarray:
    """Sutherland-Hodgman clipping of one closed polygon (k, 2) to [-lim, lim]^2."""
    for axis in (0, 1):
        for sign in (1.0, -1.0):
            if p.shape[0] == 0:
                return p
            q = np.roll(p, -1, axis=0)
            inside_p = sign * p[:, axis] <= lim
            inside_q = sign * q[:, axis] <= lim
            out = []
            for j in range(p.shape[0]):  # rare path (coordinates beyond 1e12): a loop
                if inside_p[j]:
                    out.append(p[j])
                if inside_p[j] != inside_q[j]:
                    t = (sign * lim - p[j, axis]) / (q[j, axis] - p[j, axis])
                    x = p[j] + t * (q[j] - p[j])
                    x[axis] = sign * lim
                    out.append(x)
            p = np.array(out, np.float64).reshape(-1, 2)
    return p


def _clip_far(xy, poly_off, ann_off):
    """(xy, poly_off) with every polygon reaching beyond ``FAR`` clipped to the square."""
    if xy.size == 0 or (xy.max() <= FAR and xy.min() >= -FAR):  # the common case
        return xy, poly_off
    far = np.abs(xy) > FAR
    owner = np.repeat(np.arange(poly_off.size - 1), np.diff(poly_off))
    hit = set(np.unique(owner[far]).tolist())
    parts, lengths = [], []
    for q in range(poly_off.size - 1):
        p = xy[poly_off[q] : poly_off[q + 1]]
        if q in hit:
            p = _clip_square(p.reshape(-1, 2), FAR).reshape(-1)
            if p.size < 6:  # nothing left inside: an empty polygon (no pixels)
                p = np.zeros(6, np.float64) - FAR
        parts.append(p)
        lengths.append(p.size)
    off = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    return np.concatenate(parts), off


def _polys_to_slots(xy, poly_off, ann_off, heights, widths):
    """Rasterise: annotation i's counts are ``buf[bound_off[i]:bound_off[i] + n_out[i]]``."""
    xy, poly_off = _clip_far(np.asarray(xy, np.float64), np.asarray(poly_off, np.int64), ann_off)
    # Rasterising costs ~ the upsampled perimeter: parallel only for many vertices.
    big = xy.size >= _kernels.PARALLEL_MIN_WORK // 20
    return _kernels.polys_to_slots(xy, poly_off, ann_off, heights, widths, big)


def _polys_to_counts(xy, poly_off, ann_off, heights, widths):
    return _kernels.compact(*_polys_to_slots(xy, poly_off, ann_off, heights, widths))


def _check_polygon(p: Any, names, i: int, k: int) -> np.ndarray:
    try:
        a = np.asarray(p, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise InvalidPolygonError(
            f"{_label(names, i)}: polygon {k} is not a list of numbers"
        ) from e
    if a.size < 6:
        raise InvalidPolygonError(
            f"{_label(names, i)}: polygon {k} has {a.size // 2} points; at least 3 are needed"
        )
    if a.size % 2:
        raise InvalidPolygonError(
            f"{_label(names, i)}: polygon {k} has an odd number of coordinates ({a.size})"
        )
    if not np.all(np.isfinite(a)):
        raise InvalidPolygonError(
            f"{_label(names, i)}: polygon {k} has NaN or infinite coordinates"
        )
    return a


def polygons_to_table(
    polys: Sequence[Sequence[Any]],
    heights: np.ndarray,
    widths: np.ndarray,
    names: Sequence[str] | None = None,
    index_map: Sequence[int] | None = None,
) -> RLETable:
    """Rasterise each annotation's polygons ``polys[i]`` (``[x0, y0, ...]`` lists); merge them."""
    try:
        # One flat conversion for all polygons; validated below, vectorised.
        ann_sizes = np.fromiter(map(len, polys), np.int64, len(polys))
        flat = list(chain.from_iterable(polys))
        lengths = np.fromiter(map(len, flat), np.int64, len(flat))
        xy = np.fromiter(chain.from_iterable(flat), np.float64, int(lengths.sum()))
    except (TypeError, ValueError):
        # Slow path only to find and name the malformed polygon.
        for i, ann in enumerate(polys):
            j = index_map[i] if index_map is not None else i
            for k, p in enumerate(ann if isinstance(ann, (list, tuple)) else [ann]):
                _check_polygon(p, names, j, k)
        raise InvalidPolygonError("malformed polygon list") from None
    empty = np.flatnonzero(ann_sizes == 0)
    if empty.size:
        j = int(empty[0])
        raise InvalidPolygonError(
            f"{_label(names, index_map[j] if index_map is not None else j)}: empty polygon list"
        )
    ann_off = np.zeros(len(polys) + 1, np.int64)
    np.cumsum(ann_sizes, out=ann_off[1:])
    poly_off = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=poly_off[1:])
    bad_poly = (lengths < 6) | (lengths % 2 == 1)
    if not np.all(np.isfinite(xy)):
        owner = np.repeat(np.arange(lengths.size), lengths)
        bad_poly[owner[~np.isfinite(xy)]] = True
    if bad_poly.any():
        q = int(np.flatnonzero(bad_poly)[0])
        i = int(np.searchsorted(ann_off, q, side="right") - 1)
        j = index_map[i] if index_map is not None else i
        _check_polygon(polys[i][q - ann_off[i]], names, j, q - int(ann_off[i]))
    h = np.asarray(heights, np.int64)
    w = np.asarray(widths, np.int64)
    check_image_sizes(h, w, names if index_map is None else [_label(names, j) for j in index_map])
    counts, off = _polys_to_counts(xy, poly_off, ann_off, h, w)
    return RLETable(counts, off, h, w)


def strings_to_table(
    strings: Sequence[bytes | str],
    heights: np.ndarray,
    widths: np.ndarray,
    names: Sequence[str] | None = None,
    index_map: Sequence[int] | None = None,
) -> RLETable:
    """Decode compressed ``counts`` strings (``bytes`` or ``str``) into a table."""
    raw = None
    kinds = set(map(type, strings))
    if kinds == {str}:
        try:
            # One join + one encode: no per-string bytes copies (ASCII keeps lengths).
            raw = "".join(strings).encode("ascii")
            seq: Sequence = strings
        except UnicodeEncodeError:
            raw = None
    elif kinds <= {bytes}:
        raw = b"".join(strings)
        seq = strings
    if raw is None:
        seq = [s.encode("ascii", "replace") if isinstance(s, str) else bytes(s) for s in strings]
        raw = b"".join(seq)
    lengths = np.fromiter(map(len, seq), np.int64, len(seq))
    offsets = np.zeros(len(seq) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _decode_table(np.frombuffer(raw, np.uint8), offsets, heights, widths, names, index_map)


def _decode_table(buf, offsets, heights, widths, names=None, index_map=None) -> RLETable:
    """Decode strings packed in ``buf`` (uint8) at ``offsets`` into a table, validated."""
    h = np.asarray(heights, np.int64)
    w = np.asarray(widths, np.int64)
    hw = h * w
    counts, off, err, pos = _codec.decode_strings(buf, offsets, hw)
    _raise_codec(err, pos, hw, names, index_map)
    return RLETable(counts, off, h, w)


def lists_to_table(
    count_lists: Sequence[Sequence[int]],
    heights: np.ndarray,
    widths: np.ndarray,
    names: Sequence[str] | None = None,
    index_map: Sequence[int] | None = None,
) -> RLETable:
    """Uncompressed RLE counts (lists of ints) into a table, validated."""
    arrs = []
    h = np.asarray(heights, np.int64)
    w = np.asarray(widths, np.int64)
    for i, c in enumerate(count_lists):
        j = index_map[i] if index_map is not None else i
        try:
            a = np.asarray(c)
        except (TypeError, ValueError):
            a = np.asarray(None)
        if not (a.ndim == 1 and (a.dtype.kind in "iu" or (a.size == 0 and a.dtype.kind == "f"))):
            raise InvalidRLEError(
                f"{_label(names, j)}: 'counts' must be a string or a list of integers; "
                f"got {c!r:.60}"
            )
        a = a.astype(np.int64)
        if a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF):
            raise InvalidRLEError(f"{_label(names, j)}: counts must be in [0, 2**32)")
        if int(a.sum()) != int(h[i] * w[i]):
            raise InvalidRLEError(
                f"{_label(names, j)}: counts add up to {int(a.sum())}, not h*w = {int(h[i] * w[i])}"
            )
        arrs.append(a.astype(np.uint32))
    off = np.zeros(len(arrs) + 1, np.int64)
    np.cumsum([a.size for a in arrs], out=off[1:])
    counts = np.concatenate(arrs) if arrs else np.zeros(0, np.uint32)
    return RLETable(counts, off, h, w)


def dense_to_table(
    masks: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    index_map: Sequence[int] | None = None,
) -> RLETable:
    """Dense (h, w) masks (nonzero = foreground) into a table, column-major as COCO."""
    arrs = []
    hs = np.empty(len(masks), np.int64)
    ws = np.empty(len(masks), np.int64)
    for i, m in enumerate(masks):
        a = np.asarray(m.detach().cpu() if hasattr(m, "detach") else m)
        if a.ndim != 2:
            j = index_map[i] if index_map is not None else i
            raise InvalidMaskError(f"{_label(names, j)}: a mask must be 2-D (h, w); got {a.shape}")
        hs[i], ws[i] = a.shape
        arrs.append(a)
    parts = [_kernels.encode_stack(a.T[None]) for a in arrs]
    return concat_tables(
        [RLETable(c, o, hs[i : i + 1], ws[i : i + 1]) for i, (c, o) in enumerate(parts)]
    )


def concat_tables(tables: Sequence[RLETable]) -> RLETable:
    """Concatenate tables in order."""
    if not tables:
        return RLETable(
            np.zeros(0, np.uint32),
            np.zeros(1, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
    counts = np.concatenate([t.counts for t in tables])
    sizes = np.concatenate([np.diff(t.offsets) for t in tables])
    off = np.zeros(sizes.size + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    return RLETable(
        counts,
        off,
        np.concatenate([t.heights for t in tables]),
        np.concatenate([t.widths for t in tables]),
    )


def take(table: RLETable, order: np.ndarray) -> RLETable:
    """Rows ``order`` of ``table`` (a permutation or subset)."""
    order = np.asarray(order, np.int64)
    sizes = np.diff(table.offsets)[order]
    off = np.zeros(order.size + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    counts = _kernels.gather_u32(table.counts, table.offsets, order, off)
    return RLETable(counts, off, table.heights[order], table.widths[order])


def _all_compressed(objs: Sequence[Any]) -> tuple[list, np.ndarray] | None:
    """(strings, (n, 2) sizes) when every object is a compressed RLE dict, else None."""
    try:
        strings = [o["counts"] for o in objs]
        sizes = np.array([o["size"] for o in objs], dtype=np.int64)
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if sizes.shape != (len(objs), 2) or (sizes.size and sizes.min() < 0):
        return None
    if not all(_is_integer(v) for o in objs for v in o["size"]):
        return None  # "48" or 48.0: the general path names it
    if not {type(c) for c in strings} <= {str, bytes}:
        return None
    return strings, sizes


def table_from_objects(
    objs: Sequence[Any],
    heights: Sequence[int] | np.ndarray | None = None,
    widths: Sequence[int] | np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> RLETable:
    """Convert COCO segmentations into one table (pycocotools ``annToRLE`` semantics).

    Each element is a compressed RLE dict (``counts`` str/bytes), an uncompressed
    RLE dict (``counts`` a list), a list of polygons (rasterised and merged), or
    a dense (h, w) array. ``heights`` / ``widths`` are the images' sizes: needed
    for polygons; for the RLE and dense kinds they are checked against the
    object's own size when given.
    """
    n = len(objs)
    hs = None if heights is None else np.asarray(heights, np.int64).reshape(-1)
    ws = None if widths is None else np.asarray(widths, np.int64).reshape(-1)
    packed = _codec.pack_compressed(objs)
    if packed is not None:
        # Compressed RLE dicts only (pycocotools' usual input): one compiled gather.
        table = _decode_table(*packed, names)
        if hs is not None and ws is not None and n:
            check_sizes(table, hs, ws, names)
        return table
    fast = _all_compressed(objs)
    if fast is not None:
        table = strings_to_table(fast[0], fast[1][:, 0], fast[1][:, 1], names)
        if hs is not None and ws is not None and n:
            check_sizes(table, hs, ws, names)
        return table
    kinds = np.empty(n, np.int8)
    str_idx, list_idx, poly_idx, dense_idx = [], [], [], []
    for i, o in enumerate(objs):
        if isinstance(o, dict):
            if "counts" not in o or "size" not in o:
                raise InvalidRLEError(f"{_label(names, i)}: an RLE dict needs 'counts' and 'size'")
            if isinstance(o["counts"], (str, bytes, bytearray)):
                str_idx.append(i)
                kinds[i] = 0
            else:
                list_idx.append(i)
                kinds[i] = 1
        elif hasattr(o, "__array__") and not isinstance(o, (list, tuple)):
            # Dense masks (NumPy, or torch on the CPU) are encoded column-major.
            dense_idx.append(i)
            kinds[i] = 3
        elif isinstance(o, (list, tuple)):
            poly_idx.append(i)
            kinds[i] = 2
        else:
            raise InvalidRLEError(
                f"{_label(names, i)}: unsupported segmentation type {type(o).__name__}"
            )
    tables: list[tuple[list[int], RLETable]] = []
    if str_idx:
        sizes = [_size_of(objs[i], names, i) for i in str_idx]
        t = strings_to_table(
            [objs[i]["counts"] for i in str_idx],
            np.array([s[0] for s in sizes], np.int64),
            np.array([s[1] for s in sizes], np.int64),
            names,
            str_idx,
        )
        tables.append((str_idx, t))
    if list_idx:
        sizes = [_size_of(objs[i], names, i) for i in list_idx]
        t = lists_to_table(
            [objs[i]["counts"] for i in list_idx],
            np.array([s[0] for s in sizes], np.int64),
            np.array([s[1] for s in sizes], np.int64),
            names,
            list_idx,
        )
        tables.append((list_idx, t))
    if poly_idx:
        if hs is None or ws is None:
            raise InvalidPolygonError(
                f"{_label(names, poly_idx[0])}: polygons need the image size (h, w)"
            )
        t = polygons_to_table(
            [objs[i] for i in poly_idx], hs[poly_idx], ws[poly_idx], names, poly_idx
        )
        tables.append((poly_idx, t))
    if dense_idx:
        t = dense_to_table([objs[i] for i in dense_idx], names, dense_idx)
        tables.append((dense_idx, t))
    if len(tables) == 1 and len(tables[0][0]) == n:
        table = tables[0][1]
    else:
        idx = (
            np.concatenate([np.asarray(ix, np.int64) for ix, _ in tables])
            if tables
            else np.zeros(0, np.int64)
        )
        cat = concat_tables([t for _, t in tables])
        inv = np.empty(n, np.int64)
        inv[idx] = np.arange(n)
        table = take(cat, inv)
    if hs is not None and ws is not None and n:
        check_sizes(table, hs, ws, names)
    return table


def check_sizes(table: RLETable, hs: np.ndarray, ws: np.ndarray, names=None) -> None:
    """ShapeMismatchError naming the first RLE whose size is not its image's (h, w)."""
    # An image without a recorded size (0 x 0) cannot be checked against.
    known = (hs > 0) | (ws > 0)
    bad = np.flatnonzero(known & ((table.heights != hs) | (table.widths != ws)))
    if bad.size:
        i = int(bad[0])
        raise ShapeMismatchError(
            f"{_label(names, i)}: mask size {[int(table.heights[i]), int(table.widths[i])]} "
            f"does not match the image size {[int(hs[i]), int(ws[i])]}"
        )


def table_from_counts(counts: Sequence[np.ndarray], heights, widths) -> RLETable:
    """A table from per-RLE count arrays (already valid)."""
    off = np.zeros(len(counts) + 1, np.int64)
    np.cumsum([c.size for c in counts], out=off[1:])
    flat = np.concatenate(counts).astype(np.uint32) if counts else np.zeros(0, np.uint32)
    return RLETable(flat, off, np.asarray(heights, np.int64), np.asarray(widths, np.int64))


def table_to_dicts(table: RLETable) -> list[dict]:
    """COCO compressed RLE dicts ``{"size": [h, w], "counts": bytes}`` (pycocotools' output)."""
    strings = _codec.encode_strings(table.counts, table.offsets)
    hs = table.heights.tolist()
    ws = table.widths.tolist()
    return [{"size": [hs[i], ws[i]], "counts": strings[i]} for i in range(len(strings))]


def table_from_flat(
    flat: Any,
    heights: np.ndarray | None = None,
    widths: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> RLETable:
    """A table from :class:`ioukit.io._jsonseg.FlatSegments` (no Python object per row).

    Same semantics as :func:`table_from_objects` (``COCO.annToRLE``): polygons are
    rasterised at ``heights`` / ``widths`` and merged, compressed strings decoded,
    uncompressed counts checked; RLE sizes are checked against the images' sizes
    when those are given.
    """
    kind = flat.kind
    n = int(kind.size)
    hs = None if heights is None else np.asarray(heights, np.int64).reshape(-1)
    ws = None if widths is None else np.asarray(widths, np.int64).reshape(-1)
    absent = np.flatnonzero(kind < 0)
    if absent.size:
        raise InvalidRLEError(f"{_label(names, int(absent[0]))}: no segmentation")
    rle_h = flat.height.astype(np.int64)
    rle_w = flat.width.astype(np.int64)
    rle = kind > 0
    if rle.all():
        _check_totals(flat, np.arange(n), rle_h, rle_w, names)
        table = RLETable(flat.cnts, flat.cnt_off, rle_h, rle_w)
    elif hs is None or ws is None:
        first = int(np.flatnonzero(~rle)[0])
        raise InvalidPolygonError(f"{_label(names, first)}: polygons need the image size (h, w)")
    elif not rle.any():
        counts, off = _polys_to_counts(flat.xy, flat.poly_off, flat.ann_off, hs, ws)
        table = RLETable(counts, off, hs, ws)
    else:
        table = _flat_mixed(flat, rle, hs, ws, rle_h, rle_w, names)
    if hs is not None and ws is not None and n:
        check_sizes(table, hs, ws, names)
    return table


def _flat_mixed(flat, rle, hs, ws, rle_h, rle_w, names) -> RLETable:
    """RLE rows and polygon rows (COCO GT: polygons plus crowd RLEs) into one table.

    The RLE rows' counts are copied from the parser's array and the polygons' from
    the rasteriser's slots straight to their rows' places: one copy of the counts,
    not three (compact the polygons, concatenate the kinds, reorder the rows).
    """
    rle_idx = np.flatnonzero(rle)
    poly_idx = np.flatnonzero(~rle)
    rh, rw = rle_h[rle_idx], rle_w[rle_idx]
    _check_totals(flat, rle_idx, rh, rw, names)
    xy, poly_off, ann_off = _polygons_of_rows(flat, poly_idx)
    h = np.asarray(hs, np.int64)
    w = np.asarray(ws, np.int64)
    buf, bound_off, n_out = _polys_to_slots(xy, poly_off, ann_off, h[poly_idx], w[poly_idx])
    rle_start = flat.cnt_off[rle_idx]
    rle_len = flat.cnt_off[rle_idx + 1] - rle_start
    sizes = np.empty(rle.size, np.int64)
    sizes[rle_idx] = rle_len
    sizes[poly_idx] = n_out
    off = np.zeros(rle.size + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    counts = _kernels.interleave(
        flat.cnts, rle_start, rle_len, rle_idx, buf, bound_off[:-1], n_out, poly_idx, off
    )
    heights = h.copy()
    widths = w.copy()
    heights[rle_idx] = rh
    widths[rle_idx] = rw
    return RLETable(counts, off, heights, widths)


def _sub_offsets(off: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lengths, new offsets) of rows ``idx`` of an offset array, packed."""
    lengths = off[idx + 1] - off[idx]
    new = np.zeros(idx.size + 1, np.int64)
    np.cumsum(lengths, out=new[1:])
    return lengths, new


def _check_totals(flat, idx, h, w, names) -> None:
    # Compressed strings were decoded by the parser; both kinds check the sum here,
    # with the wording of the object path (codec ERR_SUM / lists_to_table).
    bad = np.flatnonzero(flat.total[idx] != h * w)
    if bad.size:
        b = int(bad[0])
        raise InvalidRLEError(
            f"{_label(names, int(idx[b]))}: counts add up to {int(flat.total[idx[b]])}, "
            f"not h*w = {int(h[b] * w[b])}"
        )


def _polygons_of_rows(flat, idx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy, poly_off, ann_off) of rows ``idx`` only, re-based."""
    npoly, ann_off = _sub_offsets(flat.ann_off, idx)
    pidx = np.repeat(flat.ann_off[idx], npoly) + (
        np.arange(int(ann_off[-1])) - np.repeat(ann_off[:-1], npoly)
    )
    _, poly_off = _sub_offsets(flat.poly_off, pidx)
    xy = _kernels.gather_f64(flat.xy, flat.poly_off, pidx, poly_off)
    return xy, poly_off, ann_off
