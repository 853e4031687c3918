"""Hard greedy NMS of rotated boxes, with the exact rotated IoU of ``ioukit.rotated``.

The greedy loop is compiled (``ioukit.rotated._kernels.greedy_rotated_nms``): boxes by
decreasing score, each kept box removes every later box whose rotated IoU with it is
strictly greater than the threshold. Pairs whose axis-aligned hulls do not overlap are
skipped before clipping (their IoU is 0, which never suppresses a threshold >= 0).
Torch tensors on any device are computed on the host; the indices come back on the
input's device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_torch
from ..errors import InvalidBoxesError, ShapeMismatchError
from ..rotated import _kernels as RK
from ..rotated._input import angle_scale, as_rboxes, check_eps, check_rboxes, host, radians
from ._common import (
    as_numpy_labels,
    as_numpy_scores,
    check_threshold,
    empty_index,
    stable_desc_order,
)

__all__ = ["rotated_nms", "batched_rotated_nms"]


def _prepare(boxes: Any, scores: Any, angle: str) -> tuple[np.ndarray, np.ndarray]:
    b = as_rboxes(boxes, "boxes")
    bh = host(b)
    if bh.ndim != 2:
        raise ShapeMismatchError(f"boxes must have shape (N, 5); got {tuple(bh.shape)}")
    check_rboxes(bh, "boxes")
    s = as_numpy_scores(scores, bh.shape[0])
    if np.isnan(s).any():
        raise InvalidBoxesError(f"scores row {int(np.flatnonzero(np.isnan(s))[0])} is NaN")
    return radians(bh, angle_scale(angle), bh.dtype), s


def _wrap(idx: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(idx, np.int64)).to(like.device)
    return np.ascontiguousarray(idx, np.int64)


def rotated_nms(
    boxes: Any, scores: Any, iou_threshold: float, *, angle: str = "rad", eps: float = 0.0
) -> Any:
    """Hard greedy NMS with the exact rotated IoU.

    Boxes are visited by decreasing score (equal scores: lower index first); each kept
    box removes every later box whose rotated IoU with it is **strictly greater** than
    ``iou_threshold``. Two boxes parked side by side at right angles suppress each other
    only if their true rotated overlap is large, never because their axis-aligned hulls
    overlap.

    Args:
        boxes: ``(N, 5)`` rows ``(cx, cy, w, h, angle)`` (see ``ioukit.rotated``).
        scores: ``(N,)`` scores.
        iou_threshold: suppress when IoU > this value.
        angle: ``"rad"`` or ``"deg"``.
        eps: a union ``<= eps`` gives IoU 0.

    Returns:
        ``(K,)`` int64 indices of the kept boxes by decreasing score, NumPy or a torch
        tensor on the input's device.

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import rotated_nms
        >>> boxes = np.array([[0, 0, 4, 1, 0], [0, 0, 4, 1, 90], [0.2, 0, 4, 1, 0]], float)
        >>> rotated_nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5, angle="deg")  # a cross: both kept
        array([0, 1])
    """
    thr = check_threshold("iou_threshold", iou_threshold)
    e = check_eps(eps)
    b, s = _prepare(boxes, scores, angle)
    if b.shape[0] == 0:
        return empty_index(boxes)
    order = stable_desc_order(s)
    none = np.zeros(0, np.int64)
    return _wrap(RK.greedy_rotated_nms(b, order, none, False, thr, e), boxes)


def batched_rotated_nms(
    boxes: Any,
    scores: Any,
    labels: Any,
    iou_threshold: float,
    *,
    angle: str = "rad",
    eps: float = 0.0,
) -> Any:
    """Class-aware rotated NMS: boxes with different labels never suppress each other.

    Same contract as :func:`rotated_nms` with ``labels`` (``(N,)`` integers) as
    ``torchvision.ops.batched_nms``'s ``idxs``; one greedy pass over all boxes that only
    compares boxes of equal label.

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import batched_rotated_nms
        >>> boxes = np.array([[0, 0, 4, 1, 0.0], [0, 0, 4, 1, 0.1], [0, 0, 4, 1, 0.1]])
        >>> batched_rotated_nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5)
        array([0, 2])
    """
    thr = check_threshold("iou_threshold", iou_threshold)
    e = check_eps(eps)
    b, s = _prepare(boxes, scores, angle)
    lab = as_numpy_labels(labels, b.shape[0])
    if b.shape[0] == 0:
        return empty_index(boxes)
    order = stable_desc_order(s)
    return _wrap(RK.greedy_rotated_nms(b, order, lab, True, thr, e), boxes)
