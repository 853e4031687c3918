"""IoU-family regression losses of intervals (1-D), with stable gradients.

Each loss is ``1 -`` the matching measure of :mod:`._measures` (the same array-API
terms, so loss and measure cannot drift apart), per aligned pair of predicted and
target intervals, then weighted and reduced. Any array-API library: torch (CPU/CUDA,
autograd), JAX (``jax.grad``), NumPy for values. ``eps`` is a threshold: a zero union or
a zero enclosing length makes its ratio 0 with a zero gradient, never NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import namespace
from .._lossrules import REDUCTIONS, reduce_loss, working_pair
from ._measures import as_interval_array, check_eps, diou_terms, giou_terms, iou_terms

__all__ = ["iou_loss", "giou_loss", "diou_loss", "REDUCTIONS"]

EPS = 1e-7


def _prepare(pred: Any, target: Any, weight: Any) -> tuple:
    pred = as_interval_array(pred, "pred")
    target = as_interval_array(target, "target")
    if isinstance(weight, (list, tuple)):
        weight = np.asarray(weight)
    xp = namespace(pred, target, weight)
    pred, target, out_dtype = working_pair(xp, pred, target)
    return xp, pred, target, weight, out_dtype


def _reduce(xp: Any, loss: Any, weight: Any, reduction: str, out_dtype: Any) -> Any:
    # the same rules as ioukit.losses (one place: ioukit._lossrules)
    return reduce_loss(xp, loss, weight, reduction, out_dtype, unit="pair")


def _loss(terms: Any, pred: Any, target: Any, reduction: str, weight: Any, eps: float) -> Any:
    eps = check_eps(eps)
    xp, p, t, w, dt = _prepare(pred, target, weight)
    return _reduce(xp, 1.0 - terms(xp, p, t, eps), w, reduction, dt)


_DOC = """
    Parameters
    ----------
    pred, target : array [..., 2]
        Predicted and target ``(start, end)`` intervals, broadcastable; ``pred``
        carries the gradient. Not validated (a training hot loop): use
        :func:`ioukit.intervals.validate` when unsure.
    reduction : {"mean", "sum", "none"}
        ``"none"``: the per-pair loss [...]; ``"mean"``: mean of ``weight * loss``
        (0 for no pairs).
    weight : array [...], optional
        Per-pair weight, broadcastable to the per-pair loss.
    eps : float, default 1e-7
        Threshold below which a denominator counts as zero.

    Returns
    -------
    array: a scalar, or [...] for ``reduction="none"``; the inputs' dtype.
"""


def _doc(f: Any) -> Any:
    f.__doc__ = f.__doc__.replace("    {ARGS}\n", _DOC)
    return f


@_doc
def iou_loss(
    pred: Any, target: Any, *, reduction: str = "mean", weight: Any = None, eps: float = EPS
) -> Any:
    """Interval IoU loss ``1 - tIoU`` of aligned pairs (no gradient when disjoint).

    {ARGS}
    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 4.0]], requires_grad=True)
    >>> round(iou_loss(p, torch.tensor([[2.0, 6.0]])).item(), 4)  # 1 - 2 / 6
    0.6667
    """
    return _loss(iou_terms, pred, target, reduction, weight, eps)


@_doc
def giou_loss(
    pred: Any, target: Any, *, reduction: str = "mean", weight: Any = None, eps: float = EPS
) -> Any:
    """Interval GIoU loss ``1 - GIoU`` (Rezatofighi et al. 2019, in 1-D), in [0, 2].

    Disjoint intervals still get a gradient: it grows the prediction towards the target.
    {ARGS}
    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 2.0]], requires_grad=True)
    >>> loss = giou_loss(p, torch.tensor([[4.0, 6.0]]))  # 1 - (0 - 2 / 6)
    >>> round(loss.item(), 4)
    1.3333
    >>> loss.backward(); p.grad  # d/ds = (C - U) / C^2 = 2/36, d/de = -1/C
    tensor([[ 0.0556, -0.1667]])
    """
    return _loss(giou_terms, pred, target, reduction, weight, eps)


@_doc
def diou_loss(
    pred: Any, target: Any, *, reduction: str = "mean", weight: Any = None, eps: float = EPS
) -> Any:
    """Interval DIoU loss ``1 - IoU + d^2 / |C|^2`` (Zheng et al. 2020, in 1-D), in [0, 2].

    ``d`` is the distance of the centres, ``C`` the smallest interval holding both.
    {ARGS}
    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 2.0]])
    >>> diou_loss(p, torch.tensor([[4.0, 6.0]]))  # 1 - 0 + 16 / 36
    tensor(1.4444)
    """
    return _loss(diou_terms, pred, target, reduction, weight, eps)
