"""``torch.nn.Module`` wrappers of the functional losses.

Each module stores the keyword arguments of its function (``fmt``,
``reduction``, ``eps`` and the loss's own options) and its ``forward(pred,
target, weight=None)`` calls the function. The only module with state is
:class:`WIoULoss` (v2/v3), whose running mean of ``1 - IoU`` is a registered
buffer: it moves with ``.to(device)``, is saved in ``state_dict()``, and is
updated only in training mode.
"""

from __future__ import annotations

from typing import Any

import torch

from . import _functional as F
from ._common import check_choice

__all__ = [
    "IoULoss",
    "GIoULoss",
    "DIoULoss",
    "CIoULoss",
    "EIoULoss",
    "FocalEIoULoss",
    "SIoULoss",
    "AlphaIoULoss",
    "WIoULoss",
    "MPDIoULoss",
]


class _BoxLoss(torch.nn.Module):
    _fn: Any = None

    def __init__(self, *, fmt: str = "xyxy", reduction: str = "mean", eps: float = F.EPS, **opts):
        super().__init__()
        self.fmt, self.reduction, self.eps, self.opts = fmt, reduction, eps, opts

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weight: Any = None) -> torch.Tensor:
        """Loss of ``pred`` [..., 4] against ``target`` [..., 4]; see the function."""
        return type(self)._fn(
            pred,
            target,
            fmt=self.fmt,
            reduction=self.reduction,
            weight=weight,
            eps=self.eps,
            **self.opts,
        )

    def extra_repr(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.opts.items())
        return f"fmt={self.fmt!r}, reduction={self.reduction!r}{opts}"


class IoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.iou_loss`.

    Example
    -------
    >>> import torch
    >>> IoULoss(mode="log")(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]]))
    tensor(1.0986)
    """

    _fn = staticmethod(F.iou_loss)

    def __init__(
        self,
        mode: str = "linear",
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, mode=mode)


class GIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.giou_loss`.

    Example
    -------
    >>> import torch
    >>> GIoULoss()(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[2.0, 0, 3, 1]]))
    tensor(1.3333)
    """

    _fn = staticmethod(F.giou_loss)

    def __init__(self, *, fmt: str = "xyxy", reduction: str = "mean", eps: float = F.EPS):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps)


class DIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.diou_loss`.

    Example
    -------
    >>> import torch
    >>> DIoULoss()(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]]))
    tensor(0.7436)
    """

    _fn = staticmethod(F.diou_loss)

    def __init__(self, *, fmt: str = "xyxy", reduction: str = "mean", eps: float = F.EPS):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps)


class CIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.ciou_loss`.

    Example
    -------
    >>> import torch
    >>> CIoULoss()(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 4]]))
    tensor(0.5532)
    """

    _fn = staticmethod(F.ciou_loss)

    def __init__(
        self,
        alpha_mode: str = "paper",
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, alpha_mode=alpha_mode)


class EIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.eiou_loss` (Efficient-IoU, not mmdet's EIoULoss).

    Example
    -------
    >>> import torch
    >>> EIoULoss()(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 4]]))
    tensor(0.8000)
    """

    _fn = staticmethod(F.eiou_loss)

    def __init__(self, *, fmt: str = "xyxy", reduction: str = "mean", eps: float = F.EPS):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps)


class FocalEIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.focal_eiou_loss`.

    Example
    -------
    >>> import torch
    >>> FocalEIoULoss(gamma=0.5)(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 4]]))
    tensor(0.5657)
    """

    _fn = staticmethod(F.focal_eiou_loss)

    def __init__(
        self,
        gamma: float = 0.5,
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, gamma=gamma)


class SIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.siou_loss`.

    Example
    -------
    >>> import torch
    >>> SIoULoss()(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 2]]))
    tensor(0.)
    """

    _fn = staticmethod(F.siou_loss)

    def __init__(
        self,
        theta: float = 4.0,
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, theta=theta)


class AlphaIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.alpha_iou_loss`.

    Example
    -------
    >>> import torch
    >>> AlphaIoULoss(3.0)(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]]))
    tensor(0.9630)
    """

    _fn = staticmethod(F.alpha_iou_loss)

    def __init__(
        self,
        alpha: float = 3.0,
        base: str = "iou",
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, alpha=alpha, base=base)


class MPDIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.mpdiou_loss`.

    Example
    -------
    >>> import torch
    >>> MPDIoULoss(image_size=(10, 10))(
    ...     torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]]))
    tensor(0.6767)
    """

    _fn = staticmethod(F.mpdiou_loss)

    def __init__(
        self,
        image_size: Any,
        *,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        super().__init__(fmt=fmt, reduction=reduction, eps=eps, image_size=image_size)


class WIoULoss(_BoxLoss):
    """Module form of :func:`ioukit.losses.wiou_loss`, holding v2/v3's running mean.

    The running mean of ``1 - IoU`` is the buffer ``iou_mean`` (initially 1, as
    in the authors' code). In training mode each ``forward`` first updates it,
    ``mean <- (1 - momentum) mean + momentum * batch_mean(1 - IoU)``, then uses
    it; in eval mode it is only read. The default momentum
    ``1 - 0.5 ** (1 / 7000)`` (a half-life of 7000 steps) is the authors' code's.
    Every instance has its own mean; nothing is global.

    Example
    -------
    >>> import torch
    >>> loss = WIoULoss("v3", momentum=0.5)
    >>> p, t = torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]])
    >>> _ = loss(p, t)  # 1 - IoU = 2/3: mean = 0.5 * 1 + 0.5 * 2/3
    >>> loss.iou_mean
    tensor(0.8333)
    """

    _fn = staticmethod(F.wiou_loss)
    iou_mean: torch.Tensor

    def __init__(
        self,
        version: str = "v3",
        *,
        momentum: float = 1.0 - 0.5 ** (1.0 / 7000.0),
        alpha: float = 1.9,
        delta: float = 3.0,
        gamma: float = 0.5,
        fmt: str = "xyxy",
        reduction: str = "mean",
        eps: float = F.EPS,
    ):
        check_choice("version", version, F.WIOU_VERSIONS)
        if not 0.0 < momentum <= 1.0:
            from ..errors import InvalidParameterError

            raise InvalidParameterError(f"momentum={momentum!r} must lie in (0, 1]")
        super().__init__(
            fmt=fmt,
            reduction=reduction,
            eps=eps,
            version=version,
            alpha=alpha,
            delta=delta,
            gamma=gamma,
        )
        self.momentum = momentum
        self.register_buffer("iou_mean", torch.tensor(1.0))

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weight: Any = None) -> torch.Tensor:
        """WIoU loss; in training mode (v2/v3) first updates ``self.iou_mean``."""
        if self.opts["version"] != "v1" and self.training:
            with torch.no_grad():
                l_iou = F.iou_loss(pred, target, fmt=self.fmt, reduction="none", eps=self.eps)
                if l_iou.numel() > 0:
                    batch = l_iou.float().mean().to(self.iou_mean)
                    self.iou_mean.mul_(1.0 - self.momentum).add_(self.momentum * batch)
        return F.wiou_loss(
            pred,
            target,
            iou_mean=self.iou_mean,
            fmt=self.fmt,
            reduction=self.reduction,
            weight=weight,
            eps=self.eps,
            **self.opts,
        )
