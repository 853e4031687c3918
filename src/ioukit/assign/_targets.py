"""Training targets from an assignment: gathered GT boxes/labels, IoU-aware class targets."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import is_numpy, namespace, to_floating
from ..errors import ShapeMismatchError
from ..losses import iou_aware_score
from ._common import as_array
from ._ops import onehot, take

__all__ = ["Targets", "gather_targets", "iou_aware_targets"]


class Targets(NamedTuple):
    """Per-prediction regression and classification targets.

    labels : int64 [..., N]
        Class of the assigned GT, -1 for background.
    boxes : float [..., N, 4]
        Box of the assigned GT (zeros for background).
    positive : bool [..., N]
        ``gt_index >= 0``.
    """

    labels: Any
    boxes: Any
    positive: Any


def _index(gt_index: Any, m: int) -> Any:
    gi = as_array(gt_index)
    xp = namespace(gi)
    return xp.clip(xp.astype(gi, xp.int64), min=0, max=max(m - 1, 0)), gi >= 0


def gather_targets(gt_labels: Any, gt_boxes: Any, gt_index: Any) -> Targets:
    """Gather each prediction's GT label and box from an assignment's ``gt_index``.

    Parameters
    ----------
    gt_labels : int array [M] or [B, M]
    gt_boxes : array [M, 4] or [B, M, 4]
    gt_index : int array [N] or [B, N]
        From an assigner (negative values: background or ignored).

    Returns
    -------
    Targets
        ``labels`` [..., N] (-1 for background), ``boxes`` [..., N, 4], ``positive``.

    Example
    -------
    >>> import numpy as np
    >>> t = gather_targets(np.array([3, 7]), np.array([[0, 0, 1, 1], [0, 0, 2, 2.0]]),
    ...                    np.array([1, -1, 0]))
    >>> t.labels, t.positive
    (array([ 7, -1,  3]), array([ True, False,  True]))
    """
    labels, boxes, gi = as_array(gt_labels), as_array(gt_boxes), as_array(gt_index)
    if boxes.ndim != labels.ndim + 1 or tuple(boxes.shape[:-1]) != tuple(labels.shape):
        raise ShapeMismatchError(
            f"gt_boxes {tuple(boxes.shape)} must be gt_labels {tuple(labels.shape)} + (4,)"
        )
    if gi.ndim != labels.ndim or tuple(gi.shape[:-1]) != tuple(labels.shape[:-1]):
        raise ShapeMismatchError(
            f"gt_index {tuple(gi.shape)} and gt_labels {tuple(labels.shape)} must have the "
            "same leading (batch) shape"
        )
    xp = namespace(labels, boxes, gi)
    idx, pos = _index(gi, labels.shape[-1])
    if labels.shape[-1] == 0:
        z = xp.zeros_like(xp.astype(gi, xp.float32))
        lab = xp.full_like(xp.astype(gi, xp.int64), -1)
        return Targets(lab, xp.stack([z] * 4, axis=-1) * 0, pos)
    lab = xp.where(pos, take(xp.astype(labels, xp.int64), idx, -1), -1)
    bidx = xp.broadcast_to(idx[..., None], (*idx.shape, 4))
    bx = take(boxes, bidx, boxes.ndim - 2)
    bx = xp.where(pos[..., None], bx, xp.zeros_like(bx))
    return Targets(lab, bx, pos)


def iou_aware_targets(gt_labels: Any, gt_index: Any, quality: Any, num_classes: int) -> Any:
    """IoU-aware classification targets: the assigned class's entry is the quality.

    ``target[n, c] = q_n`` where ``c`` is the class of prediction n's GT, else 0: the
    target of Varifocal Loss (Zhang et al. 2021, VarifocalNet, eq. 2: ``q`` = IoU of
    the box with its GT for positives, 0 otherwise) and of Quality Focal Loss (Li et al.
    2020, GFL, ``y`` = IoU), and TOOD's normalised alignment target when ``quality`` is
    :func:`task_aligned_assign`'s. Built as
    :func:`ioukit.losses.iou_aware_score` ``(one_hot, q)``.

    Parameters
    ----------
    gt_labels : int array [M] or [B, M]
    gt_index : int array [N] or [B, N]
        From an assigner (negative: background).
    quality : array [N] or [B, N]
        An assignment's ``quality`` (or ``iou``), or an IoU computed from the current
        predicted boxes (VFL and GFL use the predicted box's IoU, detached).
    num_classes : int

    Returns
    -------
    array [..., N, num_classes]
        Floating, same library and device as ``quality``; differentiable in ``quality``.

    Example
    -------
    >>> import numpy as np
    >>> iou_aware_targets(np.array([2, 0]), np.array([1, -1, 0]), np.array([0.9, 0.3, 0.6]), 3)
    array([[0.9, 0. , 0. ],
           [0. , 0. , 0. ],
           [0. , 0. , 0.6]])
    """
    labels, gi, q = as_array(gt_labels), as_array(gt_index), as_array(quality)
    if tuple(q.shape) != tuple(gi.shape):
        raise ShapeMismatchError(
            f"quality {tuple(q.shape)} and gt_index {tuple(gi.shape)} must have one shape"
        )
    t = gather_targets(labels, _zero_boxes(labels), gi)
    xp = namespace(q)
    q = to_floating(q, xp)
    shape = (*t.labels.shape, int(num_classes))
    if is_numpy(t.labels):
        like = np.zeros(shape, dtype=bool)
    else:
        like = xp.zeros(shape, dtype=xp.bool, device=t.labels.device)
    hot = onehot(like, xp.clip(t.labels, min=0), axis=-1) & t.positive[..., None]
    return iou_aware_score(xp.astype(hot, q.dtype), q[..., None])


def _zero_boxes(labels: Any) -> Any:
    xp = namespace(labels)
    if is_numpy(labels):
        return np.zeros((*labels.shape, 4))
    return xp.zeros((*labels.shape, 4), device=labels.device)
