"""Task-aligned assignment: TOOD (Feng et al. 2021, arXiv:2108.07755) / YOLOv8."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_numpy, namespace, to_floating
from ..boxes import ciou as box_ciou
from ..boxes import iou as box_iou
from ..errors import InvalidParameterError, ShapeMismatchError
from ..losses import iou_aware_score
from ._common import as_array, as_boxes, batch_gt, batch_preds, check_finite, check_int
from ._ops import Assignment, argsort, first_argmax, onehot, scatter_true, take, to_numpy

__all__ = ["task_aligned_assign", "points_inside"]

IOU_TYPES = ("iou", "ciou")


def points_inside(xp: Any, points: Any, gt: Any, eps: float) -> Any:
    """[B, M, N]: point n (``points`` [B, N, 2]) strictly inside GT m by more than ``eps``."""
    x, y = points[:, None, :, 0], points[:, None, :, 1]
    g = gt[:, :, None, :]
    d = xp.minimum(
        xp.minimum(x - g[..., 0], y - g[..., 1]), xp.minimum(g[..., 2] - x, g[..., 3] - y)
    )
    return d > eps


def as_points(x: Any, name: str, b: int) -> Any:
    x = as_array(x)
    if x.ndim not in (2, 3) or x.shape[-1] != 2:
        raise ShapeMismatchError(
            f"{name} must have shape [N, 2] or [B, N, 2]; got {tuple(x.shape)}"
        )
    return batch_preds(to_floating(x, namespace(x)), b, name)


def as_scores(x: Any, b: int, n: int) -> Any:
    x = as_array(x)
    if x.ndim not in (2, 3) or x.shape[-2] != n:
        raise ShapeMismatchError(
            f"pred_scores must have shape [N, C] or [B, N, C] with N = {n}; got {tuple(x.shape)}"
        )
    return batch_preds(to_floating(x, namespace(x)), b, "pred_scores")


def as_labels(x: Any, gt: Any, batched: bool, mask: Any, num_classes: int) -> Any:
    """``gt_labels`` [B, M]; raise naming the first real GT whose class is out of range."""
    x = as_array(x)
    want = tuple(gt.shape[:2]) if batched else (gt.shape[1],)
    if tuple(x.shape) != want:
        raise ShapeMismatchError(f"gt_labels must have shape {want}; got {tuple(x.shape)}")
    x = x if batched else x[None]
    xp = namespace(x)
    if xp.isdtype(x.dtype, "real floating") or xp.isdtype(x.dtype, "complex floating"):
        raise InvalidParameterError(f"gt_labels must be integers; got dtype {x.dtype}")
    bad = ((x < 0) | (x >= num_classes)) & mask
    if bool(xp.any(bad)):
        idx = tuple(int(i) for i in np.argwhere(to_numpy(bad))[0])
        where = f"row {idx[1]}" if not batched else f"image {idx[0]}, row {idx[1]}"
        raise InvalidParameterError(
            f"gt_labels: {where} has class {int(x[idx])}, outside [0, {num_classes}) "
            "(the predictions' class axis)"
        )
    return x


def task_aligned_assign(
    pred_scores: Any,
    pred_boxes: Any,
    anchor_points: Any,
    gt_labels: Any,
    gt_boxes: Any,
    *,
    gt_mask: Any = None,
    topk: int = 13,
    alpha: float = 1.0,
    beta: float = 6.0,
    iou_type: str = "iou",
    eps: float = 1e-9,
    fmt: str = "xyxy",
) -> Assignment:
    """Assign predictions by the task-alignment metric ``t = s**alpha * IoU**beta``.

    Feng et al. 2021 (TOOD, section 3.2.1, eq. 3 and the normalised ``t_hat``), as
    YOLOv8's ``TaskAlignedAssigner`` (``ultralytics/utils/tal.py``) computes it:

    1. candidates: predictions whose anchor point lies strictly inside the GT (by
       ``eps``); ``s`` is the predicted score of the GT's class, ``IoU`` the (clamped
       at 0) overlap of the predicted box with the GT (:func:`ioukit.boxes.iou`, or
       CIoU as YOLOv8), ``t`` = :func:`ioukit.losses.iou_aware_score` ``(s, IoU, alpha,
       beta)``, 0 outside the candidates;
    2. per GT, the ``topk`` predictions of highest ``t`` (ties: lower index) that are
       candidates are positive;
    3. a prediction positive for several GTs keeps the GT of highest IoU (first on ties);
    4. ``quality`` (the soft target of the assigned class) is
       ``t * max_IoU(gt) / (max_t(gt) + eps)``, the maxima over the GT's positives.

    TOOD uses ``topk=13, alpha=1, beta=6``; YOLOv8 ``topk=10, alpha=0.5, beta=6,
    iou_type="ciou"``.

    Parameters
    ----------
    pred_scores : array [N, C] or [B, N, C]
        Class probabilities (after the sigmoid).
    pred_boxes : array [N, 4] or [B, N, 4]
        Predicted (decoded) boxes.
    anchor_points : array [N, 2] or [B, N, 2]
        Anchor points (x, y), in the boxes' coordinates.
    gt_labels : int array [M] or [B, M]
        Class of each GT (padding rows: any value in range).
    gt_boxes : array [M, 4] or [B, M, 4]
        Ground truth; with ``gt_mask`` False on padding rows.
    topk, alpha, beta, iou_type, eps
        As above.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of both box arrays.

    Returns
    -------
    Assignment
        ``gt_index`` int64 [..., N] (-1 background), ``iou`` and ``quality`` [..., N].
        Not differentiable (computed from detached inputs).

    Example
    -------
    >>> import numpy as np
    >>> points = np.array([[1.0, 1.0], [3.0, 1.0], [9.0, 9.0]])
    >>> pred = np.array([[0, 0, 2, 2], [2, 0, 4, 2], [8, 8, 10, 10.0]])
    >>> scores = np.array([[0.9], [0.5], [0.9]])
    >>> gt = np.array([[0.0, 0.0, 4.0, 2.0]])  # covers the first two points
    >>> a = task_aligned_assign(scores, pred, points, np.array([0]), gt, topk=1)
    >>> a.gt_index, a.iou  # t = 0.9 * 0.5**6 beats 0.5 * 0.5**6
    (array([ 0, -1, -1]), array([0.5, 0. , 0. ]))
    >>> print(np.round(a.quality, 6))  # t * 0.5 / t
    [0.5 0.  0. ]
    """
    topk = check_int("topk", topk)
    if iou_type not in IOU_TYPES:
        raise InvalidParameterError(f"iou_type={iou_type!r} is not one of {', '.join(IOU_TYPES)}")
    gt = as_boxes(gt_boxes, "gt_boxes", fmt)
    gt, mask, batched = batch_gt(gt, gt_mask)
    b = gt.shape[0]
    pb = as_boxes(pred_boxes, "pred_boxes", fmt)
    per_image = pb.ndim == 3
    pb = batch_preds(pb, b, "pred_boxes")
    pts = as_points(anchor_points, "anchor_points", b)
    scores = as_scores(pred_scores, b, pb.shape[1])
    labels = as_labels(gt_labels, gt, batched, mask, scores.shape[-1])
    check_finite(gt, "gt_boxes")
    check_finite(pb, "pred_boxes")
    xp = namespace(gt, pb, pts, scores)
    if not is_numpy(gt):
        gt, pb, pts, scores = (t.detach() for t in (gt, pb, pts, scores))
    out = _tal(xp, scores, pb, pts, labels, gt, mask, topk, alpha, beta, iou_type, eps)
    return out if batched or per_image else Assignment(*(x[0] for x in out))


def _tal(xp, scores, pb, pts, labels, gt, mask, topk, alpha, beta, iou_type, eps):  # noqa: ANN001, ANN202
    b, m, n = gt.shape[0], gt.shape[1], pb.shape[1]
    dtype = xp.result_type(gt, pb, scores)
    measure = box_iou if iou_type == "iou" else box_ciou
    ov = xp.clip(xp.astype(measure(gt, pb, validate=False), dtype), min=0)  # [B, M, N]
    cand = points_inside(xp, pts, gt, eps) & mask[:, :, None]
    zero = xp.zeros_like(ov)
    ov = xp.where(cand, ov, zero)
    nc = scores.shape[-1]
    lab = xp.clip(xp.astype(labels, xp.int64), min=0, max=max(nc - 1, 0))
    # s: each prediction's score for the GT's class, [B, M, N]
    s = take(xp.permute_dims(scores, (0, 2, 1)), xp.broadcast_to(lab[:, :, None], (b, m, n)), 1)
    align = xp.where(cand, xp.astype(iou_aware_score(s, ov, alpha=alpha, beta=beta), dtype), zero)
    if m == 0 or n == 0:
        dev = {} if is_numpy(gt) else {"device": gt.device}
        z = xp.zeros((b, n), dtype=dtype, **dev)
        return Assignment(xp.full((b, n), -1, dtype=xp.int64, **dev), z, z)
    k = min(topk, n)
    top = argsort(xp, align, axis=2, descending=True)[:, :, :k]
    pos = scatter_true(align, top, xp.ones_like(top, dtype=xp.bool), axis=2) & cand
    # several GTs for one prediction: keep the one of highest IoU (first on ties)
    multi = xp.sum(xp.astype(pos, xp.int32), axis=1) > 1  # [B, N]
    _, best_gt = first_argmax(ov, axis=1)
    pos = xp.where(multi[:, None, :], onehot(pos, best_gt, axis=1), pos)
    fg = xp.any(pos, axis=1)
    _, gt_idx = first_argmax(xp.astype(pos, xp.int8), axis=1)
    gt_index = xp.where(fg, gt_idx, -1)
    # TOOD's normalised t_hat (YOLOv8's norm_align_metric)
    align = xp.where(pos, align, zero)
    max_align = xp.max(align, axis=2, keepdims=True)
    max_ov = xp.max(xp.where(pos, ov, zero), axis=2, keepdims=True)
    quality = xp.max(align * max_ov / (max_align + eps), axis=1)
    iou = xp.where(fg, xp.squeeze(take(ov, gt_idx[:, None, :], 1), axis=1), xp.zeros_like(quality))
    return Assignment(xp.astype(gt_index, xp.int64), iou, quality)
