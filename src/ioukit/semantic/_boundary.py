"""Boundary IoU of semantic label maps (Cheng et al., CVPR 2021), per class.

The band of a class in one image is the band of ``ioukit.rle.boundary`` (the one
used by ``iou_type="boundary"`` in ``ioukit.coco``): the pixels of the class mask
within chessboard distance ``d = dilation_width(h, w, dilation_ratio)`` of its
outside, the image border counting as outside. Target pixels equal to
``ignore_index`` belong to no class mask and are not counted. Intersections and
unions of the bands are summed over images per class (dataset-accumulated, as the
confusion matrix).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import rle
from ..errors import ShapeMismatchError

__all__ = ["band_counts"]


def _band(mask: np.ndarray, dilation_ratio: float) -> np.ndarray:
    # the band as a boolean (h, w) mask, through ioukit.rle (column-major RLE)
    return rle.decode(rle.boundary(rle.encode(np.asfortranarray(mask)), dilation_ratio)) != 0


def band_counts(
    target: Any, pred: Any, num_classes: int, ignore_index: int | None, dilation_ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band intersection, union and target band area per class for one (h, w) map.

    >>> t = np.zeros((6, 6), np.uint8); t[:, 3:] = 1
    >>> inter, union, gt = band_counts(t, t, 2, None, 0.0)   # d = 1
    >>> inter.tolist() == union.tolist() == gt.tolist() == [14, 14]  # 18 minus 4 inner
    True
    """
    t = np.asarray(target)
    p = np.asarray(pred)
    if t.ndim != 2:
        raise ShapeMismatchError(
            f"boundary IoU is defined on 2-D label maps; got an image of shape {t.shape}"
        )
    valid = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    inter = np.zeros(num_classes, np.int64)
    union = np.zeros(num_classes, np.int64)
    gt_area = np.zeros(num_classes, np.int64)
    present = np.union1d(np.unique(t[valid]), np.unique(p))
    for c in present[(present >= 0) & (present < num_classes)].tolist():
        gt_mask = (t == c) & valid
        bg = _band(gt_mask.view(np.uint8), dilation_ratio) & valid
        bd = _band((p == c).view(np.uint8), dilation_ratio) & valid
        inter[c] = np.count_nonzero(bg & bd)
        union[c] = np.count_nonzero(bg | bd)
        gt_area[c] = np.count_nonzero(bg)
    return inter, union, gt_area
