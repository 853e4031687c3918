"""Open Images challenge tables: boxes, image-level labels and predictions.

Each is read from a CSV file (the challenge's files, with a header row) or from
columns in memory (a dict of sequences, a pandas DataFrame: anything indexed by
column name). Only the columns the evaluation needs are read:

- boxes: ``ImageID, LabelName, XMin, XMax, YMin, YMax, IsGroupOf`` (normalised
  coordinates; ``IsGroupOf`` as an integer: any non-zero value, ``-1`` included, is
  a group-of box, as the reference's ``astype(bool)``);
- image-level labels: ``ImageID, LabelName, Confidence`` (1 positive, 0 negative);
- predictions: ``ImageID, LabelName, Score, XMin, XMax, YMin, YMax``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import DatasetError, InvalidParameterError, MissingFieldError

__all__ = ["Boxes", "ImageLabels", "Predictions", "read_boxes", "read_labels", "read_predictions"]

_BOX = ("XMin", "YMin", "XMax", "YMax")


@lightclass
class Boxes:
    """Ground-truth boxes. ``box`` is ``x1 y1 x2 y2`` (XMin YMin XMax YMax)."""

    image_id: np.ndarray  # str (N,)
    label: np.ndarray  # str (N,)
    box: np.ndarray  # float64 (N, 4)
    group_of: np.ndarray  # bool (N,)
    source: str = "<boxes>"


@lightclass
class ImageLabels:
    """Verified image-level labels (Confidence 1: present, 0: absent)."""

    image_id: np.ndarray  # str (N,)
    label: np.ndarray  # str (N,)
    confidence: np.ndarray  # int64 (N,)
    source: str = "<labels>"


@lightclass
class Predictions:
    """Detections. ``box`` is ``x1 y1 x2 y2`` (XMin YMin XMax YMax)."""

    image_id: np.ndarray  # str (N,)
    label: np.ndarray  # str (N,)
    score: np.ndarray  # float64 (N,)
    box: np.ndarray  # float64 (N, 4)
    source: str = "<predictions>"


def _read_csv(path: Any, columns: Sequence[str]) -> tuple[dict[str, list], str]:
    src = os.fspath(path)
    with open(src, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return {c: [] for c in columns}, src
        header = [h.strip().lstrip("\ufeff") for h in header]
        where = {}
        for c in columns:
            if c not in header:
                raise MissingFieldError(f"{src}: the header has no column {c!r} (has {header})")
            where[c] = header.index(c)
        rows = [r for r in reader if r]
    widths = set(map(len, rows))
    if widths and min(widths) <= max(where.values()):
        bad = next(k for k, r in enumerate(rows) if len(r) <= max(where.values()))
        raise DatasetError(f"{src}: data row {bad} has {len(rows[bad])} fields")
    # transpose in C (zip), then keep the needed columns
    by_index = list(zip(*rows)) if rows else []
    cols = {c: list(by_index[i]) if rows else [] for c, i in where.items()}
    return cols, src


def _columns(table: Any, columns: Sequence[str], what: str) -> tuple[dict[str, Any], str]:
    if isinstance(table, (str, os.PathLike)):
        return _read_csv(table, columns)
    if not hasattr(table, "__getitem__"):
        raise InvalidParameterError(
            f"{what} must be a CSV path or columns by name (dict, DataFrame), "
            f"got {type(table).__name__}"
        )
    out = {}
    for c in columns:
        try:
            out[c] = table[c]
        except (KeyError, IndexError, TypeError):
            raise MissingFieldError(f"{what}: no column {c!r}") from None
    return out, f"<{what}>"


def _numbers(col: Any, name: str, src: str, dtype: Any = np.float64) -> np.ndarray:
    values = col.tolist() if isinstance(col, np.ndarray) else list(col)
    try:
        # float() per value in a C loop: CSV text and Python / NumPy numbers alike
        return np.fromiter(map(float, values), np.float64, count=len(values)).astype(dtype)
    except (TypeError, ValueError):
        for k, v in enumerate(values):
            try:
                float(v)
            except (TypeError, ValueError):
                raise DatasetError(f"{src}: row {k}: {name} = {v!r} is not a number") from None
        raise  # pragma: no cover - every value converted one by one


def _strings(col: Any) -> np.ndarray:
    a = np.asarray(col, dtype=object).ravel()
    if a.size == 0 or set(map(type, a.tolist())) == {str}:
        return a
    return np.array([str(x) for x in a.tolist()], dtype=object)


def _box(cols: dict, src: str) -> np.ndarray:
    box = np.stack([_numbers(cols[c], c, src) for c in _BOX], axis=1) if len(cols["XMin"]) else None
    return np.zeros((0, 4)) if box is None else np.ascontiguousarray(box, dtype=np.float64)


def read_boxes(table: Any) -> Boxes:
    """Ground-truth boxes from a CSV path or columns.

    >>> b = read_boxes({"ImageID": ["i1"], "LabelName": ["dog"], "XMin": [0.1],
    ...                 "XMax": [0.5], "YMin": [0.2], "YMax": [0.6], "IsGroupOf": [1]})
    >>> b.box.tolist(), b.group_of.tolist()
    ([[0.1, 0.2, 0.5, 0.6]], [True])
    """
    cols, src = _columns(table, ("ImageID", "LabelName", *_BOX, "IsGroupOf"), "boxes")
    group = _numbers(cols["IsGroupOf"], "IsGroupOf", src)
    return Boxes(
        _strings(cols["ImageID"]),
        _strings(cols["LabelName"]),
        _box(cols, src),
        group.astype(np.int64) != 0,
        src,
    )


def read_labels(table: Any) -> ImageLabels:
    """Verified image-level labels from a CSV path or columns.

    >>> lab = read_labels({"ImageID": ["i1", "i1"], "LabelName": ["dog", "cat"],
    ...                    "Confidence": [1, 0]})
    >>> lab.confidence.tolist()
    [1, 0]
    """
    cols, src = _columns(table, ("ImageID", "LabelName", "Confidence"), "labels")
    conf = _numbers(cols["Confidence"], "Confidence", src)
    if conf.size and not np.isin(conf, (0, 1)).all():
        bad = int(np.flatnonzero(~np.isin(conf, (0, 1)))[0])
        raise DatasetError(f"{src}: row {bad}: Confidence = {conf[bad]!r}, expected 0 or 1")
    return ImageLabels(
        _strings(cols["ImageID"]), _strings(cols["LabelName"]), conf.astype(np.int64), src
    )


def read_predictions(table: Any) -> Predictions:
    """Predictions from a CSV path or columns.

    >>> p = read_predictions({"ImageID": ["i1"], "LabelName": ["dog"], "Score": [0.7],
    ...                       "XMin": [0.1], "XMax": [0.5], "YMin": [0.2], "YMax": [0.6]})
    >>> p.score.tolist(), p.box.shape
    ([0.7], (1, 4))
    """
    cols, src = _columns(table, ("ImageID", "LabelName", "Score", *_BOX), "predictions")
    score = _numbers(cols["Score"], "Score", src)
    if np.isnan(score).any():
        raise DatasetError(f"{src}: row {int(np.flatnonzero(np.isnan(score))[0])}: Score is NaN")
    return Predictions(
        _strings(cols["ImageID"]), _strings(cols["LabelName"]), score, _box(cols, src), src
    )
