"""DOTA's text formats: label files and per-class (Task 1) results files.

Label file (one per image, ``<image>.txt``; DOTA devkit ``dota_utils.parse_dota_poly``
and ``dota_evaluation_task1.parse_gt``): ``x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]``
per object; lines with fewer than 9 fields (DOTA v1.0's ``imagesource:`` and ``gsd:``
headers) are skipped, a missing ``difficult`` is 0.

Results file (one per class, the devkit's ``Task1_{classname}.txt``):
``image score x1 y1 x2 y2 x3 y3 x4 y4`` per detection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidParameterError, UnknownIdError

__all__ = ["CLS", "Labels", "Results", "read_labels", "read_results"]

CLS = "{cls}"


@dataclass
class Labels:
    """Ground truth, one row per object: image index, class name, polygon, difficult."""

    image_ids: list[str]
    image: np.ndarray  # int64 (G,)
    name: np.ndarray  # object (G,)
    poly: np.ndarray  # float64 (G, 8)
    difficult: np.ndarray  # bool (G,)


@dataclass
class Results:
    """Detections, class by class in file order: class index, image index, score, polygon."""

    cls: np.ndarray  # int64 (D,)
    image: np.ndarray  # int64 (D,)
    score: np.ndarray  # float64 (D,)
    poly: np.ndarray  # float64 (D, 8)
    row: np.ndarray  # int64 (D,) line among the class's detections


def _image_set(image_set: Any, found: list[str] | None) -> list[str]:
    if image_set is None:
        if found is None:
            raise InvalidParameterError("image_set is needed when labels is a mapping")
        return found
    if isinstance(image_set, (str, os.PathLike)):
        with open(image_set, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    return [str(i) for i in image_set]


def _parse_label_lines(lines: Sequence[str], where: str) -> list[tuple[list[float], str, bool]]:
    objs = []
    for k, line in enumerate(lines, 1):
        t = line.split()
        if len(t) < 9:
            continue
        try:
            poly = [float(v) for v in t[:8]]
            difficult = int(t[9]) != 0 if len(t) >= 10 else False
        except ValueError:
            raise DatasetError(
                f"{where} line {k}: expected 8 numbers, a class and an "
                f"optional 0/1 difficult flag, got {line.strip()!r}"
            ) from None
        if not np.isfinite(poly).all():
            raise DatasetError(f"{where} line {k}: non-finite coordinate in {line.strip()!r}")
        objs.append((poly, t[8], difficult))
    return objs


def read_labels(labels: Any, image_set: Any = None) -> Labels:
    """Labels from a folder of ``<image>.txt`` files or a mapping ``{image: text}``.

    ``image_set``: a file with one image name per line or a list (default: every
    ``.txt`` file of the folder, sorted). An image without a label file has no objects.

    >>> read_labels({"P0001": "imagesource:GoogleEarth\\ngsd:0.1\\n0 0 4 0 4 2 0 2 car 1\\n"},
    ...             ["P0001"]).difficult.tolist()
    [True]
    """
    texts: dict[str, list[str]] = {}
    if isinstance(labels, Mapping):
        ids = _image_set(image_set, sorted(map(str, labels)))
        for i in ids:
            v = labels.get(i, "")
            texts[i] = v.splitlines() if isinstance(v, str) else list(v)
        where = {i: f"labels[{i!r}]" for i in ids}
    else:
        folder = Path(labels)
        if not folder.is_dir():
            raise FileNotFoundError(2, "DOTA label folder not found", str(folder))
        ids = _image_set(image_set, sorted(p.stem for p in folder.glob("*.txt")))
        where = {}
        for i in ids:
            path = folder / f"{i}.txt"
            where[i] = str(path)
            if path.is_file():
                with open(path, encoding="utf-8") as f:
                    texts[i] = f.read().splitlines()
            else:
                texts[i] = []
    image, name, poly, diff = [], [], [], []
    for k, i in enumerate(ids):
        for p, n, d in _parse_label_lines(texts[i], where[i]):
            image.append(k)
            name.append(n)
            poly.append(p)
            diff.append(d)
    names = np.empty(len(name), dtype=object)
    names[:] = name
    return Labels(
        list(ids),
        np.array(image, dtype=np.int64),
        names,
        np.array(poly, dtype=np.float64).reshape(-1, 8),
        np.array(diff, dtype=bool),
    )


def _parse_result_lines(lines: Sequence[str], where: str, index: Mapping[str, int]):
    img, nums = [], []
    for k, line in enumerate(lines, 1):
        t = line.split()
        if not t:
            continue
        if len(t) != 10:
            raise DatasetError(
                f"{where} line {k}: expected 'image score x1 y1 ... x4 y4' "
                f"(10 fields), got {len(t)}: {line.strip()!r}"
            )
        if t[0] not in index:
            raise UnknownIdError(f"{where} line {k}: image {t[0]!r} is not in the label set")
        try:
            v = [float(x) for x in t[1:]]
        except ValueError:
            raise DatasetError(f"{where} line {k}: not a number in {line.strip()!r}") from None
        if not np.isfinite(v).all():
            raise DatasetError(f"{where} line {k}: non-finite value in {line.strip()!r}")
        img.append(index[t[0]])
        nums.append(v)
    return img, nums


def read_results(results: Any, classes: Sequence[str], image_ids: Sequence[str]) -> Results:
    """Detections from a path pattern with ``{cls}`` (or the devkit's ``{:s}``) standing for
    the class name, or a mapping ``{class: text or lines}``.

    >>> r = read_results({"car": "P0001 0.9 0 0 4 0 4 2 0 2\\n"}, ["car"], ["P0001"])
    >>> r.score.tolist(), r.poly.shape
    ([0.9], (1, 8))
    """
    index = {str(i): k for k, i in enumerate(image_ids)}
    cls, image, nums, row = [], [], [], []
    if not isinstance(results, Mapping):
        pattern = os.fspath(results).replace("{:s}", CLS)
        if CLS not in pattern:
            raise InvalidParameterError(
                f"results path {os.fspath(results)!r} has no {CLS} (or {{:s}}): it stands for "
                "the class name, one results file per class"
            )
    for k, name in enumerate(classes):
        if isinstance(results, Mapping):
            v = results.get(name, "")
            lines = v.splitlines() if isinstance(v, str) else list(v)
            where = f"results[{name!r}]"
        else:
            path = pattern.replace(CLS, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(2, f"no results file for class {name!r}", path)
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            where = path
        img, v = _parse_result_lines(lines, where, index)
        cls += [k] * len(img)
        image += img
        nums += v
        row += list(range(len(img)))
    a = np.array(nums, dtype=np.float64).reshape(-1, 9)
    return Results(
        np.array(cls, dtype=np.int64),
        np.array(image, dtype=np.int64),
        a[:, 0].copy(),
        np.ascontiguousarray(a[:, 1:]),
        np.array(row, dtype=np.int64),
    )
