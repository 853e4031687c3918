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
  bytes (JSON escapes ``\\`` and ``\/`` undone; COCO's alphabet contains the
  backslash) back to back, with offsets, and ``h``, ``w``;
- uncompressed RLE (``"counts": [c0, c1, ...]``): the counts as int64.

Anything else (a key other than ``counts`` / ``size``, a repeated key, other
escapes, polygons with fewer than 3 points or an odd number of coordinates,
negative counts or sizes, non-numbers) makes the parse return ``None``: the
caller then decodes the file with the general (Python object) path, which
also words the precise error.

Example
-------
>>> import numpy as np
>>> doc = rb'[[1, 2, 3.5, 4, 5, 6]] {"size": [2, 3], "counts": "0\\1"}'
>>> spans = np.array([[0, 22], [23, len(doc)]]); first = np.frombuffer(b"[{", np.uint8)
>>> s = parse_segmentations(doc, spans, first)
>>> s.kind.tolist(), s.xy.tolist(), bytes(s.sbuf), s.height.tolist()
([0, 1], [1.0, 2.0, 3.5, 4.0, 5.0, 6.0], b'0\\1', [0, 2])
>>> s[0], s[1]
([[1.0, 2.0, 3.5, 4.0, 5.0, 6.0]], {'size': [2, 3], 'counts': '0\\1'})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from . import _jsonkernel as _k

__all__ = ["FlatSegments", "parse_segmentations", "KIND_POLY", "KIND_STR", "KIND_LIST"]

KIND_ABSENT = -1
KIND_POLY = 0
KIND_STR = 1
KIND_LIST = 2

