"""TorchScript-compatible box measures: torchvision's signatures, ioukit's values.

The public measures of :mod:`ioukit.boxes` take keyword-only arguments and any array
library, which ``torch.jit.script`` cannot compile. These thin torch-only twins
can: positional arguments, ``xyxy`` boxes, pairwise ``(N, 4) x (M, 4) -> (N, M)``,
as ``torchvision.ops.box_iou`` / ``generalized_box_iou`` / ``distance_box_iou`` /
``complete_box_iou``. Each is the same sequence of torch operations as the
array-API path of :mod:`ioukit.boxes` (``ioukit/boxes/_terms.py``), so the values
are the same bits (tested); ``eps`` is a threshold (a denominator ``<= eps`` gives
0), never added. float16/bfloat16 run in float32 and are cast back; integers
become float32. Not done here (use :mod:`ioukit.boxes` eagerly for them):
validation, the rescaling of boxes whose areas overflow.

``torch.compile`` needs none of this: :mod:`ioukit.boxes` compiles with
``fullgraph=True`` as it is.

>>> import torch
>>> from ioukit.boxes.torchscript import box_iou
>>> scripted = torch.jit.script(box_iou)
>>> scripted(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[1.0, 1.0, 3.0, 3.0]]))
tensor([[0.1429]])
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"]

DEFAULT_EPS = 1e-12


def _floating(b: Tensor) -> Tensor:
    # ioukit.boxes' compute dtype: half precision in float32, integers as float32
    if not b.is_floating_point() or b.dtype == torch.float16 or b.dtype == torch.bfloat16:
        return b.to(torch.float32)
    return b


def _out_dtype(a: Tensor, b: Tensor) -> torch.dtype:
    dt = torch.promote_types(a.dtype, b.dtype)
    if not (dt == torch.float16 or dt == torch.bfloat16 or dt == torch.float64):
        dt = torch.float32 if dt != torch.float64 else dt
    return dt


def _safe_divide(num: Tensor, den: Tensor, eps: float) -> Tensor:
    # _terms.safe_divide: 0 where den <= eps (NaN stays NaN), no division by 0
    zero = den <= eps
    return torch.where(
        zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den)
    )


def _inter_union(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    # _terms.inter_union on a[:, None] and b[None, :]
    iw = torch.clamp(
        torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0]), min=0
    )
    ih = torch.clamp(
        torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1]), min=0
    )
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter, area_a + area_b - inter


def _enclosing_wh(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    cw = torch.maximum(a[..., 2], b[..., 2]) - torch.minimum(a[..., 0], b[..., 0])
    ch = torch.maximum(a[..., 3], b[..., 3]) - torch.minimum(a[..., 1], b[..., 1])
    return cw, ch


def _diou_penalty(a: Tensor, b: Tensor, eps: float) -> Tensor:
    # Zheng et al. 2020 (arXiv:1911.08287), R_DIoU = rho^2 / c^2 (_terms.diou_penalty)
    dx = (b[..., 0] + b[..., 2]) * 0.5 - (a[..., 0] + a[..., 2]) * 0.5
    dy = (b[..., 1] + b[..., 3]) * 0.5 - (a[..., 1] + a[..., 3]) * 0.5
    cw, ch = _enclosing_wh(a, b)
    return _safe_divide(dx * dx + dy * dy, cw * cw + ch * ch, eps)


def _aspect_angle(w: Tensor, h: Tensor, eps: float) -> Tensor:
    ok = w * w + h * h > eps
    return torch.where(
        ok,
        torch.atan2(
            torch.where(ok, w, torch.zeros_like(w)), torch.where(ok, h, torch.ones_like(h))
        ),
        torch.zeros_like(w),
    )


def _aspect_v(a: Tensor, b: Tensor, eps: float) -> Tensor:
    # Zheng et al. 2020, CIoU's v = 4 / pi^2 (atan(w_b / h_b) - atan(w_a / h_a))^2
    d = _aspect_angle(b[..., 2] - b[..., 0], b[..., 3] - b[..., 1], eps) - _aspect_angle(
        a[..., 2] - a[..., 0], a[..., 3] - a[..., 1], eps
    )
    # 4 / pi^2 written out: TorchScript reads no module constants; the double of _terms'
    # (4.0 / math.pi**2), checked by tests/test_torch_compile.py
    return 0.4052847345693511 * d * d


def _pairs(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor, torch.dtype]:
    a = _floating(boxes1)
    b = _floating(boxes2)
    dt = torch.promote_types(a.dtype, b.dtype)
    return a.to(dt)[:, None, :], b.to(dt)[None, :, :], _out_dtype(boxes1, boxes2)


def box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """IoU of every pair: (N, 4) x (M, 4) xyxy -> (N, M); :func:`ioukit.boxes.iou`'s values.

    >>> import torch
    >>> box_iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[0.0, 0.0, 1.0, 2.0]]))
    tensor([[0.5000]])
    """
    a, b, dt = _pairs(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    return _safe_divide(inter, union, eps).to(dt)


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """GIoU of every pair (Rezatofighi et al. 2019): :func:`ioukit.boxes.giou`'s values.

    >>> import torch
    >>> generalized_box_iou(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[2.0, 0, 3, 1]]))
    tensor([[-0.3333]])
    """
    a, b, dt = _pairs(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    cw, ch = _enclosing_wh(a, b)
    c_area = cw * ch
    # Rezatofighi et al. 2019 (arXiv:1902.09630), Algorithm 1: IoU - |C \ (A u B)| / |C|
    return (_safe_divide(inter, union, eps) - _safe_divide(c_area - union, c_area, eps)).to(dt)


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """DIoU of every pair (Zheng et al. 2020): :func:`ioukit.boxes.diou`'s values.

    >>> import torch
    >>> distance_box_iou(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[2.0, 0, 3, 1]]))
    tensor([[-0.4000]])
    """
    a, b, dt = _pairs(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    return (_safe_divide(inter, union, eps) - _diou_penalty(a, b, eps)).to(dt)


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """CIoU of every pair (Zheng et al. 2020): :func:`ioukit.boxes.ciou`'s values.

    >>> import torch
    >>> complete_box_iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[0.0, 0, 2, 2]]))
    tensor([[1.]])
    """
    a, b, dt = _pairs(boxes1, boxes2)
    inter, union = _inter_union(a, b)
    iou = _safe_divide(inter, union, eps)
    v = _aspect_v(a, b, eps)
    # Zheng et al. 2020 (arXiv:1911.08287): IoU - rho^2 / c^2 - alpha v
    penalty = _diou_penalty(a, b, eps) + _safe_divide(v, (1.0 - iou) + v, eps) * v
    return (iou - penalty).to(dt)
