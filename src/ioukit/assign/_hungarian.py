"""DETR's bipartite matcher (Carion et al. 2020, arXiv:2005.12872), batched."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import is_numpy, namespace, to_floating
from ..boxes import giou as box_giou
from ..errors import InvalidParameterError, ShapeMismatchError
from ._common import as_array, as_boxes, batch_gt, batch_preds, check_finite
from ._ops import from_numpy, take, to_numpy
from ._task_aligned import as_labels

__all__ = ["hungarian_assign", "Matching", "CLASS_COSTS"]

CLASS_COSTS = ("prob", "focal")


class Matching(NamedTuple):
    """Result of :func:`hungarian_assign` (one row per image when batched).

    gt_index : int64 [..., Q]
        The GT matched to each query, -1 for "no object".
    pred_index : int64 [..., M]
        The query matched to each GT, -1 for padding rows (and for GTs left over when
        there are fewer queries than GTs).
    cost : float64 [...]
        Total matching cost of each image (the sum over the matched pairs).
    """

    gt_index: Any
    pred_index: Any
    cost: Any


def hungarian_assign(
    pred_logits: Any,
    pred_boxes: Any,
    gt_labels: Any,
    gt_boxes: Any,
    *,
    gt_mask: Any = None,
    class_weight: float = 1.0,
    bbox_weight: float = 5.0,
    giou_weight: float = 2.0,
    class_cost: str = "prob",
    focal_alpha: float = 0.25,
    focal_gamma: float = 2.0,
    fmt: str = "xyxy",
) -> Matching:
    """One-to-one matching of queries to GTs of least total cost (DETR's matcher).

    ``cost = class_weight * C_class + bbox_weight * |b - b_gt|_1 - giou_weight * GIoU``,
    as ``detr/models/matcher.py`` (``HungarianMatcher``): ``C_class = -softmax(logits)``
    at the GT's class (``"prob"``), or Deformable DETR's focal cost (``"focal"``:
    sigmoid ``p``, ``alpha (1-p)^gamma (-log p) - (1-alpha) p^gamma (-log(1-p))``, logs
    of ``x + 1e-8``). The L1 term is taken on the coordinates as given (DETR: normalised
    ``cxcywh``, pass ``fmt="cxcywh"``), GIoU on xyxy (:func:`ioukit.boxes.giou`). The
    cost of the whole batch is one array computation; each image's padded cost is then
    solved with ``scipy.optimize.linear_sum_assignment``.

    Parameters
    ----------
    pred_logits : array [Q, C] or [B, Q, C]
        Class logits (``"prob"``: softmax over C, DETR's C includes "no object").
    pred_boxes : array [Q, 4] or [B, Q, 4]
    gt_labels : int array [M] or [B, M]
    gt_boxes : array [M, 4] or [B, M, 4]
    gt_mask : bool array [M] or [B, M], optional
        False marks padding rows.
    class_weight, bbox_weight, giou_weight : float
        DETR's 1, 5 and 2.
    class_cost : {"prob", "focal"}
    focal_alpha, focal_gamma : float
    fmt : {"xyxy", "xywh", "cxcywh"}

    Returns
    -------
    Matching
        ``gt_index`` [..., Q], ``pred_index`` [..., M], ``cost`` [...]; same library and
        device as the inputs (the solve runs on the CPU). Not differentiable.

    Example
    -------
    >>> import numpy as np
    >>> logits = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]))
    >>> pred = np.array([[0, 0, 1, 1], [2, 2, 3, 3], [0, 0, 3, 3.0]])
    >>> gt = np.array([[2.0, 2.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]])
    >>> m = hungarian_assign(logits, pred, np.array([1, 0]), gt)
    >>> m.gt_index, m.pred_index, round(float(m.cost), 6)  # -0.8 - 2 + (-0.9 - 2)
    (array([ 1,  0, -1]), array([1, 0]), -5.7)
    """
    from scipy.optimize import linear_sum_assignment

    if class_cost not in CLASS_COSTS:
        raise InvalidParameterError(
            f"class_cost={class_cost!r} is not one of {', '.join(CLASS_COSTS)}"
        )
    gt = as_boxes(gt_boxes, "gt_boxes", fmt)
    gt, mask, batched = batch_gt(gt, gt_mask)
    b = gt.shape[0]
    pb_in = as_boxes(pred_boxes, "pred_boxes", fmt)
    per_image = pb_in.ndim == 3
    pb = batch_preds(pb_in, b, "pred_boxes")
    q = pb.shape[1]
    logits = as_array(pred_logits)
    if logits.ndim not in (2, 3) or logits.shape[-2] != q:
        raise ShapeMismatchError(
            f"pred_logits must have shape [Q, C] or [B, Q, C] with Q = {q}; got "
            f"{tuple(logits.shape)}"
        )
    logits = batch_preds(to_floating(logits, namespace(logits)), b, "pred_logits")
    labels = as_labels(gt_labels, gt, batched, mask, logits.shape[-1])
    check_finite(gt, "gt_boxes")
    check_finite(pb, "pred_boxes")
    raw = (as_array(gt_boxes), as_array(pred_boxes))
    cost = _cost(
        gt,
        pb,
        logits,
        labels,
        raw,
        fmt,
        class_weight,
        bbox_weight,
        giou_weight,
        class_cost,
        focal_alpha,
        focal_gamma,
    )
    cost = to_numpy(cost).astype(np.float64, copy=False)
    valid = to_numpy(mask)
    m = gt.shape[1]
    gt_index = np.full((b, q), -1, dtype=np.int64)
    pred_index = np.full((b, m), -1, dtype=np.int64)
    total = np.zeros(b, dtype=np.float64)
    for k in range(b):
        cols = np.flatnonzero(valid[k])
        if cols.size == 0 or q == 0:
            continue
        c = cost[k][:, cols]
        rows, cc = linear_sum_assignment(c)
        gt_index[k, rows] = cols[cc]
        pred_index[k, cols[cc]] = rows
        total[k] = c[rows, cc].sum()
    out = Matching(*(from_numpy(x, gt) for x in (gt_index, pred_index, total)))
    return out if batched or per_image else Matching(*(x[0] for x in out))


def _cost(gt, pb, logits, labels, raw, fmt, wc, wb, wg, kind, alpha, gamma):  # noqa: ANN001, ANN202
    """[B, Q, M] matching cost."""
    xp = namespace(gt, pb, logits)
    if not is_numpy(gt):
        gt, pb, logits = gt.detach(), pb.detach(), logits.detach()
    b, m, q = gt.shape[0], gt.shape[1], pb.shape[1]
    nc = logits.shape[-1]
    lab = xp.clip(xp.astype(labels, xp.int64), min=0, max=max(nc - 1, 0))
    idx = xp.broadcast_to(lab[:, None, :], (b, q, m))
    if kind == "prob":
        # softmax read only at the GT classes: exp once, normalise the gathered entries
        e = xp.exp(logits - xp.max(logits, axis=-1, keepdims=True))
        c_cls = -take(e, idx, 2) / xp.sum(e, axis=-1, keepdims=True)
    else:
        p = 1 / (1 + xp.exp(-take(logits, idx, 2)))
        neg = (1 - alpha) * p**gamma * -xp.log(1 - p + 1e-8)
        pos = alpha * (1 - p) ** gamma * -xp.log(p + 1e-8)
        c_cls = pos - neg
    # L1 on the coordinates as given (DETR's torch.cdist(p=1) on cxcywh)
    gb = raw[0] if raw[0].ndim == 3 else raw[0][None]
    pr = batch_preds(raw[1], b, "pred_boxes")
    gb, pr = to_floating(gb, xp), to_floating(pr, xp)
    if not is_numpy(gb):
        gb, pr = gb.detach(), pr.detach()
    # one coordinate at a time: [B, Q, M] temporaries, not a strided [B, Q, M, 4] sum
    c_l1 = xp.abs(pr[:, :, None, 0] - gb[:, None, :, 0])
    for k in (1, 2, 3):
        c_l1 = c_l1 + xp.abs(pr[:, :, None, k] - gb[:, None, :, k])
    c_giou = -box_giou(pb, gt, validate=False)
    dtype = xp.result_type(c_cls, c_l1, c_giou)
    return (
        wb * xp.astype(c_l1, dtype) + wc * xp.astype(c_cls, dtype) + wg * xp.astype(c_giou, dtype)
    )