_FAIL = 1  # value outside what this parser takes: use the Python path
_SLOW_FULL = 2  # the undecided-number table is full: grow it and parse again

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
def _parse_all(buf, spans, first, write, xy, poly_off, ann_off, sbuf, str_off, cnts, cnt_off,
               kind, hh, ww, slow, key_counts, key_size):  # fmt: skip
    """One pass over all spans. ``write`` False only counts (sizes of the outputs).

    Returns (status, row, n_xy, n_poly, n_sbuf, n_cnt, n_slow).
    """
    nx = 0  # coordinates
    npo = 0  # polygons
    ns = 0  # string bytes
    nc = 0  # uncompressed counts
    nsl = 0  # undecided numbers
    for r in range(spans.shape[0]):
        s = spans[r, 0]
        e = spans[r, 1]
        if write:
            ann_off[r] = npo
            str_off[r] = ns
            cnt_off[r] = nc
        if s < 0:
            if write:
                kind[r] = KIND_ABSENT
            continue
        c0 = first[r]
        if c0 == 91:  # '[': a list of polygons
            i = _k._ws(buf, s + 1, e)
            if i < e and buf[i] == 93:
                return _FAIL, r, nx, npo, ns, nc, nsl  # empty list: Python path names it
            while True:
                if i >= e or buf[i] != 91:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                i = _k._ws(buf, i + 1, e)
                k0 = nx
                if i < e and buf[i] != 93:
                    while True:
                        c = buf[i]
                        if not (c == 45 or (c >= 48 and c <= 57)):
                            return _FAIL, r, nx, npo, ns, nc, nsl
                        if write:
                            j, is_int, neg, man, ex, exact = _k._parse_number(buf, i, e)
                            if j < 0:
                                return _FAIL, r, nx, npo, ns, nc, nsl
                            ok, v = _k._to_double(is_int, neg, man, ex, exact)
                            if ok:
                                xy[nx] = v
                            else:
                                if nsl >= slow.shape[0]:
                                    return _SLOW_FULL, r, nx, npo, ns, nc, nsl
                                slow[nsl, 0] = nx
                                slow[nsl, 1] = i
                                slow[nsl, 2] = j
                                nsl += 1
                                xy[nx] = np.nan
                        else:
                            j = _k._skip_number(buf, i, e)
                            if j < 0:
                                return _FAIL, r, nx, npo, ns, nc, nsl
                        nx += 1
                        i = _k._ws(buf, j, e)
                        if i < e and buf[i] == 44:
                            i = _k._ws(buf, i + 1, e)
                            continue
                        break
                if i >= e or buf[i] != 93:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                m = nx - k0
                if m < 6 or m % 2 == 1:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                if write:
                    poly_off[npo] = k0
                npo += 1
                i = _k._ws(buf, i + 1, e)
                if i < e and buf[i] == 44:
                    i = _k._ws(buf, i + 1, e)
                    continue
                break
            if i >= e or buf[i] != 93:
                return _FAIL, r, nx, npo, ns, nc, nsl
            if write:
                kind[r] = KIND_POLY
        elif c0 == 123:  # '{': an RLE dict
            i = _k._ws(buf, s + 1, e)
            got_counts = False
            got_size = False
            h = -1
            w = -1
            kd = KIND_STR
            while i < e and buf[i] == 34:
                ks = i + 1
                ke = ks
                while ke < e and buf[ke] != 34 and buf[ke] != 92:
                    ke += 1
                if ke >= e or buf[ke] != 34:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                i = _k._ws(buf, ke + 1, e)
                if i >= e or buf[i] != 58:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                i = _k._ws(buf, i + 1, e)
                if i >= e:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                if _key_is(buf, ks, ke, key_counts) and not got_counts:
                    got_counts = True
                    if buf[i] == 34:
                        kd = KIND_STR
                        i += 1
                        while i < e and buf[i] != 34:
                            c = buf[i]
                            if c == 92:
                                # COCO strings hold '\\' (ASCII 92); '\/' is legal JSON too
                                if i + 1 < e and (buf[i + 1] == 92 or buf[i + 1] == 47):
                                    c = buf[i + 1]
                                    i += 1
                                else:
                                    return _FAIL, r, nx, npo, ns, nc, nsl
                            if write:
                                sbuf[ns] = c
                            ns += 1
                            i += 1
                        if i >= e:
                            return _FAIL, r, nx, npo, ns, nc, nsl
                        i += 1
                    elif buf[i] == 91:
                        kd = KIND_LIST
                        i = _k._ws(buf, i + 1, e)
                        if i < e and buf[i] != 93:
                            while True:
                                if i >= e:
                                    return _FAIL, r, nx, npo, ns, nc, nsl
                                c = buf[i]
                                if not (c == 45 or (c >= 48 and c <= 57)):
                                    return _FAIL, r, nx, npo, ns, nc, nsl
                                j, v = _k._parse_int(buf, i, e)
                                if j < 0 or v < 0 or v > _U32MAX:
                                    return _FAIL, r, nx, npo, ns, nc, nsl
                                if write:
                                    cnts[nc] = v
                                nc += 1
                                i = _k._ws(buf, j, e)
                                if i < e and buf[i] == 44:
                                    i = _k._ws(buf, i + 1, e)
                                    continue
                                break
                        if i >= e or buf[i] != 93:
                            return _FAIL, r, nx, npo, ns, nc, nsl
                        i += 1
                    else:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                elif _key_is(buf, ks, ke, key_size) and not got_size:
                    got_size = True
                    if buf[i] != 91:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    i = _k._ws(buf, i + 1, e)
                    if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    j, h = _k._parse_int(buf, i, e)
                    if j < 0:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    i = _k._ws(buf, j, e)
                    if i >= e or buf[i] != 44:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    i = _k._ws(buf, i + 1, e)
                    if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    j, w = _k._parse_int(buf, i, e)
                    if j < 0:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    i = _k._ws(buf, j, e)
                    if i >= e or buf[i] != 93:
                        return _FAIL, r, nx, npo, ns, nc, nsl
                    i += 1
                else:
                    return _FAIL, r, nx, npo, ns, nc, nsl
                i = _k._ws(buf, i, e)
                if i < e and buf[i] == 44:
                    i = _k._ws(buf, i + 1, e)
                    continue
                break
            if i >= e or buf[i] != 125 or not (got_counts and got_size):
                return _FAIL, r, nx, npo, ns, nc, nsl
            if write:
                kind[r] = kd
                hh[r] = h
                ww[r] = w
        else:
            return _FAIL, r, nx, npo, ns, nc, nsl
    if write:
        r = spans.shape[0]
        ann_off[r] = npo
        poly_off[npo] = nx
        str_off[r] = ns
        cnt_off[r] = nc
    return 0, -1, nx, npo, ns, nc, nsl


