"""SimOTA: YOLOX's dynamic-k assignment (Ge et al. 2021, arXiv:2107.08430)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import is_numpy, namespace, to_floating
from ..boxes import iou as box_iou
from ..errors import ShapeMismatchError
from ._common import as_array, as_boxes, batch_gt, batch_preds, check_finite, check_int
from ._ops import Assignment, argsort, first_argmin, onehot, take
from ._task_aligned import as_labels, as_points, as_scores, points_inside

__all__ = ["simota_assign"]

#: YOLOX's cost of a candidate outside "in the box and in the centre region"
OUTSIDE_COST = 100000.0


def simota_assign(
    pred_scores: Any,
    pred_boxes: Any,
    anchor_points: Any,
    strides: Any,
    gt_labels: Any,
    gt_boxes: Any,
    *,
    gt_mask: Any = None,
    center_radius: float = 2.5,
    candidate_topk: int = 10,
    iou_weight: float = 3.0,
    fmt: str = "xyxy",
) -> Assignment:
    """Assign predictions with YOLOX's SimOTA (dynamic k).

    Ge et al. 2021 (YOLOX, section 2.2), as ``yolox/models/yolo_head.py``
    (``get_in_boxes_info``, ``get_assignments``, ``dynamic_k_matching``) computes it:

    1. candidates: predictions whose anchor point lies inside some GT box, or within
       ``center_radius * stride`` of its centre (a square region);
    2. ``cost = cls + iou_weight * (-log(IoU + 1e-8)) + 1e5 * (not (in box and in
       centre region))``, ``cls`` the binary cross-entropy of the scores against the
       GT's one-hot class summed over classes (logs clamped at -100, as torch's BCE);
    3. per GT, ``k = max(1, int(sum of its top-10 candidate IoUs))``, and its ``k``
       candidates of lowest cost are positive (ties: lower index);
    4. a prediction positive for several GTs keeps the GT of lowest cost.

    Parameters
    ----------
    pred_scores : array [N, C] or [B, N, C]
        Class probabilities (YOLOX: ``sqrt(sigmoid(cls) * sigmoid(obj))``).
    pred_boxes : array [N, 4] or [B, N, 4]
        Predicted (decoded) boxes.
    anchor_points : array [N, 2] or [B, N, 2]
        Anchor points (YOLOX: ``(grid + 0.5) * stride``).
    strides : array [N]
        Stride of each prediction's level.
    gt_labels : int array [M] or [B, M]
    gt_boxes : array [M, 4] or [B, M, 4]
    gt_mask : bool array [M] or [B, M], optional
        False marks padding rows.
    center_radius, candidate_topk, iou_weight
        YOLOX's 2.5, 10 and 3.
    fmt : {"xyxy", "xywh", "cxcywh"}

    Returns
    -------
    Assignment
        ``gt_index`` int64 [..., N] (-1 background); ``iou`` and ``quality`` both the
        IoU with the assigned GT (YOLOX's class target is ``one_hot * IoU``).

    Example
    -------
    >>> import numpy as np
    >>> points = np.array([[1.0, 1.0], [3.0, 1.0], [20.0, 20.0]])
    >>> pred = np.array([[0, 0, 4, 2], [0, 0, 2, 2], [19, 19, 21, 21.0]])
    >>> scores = np.full((3, 1), 0.5)
    >>> gt = np.array([[0.0, 0.0, 4.0, 2.0]])
    >>> a = simota_assign(scores, pred, points, np.ones(3), np.array([0]), gt)
    >>> a.gt_index, a.iou  # k = int(1.0 + 0.5) = 1: the lowest cost wins
    (array([ 0, -1, -1]), array([1., 0., 0.]))
    """
    candidate_topk = check_int("candidate_topk", candidate_topk)
    gt = as_boxes(gt_boxes, "gt_boxes", fmt)
    gt, mask, batched = batch_gt(gt, gt_mask)
    b = gt.shape[0]
    pb = as_boxes(pred_boxes, "pred_boxes", fmt)
    per_image = pb.ndim == 3
    pb = batch_preds(pb, b, "pred_boxes")
    n = pb.shape[1]
    pts = as_points(anchor_points, "anchor_points", b)
    st = as_array(strides)
    if tuple(st.shape) != (n,):
        raise ShapeMismatchError(f"strides must have shape ({n},); got {tuple(st.shape)}")
    scores = as_scores(pred_scores, b, n)
    labels = as_labels(gt_labels, gt, batched, mask, scores.shape[-1])
    check_finite(gt, "gt_boxes")
    check_finite(pb, "pred_boxes")
    xp = namespace(gt, pb, pts, scores)
    st = to_floating(st, namespace(st))
    if not is_numpy(gt):
        gt, pb, pts, scores, st = (t.detach() for t in (gt, pb, pts, scores, st))
    out = _simota(
        xp, scores, pb, pts, st, labels, gt, mask, center_radius, candidate_topk, iou_weight
    )
    return out if batched or per_image else Assignment(*(x[0] for x in out))


def _neg_log(xp: Any, x: Any) -> Any:
    # torch's binary_cross_entropy clamps each log at -100
    return -xp.clip(xp.log(x), min=-100.0)


def _simota(xp, scores, pb, pts, st, labels, gt, mask, radius, cand_k, iou_weight):  # noqa: ANN001, ANN202
    b, m, n = gt.shape[0], gt.shape[1], pb.shape[1]
    dtype = xp.result_type(gt, pb, scores)
    dev = {} if is_numpy(gt) else {"device": gt.device}
    if m == 0 or n == 0:
        z = xp.zeros((b, n), dtype=dtype, **dev)
        return Assignment(xp.full((b, n), -1, dtype=xp.int64, **dev), z, z)
    in_box = points_inside(xp, pts, gt, 0.0)  # [B, M, N]
    gcx, gcy = (gt[..., 0] + gt[..., 2]) / 2, (gt[..., 1] + gt[..., 3]) / 2
    r = radius * st  # [N]
    centre = xp.stack(
        [gcx[:, :, None] - r, gcy[:, :, None] - r, gcx[:, :, None] + r, gcy[:, :, None] + r],
        axis=-1,
    )  # [B, M, N, 4]
    x, y = pts[:, None, :, 0], pts[:, None, :, 1]
    dc = xp.minimum(
        xp.minimum(x - centre[..., 0], y - centre[..., 1]),
        xp.minimum(centre[..., 2] - x, centre[..., 3] - y),
    )
    in_ctr = dc > 0
    valid = mask[:, :, None]
    cand = xp.any((in_box | in_ctr) & valid, axis=1)  # [B, N]: YOLOX's fg_mask
    in_both = in_box & in_ctr
    ious = xp.astype(box_iou(gt, pb, validate=False), dtype)
    ious = xp.where(cand[:, None, :] & valid, ious, xp.zeros_like(ious))
    # BCE against the one-hot class: sum_c -log(1 - p_c), with the GT's class swapped
    neg = _neg_log(xp, 1 - scores)  # [B, N, C]
    nc = scores.shape[-1]
    lab = xp.clip(xp.astype(labels, xp.int64), min=0, max=max(nc - 1, 0))
    idx = xp.broadcast_to(lab[:, :, None], (b, m, n))
    p_l = take(xp.permute_dims(scores, (0, 2, 1)), idx, 1)  # [B, M, N]
    cls = xp.sum(neg, axis=2)[:, None, :] - _neg_log(xp, 1 - p_l) + _neg_log(xp, p_l)
    cost = cls + iou_weight * -xp.log(ious + 1e-8)
    cost = cost + OUTSIDE_COST * xp.astype(~in_both, dtype)
    usable = cand[:, None, :] & valid
    cost = xp.where(usable, cost, xp.full_like(cost, math.inf))
    # dynamic k: the sum of each GT's top candidate IoUs, truncated, at least 1
    kk = min(cand_k, n)
    top_iou = take(ious, argsort(xp, ious, axis=2, descending=True)[:, :, :kk], 2)
    dyn_k = xp.clip(xp.astype(xp.sum(top_iou, axis=2), xp.int64), min=1)  # [B, M]
    order = argsort(xp, cost, axis=2)
    rank = _inverse_permutation(xp, order)
    match = (rank < dyn_k[:, :, None]) & usable
    # several GTs for one prediction: the GT of lowest cost
    multi = xp.sum(xp.astype(match, xp.int32), axis=1) > 1
    best = first_argmin(cost, axis=1)
    match = xp.where(multi[:, None, :], onehot(match, best, axis=1) & usable, match)
    fg = xp.any(match, axis=1)
    gt_idx = first_argmin(xp.where(match, cost, xp.full_like(cost, math.inf)), axis=1)
    gt_index = xp.where(fg, gt_idx, -1)
    iou = xp.where(
        fg,
        xp.squeeze(take(ious, gt_idx[:, None, :], 1), axis=1),
        xp.zeros((b, n), dtype=dtype, **dev),
    )
    return Assignment(xp.astype(gt_index, xp.int64), iou, iou)


def _inverse_permutation(xp: Any, order: Any) -> Any:
    """rank[..., order[..., i]] = i along the last axis."""
    if is_numpy(order):
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[-1])[None, None, :], axis=-1)
        return rank
    import torch

    ar = torch.arange(order.shape[-1], device=order.device).expand_as(order)
    return torch.empty_like(order).scatter_(-1, order, ar)
