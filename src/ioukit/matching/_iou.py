"""Grouped box IoU for the matchers (compiled: ``ioukit.matching._iou_kernel``)."""

from __future__ import annotations

import numpy as np

from .._threads import get_num_threads
from ..errors import InvalidBoxesError, ShapeMismatchError
from ._groups import Groups
from ._iou_kernel import grouped_box_iou_kernel

__all__ = ["grouped_box_iou"]

# below this many pairs one thread is faster than waking a team
_PARALLEL_PAIRS = 1 << 16


def _boxes(name: str, boxes: np.ndarray) -> np.ndarray:
    b = np.ascontiguousarray(boxes, dtype=np.float64)
    if b.size == 0:
        return b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ShapeMismatchError(f"grouped_box_iou: {name} must be (N, 4) xyxy, got {b.shape}")
    bad = np.flatnonzero(~np.isfinite(b).all(axis=1))
    if bad.size:
        raise InvalidBoxesError(f"grouped_box_iou: {name} row {bad[0]} is not finite: {b[bad[0]]}")
    return b


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def grouped_box_iou(
    dt_boxes: np.ndarray, gt_boxes: np.ndarray, groups: Groups, *, legacy: bool = True
) -> np.ndarray:
    """IoU of every group's (detection, GT) pairs: one flat float64 buffer.

    Group ``g`` is the row-major ``D_g x G_g`` block at
    ``out[groups.iou_offsets[g]:groups.iou_offsets[g + 1]]``, rows in ``groups.dt_index``
    order, columns in ``groups.gt_index`` order.

    Parameters
    ----------
    dt_boxes, gt_boxes : (Nd, 4), (Ng, 4) xyxy, finite
    groups : Groups
    legacy : bool
        True: the VOC devkit's "+1 pixel" rule (integer pixel coordinates, both ends
        inclusive: ``w = x2 - x1 + 1``; IoU 0 unless the +1 widths and heights of the
        intersection are both positive), bit-identical to py-faster-rcnn ``voc_eval``.
        False: continuous coordinates (torchvision: ``w = x2 - x1``; IoU 0 when the
        union is not positive, i.e. eps = 0).

    Example
    -------
    >>> from ioukit.matching import build_groups
    >>> g = build_groups(np.array([0]), np.array([0]), 1)
    >>> d, t = np.array([[1., 1., 10., 5.]]), np.array([[1., 1., 10., 10.]])
    >>> grouped_box_iou(d, t, g).tolist()  # 50 / (50 + 100 - 50)
    [0.5]
    >>> grouped_box_iou(d, t, g, legacy=False).tolist()  # 36 / 81
    [0.4444444444444444]
    """
    d, t = _boxes("dt_boxes", dt_boxes), _boxes("gt_boxes", gt_boxes)
    n_pairs = int(groups.iou_offsets[-1]) if len(groups.iou_offsets) else 0
    nt = get_num_threads() if n_pairs >= _PARALLEL_PAIRS else 1
    return grouped_box_iou_kernel(
        d,
        t,
        _i64(groups.dt_index),
        _i64(groups.dt_offsets),
        _i64(groups.gt_index),
        _i64(groups.gt_offsets),
        _i64(groups.iou_offsets),
        bool(legacy),
        nt,
    )
