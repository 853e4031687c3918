"""Folders of PNG label maps, matched by file name (Cityscapes, ADE20K, VOC layouts).

A file's key is its path relative to the folder without the ``.png`` suffix and
without a known dataset suffix (Cityscapes ``_gtFine_labelIds``,
``_gtFine_labelTrainIds``, ``_leftImg8bit`` ...), so that
``frankfurt/frankfurt_000000_000294_gtFine_labelIds.png`` (GT) and
``frankfurt/frankfurt_000000_000294_leftImg8bit.png`` (prediction) pair up, and so do
ADE20K's ``ADE_val_00000001.png`` in both folders. A prediction found under the same
key in a flat folder (no sub-folders) pairs up as well.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidMaskError, MissingDependencyError

__all__ = ["read_label_map", "pair_label_folders", "SUFFIXES"]

#: dataset suffixes stripped from file stems before matching (longest first)
SUFFIXES = (
    "_gtFine_labelTrainIds",
    "_gtFine_labelIds",
    "_gtCoarse_labelTrainIds",
    "_gtCoarse_labelIds",
    "_labelTrainIds",
    "_labelIds",
    "_leftImg8bit",
    "_pred",
)


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise MissingDependencyError(
            "reading PNG label maps needs Pillow: pip install 'ioukit[images]'"
        ) from e
    return Image


def read_label_map(path: str | os.PathLike) -> np.ndarray:
    """One PNG label map as a 2-D integer array (uint8 for 8-bit, int32 for 16-bit).

    Palette ("P") images give their palette indices, which are the labels (VOC,
    ADE20K); RGB images are rejected, since a colour is not a label.

    >>> import tempfile, os
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "a.png")
    >>> Image.fromarray(np.array([[0, 7], [255, 3]], np.uint8)).save(f)
    >>> read_label_map(f).tolist()
    [[0, 7], [255, 3]]
    """
    image_mod = _pil()
    with image_mod.open(path) as im:
        mode = im.mode
        if mode in ("L", "P"):
            a = np.asarray(im)
        elif mode.startswith("I"):
            a = np.asarray(im).astype(np.int32)
        else:
            raise InvalidMaskError(
                f"{os.fspath(path)}: a label map must be a single-channel image (L, P or I;16); "
                f"got mode {mode}"
            )
    return np.ascontiguousarray(a)


def _key(rel: Path) -> str:
    stem = rel.as_posix()[: -len(".png")]
    for s in SUFFIXES:
        if stem.endswith(s):
            return stem[: -len(s)]
    return stem


def _index(folder: Path, role: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise DatasetError(f"{role} folder {os.fspath(folder)!r} does not exist or is not a folder")
    out: dict[str, Path] = {}
    for f in sorted(folder.rglob("*.png")):
        k = _key(f.relative_to(folder))
        if k in out:
            raise DatasetError(f"{role}: {out[k]} and {f} have the same key {k!r}")
        out[k] = f
    return out


def pair_label_folders(
    gt_dir: str | os.PathLike, pred_dir: str | os.PathLike
) -> list[tuple[str, Path, Path]]:
    """``(key, gt_path, pred_path)`` for every GT PNG, in key order.

    Every GT file needs a prediction (a :class:`~ioukit.errors.DatasetError` names the
    first that has none); predictions without GT are not evaluated.

    >>> import tempfile
    >>> from PIL import Image
    >>> g, p = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.zeros((2, 2), np.uint8)).save(g / "x_gtFine_labelIds.png")
    >>> Image.fromarray(np.zeros((2, 2), np.uint8)).save(p / "x_leftImg8bit.png")
    >>> [k for k, _, _ in pair_label_folders(g, p)]
    ['x']
    """
    gt = _index(Path(gt_dir), "GT")
    pred = _index(Path(pred_dir), "prediction")
    flat = {Path(k).name: v for k, v in pred.items()}
    out = []
    for k, g in gt.items():
        p = pred.get(k) or flat.get(Path(k).name)
        if p is None:
            raise DatasetError(
                f"GT {os.fspath(g)} (key {k!r}) has no prediction in {os.fspath(pred_dir)!r}"
            )
        out.append((k, g, p))
    if not out:
        raise DatasetError(f"GT folder {os.fspath(gt_dir)!r} holds no .png label maps")
    return out
