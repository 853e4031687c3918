"""IoU-family regression losses (functional form).

Every loss takes ``(pred, target, *, fmt="xyxy", reduction="mean", weight=None,
eps=1e-7)`` plus its own options, and is ``1 - (the matching ioukit.boxes
measure)`` plus the extra terms its docstring names. The geometry comes from
:mod:`ioukit.boxes._terms`, the same building blocks the measures use, so a loss
and its measure cannot drift apart.

``eps`` is a threshold, never an additive constant: a denominator ``<= eps``
(a zero union, a zero enclosing diagonal, coincident centres) makes its ratio
exactly 0, with a zero gradient, so values away from degeneracy are exact.
"""

from __future__ import annotations

from typing import Any

from .._backend import namespace, to_floating
from ..boxes import _terms as T
from ..boxes._formats import check_image_size
from ..errors import InvalidParameterError
from ._common import (
    _asarray,
    check_choice,
    check_positive,
    prepare,
    reduce_loss,
    stop_gradient,
)

__all__ = [
    "iou_loss",
    "giou_loss",
    "diou_loss",
    "ciou_loss",
    "eiou_loss",
    "focal_eiou_loss",
    "siou_loss",
    "alpha_iou_loss",
    "wiou_loss",
    "mpdiou_loss",
    "focal_iou_weight",
]

EPS = 1e-7
IOU_MODES = ("linear", "square", "log")
CIOU_ALPHA_MODES = ("paper", "mmdet")
ALPHA_IOU_BASES = ("iou", "giou", "diou", "ciou", "eiou", "siou")
WIOU_VERSIONS = ("v1", "v2", "v3")


def _iou(xp: Any, p: Any, t: Any, eps: float) -> tuple[Any, Any]:
    inter, union = T.inter_union(xp, p, t)
    return T.safe_divide(xp, inter, union, eps), union


def _ciou_alpha_v(xp: Any, p: Any, t: Any, iou: Any, mode: str, eps: float) -> tuple[Any, Any]:
    """CIoU's (alpha, v); alpha is a constant for autograd (Zheng et al.'s code)."""
    v = T.aspect_consistency_v(xp, p, t, eps)
    iou_c = stop_gradient(xp, iou)
    alpha = T.ciou_alpha(xp, iou_c, stop_gradient(xp, v), eps)
    if mode == "mmdet":
        # mmdet's CIoULoss: alpha only counts once the boxes overlap well (IoU > 0.5).
        alpha = xp.where(iou_c > 0.5, alpha, 0.0)
    return alpha, v


