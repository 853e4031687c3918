"""panopticapi's JSON files read by ioukit's byte scanner instead of ``json.load``.

``json.load`` builds a Python dict per segment (5000 images x 20 segments: ~0.2 s, the
largest serial part of an evaluation). The scanner (:mod:`ioukit.io._jsonscan`) reads
``annotations`` (``image_id``, ``file_name``, ``segments_info`` kept as raw bytes) and
``categories`` in one compiled pass; the ``segments_info`` lists are then joined into
one list, each image's preceded by a marker record ``{"_m": 1}``, and scanned once
more into columns. Anything the scanner does not read exactly (string image ids,
missing or oddly typed fields, malformed JSON) returns None and the caller uses
``json``, which also words the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Scanned", "scan_panoptic"]

_MARKER = b'{"_m":1}'


@dataclass(frozen=True)
class Scanned:
    """Columns of one panoptic JSON file."""

    image_ids: list[int]
    file_names: list[str]
    counts: np.ndarray  # segments per annotation
    ids: np.ndarray
    category_ids: np.ndarray
    crowd: np.ndarray  # 0 where absent
    area: np.ndarray  # NaN where absent
    area_present: bool  # every segment has an area
    categories: list[dict[str, Any]] | None  # None when the file has none


def scan_panoptic(raw: bytes) -> Scanned | None:
    """The annotations and categories of a panoptic JSON document, or None.

    >>> doc = (b'{"annotations": [{"image_id": 3, "file_name": "a.png", "segments_info":'
    ...        b' [{"id": 5, "category_id": 1, "area": 4}, {"id": 2, "category_id": 2}]},'
    ...        b' {"image_id": 4, "file_name": "b.png", "segments_info": []}],'
    ...        b' "categories": [{"id": 1, "isthing": 1, "name": "person"}]}')
    >>> s = scan_panoptic(doc)
    >>> s.image_ids, s.counts.tolist(), s.ids.tolist(), s.area.tolist(), s.area_present
    ([3, 4], [2, 0], [5, 2], [4.0, nan], False)
    >>> s.categories
    [{'id': 1, 'isthing': 1, 'name': 'person'}]
    """
    from ..io._jsonscan import FieldSpec, ScanFallback, scan_records, scan_tables

    tables = {
        "ann": (
            ("annotations",),
            {
                "image_id": FieldSpec("int"),
                "file_name": FieldSpec("str"),
                "segments_info": FieldSpec("span"),
            },
        ),
        "cat": (
            ("categories",),
            {"id": FieldSpec("int"), "isthing": FieldSpec("int"), "name": FieldSpec("str")},
        ),
    }
    try:
        t = scan_tables(raw, tables)
    except ScanFallback:
        return None
    ann, cat = t["ann"], t["cat"]
    if not ann.found or not all(ann.present[k].all() for k in tables["ann"][1]):
        return None
    categories = None
    if cat.found:
        if not (cat.present["id"].all() and cat.present["isthing"].all()):
            return None
        categories = [
            {"id": i, "isthing": t_, "name": name if name is not None else str(i)}
            for i, t_, name in zip(cat["id"].tolist(), cat["isthing"].tolist(), cat["name"])
        ]
    pieces = []
    for start, end in ann["segments_info"].tolist():
        if raw[start] != 0x5B:  # "[": segments_info must be a list
            return None
        inner = raw[start + 1 : end - 1].strip(b" \t\r\n")
        pieces.append(_MARKER + b"," + inner if inner else _MARKER)
    joined = b"[" + b",".join(pieces) + b"]"
    fields = {
        "_m": FieldSpec("int"),
        "id": FieldSpec("int"),
        "category_id": FieldSpec("int"),
        "iscrowd": FieldSpec("int"),
        "area": FieldSpec("float"),
    }
    try:
        seg = scan_records(joined, (), fields)
    except ScanFallback:
        return None
    marker = seg.present["_m"]
    at = np.flatnonzero(marker)
    if len(at) != ann.count:
        return None  # a segment carrying a "_m" key: let json read it
    keep = ~marker
    if not (seg.present["id"][keep].all() and seg.present["category_id"][keep].all()):
        return None
    counts = np.diff(np.append(at, len(marker))) - 1
    crowd = np.where(seg.present["iscrowd"], seg["iscrowd"], 0)[keep]
    return Scanned(
        image_ids=ann["image_id"].tolist(),
        file_names=list(ann["file_name"]),
        counts=counts.astype(np.int64),
        ids=seg["id"][keep],
        category_ids=seg["category_id"][keep],
        crowd=crowd,
        area=seg["area"][keep],
        area_present=bool(seg.present["area"][keep].all()),
        categories=categories,
    )
