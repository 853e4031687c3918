"""TorchScript-compatible box losses: torchvision's signatures, ioukit's values.

``torch.jit.script`` cannot compile :mod:`ioukit.losses` (keyword-only arguments,
any array library). These torch-only twins can, with the signatures of
``torchvision.ops.generalized_box_iou_loss`` / ``distance_box_iou_loss`` /
``complete_box_iou_loss``: aligned ``xyxy`` pairs ``(..., 4)``, ``reduction`` in
{"none", "mean", "sum"} (default "none", as torchvision). The values are those of
:func:`ioukit.losses.giou_loss` / :func:`~ioukit.losses.diou_loss` /
:func:`~ioukit.losses.ciou_loss` (same torch operations, tested bit for bit):
``eps`` is a threshold, never added, and the mean of no boxes is 0. No ``weight``,
``fmt`` or ``alpha_mode`` here; ``torch.compile`` takes :mod:`ioukit.losses` as is.

>>> import torch
>>> from ioukit.losses.torchscript import generalized_box_iou_loss
>>> loss = torch.jit.script(generalized_box_iou_loss)
>>> loss(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[2.0, 0.0, 3.0, 1.0]]), "mean")
tensor(1.3333)
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..boxes.torchscript import _aspect_v, _diou_penalty, _enclosing_wh, _inter_union, _safe_divide

__all__ = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]

EPS = 1e-7


def _prepare(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor, torch.dtype]:
    # ioukit.losses' prepare: integers -> float32, half precision computed in float32
    a = boxes1 if boxes1.is_floating_point() else boxes1.to(torch.float32)
    b = boxes2 if boxes2.is_floating_point() else boxes2.to(torch.float32)
    out = torch.promote_types(a.dtype, b.dtype)
    work = torch.float32 if out == torch.float16 or out == torch.bfloat16 else out
    return a.to(work), b.to(work), out


def _reduce(loss: Tensor, reduction: str, out: torch.dtype) -> Tensor:
    # ioukit.losses' reduce_loss: the mean of no boxes is 0 (graph kept)
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        n = loss.numel()
        loss = loss.sum() / n if n > 0 else loss.sum() * 0
    elif reduction != "none":
        raise ValueError("reduction must be one of 'none', 'mean', 'sum'")
    return loss.to(out)


def generalized_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = EPS
) -> Tensor:
    """``1 - GIoU`` of aligned pairs (Rezatofighi et al. 2019): ioukit.losses.giou_loss.

    >>> import torch
    >>> generalized_box_iou_loss(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[2.0, 0, 3, 1]]))
    tensor([1.3333])
    """
    a, b, out = _prepare(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    cw, ch = _enclosing_wh(a, b)
    c_area = cw * ch
    loss = 1.0 - _safe_divide(inter, union, eps) + _safe_divide(c_area - union, c_area, eps)
    return _reduce(loss, reduction, out)


def distance_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = EPS
) -> Tensor:
    """``1 - IoU + rho^2 / c^2`` of aligned pairs (Zheng et al. 2020): ioukit.losses.diou_loss.

    >>> import torch
    >>> distance_box_iou_loss(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[2.0, 0, 3, 1]]))
    tensor([1.4000])
    """
    a, b, out = _prepare(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    loss = 1.0 - _safe_divide(inter, union, eps) + _diou_penalty(a, b, eps)
    return _reduce(loss, reduction, out)


def complete_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = EPS
) -> Tensor:
    """``1 - IoU + rho^2 / c^2 + alpha v`` (Zheng et al. 2020): ioukit.losses.ciou_loss.

    alpha is a constant for the gradient, as in the authors' code and torchvision.

    >>> import torch
    >>> complete_box_iou_loss(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 2]]))
    tensor([0.])
    """
    a, b, out = _prepare(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    iou = _safe_divide(inter, union, eps)
    v = _aspect_v(a, b, eps)
    iou_c = iou.detach()
    v_c = v.detach()
    alpha = _safe_divide(v_c, (1.0 - iou_c) + v_c, eps)
    loss = 1.0 - iou + _diou_penalty(a, b, eps) + alpha * v
    return _reduce(loss, reduction, out)
