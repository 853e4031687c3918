"""KITTI object labels: label / result txt files and annotation dicts -> one frame table.

A line of a label file (devkit ``readme.txt``): ``type truncated occluded alpha x1 y1 x2
y2 h w l x y z rotation_y`` and, in result files, a 16th number, ``score``. ``h w l``
are the object's height, width, length in metres and ``x y z`` its bottom center in
the rectified camera frame (x right, y down, z forward).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DatasetError, MissingFieldError

__all__ = ["Objects", "read_label_file", "load_objects"]

_FIELDS = ("truncated", "occluded", "alpha", "bbox", "dimensions", "location", "rotation_y")


@dataclass
class Objects:
    """Every object of every frame, columnar, frames in order.

    ``frame`` int64 (N,) frame position; ``name`` object (N,); ``truncated``,
    ``occluded``, ``alpha``, ``rotation_y``, ``score`` float64 (N,); ``bbox`` (N, 4)
    x1 y1 x2 y2 pixels; ``dimensions`` (N, 3) h w l; ``location`` (N, 3) x y z.
    """

    frame: np.ndarray
    name: np.ndarray
    truncated: np.ndarray
    occluded: np.ndarray
    alpha: np.ndarray
    bbox: np.ndarray
    dimensions: np.ndarray
    location: np.ndarray
    rotation_y: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


def read_label_file(path: str | os.PathLike, *, with_score: bool) -> dict[str, np.ndarray]:
    """One KITTI label (or result) file as a dict of arrays (the :func:`load_objects` keys).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "000000.txt")
    >>> line = "Car 0.00 0 -1.58 587.0 173.3 614.1 200.1 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59"
    >>> _ = open(p, "w").write(line + "\\n")
    >>> read_label_file(p, with_score=False)["dimensions"].tolist()
    [[1.65, 1.67, 3.64]]
    """
    names, rows = [], []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            want = 16 if with_score else 15
            if len(parts) < want - (1 if with_score else 0) or len(parts) > 16:
                raise DatasetError(
                    f"{path}, line {lineno}: expected {want} fields (type + {want - 1} numbers), "
                    f"got {len(parts)}"
                )
            try:
                nums = [float(x) for x in parts[1:]]
            except ValueError as e:
                raise DatasetError(f"{path}, line {lineno}: {e}") from None
            if len(nums) == 14:
                nums.append(0.0 if not with_score else np.nan)
            names.append(parts[0])
            rows.append(nums)
    a = np.array(rows, dtype=np.float64).reshape(-1, 15)
    if with_score and np.isnan(a[:, 14]).any():
        line = int(np.flatnonzero(np.isnan(a[:, 14]))[0]) + 1
        raise DatasetError(f"{path}: detection {line} has no score (16th field)")
    return {
        "name": np.array(names, dtype=object),
        "truncated": a[:, 0],
        "occluded": a[:, 1],
        "alpha": a[:, 2],
        "bbox": a[:, 3:7],
        "dimensions": a[:, 7:10],
        "location": a[:, 10:13],
        "rotation_y": a[:, 13],
        "score": a[:, 14],
    }


def _frames_of(
    source: Any, frame_ids: Sequence[str] | None, *, is_dt: bool
) -> tuple[list[str], list[dict]]:
    """(frame ids, annotation dicts) from a folder, a mapping or a sequence."""
    if isinstance(source, (str, os.PathLike)):
        folder = os.fspath(source)
        if not os.path.isdir(folder):
            raise DatasetError(f"{folder}: not a folder of KITTI label files")
        if frame_ids is None:
            frame_ids = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".txt"))
        annos = []
        for fid in frame_ids:
            p = os.path.join(folder, f"{fid}.txt")
            if os.path.exists(p):
                annos.append(read_label_file(p, with_score=is_dt))
            elif is_dt:  # no result file: the frame has no detections
                annos.append({"name": np.zeros(0, dtype=object)})
            else:
                raise DatasetError(f"{p}: ground truth label file missing")
        return list(frame_ids), annos
    if isinstance(source, Mapping):
        ids = list(frame_ids) if frame_ids is not None else sorted(source)
        return [str(i) for i in ids], [source.get(i, {"name": []}) for i in ids]
    annos = list(source)
    ids = [str(i) for i in range(len(annos))] if frame_ids is None else [str(i) for i in frame_ids]
    if len(ids) != len(annos):
        raise DatasetError(f"{len(annos)} annotation dicts for {len(ids)} frame ids")
    return ids, annos


def load_objects(
    source: Any, frame_ids: Sequence[str] | None = None, *, is_dt: bool
) -> tuple[list[str], Objects]:
    """Frame ids and the :class:`Objects` table of a label folder, a mapping ``{frame
    id: annotation dict}`` or a sequence of annotation dicts (keys ``name``,
    ``truncated``, ``occluded``, ``alpha``, ``bbox``, ``dimensions`` (h, w, l, the
    label-file order), ``location``, ``rotation_y`` and, for detections, ``score``).

    >>> ids, objs = load_objects([{"name": ["Car"], "truncated": [0], "occluded": [0],
    ...     "alpha": [0], "bbox": [[0, 0, 50, 50]], "dimensions": [[1.5, 1.6, 4]],
    ...     "location": [[0, 1.5, 10]], "rotation_y": [0]}], is_dt=False)
    >>> ids, objs.name.tolist(), objs.frame.tolist()
    (['0'], ['Car'], [0])
    """
    ids, annos = _frames_of(source, frame_ids, is_dt=is_dt)
    cols: dict[str, list] = {k: [] for k in ("frame", "name", *_FIELDS, "score")}
    for f, (fid, a) in enumerate(zip(ids, annos)):
        n = len(a.get("name", ()))
        if n == 0:
            continue
        for k in _FIELDS + (("score",) if is_dt else ()):
            if k not in a:
                raise MissingFieldError(f"frame {fid!r}: annotation field {k!r} missing")
        cols["frame"].append(np.full(n, f, dtype=np.int64))
        cols["name"].append(np.asarray(a["name"], dtype=object).reshape(n))
        for k, w in (("bbox", 4), ("dimensions", 3), ("location", 3)):
            v = np.asarray(a[k], dtype=np.float64)
            if v.shape != (n, w):
                raise DatasetError(f"frame {fid!r}: {k} has shape {v.shape}, expected ({n}, {w})")
            cols[k].append(v)
        for k in ("truncated", "occluded", "alpha", "rotation_y"):
            cols[k].append(np.asarray(a[k], dtype=np.float64).reshape(n))
        cols["score"].append(
            np.asarray(a["score"], dtype=np.float64).reshape(n) if is_dt else np.zeros(n)
        )
    shapes = {"bbox": (0, 4), "dimensions": (0, 3), "location": (0, 3)}

    def cat(k: str) -> np.ndarray:
        if cols[k]:
            return np.concatenate(cols[k])
        return np.zeros(shapes.get(k, (0,)), dtype=object if k == "name" else np.float64)

    objs = Objects(**{k: cat(k) for k in cols})
    objs.frame = objs.frame.astype(np.int64)
    bad = ~np.isfinite(np.concatenate([objs.bbox, objs.dimensions, objs.location], axis=1)).all(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"frame {ids[objs.frame[i]]!r}: object {i} has a non-finite number")
    return ids, objs
