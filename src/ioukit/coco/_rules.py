"""The validation rules of COCO inputs: one set, read by the loader and by ``ioukit check``.

Each rule looks at whole columns (NumPy arrays) and returns a :class:`Finding`: the rows
that break it, a stable ``code``, a ``severity``, the exception class, and the sentence
for one row. The loader (:mod:`ioukit.coco._load`) raises on the first row of the first
``error`` finding it enforces (``enforced``; a few rules are reported by ``check`` only,
because pycocotools accepts what they flag and the loader follows pycocotools);
:mod:`ioukit.check` reports every row of every finding. Both word a row the same way:
``"<subject> <detail>"``, the subject naming the object (``annotation id 5 (entry 3)``,
``result 4 (image id 7)``); the loader puts the file name in front.

The structure (required fields and their JSON types) is checked by the loader's schemas
(msgspec, :mod:`ioukit.coco._schemas`) and by ``check``'s walk; the field lists both use
are :data:`GT_ANNOTATION_FIELDS` and :data:`RESULT_FIELDS`.

Example
-------
>>> f = box_value_rules(np.array([[0.0, 0.0, -3.0, 1.0]]), lambda i: f"annotation {i}")
>>> [(x.code, x.message(int(x.rows[0]))) for x in f if x]
[('bad-bbox', 'annotation 0 has a negative width -3: bbox [0, 0, -3, 1]')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import (
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    IoukitError,
    UnknownIdError,
)

__all__ = [
    "Finding",
    "GT_IMAGE_FIELDS",
    "GT_CATEGORY_FIELDS",
    "GT_ANNOTATION_FIELDS",
    "RESULT_FIELDS",
    "fmt_number",
    "fmt_values",
    "length_rule",
    "box_value_rules",
    "finite_rule",
    "zero_area_rule",
    "outside_image_rule",
    "area_rules",
    "score_rule",
    "iscrowd_rule",
    "duplicate_id_rule",
    "unknown_id_rule",
    "id_zero_rule",
    "first_error",
    "ID_MIN",
    "ID_MAX",
    "id_in_range",
    "id_out_of_range",
    "segmentation_rule",
]

#: Fields without which the loader (pycocotools' ``COCO`` / ``COCOeval``) cannot run.
GT_IMAGE_FIELDS = ("id",)
GT_CATEGORY_FIELDS = ("id",)
GT_ANNOTATION_FIELDS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd")
#: A result also needs ``bbox`` or ``segmentation`` (``COCO.loadRes``).
RESULT_FIELDS = ("image_id", "category_id", "score")

Subject = Callable[[int], str]
_NONE = np.zeros(0, np.int64)

#: Ids are int64 columns: ids in [ID_MIN, ID_MAX] work, others are refused by name.
ID_MIN, ID_MAX = -(2**63), 2**63 - 1


def id_in_range(v: int) -> bool:
    """Whether an integer id fits the int64 columns.

    >>> id_in_range(2**63 - 1), id_in_range(2**63)
    (True, False)
    """
    return ID_MIN <= v <= ID_MAX


def id_out_of_range(key: str, v: int) -> str:
    """The detail of an id outside int64 (loader and ``check``: the same words).

    >>> id_out_of_range("image_id", 2**64)
    'has image_id 18446744073709551616, outside the int64 range ids must fit (-2**63 .. 2**63-1)'
    """
    return f"has {key} {v}, outside the int64 range ids must fit (-2**63 .. 2**63-1)"


@lightclass(frozen=True)
class Finding:
    """The rows of a table that break one rule.

    Attributes
    ----------
    code : a short stable slug (``"bad-bbox"``, ``"unknown-image"`` ...).
    severity : ``"error"`` or ``"warning"``.
    rows : int64 (n,)   the offending rows, ascending
    message : row -> the sentence for that row (without the file name)
    error : the exception class the loader raises
    enforced : whether the loader refuses the input (``error`` rules only)
    """

    code: str
    severity: str
    rows: np.ndarray
    message: Callable[[int], str]
    error: type[IoukitError] = DatasetError
    enforced: bool = True

    def __bool__(self) -> bool:
        return bool(self.rows.size)

    def raise_first(self, source: str | None) -> None:
        """Raise ``error`` for the first row, the message prefixed by ``source: ``."""
        msg = self.message(int(self.rows[0]))
        raise self.error(f"{source}: {msg}" if source else msg)


def first_error(findings: Sequence[Finding], source: str | None) -> None:
    """Raise for the first enforced ``error`` finding that has rows, if any."""
    for f in findings:
        if f and f.severity == "error" and f.enforced:
            f.raise_first(source)


def fmt_number(v: Any) -> str:
    """A number as a message shows it: integral floats without ``.0``, else ``repr``.

    >>> fmt_number(-3.0), fmt_number(0.1), fmt_number(float("nan")), fmt_number(True)
    ('-3', '0.1', 'nan', 'True')
    """
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return repr(v)
    f = float(v)
    if math.isfinite(f) and f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def fmt_values(values: Any) -> str:
    """A list of numbers as a message shows it: ``[0, 0, -3, 1]``.

    >>> fmt_values([0.0, 2.5, float("inf")])
    '[0, 2.5, inf]'
    """
    try:
        return "[" + ", ".join(fmt_number(v) for v in values) + "]"
    except TypeError:
        return repr(values)


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask).astype(np.int64, copy=False)


# ------------------------------------------------------------------ boxes
def length_rule(
    lengths: np.ndarray,
    values: Callable[[int], Any],
    subject: Subject,
    *,
    width: int = 4,
    name: str = "bbox",
    layout: str = "[x, y, w, h]",
) -> Finding:
    """Rows whose ``name`` does not hold exactly ``width`` numbers (``layout``).

    ``lengths`` (n,) int; ``values(i)`` the row's raw list, for the message.

    >>> f = length_rule(np.array([4, 3]), lambda i: [0, 0, 4], lambda i: f"result {i}")
    >>> f.message(1)
    'result 1 has a bbox of length 3 (expected 4: [x, y, w, h]): [0, 0, 4]'
    """
    lengths = np.asarray(lengths)
    return Finding(
        "bad-bbox",
        "error",
        _rows(lengths != width),
        lambda i: (
            f"{subject(i)} has a {name} of length {int(lengths[i])} "
            f"(expected {width}: {layout}): {fmt_values(values(i))}"
        ),
        InvalidBoxesError,
    )


def box_value_rules(bbox: np.ndarray, subject: Subject) -> list[Finding]:
    """xywh boxes (n, 4): not finite, negative width, negative height (errors).

    A row is named by the first of the three it breaks.
    """
    bbox = np.asarray(bbox, dtype=np.float64).reshape(-1, 4)
    bad_value = ~np.isfinite(bbox).all(axis=1)
    neg_w = ~bad_value & (bbox[:, 2] < 0)
    neg_h = ~bad_value & ~neg_w & (bbox[:, 3] < 0)
    if not (bad_value.any() or neg_w.any() or neg_h.any()):  # the common case: no work
        return []

    def box(i: int) -> str:
        return fmt_values(bbox[i].tolist())

    return [
        Finding(
            "bad-bbox",
            "error",
            _rows(bad_value),
            lambda i: f"{subject(i)} has a non-finite bbox {box(i)}",
            InvalidBoxesError,
        ),
        Finding(
            "bad-bbox",
            "error",
            _rows(neg_w),
            lambda i: f"{subject(i)} has a negative width {fmt_number(bbox[i, 2])}: bbox {box(i)}",
            InvalidBoxesError,
        ),
        Finding(
            "bad-bbox",
            "error",
            _rows(neg_h),
            lambda i: f"{subject(i)} has a negative height {fmt_number(bbox[i, 3])}: bbox {box(i)}",
            InvalidBoxesError,
        ),
    ]


def zero_area_rule(bbox: np.ndarray, subject: Subject) -> Finding:
    """Finite xywh boxes of zero width or height (a warning: they can match nothing)."""
    bbox = np.asarray(bbox, dtype=np.float64).reshape(-1, 4)
    ok = np.isfinite(bbox).all(axis=1) & (bbox[:, 2] >= 0) & (bbox[:, 3] >= 0)
    return Finding(
        "empty-bbox",
        "warning",
        _rows(ok & ((bbox[:, 2] == 0) | (bbox[:, 3] == 0))),
        lambda i: f"{subject(i)} has a zero-area bbox {fmt_values(bbox[i].tolist())}",
    )


def outside_image_rule(
    bbox: np.ndarray, width: np.ndarray, height: np.ndarray, image_id: np.ndarray, subject: Subject
) -> Finding:
    """xywh boxes reaching more than one pixel outside their image (a warning).

    ``width`` / ``height`` (n,) float, NaN where the image's size is unknown. One pixel
    of slack: COCO boxes are float and often end at ``width + 0.5``.
    """
    b = np.asarray(bbox, dtype=np.float64).reshape(-1, 4)
    W = np.asarray(width, dtype=np.float64)
    H = np.asarray(height, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = (
            np.isfinite(W)
            & np.isfinite(H)
            & (
                (b[:, 0] < -1)
                | (b[:, 1] < -1)
                | (b[:, 0] + b[:, 2] > W + 1)
                | (b[:, 1] + b[:, 3] > H + 1)
            )
        )
    return Finding(
        "bbox-outside",
        "warning",
        _rows(out),
        lambda i: (
            f"{subject(i)} has a bbox {fmt_values(b[i].tolist())} reaching outside image "
            f"{fmt_number(image_id[i])} ({fmt_number(W[i])} x {fmt_number(H[i])})"
        ),
    )


def finite_rule(values: np.ndarray, subject: Subject, name: str) -> Finding:
    """Rows of a geometry field (n, width) holding a NaN or infinite value.

    >>> finite_rule(np.array([[0.0, 1.0], [np.inf, 2.0]]), lambda i: f"result {i}",
    ...             "interval").message(1)
    'result 1 has a non-finite interval [inf, 2]'
    """
    v = np.asarray(values, dtype=np.float64)
    v = v.reshape(v.shape[0], -1) if v.ndim else v.reshape(1, 1)
    return Finding(
        "bad-bbox" if name == "bbox" else f"bad-{name}",
        "error",
        _rows(~np.isfinite(v).all(axis=1)),
        lambda i: f"{subject(i)} has a non-finite {name} {fmt_values(v[i].tolist())}",
        InvalidBoxesError,
    )


# ------------------------------------------------------------ other columns
def area_rules(area: np.ndarray, subject: Subject) -> list[Finding]:
    """GT ``area``: not finite (error); negative (error that only ``check`` reports).

    pycocotools accepts a negative area (the object then falls in no area range and is
    ignored everywhere), so the loader does too.
    """
    area = np.asarray(area, dtype=np.float64)
    bad = ~np.isfinite(area)
    neg = ~bad & (area < 0)
    return [
        Finding(
            "bad-area",
            "error",
            _rows(bad),
            lambda i: f"{subject(i)} has a non-finite area {fmt_number(area[i])}",
        ),
        Finding(
            "bad-area",
            "error",
            _rows(neg),
            lambda i: (
                f"{subject(i)} has a negative area {fmt_number(area[i])} "
                "(it falls in no area range)"
            ),
            enforced=False,
        ),
    ]


def score_rule(score: np.ndarray, subject: Subject) -> Finding:
    """Detection scores that are not finite.

    >>> score_rule(np.array([0.5, np.nan]), lambda i: f"result {i}").message(1)
    'result 1 has a non-finite score nan'
    """
    score = np.asarray(score, dtype=np.float64)
    return Finding(
        "bad-score",
        "error",
        _rows(~np.isfinite(score)),
        lambda i: f"{subject(i)} has a non-finite score {fmt_number(score[i])}",
    )


def iscrowd_rule(iscrowd: np.ndarray, subject: Subject) -> Finding:
    """``iscrowd`` other than 0 / 1 (a warning: any non-zero value reads as crowd)."""
    v = np.asarray(iscrowd)
    return Finding(
        "bad-iscrowd",
        "warning",
        _rows((v != 0) & (v != 1)),
        lambda i: f"{subject(i)} has iscrowd {fmt_number(v[i].item())}, not 0 or 1",
    )


# --------------------------------------------------------- segmentations
def segmentation_rule(
    segs: Sequence[Any],
    heights: np.ndarray,
    widths: np.ndarray,
    image_id: np.ndarray,
    subject: Subject,
) -> Finding:
    """Segmentations the ``segm`` / ``boundary`` evaluation cannot read (one row each).

    The evaluation's own conversion (:func:`ioukit.rle._table.table_from_objects`,
    pycocotools' ``annToRLE``) on every row: corrupt or truncated RLE strings, counts
    not adding up to h*w, sizes that are not two integers or not the image's, polygons
    with fewer than 3 points, an odd number of coordinates or NaN, and polygons on an
    image without a size (``heights`` / ``widths`` (n,), 0 where the GT image has none).
    One batch call; rows are tried one by one only when it fails (to name every row).

    >>> f = segmentation_rule([[[0, 0, 4, 0, 4, 4, 0]]], np.array([8]), np.array([8]),
    ...                       np.array([1]), lambda i: f"annotation {i}")
    >>> f.message(0)
    'annotation 0: polygon 0 has an odd number of coordinates (7)'
    """
    from ..rle._table import table_from_objects  # the mask path only

    h = np.asarray(heights, np.int64)
    w = np.asarray(widths, np.int64)

    def problem(i: int) -> str | None:
        seg = segs[i]
        if seg is None:
            return f"{subject(i)} has no segmentation"
        if isinstance(seg, (list, tuple)) and (h[i] <= 0 or w[i] <= 0):
            return (
                f"{subject(i)}: its polygons need the image size, but GT image id "
                f"{fmt_number(image_id[i].item())} has no 'width' / 'height' (or a zero one)"
            )
        try:
            table_from_objects([seg], h[i : i + 1], w[i : i + 1], [subject(i)])
        except IoukitError as e:
            return str(e)
        return None

    rows: list[int] = []
    msgs: dict[int, str] = {}
    try:
        if any(s is None for s in segs):
            raise IoukitError
        polygons = np.fromiter((isinstance(s, (list, tuple)) for s in segs), bool, len(segs))
        if (polygons & ((h <= 0) | (w <= 0))).any():
            raise IoukitError
        table_from_objects(list(segs), h, w, [subject(i) for i in range(len(segs))])
    except IoukitError:
        for i in range(len(segs)):
            m = problem(i)
            if m is not None:
                rows.append(i)
                msgs[i] = m
    return Finding("bad-segmentation", "error", np.asarray(rows, np.int64), msgs.__getitem__)


# ------------------------------------------------------------------- ids
def duplicate_id_rule(
    ids: np.ndarray,
    what: str,
    *,
    entries: np.ndarray | None = None,
    severity: str = "error",
    note: str = "",
    show: Callable[[Any], str] | None = None,
) -> Finding:
    """Rows whose id repeats an earlier row's: ``duplicate <what> id 7 (entries 2 and 5)``.

    ``rows`` are the repeats (file order); the message names the first entry too.
    ``entries[row]`` is a row's position in its file (default: the row itself);
    ``show`` formats an id (default :func:`fmt_number`).

    >>> f = duplicate_id_rule(np.array([7, 1, 7]), "image")
    >>> f.rows.tolist(), f.message(2)
    ([2], 'duplicate image id 7 (entries 0 and 2)')
    """
    ids = np.asarray(ids)
    pos = np.arange(ids.size) if entries is None else np.asarray(entries)
    show = show or (lambda v: fmt_number(v.item() if isinstance(v, np.generic) else v))
    if ids.size < 2:
        return Finding("duplicate-id", severity, _NONE, str, DuplicateIdError)
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup = s[1:] == s[:-1]
    if not dup.any():
        return Finding("duplicate-id", severity, _NONE, str, DuplicateIdError)
    # the first row of each run of equal ids, for every position of the sorted order
    starts = np.flatnonzero(np.r_[True, ~dup])
    first = order[starts[np.searchsorted(starts, np.arange(ids.size), side="right") - 1]]
    first_of = np.empty_like(order)
    first_of[order] = first
    rows = np.sort(order[1:][dup]).astype(np.int64)
    return Finding(
        "duplicate-id",
        severity,
        rows,
        lambda i: (
            f"duplicate {what} id {show(ids[i])} "
            f"(entries {int(pos[first_of[i]])} and {int(pos[i])}){note}"
        ),
        DuplicateIdError,
        enforced=severity == "error",
    )


def unknown_id_rule(values: np.ndarray, known: np.ndarray, what: str, subject: Subject) -> Finding:
    """Rows whose ``<what>_id`` is not among the GT's ``known`` ids.

    >>> f = unknown_id_rule(np.array([1, 7]), np.array([1, 2]), "image", lambda i: f"result {i}")
    >>> f.message(1)
    'result 1 refers to image id 7, which is not in the GT images'
    """
    values = np.asarray(values)
    if values.size == 0:
        return Finding(f"unknown-{what}", "error", _NONE, str, UnknownIdError)
    ks = np.sort(np.asarray(known))
    pos = np.searchsorted(ks, values)
    pos[pos >= ks.size] = 0
    ok = ks[pos] == values if ks.size else np.zeros(values.shape, dtype=bool)
    if ok.all():
        return Finding(f"unknown-{what}", "error", _NONE, str, UnknownIdError)
    where = "categories" if what == "category" else f"{what}s"
    return Finding(
        f"unknown-{what}",
        "error",
        _rows(~ok),
        lambda i: (
            f"{subject(i)} refers to {what} id {fmt_number(values[i].item())}, "
            f"which is not in the GT {where}"
        ),
        UnknownIdError,
    )


def id_zero_rule(ann_id: np.ndarray, subject: Subject) -> Finding:
    """Annotations with id 0 (a warning; the loader warns with ``UserWarning``)."""
    return Finding(
        "id-zero",
        "warning",
        _rows(np.asarray(ann_id) == 0),
        lambda i: (
            f"{subject(i)}: pycocotools never counts a detection matched to it as a true "
            "positive; ioukit reproduces that unless evaluate(..., fix_zero_id=True)"
        ),
    )