def iou_loss(
    pred: Any,
    target: Any,
    *,
    mode: str = "linear",
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """IoU loss of aligned box pairs: ``1 - IoU``, ``1 - IoU**2`` or ``-ln IoU``.

    ``mode="log"`` is UnitBox's loss (Yu et al. 2016, eq. in Sec. 3.1: L = -ln IoU);
    IoU is clamped to at least ``eps`` there, so disjoint boxes cost
    ``-ln(eps)`` (16.1 for 1e-7) with a zero gradient. ``"square"`` is mmdet's
    ``1 - IoU**2``. IoU is 0 where the union is ``<= eps``.

    All three give no gradient for disjoint boxes (IoU is 0 on a whole
    neighbourhood); GIoU/DIoU/CIoU add terms that do.

    Parameters
    ----------
    pred, target : array [..., 4]
        Predicted and target boxes in ``fmt`` (broadcastable). ``pred`` carries
        the gradient. Boxes must have x2 >= x1 and y2 >= y1; losses do not check
        (a training hot loop); use :func:`ioukit.boxes.validate` when unsure.
    mode : {"linear", "square", "log"}
    fmt : {"xyxy", "xywh", "cxcywh"}
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the per-pair loss [...]; ``"mean"`` averages
        ``weight * loss`` over all pairs (0 for no pairs).
    weight : array [...], optional
        Per-pair weight, broadcastable to the per-pair loss.
    eps : float
        Threshold below which a denominator counts as zero.

    Returns
    -------
    array
        Scalar, or [...] for ``reduction="none"``; the inputs' dtype.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[1.0, 0.0, 3.0, 2.0]])  # IoU = 2 / 6
    >>> iou_loss(p, t)
    tensor(0.6667)
    >>> iou_loss(p, t, mode="log")  # -ln(1/3)
    tensor(1.0986)
    """
    check_choice("mode", mode, IOU_MODES)
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    if mode == "linear":
        loss = 1.0 - iou
    elif mode == "square":
        loss = 1.0 - iou * iou
    else:
        loss = -xp.log(xp.clip(iou, min=eps))
    return reduce_loss(xp, loss, weight, reduction, dt)


def giou_loss(
    pred: Any,
    target: Any,
    *,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Generalized IoU loss ``1 - GIoU = 1 - IoU + (C - U) / C``.

    Rezatofighi et al. 2019, Algorithm 2 (C: area of the smallest enclosing box,
    U: union). Equals 1 - :func:`ioukit.boxes.giou`; same as torchvision's
    ``generalized_box_iou_loss`` up to where eps enters (torchvision adds it to
    the denominators; here it is a threshold). In [0, 2).

    Arguments and returns as in :func:`iou_loss`.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> t = torch.tensor([[2.0, 0.0, 3.0, 1.0]])  # IoU 0, C = 3, U = 2
    >>> giou_loss(p, t)  # 1 - 0 + (3 - 2) / 3
    tensor(1.3333)
    """
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, union = _iou(xp, p, t, eps)
    loss = 1.0 - iou + T.giou_penalty(xp, p, t, union, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def diou_loss(
    pred: Any,
    target: Any,
    *,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Distance-IoU loss ``1 - IoU + rho**2 / c**2``.

    Zheng et al. 2020, eq. 6 (rho: distance of the centres, c: diagonal of the
    enclosing box). Equals 1 - :func:`ioukit.boxes.diou`. In [0, 2).

    Arguments and returns as in :func:`iou_loss`.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[1.0, 0.0, 3.0, 2.0]])  # IoU 1/3, rho^2 = 1, c^2 = 9 + 4
    >>> diou_loss(p, t)  # 1 - 1/3 + 1/13
    tensor(0.7436)
    """
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    loss = 1.0 - iou + T.diou_penalty(xp, p, t, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def ciou_loss(
    pred: Any,
    target: Any,
    *,
    alpha_mode: str = "paper",
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Complete-IoU loss ``1 - IoU + rho**2 / c**2 + alpha * v``.

    Zheng et al. 2020, eq. 10-11: ``v = 4 / pi**2 (atan(w_gt / h_gt) - atan(w / h))**2``
    and ``alpha = v / ((1 - IoU) + v)``. As in the authors' code (and torchvision,
    ultralytics) alpha is a constant for the gradient. ``atan(w / h)`` is
    evaluated as ``atan2(w, h)``, so a zero-height box is finite (pi/2).

    ``alpha_mode="mmdet"`` uses alpha only where IoU > 0.5 (mmdet's
    ``CIoULoss``); the value then differs from 1 - :func:`ioukit.boxes.ciou` for
    pairs with IoU <= 0.5. The paper's additional replacement of the gradient
    factor ``1 / (w**2 + h**2)`` by 1 (Sec. 3.2) is not applied: the gradient is
    the exact derivative of the value with alpha held constant, as torchvision's.

    Arguments and returns as in :func:`iou_loss`, plus ``alpha_mode`` in
    {"paper", "mmdet"}.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[0.0, 0.0, 2.0, 4.0]])  # IoU 1/2, rho^2 = 1, c^2 = 20
    >>> ciou_loss(p, t)  # v = (4/pi^2)(atan(1/2) - pi/4)^2 = 0.0418, alpha = v / (1/2 + v)
    tensor(0.5532)
    """
    check_choice("alpha_mode", alpha_mode, CIOU_ALPHA_MODES)
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    alpha, v = _ciou_alpha_v(xp, p, t, iou, alpha_mode, eps)
    loss = 1.0 - iou + T.diou_penalty(xp, p, t, eps) + alpha * v
    return reduce_loss(xp, loss, weight, reduction, dt)


def eiou_loss(
    pred: Any,
    target: Any,
    *,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Efficient-IoU loss ``1 - IoU + rho**2/c**2 + (w - w_gt)**2/cw**2 + (h - h_gt)**2/ch**2``.

    Zhang et al. 2021 ("Focal and Efficient IOU Loss"), eq. 8; cw, ch: width
    and height of the enclosing box. Equals 1 - :func:`ioukit.boxes.eiou`.
    Not mmdet's ``EIoULoss``, which is *Extended*-IoU (a smooth-L1 on the
    corners, Peng & Yu 2021), a different loss.

    Arguments and returns as in :func:`iou_loss`.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[0.0, 0.0, 2.0, 4.0]])  # IoU 1/2; 1/20 + 0/4 + 4/16
    >>> eiou_loss(p, t)
    tensor(0.8000)
    """
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    loss = 1.0 - iou + T.eiou_penalty(xp, p, t, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def focal_eiou_loss(
    pred: Any,
    target: Any,
    *,
    gamma: float = 0.5,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Focal-EIoU loss ``IoU**gamma * L_EIoU``.

    Zhang et al. 2021, eq. 12 (gamma = 0.5 in their experiments): high-IoU
    pairs dominate, low-quality ones are down-weighted. The weight is
    differentiated through, as in the paper; ``IoU**gamma`` is 0 with a zero
    gradient where IoU = 0 (its derivative is infinite there for gamma < 1).
    Disjoint pairs therefore cost 0: combine with plain EIoU if they must
    be pulled together.

    Arguments and returns as in :func:`iou_loss`, plus ``gamma > 0``.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[0.0, 0.0, 2.0, 4.0]])
    >>> focal_eiou_loss(p, t)  # sqrt(1/2) * 0.8
    tensor(0.5657)
    """
    check_positive("gamma", gamma)
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    loss = T.safe_pow(xp, iou, gamma) * (1.0 - iou + T.eiou_penalty(xp, p, t, eps))
    return reduce_loss(xp, loss, weight, reduction, dt)


def siou_loss(
    pred: Any,
    target: Any,
    *,
    theta: float = 4.0,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """SCYLLA-IoU loss ``1 - IoU + (Delta + Omega) / 2``.

    Gevorgyan 2022, eq. 1-6: angle cost ``Lambda = sin(2 alpha)``, distance cost
    ``Delta = sum_t (1 - exp(-(2 - Lambda) rho_t))`` (the paper's sign: gamma =
    2 - Lambda), shape cost ``Omega = sum_t (1 - exp(-omega_t))**theta``.
    Equals 1 - :func:`ioukit.boxes.siou`. The angle cost is computed without
    arcsin, so coincident centres are finite (Lambda = 0 there).

    Arguments and returns as in :func:`iou_loss`, plus ``theta`` (the paper's
    shape-cost exponent, 2..6; 4 by default).

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> siou_loss(p, t)
    tensor(0.)
    """
    check_positive("theta", theta)
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    loss = 1.0 - iou + T.siou_penalty(xp, p, t, theta, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def _alpha_penalty(xp: Any, p: Any, t: Any, iou: Any, union: Any, base: str, a: float, eps: float):
    # He et al. 2021, eq. 6-8: each penalty term of the base loss raised to alpha.
    if base == "iou":
        return 0.0
    if base == "giou":
        return T.safe_pow(xp, T.giou_penalty(xp, p, t, union, eps), a)
    if base == "siou":
        return T.safe_pow(xp, T.siou_penalty(xp, p, t, 4.0, eps), a)
    dist = T.safe_pow(xp, T.diou_penalty(xp, p, t, eps), a)
    if base == "diou":
        return dist
    if base == "ciou":
        alpha, v = _ciou_alpha_v(xp, p, t, iou, "paper", eps)
        return dist + T.safe_pow(xp, alpha * v, a)
    cw, ch = T.enclosing_wh(xp, p, t)  # eiou: its two size terms as well
    dw2, dh2 = T.width_height_diff_sq(xp, p, t)
    return (
        dist
        + T.safe_pow(xp, T.safe_divide(xp, dw2, cw * cw, eps), a)
        + T.safe_pow(xp, T.safe_divide(xp, dh2, ch * ch, eps), a)
    )


def alpha_iou_loss(
    pred: Any,
    target: Any,
    *,
    alpha: float = 3.0,
    base: str = "iou",
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Alpha-IoU loss ``1 - IoU**alpha + R**alpha`` over a base loss.

    He et al. 2021, eq. 6-8: the IoU term and each penalty term ``R`` of the
    base (``"iou"`` none; ``"giou"`` (C - U) / C; ``"diou"`` rho^2/c^2;
    ``"ciou"`` rho^2/c^2 and (alpha_c v); ``"eiou"`` its three ratios;
    ``"siou"`` (Delta + Omega) / 2) are raised to ``alpha`` (3 in the paper).
    Powers are 0 with a zero gradient at 0, so alpha < 1 stays finite. CIoU's
    trade-off factor is computed from the plain IoU and held constant for the
    gradient, as in :func:`ciou_loss`. Equals 1 - :func:`ioukit.boxes.alpha_iou`
    for the bases that measure has (iou, giou, diou, ciou); "eiou" and "siou"
    extend the paper's rule (each penalty term to the power alpha) to those
    losses.

    Arguments and returns as in :func:`iou_loss`, plus ``alpha > 0`` and ``base``.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[1.0, 0.0, 3.0, 2.0]])
    >>> alpha_iou_loss(p, t)  # 1 - (1/3)^3
    tensor(0.9630)
    >>> alpha_iou_loss(p, t, base="diou")  # 1 - (1/3)^3 + (1/13)^3
    tensor(0.9634)
    """
    check_positive("alpha", alpha)
    check_choice("base", base, ALPHA_IOU_BASES)
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, union = _iou(xp, p, t, eps)
    loss = 1.0 - T.safe_pow(xp, iou, alpha) + _alpha_penalty(xp, p, t, iou, union, base, alpha, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def wiou_loss(
    pred: Any,
    target: Any,
    *,
    version: str = "v1",
    iou_mean: Any = None,
    alpha: float = 1.9,
    delta: float = 3.0,
    gamma: float = 0.5,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Wise-IoU loss, v1, v2 or v3 (Tong et al. 2023).

    - v1 (eq. 2-3): ``R * (1 - IoU)`` with ``R = exp(rho**2 / (cw**2 + ch**2)*)``,
      the star marking a constant for the gradient (the enclosing box's size only).
    - v2 (eq. 7): ``(L_IoU* / mean)**gamma * L_v1`` (monotonic focusing).
    - v3 (eq. 8-9): ``r * L_v1`` with outlier degree ``beta = L_IoU* / mean`` and
      ``r = beta / (delta * alpha**(beta - delta))`` (non-monotonic focusing).

    ``mean`` is the running mean of ``1 - IoU``; this function takes it as
    ``iou_mean`` (a number or 0-d array) and never stores it. The module
    :class:`ioukit.losses.WIoULoss` keeps and updates it as explicit state.

    Arguments and returns as in :func:`iou_loss`, plus ``version``,
    ``iou_mean`` (needed for v2 and v3), ``alpha`` and ``delta`` (v3; 1.9 and 3
    as in the paper's YOLOv7 experiments) and ``gamma`` (v2).

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[1.0, 0.0, 3.0, 2.0]])  # 1 - IoU = 2/3, rho^2/c^2 = 1/13
    >>> wiou_loss(p, t)  # exp(1/13) * 2/3
    tensor(0.7199)
    >>> wiou_loss(p, t, version="v3", iou_mean=2 / 3)  # beta = 1: r = 1 / (3 * 1.9**-2)
    tensor(0.8663)
    """
    check_choice("version", version, WIOU_VERSIONS)
    check_positive("alpha", alpha)
    check_positive("delta", delta)
    check_positive("gamma", gamma)
    if version != "v1" and iou_mean is None:
        raise InvalidParameterError(
            f"wiou_loss version={version!r} needs iou_mean (the running mean of 1 - IoU); "
            "use ioukit.losses.WIoULoss to have it tracked"
        )
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    l_iou = 1.0 - iou
    c2 = stop_gradient(xp, T.enclosing_diagonal_sq(xp, p, t))
    loss = xp.exp(T.safe_divide(xp, T.center_distance_sq(xp, p, t), c2, eps)) * l_iou
    if version != "v1":
        beta = stop_gradient(xp, l_iou) / iou_mean
        if version == "v2":
            loss = T.safe_pow(xp, beta, gamma) * loss
        else:
            loss = beta / (delta * alpha ** (beta - delta)) * loss
    return reduce_loss(xp, loss, weight, reduction, dt)


def mpdiou_loss(
    pred: Any,
    target: Any,
    *,
    image_size: Any,
    fmt: str = "xyxy",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """MPDIoU loss ``1 - IoU + (d1**2 + d2**2) / (w**2 + h**2)``.

    Ma & Xu 2023, eq. 4-5: d1, d2 are the distances between the top-left and
    between the bottom-right corners; ``(w, h)`` is the input image size
    (``image_size``, required: numbers, or arrays broadcasting with the per-pair
    loss for batches of images of different sizes). Equals
    1 - :func:`ioukit.boxes.mpdiou`.

    Arguments and returns as in :func:`iou_loss`, plus ``image_size=(w, h)``.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> t = torch.tensor([[1.0, 0.0, 3.0, 2.0]])  # d1^2 = d2^2 = 1
    >>> mpdiou_loss(p, t, image_size=(10, 10))  # 1 - 1/3 + 2/200
    tensor(0.6767)
    """
    cw, ch = check_image_size(image_size, "for mpdiou_loss")
    xp, p, t, dt = prepare(pred, target, fmt, weight)
    iou, _ = _iou(xp, p, t, eps)
    loss = 1.0 - iou + T.mpdiou_penalty(xp, p, t, cw, ch, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def focal_iou_weight(iou: Any, gamma: float = 2.0, *, eps: float = EPS) -> Any:
    """Focal re-weighting ``(1 - IoU)**gamma`` of per-box losses.

    Lin et al. 2017's focal modulation applied to localisation quality: pairs
    that already overlap well get little weight. The result is differentiable;
    detach it (``.detach()``, ``jax.lax.stop_gradient``) to use it as a constant
    weight. ``1 - IoU`` is treated as 0 where it is ``<= eps``, so the derivative
    stays finite at IoU = 1 for gamma < 1.

    Parameters
    ----------
    iou : array [...]
        IoU values in [0, 1].
    gamma : float
        Focusing exponent, > 0.

    Returns
    -------
    array [...]
        Same library, device and dtype as ``iou``.

    Example
    -------
    >>> import numpy as np
    >>> print(focal_iou_weight(np.array([0.0, 0.5, 1.0]), gamma=2.0))
    [1.   0.25 0.  ]
    """
    check_positive("gamma", gamma)
    iou = _asarray(iou)
    xp = namespace(iou)
    r = 1.0 - to_floating(iou, xp)
    return T.safe_pow(xp, xp.where(r > eps, r, 0.0), gamma)
