r"""COCO ``segmentation`` values straight from JSON bytes into flat arrays.

The byte scanner (:mod:`ioukit.io._jsonscan`) hands a ``span`` column: the raw
bytes ``[start, end)`` of each record's ``segmentation`` value, already validated
as JSON. :func:`parse_segmentations` turns those spans into the flat arrays the
RLE kernels consume, with no Python object per polygon or number:

- polygons (``[[x0, y0, x1, y1, ...], ...]``): ``xy`` float64, per-polygon
  offsets ``poly_off`` and per-row polygon offsets ``ann_off``. Numbers are
  converted by :mod:`ioukit.io._jsonkernel`'s correctly rounded routines, so each
  value equals ``float(token)`` as ``json.loads`` gives it; the rare token those
  cannot decide (over 19 significant digits) is converted by Python's ``float``;
- compressed RLE (``{"size": [h, w], "counts": "..."}``): the ``counts`` string
  decoded on the fly (maskApi.c ``rleFrString``; JSON escapes ``\\`` and ``\/``
  undone, COCO's alphabet contains the backslash) into uint32 counts, with ``h``, ``w``;
- uncompressed RLE (``"counts": [c0, c1, ...]``): the counts as uint32.

Anything else (a key other than ``counts`` / ``size``, a repeated key, other
escapes, polygons with fewer than 3 points or an odd number of coordinates,
negative counts or sizes, non-numbers, a corrupt compressed string) makes the
parse return ``None``: the caller then decodes the file with the general
(Python object) path, which also words the precise error.

Example
-------
>>> import numpy as np
>>> doc = rb'[[1, 2, 3.5, 4, 5, 6]] {"size": [1, 44], "counts": "0\\1"}'
>>> spans = np.array([[0, 22], [23, len(doc)]]); first = np.frombuffer(b"[{", np.uint8)
>>> s = parse_segmentations(doc, spans, first)
>>> s.kind.tolist(), s.xy.tolist(), s.cnts.tolist(), s.height.tolist()
([0, 1], [1.0, 2.0, 3.5, 4.0, 5.0, 6.0], [0, 44], [0, 1])
>>> s[0], s[1]
([[1.0, 2.0, 3.5, 4.0, 5.0, 6.0]], {'size': [1, 44], 'counts': '0\\1'})
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from .._numba_start import light_numba_start
from ..rle._kernels import PARALLEL_MIN_WORK, _bbox_one, twins
from . import _jsonkernel as _k

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["FlatSegments", "parse_segmentations", "KIND_POLY", "KIND_STR", "KIND_LIST"]

KIND_ABSENT = -1
KIND_POLY = 0
KIND_STR = 1
KIND_LIST = 2

_FAIL = 1  # value outside what this parser takes: use the Python path

_COUNTS = np.frombuffer(b"counts", np.uint8)
_SIZE = np.frombuffer(b"size", np.uint8)
_U32MAX = 0xFFFFFFFF


@numba.njit(cache=True, inline="always")
def _key_is(buf, s, e, key):
    if e - s != key.size:
        return False
    for q in range(key.size):
        if buf[s + q] != key[q]:
            return False
    return True


@numba.njit(cache=True)
def _row(buf, s, e, c0, write, xy, x0, poly_off, p0, cnts, n0, key_counts, key_size):
    """Parse one span. ``write`` False only counts (sizes of the outputs).

    Writes coordinates at ``xy[x0:]``, polygon starts (absolute) at ``poly_off[p0:]``,
    RLE counts (decoded from a compressed string or as listed) at ``cnts[n0:]``.
    A failure of the string decoder (a bad character, a truncated string, a
    negative or too large count) is a fallback too: the general path words it.
    A number that needs
    Python's float() is written as NaN (JSON has no NaN; the caller converts it).
    Returns (status, n_xy, n_poly, 0, n_cnt, kind, h, w, sum of the counts).
    """
    nx = 0
    npo = 0
    nc = 0
    total = np.int64(0)
    h = -1
    w = -1
    if s < 0:
        return 0, 0, 0, 0, 0, KIND_ABSENT, 0, 0, 0
    if c0 == 91:  # '[': a list of polygons
        i = _k._ws(buf, s + 1, e)
        if i < e and buf[i] == 93:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0  # empty list: the Python path names it
        while True:
            if i >= e or buf[i] != 91:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i = _k._ws(buf, i + 1, e)
            k0 = nx
            if i < e and buf[i] != 93:
                while True:
                    c = buf[i]
                    if not (c == 45 or (c >= 48 and c <= 57)):
                        return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                    if write:
                        j, is_int, neg, man, ex, exact = _k._parse_number(buf, i, e)
                        if j < 0:
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                        ok, v = _k._to_double(is_int, neg, man, ex, exact)
                        xy[x0 + nx] = v if ok else np.nan
                    else:
                        j = _k._skip_number(buf, i, e)
                        if j < 0:
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                    nx += 1
                    i = _k._ws(buf, j, e)
                    if i < e and buf[i] == 44:
                        i = _k._ws(buf, i + 1, e)
                        continue
                    break
            if i >= e or buf[i] != 93:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            m = nx - k0
            if m < 6 or m % 2 == 1:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            if write:
                poly_off[p0 + npo] = x0 + k0
            npo += 1
            i = _k._ws(buf, i + 1, e)
            if i < e and buf[i] == 44:
                i = _k._ws(buf, i + 1, e)
                continue
            break
        if i >= e or buf[i] != 93:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        return 0, nx, npo, 0, 0, KIND_POLY, 0, 0, 0
    if c0 != 123:
        return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
    # '{': an RLE dict
    i = _k._ws(buf, s + 1, e)
    got_counts = False
    got_size = False
    kd = KIND_STR
    while i < e and buf[i] == 34:
        ks = i + 1
        ke = ks
        while ke < e and buf[ke] != 34 and buf[ke] != 92:
            ke += 1
        if ke >= e or buf[ke] != 34:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        i = _k._ws(buf, ke + 1, e)
        if i >= e or buf[i] != 58:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        i = _k._ws(buf, i + 1, e)
        if i >= e:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        if _key_is(buf, ks, ke, key_counts) and not got_counts:
            got_counts = True
            if buf[i] == 34:
                # maskApi.c rleFrString, read straight from the JSON text: 5-bit groups,
                # bit 0x20 "more follows", bit 0x10 of the last the sign; counts from
                # index 3 on are deltas to the count two places earlier.
                kd = KIND_STR
                i += 1
                x = np.int64(0)
                k = 0
                more = False
                if not write:
                    # size pass: one count ends at each character without the "more"
                    # bit, '0'..'O' (48..79); escapes ('\\', '\/') never do. The fill
                    # pass decodes and validates: on a valid string it writes exactly
                    # this many counts, on an invalid one it stops early and fails.
                    while i < e:
                        c = buf[i]
                        if c == 34:
                            break
                        if c == 92:
                            i += 2
                            continue
                        if c >= 48 and c < 80:
                            nc += 1
                        i += 1
                    if i >= e:
                        return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                while write and i < e and buf[i] != 34:
                    c = buf[i]
                    if c == 92:
                        # COCO strings hold '\\' (ASCII 92); '\/' is legal JSON too
                        if i + 1 < e and (buf[i + 1] == 92 or buf[i + 1] == 47):
                            c = buf[i + 1]
                            i += 1
                        else:
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                    i += 1
                    if c < 48 or c > 111 or k > 11:
                        return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0  # the codec words the error
                    v = np.int64(c - 48)
                    x |= (v & 0x1F) << (5 * k)
                    k += 1
                    more = (v & 0x20) != 0
                    if not more:
                        if write:
                            if (v & 0x10) != 0:
                                x |= np.int64(-1) << (5 * k)
                            if nc > 2:
                                x += np.int64(cnts[n0 + nc - 2])
                            if x < 0 or x > _U32MAX:
                                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                            cnts[n0 + nc] = np.uint32(x)
                            total += x
                        nc += 1
                        x = np.int64(0)
                        k = 0
                if i >= e or more:
                    return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                i += 1
            elif buf[i] == 91:
                kd = KIND_LIST
                i = _k._ws(buf, i + 1, e)
                if i < e and buf[i] != 93:
                    while True:
                        if i >= e:
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                        c = buf[i]
                        if not (c == 45 or (c >= 48 and c <= 57)):
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                        j, v = _k._parse_int(buf, i, e)
                        if j < 0 or v < 0 or v > _U32MAX:
                            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                        if write:
                            cnts[n0 + nc] = np.uint32(v)
                            total += v
                        nc += 1
                        i = _k._ws(buf, j, e)
                        if i < e and buf[i] == 44:
                            i = _k._ws(buf, i + 1, e)
                            continue
                        break
                if i >= e or buf[i] != 93:
                    return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
                i += 1
            else:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        elif _key_is(buf, ks, ke, key_size) and not got_size:
            got_size = True
            if buf[i] != 91:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i = _k._ws(buf, i + 1, e)
            if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            j, h = _k._parse_int(buf, i, e)
            if j < 0:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i = _k._ws(buf, j, e)
            if i >= e or buf[i] != 44:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i = _k._ws(buf, i + 1, e)
            if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            j, w = _k._parse_int(buf, i, e)
            if j < 0:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i = _k._ws(buf, j, e)
            if i >= e or buf[i] != 93:
                return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
            i += 1
        else:
            return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
        i = _k._ws(buf, i, e)
        if i < e and buf[i] == 44:
            i = _k._ws(buf, i + 1, e)
            continue
        break
    if i >= e or buf[i] != 125 or not (got_counts and got_size):
        return _FAIL, 0, 0, 0, 0, 0, 0, 0, 0
    return 0, 0, 0, 0, nc, kd, h, w, total


def _count_impl(buf, spans, first, sizes, key_counts, key_size):
    # sizes[r] = (status, n_xy, n_poly, unused, n_cnt)
    zf = np.empty(0, np.float64)
    zi = np.empty(0, np.int64)
    zu = np.empty(0, np.uint32)
    for r in numba.prange(spans.shape[0]):
        st, a, b, c, d, _, _, _, _ = _row(
            buf, spans[r, 0], spans[r, 1], first[r], False, zf, 0, zi, 0, zu, 0,
            key_counts, key_size,
        )  # fmt: skip
        sizes[r, 0] = st
        sizes[r, 1] = a
        sizes[r, 2] = b
        sizes[r, 3] = c
        sizes[r, 4] = d


def _fill_impl(buf, spans, first, x_off, ann_off, cnt_off, xy, poly_off, cnts,
               kind, hh, ww, totals, status, key_counts, key_size,
               rle_area, rle_bbox, rle_geom):  # fmt: skip
    for r in numba.prange(spans.shape[0]):
        st, _, _, _, _, kd, h, w, tot = _row(
            buf, spans[r, 0], spans[r, 1], first[r], True, xy, x_off[r], poly_off, ann_off[r],
            cnts, cnt_off[r], key_counts, key_size,
        )  # fmt: skip
        status[r] = st
        totals[r] = tot
        kind[r] = kd
        hh[r] = h
        ww[r] = w
        # An RLE's area and box (maskApi rleArea / rleToBbox) while its counts are
        # still in cache: results need both (loadRes), and a second pass over all
        # counts would read them from memory again.
        rle_geom[r] = 0
        if st == 0 and kd != KIND_POLY and kd != KIND_ABSENT and h > 0 and w > 0 and tot == h * w:
            a = 0
            for j in range(cnt_off[r] + 1, cnt_off[r + 1], 2):
                a += cnts[j]
            rle_area[r] = a
            _bbox_one(cnts, cnt_off[r], cnt_off[r + 1], h, w, rle_bbox[r])
            rle_geom[r] = 1


_count_ser, _count_par = twins(_count_impl)
_fill_ser, _fill_par = twins(_fill_impl)


@numba.njit(cache=True)
def _token_bounds(buf, s, e, k):
    """Byte range of the k-th number in the span buf[s:e] (a polygon list)."""
    i = s
    m = 0
    while i < e:
        c = buf[i]
        if c == 45 or (c >= 48 and c <= 57):
            j = _k._skip_number(buf, i, e)
            if m == k:
                return i, j
            m += 1
            i = j
        else:
            i += 1
    return -1, -1


@dataclass(eq=False)  # arrays: identity, not element-wise truth
class FlatSegments(Sequence):
    """``n`` segmentations as flat arrays; indexing rebuilds the JSON value.

    Attributes (shapes)
    -------------------
    kind : int8 (n,)          KIND_POLY 0, KIND_STR 1, KIND_LIST 2, -1 absent
    xy : float64 (X,)         polygon coordinates, all rows back to back
    poly_off : int64 (P + 1,) polygon p is ``xy[poly_off[p]:poly_off[p + 1]]``
    ann_off : int64 (n + 1,)  row r owns polygons ``ann_off[r]:ann_off[r + 1]``
    cnts : uint32 (C,)        RLE counts (compressed strings decoded); ``cnt_off`` (n + 1,)
    height, width : int64 (n,)  an RLE's ``size`` (0 for polygons)
    total : int64 (n,)        sum of an RLE's counts (to check against h * w)
    buf, spans                the document and the (n, 2) value spans (for indexing)
    rle_area : int64 (n,), rle_bbox : float64 (n, 4)
                              every row's area and box (maskApi rleArea, rleToBbox), when
                              every row is a valid RLE (counts summing to h*w > 0); else None

    RLE items are ``json.loads`` of their bytes; polygons come back as lists of
    floats (integers written without a fraction too).
    """

    kind: np.ndarray
    xy: np.ndarray
    poly_off: np.ndarray
    ann_off: np.ndarray
    cnts: np.ndarray
    cnt_off: np.ndarray
    height: np.ndarray
    width: np.ndarray
    total: np.ndarray
    buf: Any
    spans: np.ndarray
    rle_area: np.ndarray | None = None
    rle_bbox: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.kind.size)

    def __getitem__(self, r: Any) -> Any:
        if isinstance(r, slice):
            return [self[i] for i in range(*r.indices(len(self)))]
        r = int(r)
        if r < 0:
            r += len(self)
        k = int(self.kind[r])
        if k == KIND_POLY:
            p0, p1 = int(self.ann_off[r]), int(self.ann_off[r + 1])
            return [
                self.xy[self.poly_off[p] : self.poly_off[p + 1]].tolist() for p in range(p0, p1)
            ]
        if k == KIND_ABSENT:
            return None
        return json.loads(bytes(self.buf[self.spans[r, 0] : self.spans[r, 1]]))


def _offsets(lengths: np.ndarray) -> np.ndarray:
    off = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def parse_segmentations(buf: Any, spans: np.ndarray, first_byte: np.ndarray) -> FlatSegments | None:
    """Parse the ``segmentation`` spans of a scanned JSON document (see the module doc).

    Parameters
    ----------
    buf : bytes or (L,) uint8, the whole document (already validated by the scanner).
    spans : (n, 2) int64 byte ranges ``[start, end)``; ``-1`` where a row has none.
    first_byte : (n,) uint8, the first byte of each value (``[`` or ``{``).

    Returns a :class:`FlatSegments`, or None when some value needs the general path.

    Example
    -------
    >>> s = parse_segmentations(b'[[0,0,4,0,4,4.5]]', np.array([[0, 17]]), np.array([91], np.uint8))
    >>> s.poly_off.tolist(), s.ann_off.tolist(), s.xy.tolist()
    ([0, 6], [0, 1], [0.0, 0.0, 4.0, 0.0, 4.0, 4.5])
    """
    u8 = np.frombuffer(buf, np.uint8) if not isinstance(buf, np.ndarray) else buf
    spans = np.ascontiguousarray(spans, np.int64).reshape(-1, 2)
    first = np.ascontiguousarray(first_byte, np.uint8)
    n = spans.shape[0]
    # Two passes (sizes, then values) so that rows parse independently, on threads.
    par = u8.size >= PARALLEL_MIN_WORK
    sizes = np.zeros((n, 5), np.int64)
    (_count_par if par else _count_ser)(u8, spans, first, sizes, _COUNTS, _SIZE)
    if sizes[:, 0].any():
        return None
    x_off, ann_off = _offsets(sizes[:, 1]), _offsets(sizes[:, 2])
    cnt_off = _offsets(sizes[:, 4])
    xy = np.empty(int(x_off[-1]), np.float64)
    poly_off = np.empty(int(ann_off[-1]) + 1, np.int64)
    poly_off[-1] = xy.size
    cnts = np.empty(int(cnt_off[-1]), np.uint32)
    kind = np.empty(n, np.int8)
    hh = np.zeros(n, np.int64)
    ww = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    status = np.zeros(n, np.int64)
    rle_area = np.zeros(n, np.int64)
    rle_bbox = np.zeros((n, 4), np.float64)
    rle_geom = np.zeros(n, np.uint8)
    (_fill_par if par else _fill_ser)(
        u8, spans, first, x_off, ann_off, cnt_off, xy, poly_off, cnts,
        kind, hh, ww, total, status, _COUNTS, _SIZE, rle_area, rle_bbox, rle_geom,
    )  # fmt: skip
    if status.any():
        return None
    geom_all = bool(rle_geom.all())
    slow = np.flatnonzero(np.isnan(xy))
    if slow.size:
        rows = np.searchsorted(x_off, slow, side="right") - 1
        for q, r in zip(slow.tolist(), rows.tolist()):
            t0, t1 = _token_bounds(u8, spans[r, 0], spans[r, 1], q - int(x_off[r]))
            # Over 19 significant digits: Python's float() rounds the full token exactly.
            xy[q] = float(bytes(u8[t0:t1]))
    return FlatSegments(
        kind=kind, xy=xy, poly_off=poly_off, ann_off=ann_off, cnts=cnts, cnt_off=cnt_off,
        height=hh, width=ww, total=total, buf=u8, spans=spans,
        rle_area=rle_area if geom_all else None, rle_bbox=rle_bbox if geom_all else None,
    )  # fmt: skip
