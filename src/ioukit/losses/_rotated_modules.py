"""``torch.nn.Module`` wrappers of the rotated-box losses (:mod:`._rotated`).

Each module stores its function's keyword arguments; ``forward(pred, target,
weight=None)`` calls the function. No state.
"""

from __future__ import annotations

from typing import Any

import torch

from . import _rotated as R

__all__ = ["ProbIoULoss", "KLDLoss", "GWDLoss", "KFIoULoss"]


class _RotatedLoss(torch.nn.Module):
    _fn: Any = None

    def __init__(self, **opts: Any):
        super().__init__()
        self.opts = opts

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weight: Any = None) -> torch.Tensor:
        """Loss of ``pred`` [..., 5] against ``target`` [..., 5]; see the function."""
        return type(self)._fn(pred, target, weight=weight, **self.opts)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.opts.items())


class ProbIoULoss(_RotatedLoss):
    """Module form of :func:`ioukit.losses.probiou_loss`.

    Example
    -------
    >>> import torch
    >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]])
    >>> ProbIoULoss()(a, torch.tensor([[0.0, 0.0, 4.0, 4.0, 0.0]]))  # sqrt(0.2)
    tensor(0.4472)
    """

    _fn = staticmethod(R.probiou_loss)

    def __init__(
        self,
        mode: str = "l1",
        *,
        variance_scale: float = 1.0 / 12.0,
        angle: str = "rad",
        reduction: str = "mean",
        eps: float = R.EPS,
    ):
        super().__init__(
            mode=mode, variance_scale=variance_scale, angle=angle, reduction=reduction, eps=eps
        )


class KLDLoss(_RotatedLoss):
    """Module form of :func:`ioukit.losses.kld_loss`.

    Example
    -------
    >>> import torch
    >>> b = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.5]])
    >>> KLDLoss()(b, b)
    tensor(0.)
    """

    _fn = staticmethod(R.kld_loss)

    def __init__(
        self,
        *,
        fun: str = "log1p",
        tau: float = 1.0,
        alpha: float = 1.0,
        sqrt: bool = True,
        variance_scale: float = 0.25,
        angle: str = "rad",
        reduction: str = "mean",
        eps: float = R.EPS,
    ):
        super().__init__(
            fun=fun,
            tau=tau,
            alpha=alpha,
            sqrt=sqrt,
            variance_scale=variance_scale,
            angle=angle,
            reduction=reduction,
            eps=eps,
        )


class GWDLoss(_RotatedLoss):
    """Module form of :func:`ioukit.losses.gwd_loss`.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]])
    >>> GWDLoss(fun="none", tau=0.0, normalize=False)(p, p + torch.tensor([3.0, 4, 0, 0, 0]))
    tensor(5.)
    """

    _fn = staticmethod(R.gwd_loss)

    def __init__(
        self,
        *,
        fun: str = "log1p",
        tau: float = 1.0,
        alpha: float = 1.0,
        normalize: bool = True,
        variance_scale: float = 0.25,
        angle: str = "rad",
        reduction: str = "mean",
        eps: float = R.EPS,
    ):
        super().__init__(
            fun=fun,
            tau=tau,
            alpha=alpha,
            normalize=normalize,
            variance_scale=variance_scale,
            angle=angle,
            reduction=reduction,
            eps=eps,
        )


class KFIoULoss(_RotatedLoss):
    """Module form of :func:`ioukit.losses.kfiou_loss`.

    Example
    -------
    >>> import torch
    >>> b = torch.tensor([[0.0, 0.0, 2.0, 3.0, 0.5]])
    >>> KFIoULoss()(b, b)  # 1 - 1/3
    tensor(0.6667)
    """

    _fn = staticmethod(R.kfiou_loss)

    def __init__(
        self,
        *,
        fun: str = "none",
        beta: float = 1.0 / 9.0,
        center: bool = True,
        variance_scale: float = 0.25,
        angle: str = "rad",
        reduction: str = "mean",
        eps: float = R.EPS,
    ):
        super().__init__(
            fun=fun,
            beta=beta,
            center=center,
            variance_scale=variance_scale,
            angle=angle,
            reduction=reduction,
            eps=eps,
        )
