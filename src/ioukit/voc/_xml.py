"""Pascal VOC XML annotations: one ``<image_id>.xml`` per image in a folder.

What the evaluation reads from each ``<object>`` (devkit ``VOCreadrecxml.m``,
py-faster-rcnn ``voc_eval.parse_rec``):

- ``<name>``: the class, compared exactly (case-sensitive, not stripped), as
  py-faster-rcnn's ``obj['name'] == classname``;
- ``<difficult>``: an integer, non-zero means difficult; a missing tag means 0 (the
  devkit's ``strcmp(difficult, '1')``; py-faster-rcnn would fail);
- ``<bndbox>``: ``xmin ymin xmax ymax`` as numbers (1-based, inclusive pixel
  coordinates; decimals are accepted, as the devkit's ``str2double``).

``<pose>``, ``<truncated>`` and ``<filename>`` are not used by detection evaluation.
The image id is the file name without ``.xml`` (the devkit's ``Annotations/%s.xml``).
Bad input raises an ``ioukit.errors.DatasetError`` naming the file and the object.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError, DuplicateIdError, MissingFieldError

__all__ = ["GroundTruth", "read_voc_xml", "read_annotations", "read_image_set"]

_BOX_TAGS = ("xmin", "ymin", "xmax", "ymax")


@dataclass
class GroundTruth:
    """GT objects of an image set, one row per object (all classes).

    Attributes
    ----------
    image_ids : list          image identifiers, in evaluation order
    image : int64 (N,)        index into ``image_ids``
    name : object (N,)        class name
    difficult : bool (N,)
    box : float64 (N, 4)      x1 y1 x2 y2
    obj_id : int64 (N,)       the object's position in its XML file (0-based), or its
                              annotation id for COCO-style JSON
    """

    image_ids: list
    image: np.ndarray
    name: np.ndarray
    difficult: np.ndarray
    box: np.ndarray
    obj_id: np.ndarray


def _text(el: ET.Element | None) -> str | None:
    return None if el is None else el.text


def _number(path: str, where: str, tag: str, text: str | None) -> float:
    if text is None or not text.strip():
        raise MissingFieldError(f"{path}: {where}: <bndbox> has no <{tag}> value")
    try:
        v = float(text)
    except ValueError:
        raise DatasetError(f"{path}: {where}: <{tag}> is {text!r}, not a number") from None
    if not math.isfinite(v):
        raise DatasetError(f"{path}: {where}: <{tag}> is {text!r}, not a finite number")
    return v


def _difficult(path: str, where: str, text: str | None) -> bool:
    if text is None or not text.strip():
        return False  # missing tag: not difficult (the devkit's rule)
    try:
        return int(text.strip()) != 0
    except ValueError:
        raise DatasetError(
            f"{path}: {where}: <difficult> is {text!r}, expected an integer (0 or 1)"
        ) from None


def read_voc_xml(path: str | os.PathLike) -> list[tuple[str, bool, tuple[float, ...]]]:
    """Objects of one VOC XML file: ``[(name, difficult, (x1, y1, x2, y2)), ...]``.

    In file order (an object's position is its id in match records).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "000001.xml"
    >>> _ = p.write_text("<annotation><object><name>dog</name><bndbox><xmin>48</xmin>"
    ...                  "<ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>"
    ...                  "</object></annotation>")
    >>> read_voc_xml(p)
    [('dog', False, (48.0, 240.0, 195.0, 371.0))]
    """
    path = os.fspath(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DatasetError(f"{path}: not well-formed XML ({e})") from None
    out = []
    for k, obj in enumerate(root.findall("object")):
        name = _text(obj.find("name"))
        if name is None:
            raise MissingFieldError(f"{path}: object {k}: no <name>")
        where = f"object {k} ({name!r})"
        bnd = obj.find("bndbox")
        if bnd is None:
            raise MissingFieldError(f"{path}: {where}: no <bndbox>")
        box = tuple(_number(path, where, t, _text(bnd.find(t))) for t in _BOX_TAGS)
        out.append((name, _difficult(path, where, _text(obj.find("difficult"))), box))
    return out


def read_image_set(source: str | os.PathLike | Sequence[str]) -> list[str]:
    """Image ids of a devkit ``ImageSets/Main/*.txt`` file, or of a list.

    The first whitespace-separated token of each non-blank line (the devkit's
    ``textread(..., '%s %d')``), so class-specific sets (``000005 -1``) work too.
    A repeated id is an error.

    >>> read_image_set(["000005", "000007"])
    ['000005', '000007']
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, encoding="utf-8") as f:
            ids = [line.split()[0] for line in f if line.strip()]
        where = path
    else:
        ids, where = [str(i) for i in source], "image_set"
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DuplicateIdError(f"{where}: image id {i!r} appears twice")
        seen.add(i)
    return ids


def read_annotations(
    folder: str | os.PathLike, image_set: str | os.PathLike | Sequence[str] | None = None
) -> GroundTruth:
    """Every object of the image set's XML files (``folder/<id>.xml``).

    ``image_set``: None (every ``*.xml`` in the folder, sorted by name), a devkit
    image-set file, or a list of ids (:func:`read_image_set`).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.xml").write_text("<annotation><object><name>cat</name>"
    ...     "<difficult>1</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax>"
    ...     "<ymax>4</ymax></bndbox></object></annotation>")
    >>> gt = read_annotations(d)
    >>> gt.image_ids, gt.name.tolist(), gt.difficult.tolist()
    (['a'], ['cat'], [True])
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(2, "annotation folder not found", str(folder))
    if image_set is None:
        ids = sorted(p.stem for p in folder.glob("*.xml"))
        if not ids:
            raise DatasetError(f"{folder}: no .xml annotation files")
    else:
        ids = read_image_set(image_set)
    image, name, difficult, box, obj_id = [], [], [], [], []
    for i, img in enumerate(ids):
        path = folder / f"{img}.xml"
        if not path.is_file():
            raise FileNotFoundError(2, f"no annotation for image {img!r}", str(path))
        for k, (n, d, b) in enumerate(read_voc_xml(path)):
            image.append(i)
            name.append(n)
            difficult.append(d)
            box.append(b)
            obj_id.append(k)
    return GroundTruth(
        ids,
        np.array(image, dtype=np.int64),
        np.array(name, dtype=object),
        np.array(difficult, dtype=bool),
        np.array(box, dtype=np.float64).reshape(-1, 4),
        np.array(obj_id, dtype=np.int64),
    )