@dataclass
class FlatSegments(Sequence):
    """``n`` segmentations as flat arrays; indexing rebuilds the JSON value.

    Attributes (shapes)
    -------------------
    kind : int8 (n,)          KIND_POLY 0, KIND_STR 1, KIND_LIST 2, -1 absent
    xy : float64 (X,)         polygon coordinates, all rows back to back
    poly_off : int64 (P + 1,) polygon p is ``xy[poly_off[p]:poly_off[p + 1]]``
    ann_off : int64 (n + 1,)  row r owns polygons ``ann_off[r]:ann_off[r + 1]``
    sbuf : uint8 (S,)         compressed ``counts`` strings, unescaped
    str_off : int64 (n + 1,)  row r's string is ``sbuf[str_off[r]:str_off[r + 1]]``
    cnts : int64 (C,)         uncompressed counts; ``cnt_off`` (n + 1,) as above
    height, width : int64 (n,)  an RLE's ``size`` (0 for polygons)

    Items come back as ``json.loads`` would give them except that polygon
    coordinates are always floats and RLE dicts are ``{"size", "counts"}`` only.
    """

    kind: np.ndarray
    xy: np.ndarray
    poly_off: np.ndarray
    ann_off: np.ndarray
    sbuf: np.ndarray
    str_off: np.ndarray
    cnts: np.ndarray
    cnt_off: np.ndarray
    height: np.ndarray
    width: np.ndarray

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
        size = [int(self.height[r]), int(self.width[r])]
        if k == KIND_STR:
            counts: Any = bytes(self.sbuf[self.str_off[r] : self.str_off[r + 1]]).decode("ascii")
        else:
            counts = self.cnts[self.cnt_off[r] : self.cnt_off[r + 1]].tolist()
        return {"size": size, "counts": counts}


def _alloc(n: int, nx: int, npo: int, ns: int, nc: int) -> tuple:
    return (
        np.empty(nx, np.float64),
        np.empty(npo + 1, np.int64),
        np.empty(n + 1, np.int64),
        np.empty(ns, np.uint8),
        np.empty(n + 1, np.int64),
        np.empty(nc, np.int64),
        np.empty(n + 1, np.int64),
        np.empty(n, np.int8),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
    )


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
    z = _alloc(0, 0, 0, 0, 0)
    st, _, nx, npo, ns, nc, _ = _parse_all(
        u8, spans, first, False, *z[:7], z[7], z[8], z[9], np.zeros((0, 3), np.int64),
        _COUNTS, _SIZE,
    )  # fmt: skip
    if st != 0:
        return None
    cap = 64
    while True:
        out = _alloc(n, nx, npo, ns, nc)
        slow = np.empty((cap, 3), np.int64)
        st, _, _, _, _, _, nsl = _parse_all(u8, spans, first, True, *out, slow, _COUNTS, _SIZE)
        if st == _SLOW_FULL:
            cap = max(cap * 8, nx)
            continue
        if st != 0:
            return None
        break
    xy = out[0]
    for k in range(nsl):
        # Over 19 significant digits: Python's float() rounds the full token exactly.
        xy[slow[k, 0]] = float(bytes(u8[slow[k, 1] : slow[k, 2]]))
    return FlatSegments(
        kind=out[7], xy=xy, poly_off=out[1], ann_off=out[2], sbuf=out[3], str_off=out[4],
        cnts=out[5], cnt_off=out[6], height=out[8], width=out[9],
    )  # fmt: skip
