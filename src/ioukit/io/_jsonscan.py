"""Scan COCO-style JSON bytes straight into NumPy columns (the loader's fast path).

``json.load`` builds a Python object per number and string, which costs seconds on
a val2017-sized file. This module runs one compiled pass over the raw bytes
(:mod:`ioukit.io._jsonkernel`) that validates the document and writes the
requested fields of the selected record lists into NumPy arrays. Numbers are
converted with correct rounding, so every value equals what ``json.loads`` gives
(``float(token)``) bit for bit.

Whatever the scanner does not handle (a malformed document, ``NaN`` literals, a
string where a number is expected, an integer written as ``1.0``, an integer
outside int64, a key written with escapes, null in a typed field ...) raises
:class:`ScanFallback`; the caller then decodes with ``json``/msgspec, which also
produces the precise error message. Missing keys are not errors: each field has
a ``present`` mask.

Example
-------
>>> doc = b'{"images": [{"id": 1}], "annotations": [{"id": 7, "bbox": [1, 2.5, 3, 4]}]}'
>>> r = scan_records(doc, ("annotations",), {"id": FieldSpec("int"), "bbox": FieldSpec("float4")})
>>> r.count, r["id"].tolist(), r["bbox"].tolist()
(1, [7], [[1.0, 2.5, 3.0, 4.0]])
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping
from dataclasses import field
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError
from . import _jsonkernel as _k

__all__ = [
    "FieldSpec",
    "ScanFallback",
    "ScanResult",
    "scan_records",
    "scan_tables",
    "scan_coco_gt",
    "scan_coco_results",
    "decode_spans",
    "COCO_GT_TABLES",
    "COCO_RESULTS_FIELDS",
]

KINDS = {
    "int": _k.K_INT,
    "float": _k.K_FLOAT,
    "floats": _k.K_FLOATS,
    "float4": _k.K_FLOATS,  # "floats" of width 4 (a COCO bbox), by its former name
    "str": _k.K_STR,
    "span": _k.K_SPAN,
    "flag": _k.K_FLAG,
}

_REASONS = {
    _k.E_SYNTAX: "not valid JSON",
    _k.E_TYPE: "a value of another type than the field expects",
    _k.E_INTFLOAT: "a fraction or exponent where an integer is expected",
    _k.E_INTRANGE: "an integer outside the int64 range",
    _k.E_NONFINITE: "a NaN/Infinity literal",
    _k.E_KEYESCAPE: "an object key written with escape sequences",
    _k.E_DEPTH: f"nesting deeper than {_k._MAX_DEPTH}",
    _k.E_NOTLIST: "the selected value is not a list",
    _k.E_NOTOBJ: "a list element or root that is not an object",
    _k.E_NULL: "null where a typed value is expected",
    _k.E_UTF8: "invalid UTF-8 or a control character in a string",
    _k.E_EXTRA: "extra data after the JSON value",
    _k.E_SPLIT: "a part scan that did not end between two records",
}


class ScanFallback(Exception):
    """The scanner cannot decode this document exactly; decode it with ``json``.

    Attributes ``reason`` (text) and ``position`` (byte offset) say where it stopped.
    """

    def __init__(self, reason: str, position: int = -1) -> None:
        self.reason = reason
        self.position = position
        where = f" at byte {position}" if position >= 0 else ""
        super().__init__(f"JSON scanner fallback: {reason}{where}")


@lightclass(frozen=True)
class FieldSpec:
    """What to extract for one field of a record.

    kind:
        ``"int"`` (int64; a fraction, exponent or out-of-range value falls back),
        ``"float"`` (float64; JSON integers are converted as ``float(int)``),
        ``"floats"`` (a list of ``width`` numbers -> (n, width) float64; a list of
        another length is recorded in ``ScanResult.bad_rows`` with NaN values; a
        COCO ``bbox`` is ``FieldSpec("floats", width=4)``, also spelled ``"float4"``),
        ``"str"`` (list of ``str``, ``None`` where absent; escapes decoded as json does),
        ``"span"`` (any value, kept raw: (n, 2) int64 byte offsets ``[start, end)``),
        ``"flag"`` (int64 from ``true``/``false`` or an integer, kept as written).
    key:
        The JSON key; defaults to the field's name in the mapping.
    width:
        ``"floats"`` only: the number of values of the list (>= 1).
    """

    kind: str
    key: str | None = None
    width: int | None = None

    def list_width(self) -> int:
        """Width of a ``"floats"`` field (4 for ``"float4"``).

        >>> FieldSpec("floats", width=5).list_width(), FieldSpec("float4").list_width()
        (5, 4)
        """
        if self.kind == "float4":
            if self.width not in (None, 4):
                raise InvalidParameterError(f"a float4 field has width 4, not {self.width}")
            return 4
        if self.width is None or isinstance(self.width, bool) or int(self.width) < 1:
            raise InvalidParameterError(
                f"a 'floats' field needs width >= 1; got width={self.width!r}"
            )
        return int(self.width)


@lightclass
class ScanResult:
    """Columns of one record list.

    count: number of records n. found: whether the list existed in the document.
    columns: name -> array (int/flag: (n,) int64, float: (n,) float64 NaN where absent,
    floats: (n, width) float64, str: list of str/None, span: (n, 2) int64 with -1 where
    absent).
    present: name -> (n,) bool, whether the record had the key.
    lengths: floats name -> (n,) int64 list length (-1 where absent).
    bad_rows: floats name -> int64 indices of records whose list length is not the width.
    first_byte: span name -> (n,) uint8 first byte of the raw value (``[``, ``{`` ...; 0 if absent).
    """

    count: int
    found: bool
    columns: dict[str, Any] = field(default_factory=dict)
    present: dict[str, np.ndarray] = field(default_factory=dict)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)
    bad_rows: dict[str, np.ndarray] = field(default_factory=dict)
    first_byte: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]


def _as_u8(buf: Any) -> np.ndarray:
    if isinstance(buf, np.ndarray):
        if buf.dtype != np.uint8 or buf.ndim != 1:
            raise InvalidParameterError(
                f"buf must be bytes or a 1-D uint8 array; got {buf.dtype} with shape {buf.shape}"
            )
        u8 = np.ascontiguousarray(buf).view()
    elif isinstance(buf, (bytes, bytearray, memoryview, mmap.mmap)):
        u8 = np.frombuffer(buf, dtype=np.uint8)
    else:
        raise InvalidParameterError(f"buf must be bytes-like; got {type(buf).__name__}")
    # Read-only: the scanner never writes to the document (its buffer is taken as const).
    u8.flags.writeable = False
    return u8


def _key_bytes(key: str, what: str) -> bytes:
    # Keys are compared with the raw bytes between the quotes, so they must not need escaping.
    if any(ch in key for ch in '"\\') or any(ord(ch) < 32 for ch in key):
        raise InvalidParameterError(f"{what} {key!r} contains a character JSON must escape")
    return key.encode("utf-8")


def _layout(tables: Mapping[str, tuple[tuple[str, ...], Mapping[str, FieldSpec]]]):
    root_is_list = False
    tkeys, tkey_off, tfield_off = [], [0], [0]
    fkeys, fkey_off, fkind, fcol, fwidth, flen = [], [0], [], [], [], []
    places = []  # per table: list of (name, kind, col, field index, width, length column)
    n_int = n_float = n_span = n_list = 0
    if not tables:
        raise InvalidParameterError("at least one table must be requested")
    for tname, (path, fields) in tables.items():
        path = tuple(path)
        if len(path) > 1:
            raise InvalidParameterError(
                f"table {tname!r}: path {path!r} is deeper than one key (not supported)"
            )
        if len(path) == 0:
            if len(tables) != 1:
                raise InvalidParameterError(
                    f"table {tname!r}: a root-list table (path=()) must be the only table"
                )
            root_is_list = True
            kb = b""
        else:
            kb = _key_bytes(path[0], "path key")
            if kb in tkeys:
                raise InvalidParameterError(f"path key {path[0]!r} is requested twice")
        tkeys.append(kb)
        tkey_off.append(tkey_off[-1] + len(kb))
        place = []
        seen = set()
        for name, spec in fields.items():
            if not isinstance(spec, FieldSpec):
                spec = FieldSpec(str(spec))
            if spec.kind not in KINDS:
                raise InvalidParameterError(
                    f"field {name!r}: unknown kind {spec.kind!r}; expected one of {sorted(KINDS)}"
                )
            kb = _key_bytes(spec.key if spec.key is not None else name, "field key")
            if kb in seen:
                raise InvalidParameterError(f"table {tname!r}: key {kb.decode()!r} requested twice")
            seen.add(kb)
            kind = KINDS[spec.kind]
            width, lcol = 1, -1
            if kind in (_k.K_INT, _k.K_FLAG):
                col, n_int = n_int, n_int + 1
            elif kind == _k.K_FLOAT:
                col, n_float = n_float, n_float + 1
            elif kind == _k.K_FLOATS:
                width = spec.list_width()
                col, n_float = n_float, n_float + width
                lcol, n_list = n_list, n_list + 1
            else:
                col, n_span = n_span, n_span + 3
            place.append((name, kind, col, len(fkind), width, lcol))
            fkeys.append(kb)
            fkey_off.append(fkey_off[-1] + len(kb))
            fkind.append(kind)
            fcol.append(col)
            fwidth.append(width)
            flen.append(lcol)
        tfield_off.append(len(fkind))
        places.append((tname, place))
    arr = np.array
    return (
        root_is_list,
        np.frombuffer(b"".join(tkeys) or b"\0", dtype=np.uint8),
        arr(tkey_off, dtype=np.int64),
        arr(tfield_off, dtype=np.int64),
        np.frombuffer(b"".join(fkeys) or b"\0", dtype=np.uint8),
        arr(fkey_off, dtype=np.int64),
        arr(fkind, dtype=np.int64),
        arr(fcol, dtype=np.int64),
        arr(fwidth or [0], dtype=np.int64),
        arr(flen or [0], dtype=np.int64),
        n_int,
        n_float,
        n_span,
        n_list,
        places,
    )


def _decode_strings(raw: bytes, spans: np.ndarray, present: np.ndarray) -> list[str | None]:
    out: list[str | None] = [None] * len(present)
    for r in np.flatnonzero(present).tolist():
        s, e, flags = spans[r]
        if flags & 1:
            import json  # strings with escapes only (json's import: ~3 ms of a first run)

            out[r] = json.loads(raw[s:e])
        else:
            out[r] = raw[s + 1 : e - 1].decode("utf-8")
    return out


# A root list's first record, and the bytes between two records: ``}`` , ``{``
# with JSON blanks around the comma (the comma is group 1). Compiled on first use:
# only files of 2 parts or more are split.
_LIST_HEAD = rb"[ \t\n\r]*\[[ \t\n\r]*\{"
_BETWEEN = rb"\}[ \t\n\r]*(,)[ \t\n\r]*\{"
# Smallest part worth a thread of its own.
PART_MIN_BYTES = 1 << 20


@lightclass
class _Part:
    """Rows [0, n) of one scan's work arrays (over-allocated; views, not copies)."""

    n: int
    ints: np.ndarray
    floats: np.ndarray
    spans: np.ndarray
    present: np.ndarray
    f4len: np.ndarray


def _split_points(u8: np.ndarray, parts: int) -> list[tuple[int, int]] | None:
    """(start, stop) of up to ``parts`` pieces of a root record list, or None.

    Each piece but the last ends at a comma found between a ``}`` and a ``{`` near an
    even share of the bytes; that such a comma lies between two *top-level* records
    is only a guess (the same bytes can sit inside a string or a nested list of
    objects), which the part scan checks: it must end exactly on that comma.
    """
    import re

    view = memoryview(u8)
    head = re.match(_LIST_HEAD, view)
    if head is None:
        return None
    start = head.end() - 1
    n = u8.size
    pieces = []
    for k in range(1, parts):
        m = re.compile(_BETWEEN).search(view, start + (n - start) * k // parts)
        if m is None:
            break
        comma = m.start(1)
        if pieces and comma <= pieces[-1][1]:
            continue
        pieces.append((pieces[-1][2] if pieces else start, comma, m.end() - 1))
    if not pieces:
        return None
    out = [(a, b) for a, b, _ in pieces]
    out.append((pieces[-1][2], -1))
    return out


def _initial_rows(n_bytes: int) -> int:
    """Rows to allocate before the first doubling: one per 64 bytes covers COCO results
    (~80 bytes a record) without regrowing. Only the rows written are ever touched
    (untouched pages cost address space, not memory), whereas each doubling copies
    and faults in every row so far."""
    return max(16, n_bytes // 64)


def _work_arrays(
    rows: int, n_int: int, n_float: int, n_span: int, n_fields: int, n_f4: int
) -> tuple[np.ndarray, ...]:
    """The scanner's column arrays (ints, floats + a spare column, spans, present, f4len).

    Allocated here rather than in the kernel: NumPy backs arrays of 4 MB and more with
    transparent huge pages, which fault in as a few 2 MB pages instead of thousands of
    4 kB ones (a 40 MB results file: ~10k faults, ~25 ms, otherwise).
    """
    return (
        np.empty((rows, max(n_int, 1)), dtype=np.int64),
        np.empty((rows, n_float + 1), dtype=np.float64),
        np.empty((rows, max(n_span, 1)), dtype=np.int64),
        np.empty((rows, max(n_fields, 1)), dtype=np.uint8),
        np.empty((rows, max(n_f4, 1)), dtype=np.int64),
    )


def _scan_parts(
    u8: np.ndarray, pieces: list[tuple[int, int]], layout: tuple, widths: tuple
) -> list | None:
    """Scan the pieces of a root list at once (one thread each); None unless all are OK.

    The kernel releases the GIL, so the pieces run in parallel. Any other status than
    OK (a split that was not between records, or anything the scanner leaves to
    ``json``) gives None: the caller rescans the whole document in one pass, which
    then reports exactly what a single scan would.
    """
    from .._concurrent import run_concurrently

    n_int, n_float, n_span, n_f4 = widths
    # (tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen)
    n_fields = layout[5].size

    def run(piece: tuple[int, int]) -> Any:
        a, b = piece
        rows = _initial_rows((b if b >= 0 else u8.size) - a)
        work = _work_arrays(rows, n_int, n_float, n_span, n_fields, n_f4)
        return _k.scan(u8, True, layout, work, a, b)

    # this thread takes the first piece, one new thread each of the others
    results = run_concurrently([lambda p=p: run(p) for p in pieces])
    if any(int(r[0]) != _k.OK for r in results):
        return None
    return results


def scan_tables(
    buf: bytes | bytearray | memoryview | mmap.mmap | np.ndarray,
    tables: Mapping[str, tuple[tuple[str, ...], Mapping[str, FieldSpec]]],
    parts: int = 1,
) -> dict[str, ScanResult]:
    """Scan several record lists of one document in a single pass.

    Parameters
    ----------
    buf : bytes-like (bytes, mmap, ...) or (L,) uint8 array
        The UTF-8 JSON document.
    tables : mapping name -> (path, fields)
        ``path=("images",)`` selects the list under that key of the root object;
        ``path=()`` means the root itself is the list (then only one table is allowed).
        ``fields`` maps a column name to a :class:`FieldSpec`.
    parts : int
        For a root list of at least ``PART_MIN_BYTES`` per part: scan it as up to
        ``parts`` pieces on as many threads, split between records (same result;
        a split that turns out not to lie between records falls back to one pass).

    Returns
    -------
    dict name -> ScanResult (``found=False`` and ``count=0`` when the key is absent).

    Raises
    ------
    ScanFallback
        Anything the scanner does not decode exactly (see the module docstring).

    Example
    -------
    >>> out = scan_tables(b'{"a": [{"x": 1}], "b": [{"y": "s"}, {}]}',
    ...                   {"a": (("a",), {"x": FieldSpec("int")}),
    ...                    "b": (("b",), {"y": FieldSpec("str")})})
    >>> out["a"]["x"].tolist(), out["b"]["y"], out["b"].present["y"].tolist()
    ([1], ['s', None], [True, False])
    """
    u8 = _as_u8(buf)
    (root_is_list, tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen,
     n_int, n_float, n_span, n_f4, places) = _layout(tables)  # fmt: skip
    if u8.size >= 3 and u8[0] == 0xEF and u8[1] == 0xBB and u8[2] == 0xBF:
        raise ScanFallback("a UTF-8 byte-order mark", 0)
    raw = buf if isinstance(buf, (bytes, mmap.mmap)) else u8.tobytes()
    results = None
    parts = min(int(parts), u8.size // PART_MIN_BYTES)
    if root_is_list and parts > 1:
        pieces = _split_points(u8, parts)
        if pieces is not None:
            layout = (tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen)
            results = _scan_parts(u8, pieces, layout, (n_int, n_float, n_span, n_f4))
    if results is not None:
        found = np.ones(1, dtype=bool)
        tables_parts = [[]]
        for _st, _pos, cnt, _f, ints, floats, spans, present, f4len, slow, n_slow in results:
            _exact_slow_floats(raw, floats, slow[:n_slow])
            tables_parts[0].append(_Part(int(cnt[0]), ints, floats, spans, present, f4len))
    else:
        work = _work_arrays(_initial_rows(u8.size), n_int, n_float, n_span, fkind.size, n_f4)
        layout = (tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen)
        (status, pos, counts, found, ints, floats, spans, present, f4len, slow,
         n_slow) = _k.scan(u8, root_is_list, layout, work, -1, -1)  # fmt: skip
        if status != _k.OK:
            raise ScanFallback(_REASONS.get(int(status), f"status {status}"), int(pos))
        _exact_slow_floats(raw, floats, slow[:n_slow])
        tables_parts = [
            [_Part(int(counts[t]), ints, floats, spans, present, f4len)] for t in range(len(places))
        ]
    out: dict[str, ScanResult] = {}
    for t, (tname, place) in enumerate(places):
        out[tname] = _result(raw, tables_parts[t], place, bool(found[t]))
    return out


def _exact_slow_floats(raw: Any, floats: np.ndarray, slow: np.ndarray) -> None:
    """Tokens the compiled path could not round with certainty: Python's float is exact."""
    for _t, row, col, s, e in slow.tolist():
        if col >= 0:
            floats[row, col] = float(raw[s:e])


def _result(raw: Any, parts: list[_Part], place: list, found: bool) -> ScanResult:
    """One table's columns, rows of its parts in order (copies of the work arrays)."""

    def rows(array: str, cols: int | slice, copy: bool = True) -> np.ndarray:
        got = [getattr(p, array)[: p.n, cols] for p in parts]
        if len(got) == 1:
            return np.array(got[0]) if copy else got[0]
        return np.concatenate(got)  # a new C-contiguous array

    n = sum(p.n for p in parts)
    res = ScanResult(count=n, found=found)
    for name, kind, col, f, width, lcol in place:
        pres = rows("present", f, copy=False).astype(bool)
        res.present[name] = pres
        if kind in (_k.K_INT, _k.K_FLAG):
            res.columns[name] = rows("ints", col)
        elif kind == _k.K_FLOAT:
            res.columns[name] = rows("floats", col)
        elif kind == _k.K_FLOATS:
            res.columns[name] = rows("floats", slice(col, col + width))
            lens = rows("f4len", lcol)
            res.lengths[name] = lens
            res.bad_rows[name] = np.flatnonzero(pres & (lens != width))
        elif kind == _k.K_STR:
            sp = rows("spans", slice(col, col + 3), copy=False)
            res.columns[name] = _decode_strings(raw, sp, pres)
        else:
            sp = rows("spans", slice(col, col + 3), copy=False)
            res.columns[name] = np.ascontiguousarray(sp[:, :2])
            res.first_byte[name] = np.where(pres, sp[:, 2], 0).astype(np.uint8)
    return res


def decode_spans(
    buf: bytes | bytearray | memoryview | np.ndarray,
    spans: np.ndarray,
    present: np.ndarray | None = None,
) -> list[Any]:
    """Decode the raw values of a ``"span"`` column into Python objects, as json.loads does.

    All spans are joined into one JSON array and decoded in a single ``json.loads`` call
    (one pass, no per-value call overhead); rows that are absent (``present`` False, or
    a start of -1) give ``None``.

    Parameters
    ----------
    buf : the document the spans index into.
    spans : (n, 2) int64 ``[start, end)`` byte offsets, as :class:`ScanResult` gives them.
    present : optional (n,) bool mask.

    Example
    -------
    >>> raw = b'[{"segmentation": [[1, 2, 3, 4, 5, 6]]}, {}]'
    >>> r = scan_records(raw, (), {"segmentation": FieldSpec("span")})
    >>> decode_spans(raw, r["segmentation"], r.present["segmentation"])
    [[[1, 2, 3, 4, 5, 6]], None]
    """
    raw = bytes(buf) if not isinstance(buf, np.ndarray) else buf.tobytes()
    sp = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    keep = sp[:, 0] >= 0
    if present is not None:
        keep &= np.asarray(present, dtype=bool)
    rows = np.flatnonzero(keep)
    import json

    values = json.loads(b"[" + b",".join([raw[s:e] for s, e in sp[rows].tolist()]) + b"]")
    out: list[Any] = [None] * len(sp)
    for r, v in zip(rows.tolist(), values):
        out[r] = v
    return out


def scan_records(
    buf: bytes | bytearray | memoryview | mmap.mmap | np.ndarray,
    path: tuple[str, ...],
    fields: Mapping[str, FieldSpec],
    parts: int = 1,
) -> ScanResult:
    """Scan one record list (``path=()`` for a root list, ``("key",)`` for a member).

    Shapes: see :class:`ScanResult`. Raises :class:`ScanFallback` as :func:`scan_tables`;
    ``parts`` as there (root lists only).

    Example
    -------
    >>> r = scan_records(b'[{"score": 0.1, "s": [[1, 2]]}, {"score": 1e-3}]', (),
    ...                  {"score": FieldSpec("float"), "s": FieldSpec("span")})
    >>> r["score"].tolist(), r["s"].tolist(), r.present["s"].tolist()
    ([0.1, 0.001], [[21, 29], [-1, -1]], [True, False])
    """
    return scan_tables(buf, {"records": (tuple(path), fields)}, parts)["records"]


COCO_GT_TABLES: dict[str, tuple[tuple[str, ...], dict[str, FieldSpec]]] = {
    "images": (
        ("images",),
        {
            "id": FieldSpec("int"),
            "height": FieldSpec("int"),
            "width": FieldSpec("int"),
            "file_name": FieldSpec("str"),
        },
    ),
    "annotations": (
        ("annotations",),
        {
            "id": FieldSpec("int"),
            "image_id": FieldSpec("int"),
            "category_id": FieldSpec("int"),
            "bbox": FieldSpec("float4"),
            "area": FieldSpec("float"),
            "iscrowd": FieldSpec("flag"),
            "ignore": FieldSpec("flag"),
            "segmentation": FieldSpec("span"),
        },
    ),
    "categories": (
        ("categories",),
        {
            "id": FieldSpec("int"),
            "name": FieldSpec("str"),
            "supercategory": FieldSpec("str"),
        },
    ),
}

COCO_RESULTS_FIELDS: dict[str, FieldSpec] = {
    "image_id": FieldSpec("int"),
    "category_id": FieldSpec("int"),
    "bbox": FieldSpec("float4"),
    "score": FieldSpec("float"),
    "segmentation": FieldSpec("span"),
    "area": FieldSpec("float"),
}


def scan_coco_gt(buf: bytes | bytearray | memoryview | np.ndarray) -> dict[str, ScanResult]:
    """Scan a COCO ground-truth file into ``images``, ``annotations``, ``categories`` columns.

    Fields: see :data:`COCO_GT_TABLES`. Each table's ``found`` says whether its key exists.

    Example
    -------
    >>> gt = scan_coco_gt(b'{"images": [{"id": 3, "height": 4, "width": 5}],'
    ...                   b' "annotations": [{"id": 1, "image_id": 3, "category_id": 2,'
    ...                   b' "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0}],'
    ...                   b' "categories": [{"id": 2, "name": "cat"}]}')
    >>> gt["annotations"]["area"].tolist(), gt["annotations"].present["ignore"].tolist()
    ([4.0], [False])
    >>> gt["categories"]["name"]
    ['cat']
    """
    return scan_tables(buf, COCO_GT_TABLES)


def scan_coco_results(buf: bytes | bytearray | memoryview | np.ndarray) -> ScanResult:
    """Scan a COCO results file (a root list) into columns; fields: :data:`COCO_RESULTS_FIELDS`.

    Example
    -------
    >>> r = scan_coco_results(b'[{"image_id": 3, "category_id": 2, "bbox": [1, 2, 3, 4],'
    ...                       b' "score": 0.75}]')
    >>> r["bbox"].shape, r["score"].tolist(), r.present["segmentation"].tolist()
    ((1, 4), [0.75], [False])
    """
    return scan_records(buf, (), COCO_RESULTS_FIELDS)
