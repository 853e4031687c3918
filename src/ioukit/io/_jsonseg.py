r"""COCO ``segmentation`` values straight from JSON bytes into flat arrays.

The byte scanner (:mod:`ioukit.io._jsonscan`) hands a ``span`` column: the raw
bytes ``[start, end)`` of each record's ``segmentation`` value, already validated
as JSON. :func:`parse_segmentations` turns those spans into the flat arrays the
RLE kernels consume, with no Python object per polygon or number:

- polygons (``[[x0, y0, x1, y1, ...], ...]``): ``xy`` float64, per-polygon
  offsets ``poly_off`` and per-row polygon offsets ``ann_off``. Numbers are
  converted by the byte scanner's correctly rounded routines (``_jsonkernel.pxd``),
  so each value equals ``float(token)`` as ``json.loads`` gives it; the rare token
  those cannot decide (over 19 significant digits) is converted by Python's ``float``;
- compressed RLE (``{"size": [h, w], "counts": "..."}``): the ``counts`` string
  decoded on the fly (maskApi.c ``rleFrString``; JSON escapes ``\\`` and ``\/``
  undone, COCO's alphabet contains the backslash) into uint32 counts, with ``h``, ``w``;
- uncompressed RLE (``"counts": [c0, c1, ...]``): the counts as uint32.

Anything else (a key other than ``counts`` / ``size``, a repeated key, other
escapes, polygons with fewer than 3 points or an odd number of coordinates,
negative counts or sizes, non-numbers, a corrupt compressed string) makes the
parse return ``None``: the caller then decodes the file with the general
(Python object) path, which also words the precise error.

The parsing runs in the compiled kernel :mod:`ioukit.io._segkernel` (rows on
OpenMP threads); this module assembles its arrays into :class:`FlatSegments`.

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

import numpy as np

from .._threads import PARALLEL_MIN_WORK, get_num_threads
from . import _segkernel

__all__ = ["FlatSegments", "parse_segmentations", "KIND_POLY", "KIND_STR", "KIND_LIST"]

KIND_ABSENT = -1
KIND_POLY = 0
KIND_STR = 1
KIND_LIST = 2


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
    # Two passes (sizes, then values) so that rows parse independently, on threads;
    # one thread for small documents (waking the pool costs more than it saves).
    threads = get_num_threads() if u8.size >= PARALLEL_MIN_WORK else 1
    out = _segkernel.parse(u8, spans, first, threads)
    if out is None:
        return None
    xy, x_off = out["xy"], out["x_off"]
    slow = np.flatnonzero(np.isnan(xy))
    if slow.size:
        rows = np.searchsorted(x_off, slow, side="right") - 1
        for q, r in zip(slow.tolist(), rows.tolist()):
            t0, t1 = _segkernel.token_bounds(u8, spans[r, 0], spans[r, 1], q - int(x_off[r]))
            # Over 19 significant digits: Python's float() rounds the full token exactly.
            xy[q] = float(bytes(u8[t0:t1]))
    geom_all = bool(out["rle_geom"].all())
    return FlatSegments(
        kind=out["kind"], xy=xy, poly_off=out["poly_off"], ann_off=out["ann_off"],
        cnts=out["cnts"], cnt_off=out["cnt_off"], height=out["height"], width=out["width"],
        total=out["total"], buf=u8, spans=spans,
        rle_area=out["rle_area"] if geom_all else None,
        rle_bbox=out["rle_bbox"] if geom_all else None,
    )  # fmt: skip
