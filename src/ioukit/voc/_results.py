"""Detections for VOC evaluation: devkit per-class results files, or COCO-style JSON.

Devkit files (``comp4_det_test_{cls}.txt``): one file per class, one detection per line,
``image_id score x1 y1 x2 y2`` separated by any whitespace (the devkit's
``textread(..., '%s %f %f %f %f %f')``; py-faster-rcnn splits on single spaces). Blank
lines are skipped. An image id outside the image set is an error (the devkit's
"unrecognized image").

COCO-style JSON: a GT dict (``images``, ``categories``, ``annotations`` with ``bbox``
``[x, y, w, h]``) and a results list (``image_id``, ``category_id``, ``bbox``,
``score``). Boxes become the corners ``(x, y, x + w, y + h)``. A GT is difficult when its
``difficult`` field (or mmdetection's ``ignore``) is non-zero; ``iscrowd`` is not read.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    DatasetError,
    DuplicateIdError,
    InvalidParameterError,
    MissingFieldError,
    UnknownIdError,
)
from ._xml import GroundTruth

__all__ = ["Detections", "read_results_files", "read_coco_gt", "read_coco_results", "CLS"]

CLS = "{cls}"


@dataclass
class Detections:
    """Detections of every class, ordered by class, then by input order.

    Attributes
    ----------
    cls : int64 (N,)      index into the evaluated classes
    image : int64 (N,)    index into the GT's ``image_ids``
    score : float64 (N,)
    box : float64 (N, 4)  x1 y1 x2 y2
    row : int64 (N,)      position in its class's results file (lines with a detection,
                          0-based), or in the JSON results list: the tie-break order
    """

    cls: np.ndarray
    image: np.ndarray
    score: np.ndarray
    box: np.ndarray
    row: np.ndarray


def _finite(where: str, what: str, text: Any) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise DatasetError(f"{where}: {what} {text!r} is not finite")
    return v


def _parse_lines_checked(path: str, image_index: Mapping[str, int]) -> list[tuple]:
    # line by line, naming the first bad line (the fast path's fallback)
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            tok = line.split()
            if not tok:
                continue
            where = f"{path}:{lineno}"
            if len(tok) != 6:
                raise DatasetError(
                    f"{where}: expected 'image_id score x1 y1 x2 y2' (6 fields), got {len(tok)}"
                )
            img = image_index.get(tok[0])
            if img is None:
                raise UnknownIdError(f"{where}: image {tok[0]!r} is not in the image set")
            names = ("score", "x1", "y1", "x2", "y2")
            rows.append((img, *(_finite(where, w, t) for w, t in zip(names, tok[1:]))))
    return rows


def _parse_lines(path: str, image_index: Mapping[str, int]) -> np.ndarray:
    """(N, 6) float64 rows ``image score x1 y1 x2 y2`` of one results file.

    Fast path: split every line, convert all numbers with one ``map(float)``; any
    irregularity sends the file through :func:`_parse_lines_checked` for its error.
    """
    with open(path, encoding="utf-8") as f:
        lines = [t for t in (line.split() for line in f) if t]
    try:
        if any(len(t) != 6 for t in lines):
            raise ValueError
        img = [image_index[t[0]] for t in lines]
        nums = np.array(list(map(float, chain.from_iterable(t[1:] for t in lines))))
        if not np.isfinite(nums).all():
            raise ValueError
    except (KeyError, ValueError):
        _parse_lines_checked(path, image_index)
        raise AssertionError(f"{path}: parse fallback found no error") from None  # pragma: no cover
    out = np.empty((len(lines), 6), dtype=np.float64)
    out[:, 0] = img
    out[:, 1:] = nums.reshape(-1, 5)
    return out


def _stack(parts: list) -> Detections:
    # parts[k]: class k's rows of (image, score, x1, y1, x2, y2), in input order
    n = [len(r) for r in parts]
    a = np.concatenate(
        [np.asarray(r, dtype=np.float64).reshape(-1, 6) for r in parts] or [np.zeros((0, 6))]
    )
    return Detections(
        cls=np.repeat(np.arange(len(parts), dtype=np.int64), n),
        image=a[:, 0].astype(np.int64),
        score=a[:, 1].copy(),
        box=a[:, 2:].copy(),
        row=np.concatenate([np.arange(m, dtype=np.int64) for m in n] or [np.zeros(0, np.int64)]),
    )


def read_results_files(
    pattern: str | os.PathLike, classes: Sequence[str], image_ids: Sequence[Any]
) -> Detections:
    """Read one devkit results file per class; ``{cls}`` in ``pattern`` is the class name.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "det_dog.txt"), "w").write("000001 0.9 1 2 30 40\\n")
    >>> r = read_results_files(os.path.join(d, "det_{cls}.txt"), ["dog"], ["000001"])
    >>> r.score.tolist(), r.box.tolist()
    ([0.9], [[1.0, 2.0, 30.0, 40.0]])
    """
    pattern = os.fspath(pattern)
    if CLS not in pattern:
        raise InvalidParameterError(
            f"results path {pattern!r} has no {CLS} (it stands for the class name, one "
            "devkit results file per class)"
        )
    index = {str(i): k for k, i in enumerate(image_ids)}
    parts = []
    for name in classes:
        path = pattern.replace(CLS, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(2, f"no results file for class {name!r}", path)
        parts.append(_parse_lines(path, index))
    return _stack(parts)


def _load_json(src: Any, what: str) -> Any:
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}: not valid JSON ({e})") from None
    return src


def _field(item: Mapping, key: str, where: str) -> Any:
    if not isinstance(item, Mapping) or key not in item:
        raise MissingFieldError(f"{where}: no {key!r} field")
    return item[key]


def _xyxy(bbox: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        raise DatasetError(f"{where}: 'bbox' must be [x, y, w, h], got {bbox!r}")
    x, y, w, h = (_finite(where, "bbox value", v) for v in bbox)
    return (x, y, x + w, y + h)


def read_coco_gt(
    gt: Any, image_set: Sequence[Any] | None = None
) -> tuple[GroundTruth, dict[Any, str], list[Any]]:
    """A COCO-style GT (dict or JSON path) as VOC objects, {category id: name}, and
    every image id of the file.

    Image order: ``image_set`` if given (a list of image ids), else the file's.

    >>> gt = {"images": [{"id": 7}], "categories": [{"id": 1, "name": "dog"}],
    ...       "annotations": [{"id": 3, "image_id": 7, "category_id": 1,
    ...                        "bbox": [10, 10, 5, 5], "difficult": 1}]}
    >>> g, cats, _ = read_coco_gt(gt)
    >>> g.box.tolist(), g.difficult.tolist(), g.obj_id.tolist(), cats
    ([[10.0, 10.0, 15.0, 15.0]], [True], [3], {1: 'dog'})
    """
    d = _load_json(gt, "GT")
    if not isinstance(d, Mapping):
        raise DatasetError("COCO-style GT must be a JSON object with images/categories/annotations")
    cats: dict[Any, str] = {}
    for k, c in enumerate(d.get("categories") or []):
        cid, name = _field(c, "id", f"categories[{k}]"), _field(c, "name", f"categories[{k}]")
        if cid in cats:
            raise DuplicateIdError(f"categories[{k}]: category id {cid!r} appears twice")
        if name in cats.values():
            raise DuplicateIdError(f"categories[{k}]: category name {name!r} appears twice")
        cats[cid] = str(name)
    all_ids = [_field(im, "id", f"images[{k}]") for k, im in enumerate(d.get("images") or [])]
    if len(set(all_ids)) != len(all_ids):
        raise DuplicateIdError("COCO-style GT: an image id appears twice in images")
    ids = all_ids
    if image_set is not None:
        known = set(ids)
        missing = [i for i in image_set if i not in known]
        if missing:
            raise UnknownIdError(f"image_set: image id {missing[0]!r} is not in the GT images")
        ids = list(image_set)
    index = {i: k for k, i in enumerate(ids)}
    if len(index) != len(ids):
        raise DuplicateIdError("image_set: an image id appears twice")
    known_ids = set(all_ids)
    image, name, difficult, box, obj_id = [], [], [], [], []
    for k, a in enumerate(d.get("annotations") or []):
        where = f"annotations[{k}]"
        iid = _field(a, "image_id", where)
        if iid not in known_ids:
            raise UnknownIdError(f"{where}: image_id {iid!r} is not in images")
        cid = _field(a, "category_id", where)
        if cid not in cats:
            raise UnknownIdError(f"{where}: category_id {cid!r} is not in categories")
        img = index.get(iid)
        if img is None:
            continue  # an image left out by image_set
        image.append(img)
        name.append(cats[cid])
        difficult.append(bool(a.get("difficult", 0) or a.get("ignore", 0)))
        box.append(_xyxy(_field(a, "bbox", where), where))
        obj_id.append(int(a.get("id", k)))
    g = GroundTruth(
        ids,
        np.array(image, dtype=np.int64),
        np.array(name, dtype=object),
        np.array(difficult, dtype=bool),
        np.array(box, dtype=np.float64).reshape(-1, 4),
        np.array(obj_id, dtype=np.int64),
    )
    return g, cats, all_ids


def read_coco_results(
    results: Any,
    categories: Mapping[Any, str],
    classes: Sequence[str],
    image_ids: Sequence[Any],
    all_image_ids: Sequence[Any] | None = None,
) -> Detections:
    """COCO-style results (list or JSON path) for the evaluated classes and images.

    Results of categories outside ``classes``, or of images in ``all_image_ids`` (the GT
    file's) but not in ``image_ids`` (the evaluated subset), are skipped; an unknown
    category or image id is an error.

    >>> r = read_coco_results([{"image_id": 7, "category_id": 1, "bbox": [0, 0, 2, 2],
    ...                         "score": 0.5}], {1: "dog"}, ["dog"], [7])
    >>> r.cls.tolist(), r.box.tolist()
    ([0], [[0.0, 0.0, 2.0, 2.0]])
    """
    items = _load_json(results, "results")
    if not isinstance(items, list):
        raise DatasetError("COCO-style results must be a JSON list of detections")
    cls_index = {n: k for k, n in enumerate(classes)}
    img_index = {i: k for k, i in enumerate(image_ids)}
    others = set(all_image_ids or ()) - set(img_index)
    parts: list[list[tuple]] = [[] for _ in classes]
    for k, r in enumerate(items):
        where = f"results[{k}]"
        cid = _field(r, "category_id", where)
        if cid not in categories:
            raise UnknownIdError(f"{where}: category_id {cid!r} is not in the GT categories")
        c = cls_index.get(categories[cid])
        if c is None:
            continue
        img = img_index.get(_field(r, "image_id", where))
        if img is None:
            if r["image_id"] in others:
                continue
            raise UnknownIdError(f"{where}: image_id {r['image_id']!r} is not in the GT images")
        score = _finite(where, "score", _field(r, "score", where))
        parts[c].append((img, score, *_xyxy(_field(r, "bbox", where), where)))
    return _stack(parts)
