"""ATSS: adaptive training sample selection (Zhang et al. 2020, arXiv:1912.02424)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._backend import is_numpy, namespace
from ..boxes import iou as box_iou
from ..errors import InvalidParameterError
from ._common import as_boxes, batch_gt, batch_preds, check_finite, check_int
from ._ops import Assignment, argsort, first_argmax, scatter_true, take

__all__ = ["atss_assign"]

#: ATSS and mmdet's ATSSAssigner: an anchor centre must lie this far inside the GT.
CENTER_MARGIN = 0.01


def atss_assign(
    gt_boxes: Any,
    anchors: Any,
    num_anchors_per_level: Sequence[int],
    *,
    topk: int = 9,
    gt_mask: Any = None,
    fmt: str = "xyxy",
) -> Assignment:
    """Assign anchors with ATSS's adaptive IoU threshold.

    Zhang et al. 2020 (ATSS), Algorithm 1, as its reference code
    (``atss_core/modeling/rpn/atss/loss.py``) and mmdet's ``ATSSAssigner`` compute it:

    1. per GT and per pyramid level, the ``topk`` anchors whose centres are closest
       (Euclidean) to the GT's centre are candidates (all of a level with fewer);
    2. the GT's threshold is ``mean + std`` of its candidates' IoUs (``std`` with
       Bessel's correction, as ``Tensor.std``; 0 with a single candidate);
    3. a candidate is positive when its IoU ``>= threshold`` and its centre lies inside
       the GT by more than 0.01 on every side;
    4. an anchor positive for several GTs takes the GT of highest IoU (the first on ties).

    Distance ties (common on anchor grids) keep the lower anchor index (a stable sort;
    torch's ``topk`` leaves them unspecified).

    Parameters
    ----------
    gt_boxes : array [M, 4] or [B, M, 4]
        Ground truth, one image or B images padded to M (see ``gt_mask``).
    anchors : array [N, 4] or [B, N, 4]
        Anchors of all levels, level by level, shared or per image.
    num_anchors_per_level : sequence of int
        Anchors on each level, in order; they sum to N.
    topk : int
        Candidates per level and GT (9 in the paper).
    gt_mask : bool array [M] or [B, M], optional
        False marks padding rows of ``gt_boxes``.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of both box arrays.

    Returns
    -------
    Assignment
        ``gt_index`` int64 [N] or [B, N] (-1: negative), ``iou`` and ``quality`` (both the
        IoU with the assigned GT, 0 for negatives), same library and device as the input.

    Example
    -------
    >>> import numpy as np
    >>> anchors = np.array([[0, 0, 4, 4], [4, 0, 8, 4], [8, 0, 12, 4], [0, 0, 8, 8.0]])
    >>> gt = np.array([[3.0, 0.0, 9.0, 4.0]])
    >>> # candidates: anchors 1, 0 (level 0; 0 and 2 tie, the lower index wins) and 3;
    >>> # IoUs 2/3, 1/9, 5/17: threshold mean + std = 0.64, so only anchor 1 is positive
    >>> atss_assign(gt, anchors, [3, 1], topk=2).gt_index
    array([-1,  0, -1, -1])
    """
    topk = check_int("topk", topk)
    levels = [check_int("num_anchors_per_level", n, minimum=0) for n in num_anchors_per_level]
    gt = as_boxes(gt_boxes, "gt_boxes", fmt)
    anc = as_boxes(anchors, "anchors", fmt)
    gt, mask, batched = batch_gt(gt, gt_mask)
    if sum(levels) != anc.shape[-2]:
        raise InvalidParameterError(
            f"num_anchors_per_level sums to {sum(levels)} but anchors has {anc.shape[-2]} rows"
        )
    check_finite(gt, "gt_boxes")
    check_finite(anc, "anchors")
    per_image = anc.ndim == 3
    anc = batch_preds(anc, gt.shape[0], "anchors")
    out = _atss(namespace(gt, anc), gt, mask, anc, levels, topk)
    return out if batched or per_image else Assignment(*(x[0] for x in out))


def _centres(b: Any) -> tuple[Any, Any]:
    return (b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2


def _atss(xp: Any, gt: Any, mask: Any, anc: Any, levels: list[int], topk: int) -> Assignment:
    b, m, n = gt.shape[0], gt.shape[1], anc.shape[1]
    if not is_numpy(gt):
        gt, anc = gt.detach(), anc.detach()
        dtype = xp.result_type(gt, anc)
        gt, anc = xp.astype(gt, dtype), xp.astype(anc, dtype)
    iou = box_iou(anc, gt, validate=False)  # [B, N, M]
    if m == 0 or n == 0:
        return _empty(xp, iou, b, n)
    acx, acy = _centres(anc)
    gcx, gcy = _centres(gt)
    # Euclidean centre distance, as the reference (the sqrt keeps its rounding)
    dist = xp.sqrt(
        (acx[:, :, None] - gcx[:, None, :]) ** 2 + (acy[:, :, None] - gcy[:, None, :]) ** 2
    )
    cands = []
    start = 0
    for size in levels:
        k = min(topk, size)
        if k:
            order = argsort(xp, dist[:, start : start + size, :], axis=1)[:, :k, :]
            cands.append(order + start)
        start += size
    cand = xp.concat(cands, axis=1)  # [B, K, M] anchor indices
    cand_iou = take(iou, cand, axis=1)
    mean = xp.mean(cand_iou, axis=1, keepdims=True)
    kk = cand.shape[1]
    # Tensor.std (Bessel's correction); one candidate: std 0 (the reference gives NaN)
    std = xp.std(cand_iou, axis=1, keepdims=True, correction=1) if kk > 1 else mean * 0
    is_pos = cand_iou >= mean + std
    # candidate centres strictly inside the GT (by CENTER_MARGIN)
    cx = take(xp.broadcast_to(acx[:, :, None], (b, n, m)), cand, 1)
    cy = take(xp.broadcast_to(acy[:, :, None], (b, n, m)), cand, 1)
    g = gt[:, None, :, :]
    inside = (
        xp.minimum(
            xp.minimum(cx - g[..., 0], cy - g[..., 1]), xp.minimum(g[..., 2] - cx, g[..., 3] - cy)
        )
        > CENTER_MARGIN
    )
    is_pos = is_pos & inside & mask[:, None, :]
    pos = scatter_true(iou, cand, is_pos, axis=1)  # [B, N, M]
    # an anchor positive for several GTs: the highest IoU, first GT on ties
    best, arg = first_argmax(xp.where(pos, iou, -xp.inf), axis=2)
    assigned = best != -xp.inf
    gt_index = xp.where(assigned, arg, -1)
    q = xp.where(assigned, best, xp.zeros_like(best))
    return Assignment(xp.astype(gt_index, xp.int64), q, q)


def _empty(xp: Any, like: Any, b: int, n: int) -> Assignment:
    if is_numpy(like):
        z = np.zeros((b, n), dtype=like.dtype)
        return Assignment(np.full((b, n), -1, dtype=np.int64), z, z)
    z = xp.zeros((b, n), dtype=like.dtype, device=like.device)
    return Assignment(xp.full((b, n), -1, dtype=xp.int64, device=like.device), z, z)
