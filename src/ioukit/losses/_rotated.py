"""Gaussian losses for rotated boxes: ProbIoU, KLD, GWD and KFIoU (functional form).

A rotated box ``(cx, cy, w, h, angle)`` (angle counter-clockwise, radians unless
``angle="deg"``) becomes the 2-D Gaussian ``N(mu, Sigma)`` with ``mu = (cx, cy)`` and
``Sigma = R(angle) diag(s w**2, s h**2) R(angle)^T``: ``s = 1/4`` (half-sides as
standard deviations, mmrotate's ``xy_wh_r_2_xy_sigma``) for KLD, GWD and KFIoU, and
``s = 1/12`` (the covariance of the uniform distribution on the box, Llerena et al.
2021 and ultralytics' ``_get_covariance_matrix``) for ProbIoU; ``variance_scale``
changes it.

Every 2x2 matrix expression is written in closed form from the two boxes' variances
``a = s w**2``, ``b = s h**2``, their relative angle ``d = angle_p - angle_t`` and the
centre offset projected on each box's axes. Each such form is a sum of non-negative
terms (e.g. ``det(Sigma_p + Sigma_t) = a_p b_p + a_t b_t + (a_p a_t + b_p b_t) sin^2 d
+ (a_p b_t + b_p a_t) cos^2 d``), so there is no cancellation, no eigen-decomposition
and no matrix inverse: gradients stay finite for identical boxes, for squares (whose
angle is undetermined) and for boxes whose sides are clamped at ``eps``. The tests
check each form against the reference's matrix code (torch ``det``/``inverse``/``bmm``).

``eps`` follows :mod:`ioukit.losses`: a threshold, never an additive constant. Sides
are clamped below at ``eps`` (mmrotate clamps at 1e-7 too); a square root whose argument
is ``<= eps`` is 0 with a zero gradient (the distances have a cusp at 0, where 0 is a
subgradient); a ratio whose denominator is ``<= eps`` is 0.
"""

from __future__ import annotations

import math
from typing import Any

from .._backend import is_torch, namespace
from .._lossrules import working_pair
from ..errors import ShapeMismatchError
from ._common import _asarray, check_choice, check_positive, reduce_loss

__all__ = ["probiou_loss", "kld_loss", "gwd_loss", "kfiou_loss"]

EPS = 1e-7
ANGLE_UNITS = ("rad", "deg")
PROBIOU_MODES = ("l1", "l2")
GAUSSIAN_FUNS = ("log1p", "sqrt", "none")
KFIOU_FUNS = ("none", "ln", "exp")


class _Pair:
    """The closed-form pieces shared by the losses, for aligned box pairs.

    ``ap, bp`` / ``at, bt``: the variances of pred / target along their own axes;
    ``c2, s2``: cos^2 and sin^2 of the relative angle; ``pu, pv`` / ``tu, tv``: the
    centre offset ``mu_p - mu_t`` projected on pred's / target's axes; ``dx, dy``: the
    offset itself; ``wh``: ``w_p h_p w_t h_t`` (so ``sqrt(det Sp det St) = s**2 wh``).
    """

    def __init__(self, xp: Any, p: tuple, t: tuple, scale: float, eps: float, deg: bool):
        cxp, cyp, wp, hp, rp = p
        cxt, cyt, wt, ht, rt = t
        if deg:
            rp, rt = rp * (math.pi / 180.0), rt * (math.pi / 180.0)
        wp, hp = xp.clip(wp, min=eps), xp.clip(hp, min=eps)
        wt, ht = xp.clip(wt, min=eps), xp.clip(ht, min=eps)
        self.ap, self.bp = scale * wp * wp, scale * hp * hp
        self.at, self.bt = scale * wt * wt, scale * ht * ht
        self.log_det_p = math.log(scale) * 2 + 2 * (xp.log(wp) + xp.log(hp))
        self.log_det_t = math.log(scale) * 2 + 2 * (xp.log(wt) + xp.log(ht))
        self.sqrt_det_pt = (scale * scale) * (wp * hp * wt * ht)
        self.sqrt_det_p, self.sqrt_det_t = scale * wp * hp, scale * wt * ht
        cp, sp, ct, st = xp.cos(rp), xp.sin(rp), xp.cos(rt), xp.sin(rt)
        # cos / sin of the relative angle rp - rt without another trigonometric call
        cd, sd = cp * ct + sp * st, sp * ct - cp * st
        self.c2, self.s2 = cd * cd, sd * sd
        self.dx, self.dy = cxp - cxt, cyp - cyt
        self.pu, self.pv = cp * self.dx + sp * self.dy, cp * self.dy - sp * self.dx
        self.tu, self.tv = ct * self.dx + st * self.dy, ct * self.dy - st * self.dx

    def det_sum(self) -> Any:
        """det(Sigma_p + Sigma_t), a sum of non-negative terms."""
        ap, bp, at, bt = self.ap, self.bp, self.at, self.bt
        return ap * bp + at * bt + (ap * at + bp * bt) * self.s2 + (ap * bt + bp * at) * self.c2

    def mahalanobis_sum(self) -> Any:
        """(mu_p - mu_t)^T adj(Sigma_p + Sigma_t) (mu_p - mu_t); adj is linear in 2x2."""
        return (
            self.bp * self.pu * self.pu
            + self.ap * self.pv * self.pv
            + self.bt * self.tu * self.tu
            + self.at * self.tv * self.tv
        )


def _columns(xp: Any, boxes: Any) -> tuple:
    if is_torch(boxes):
        # contiguous columns: one unbind node for autograd (see _common.Columns)
        return tuple(boxes.movedim(-1, 0).contiguous().unbind(0))
    return tuple(boxes[..., k] for k in range(5))


def _prepare(pred: Any, target: Any, weight: Any, angle: str) -> tuple[Any, tuple, tuple, Any]:
    """(xp, pred columns, target columns, output dtype); float16/bfloat16 run in float32."""
    check_choice("angle", angle, ANGLE_UNITS)
    pred, target, weight = _asarray(pred), _asarray(target), _asarray(weight)
    xp = namespace(pred, target, weight)
    for name, arr in (("pred", pred), ("target", target)):
        if arr.ndim == 0 or arr.shape[-1] != 5:
            raise ShapeMismatchError(
                f"{name} must have shape [..., 5] (cx, cy, w, h, angle); "
                f"got shape {tuple(arr.shape)}"
            )
    pred, target, out_dtype = working_pair(xp, pred, target)
    return xp, _columns(xp, pred), _columns(xp, target), out_dtype


def _safe_sqrt(xp: Any, x: Any, eps: float) -> Any:
    # sqrt(x) for x > eps, else exactly 0 with a zero gradient (no inf at the cusp)
    big = x > eps
    return xp.where(big, xp.sqrt(xp.where(big, x, 1.0)), 0.0)


def _safe_ratio(xp: Any, num: Any, den: Any, eps: float) -> Any:
    big = den > eps
    return xp.where(big, num / xp.where(big, den, 1.0), 0.0)


def _postprocess(xp: Any, distance: Any, fun: str, tau: float, eps: float) -> Any:
    # mmrotate gaussian_dist_loss.py postprocess(): f(distance), then 1 - 1 / (tau + f)
    if fun == "log1p":
        distance = xp.log1p(distance)
    elif fun == "sqrt":
        distance = _safe_sqrt(xp, distance, eps)
    if tau >= 1.0:
        return 1.0 - 1.0 / (tau + distance)
    return distance


def _check_common(reduction: str, eps: float, variance_scale: float) -> None:
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    check_positive("eps", eps, allow_zero=True)
    check_positive("variance_scale", variance_scale)


def probiou_loss(
    pred: Any,
    target: Any,
    *,
    mode: str = "l1",
    variance_scale: float = 1.0 / 12.0,
    angle: str = "rad",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """ProbIoU loss: Hellinger (``"l1"``) or Bhattacharyya (``"l2"``) distance of Gaussians.

    Llerena et al. 2021, "Gaussian Bounding Boxes and Probabilistic Intersection-over-Union
    for Object Detection", eqs. 5-8: the Bhattacharyya distance ``B_D = 1/8 dmu^T S^-1
    dmu + 1/2 ln(det S / sqrt(det S_p det S_t))`` with ``S = (S_p + S_t) / 2``, the
    Hellinger distance ``H_D = sqrt(1 - exp(-B_D))``, ``ProbIoU = 1 - H_D``. ``"l1"``
    is ``H_D = 1 - ProbIoU`` (ultralytics' rotated-box loss), ``"l2"`` is ``B_D``
    (``-ln(1 - H_D**2)``). Symmetric in pred and target; 0 for identical boxes.
    ultralytics adds eps inside its logs and square roots and clamps ``B_D`` to
    [eps, 100]; here ``H_D`` is exact down to ``1 - exp(-B_D) <= eps``, where it is 0.

    Parameters
    ----------
    pred, target : array [..., 5]
        Rotated boxes ``(cx, cy, w, h, angle)``, broadcastable; ``pred`` carries the
        gradient. Angle counter-clockwise, in radians (``angle="deg"``: degrees).
    mode : {"l1", "l2"}
    variance_scale : float
        ``s`` in ``Sigma = R diag(s w^2, s h^2) R^T``; 1/12 (the uniform distribution
        on the box) as in the paper and ultralytics; mmrotate's Gaussians use 1/4.
    angle : {"rad", "deg"}
    reduction : {"mean", "sum", "none"}
    weight : array [...], optional
        Per-pair weight, broadcastable to the per-pair loss.
    eps : float
        Sides are clamped at ``eps``; a square root of ``<= eps`` is 0.

    Returns
    -------
    array
        Scalar, or [...] for ``reduction="none"``; the inputs' dtype.

    Example
    -------
    >>> import torch
    >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]])
    >>> b = torch.tensor([[0.0, 0.0, 4.0, 4.0, 0.3]])  # concentric squares: B_D = ln 1.25
    >>> probiou_loss(a, a), probiou_loss(a, b)  # H_D = sqrt(1 - 1 / 1.25) = sqrt(0.2)
    (tensor(0.), tensor(0.4472))
    """
    check_choice("mode", mode, PROBIOU_MODES)
    _check_common(reduction, eps, variance_scale)
    xp, p, t, dt = _prepare(pred, target, weight, angle)
    g = _Pair(xp, p, t, variance_scale, eps, angle == "deg")
    det_sum = g.det_sum()
    # 1/8 dmu^T ((S_p + S_t)/2)^-1 dmu = 1/4 dmu^T adj(S_p + S_t) dmu / det(S_p + S_t)
    bd = g.mahalanobis_sum() / (4.0 * det_sum)
    # 1/2 ln(det((S_p + S_t)/2) / sqrt(det S_p det S_t)), each log taken separately
    bd = bd + 0.5 * xp.log(det_sum) - math.log(2.0) - 0.25 * (g.log_det_p + g.log_det_t)
    if mode == "l2":
        loss = xp.clip(bd, min=0.0)
    else:
        loss = _safe_sqrt(xp, -xp.expm1(-bd), eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def kld_loss(
    pred: Any,
    target: Any,
    *,
    fun: str = "log1p",
    tau: float = 1.0,
    alpha: float = 1.0,
    sqrt: bool = True,
    variance_scale: float = 0.25,
    angle: str = "rad",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Kullback-Leibler divergence loss of the boxes' Gaussians, as mmrotate's ``kld_loss``.

    Yang et al. 2021, "Learning High-Precision Bounding Box for Rotated Object Detection
    via Kullback-Leibler Divergence", eq. 8, with mmrotate's options
    (``gaussian_dist_loss.py``): the divergence of the target from the prediction,
    ``D = KL(N_t || N_p) = 1/2 dmu^T S_p^-1 dmu / alpha^2 + 1/2 tr(S_p^-1 S_t) + 1/2
    ln(det S_p / det S_t) - 1``; ``sqrt``: ``D <- sqrt(D)``; then ``fun``
    (``log1p``, ``sqrt`` or ``none``) and, when ``tau >= 1``, ``1 - 1 / (tau + f(D))``.
    The defaults (``fun="log1p"``, ``tau=1``, ``alpha=1``, ``sqrt=True``) are those
    of mmrotate's function; mmrotate's ``GDLoss`` module defaults to ``tau=0`` (no
    ``1 - 1/(tau + .)``) and its KLD configs pass ``tau=1``. Not symmetric. 0 for
    identical boxes; in [0, 1) with ``tau=1``.

    Arguments and returns as in :func:`probiou_loss`; ``variance_scale`` defaults to
    1/4 (mmrotate's Gaussians).

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]])
    >>> t = torch.tensor([[0.0, 0.0, 2.0, 4.0, 0.0]])  # S_p = I, S_t = diag(1, 4)
    >>> kld_loss(p, t, fun="none", tau=0.0, sqrt=False)  # (1 + 4)/2 + ln(1/4)/2 - 1
    tensor(0.8069)
    """
    check_choice("fun", fun, GAUSSIAN_FUNS)
    _check_common(reduction, eps, variance_scale)
    check_positive("alpha", alpha)
    xp, p, t, dt = _prepare(pred, target, weight, angle)
    g = _Pair(xp, p, t, variance_scale, eps, angle == "deg")
    # S_p^-1 = R_p diag(1/a_p, 1/b_p) R_p^T
    xy = 0.5 * (g.pu * g.pu / g.ap + g.pv * g.pv / g.bp)
    trace = (g.at * g.c2 + g.bt * g.s2) / g.ap + (g.at * g.s2 + g.bt * g.c2) / g.bp
    whr = 0.5 * trace + 0.5 * (g.log_det_p - g.log_det_t) - 1.0
    distance = xy / (alpha * alpha) + whr
    distance = _safe_sqrt(xp, distance, eps) if sqrt else xp.clip(distance, min=0.0)
    loss = _postprocess(xp, distance, fun, tau, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def gwd_loss(
    pred: Any,
    target: Any,
    *,
    fun: str = "log1p",
    tau: float = 1.0,
    alpha: float = 1.0,
    normalize: bool = True,
    variance_scale: float = 0.25,
    angle: str = "rad",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """Gaussian Wasserstein distance loss, as mmrotate's ``gwd_loss``.

    Yang et al. 2021, "Rethinking Rotated Object Detection with Gaussian Wasserstein
    Distance Loss", eq. 7: ``W^2 = |dmu|^2 + tr(S_p) + tr(S_t) - 2 tr((S_p^1/2 S_t
    S_p^1/2)^1/2)``, the last trace being ``sqrt(tr(S_p S_t) + 2 sqrt(det S_p det
    S_t))`` for 2x2 matrices (mmrotate's derivation). mmrotate's options: ``alpha``
    weighs the shape term (``|dmu|^2 + alpha^2 (...)``), ``D = sqrt(W^2)``,
    ``normalize`` divides by ``2 (det S_p det S_t)^(1/8)``; then ``fun`` and ``tau``
    as in :func:`kld_loss`. Defaults are mmrotate's function defaults
    (``fun="log1p"``, ``tau=1``, ``alpha=1``, ``normalize=True``). Symmetric in pred
    and target; 0 for identical boxes.

    Arguments and returns as in :func:`probiou_loss`; ``variance_scale`` defaults to 1/4.

    Example
    -------
    >>> import torch
    >>> p = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]])
    >>> t = torch.tensor([[3.0, 4.0, 2.0, 2.0, 1.0]])  # same square, moved by 5, turned
    >>> gwd_loss(p, t, fun="none", tau=0.0, normalize=False)  # W = |dmu|
    tensor(5.)
    """
    check_choice("fun", fun, GAUSSIAN_FUNS)
    _check_common(reduction, eps, variance_scale)
    check_positive("alpha", alpha)
    xp, p, t, dt = _prepare(pred, target, weight, angle)
    g = _Pair(xp, p, t, variance_scale, eps, angle == "deg")
    xy = g.dx * g.dx + g.dy * g.dy
    trace_pt = (g.ap * g.at + g.bp * g.bt) * g.c2 + (g.ap * g.bt + g.bp * g.at) * g.s2
    coupling = xp.sqrt(trace_pt + 2.0 * g.sqrt_det_pt)  # > 0: sides are >= eps
    whr = g.ap + g.bp + g.at + g.bt - 2.0 * coupling
    distance = _safe_sqrt(xp, xy + (alpha * alpha) * whr, eps)
    if normalize:
        # 2 (det S_p det S_t)^(1/8) = 2 sqrt(sqrt(det S_p det S_t)) ^ (1/2)
        distance = distance / (2.0 * xp.sqrt(xp.sqrt(g.sqrt_det_pt)))
    loss = _postprocess(xp, distance, fun, tau, eps)
    return reduce_loss(xp, loss, weight, reduction, dt)


def kfiou_loss(
    pred: Any,
    target: Any,
    *,
    fun: str = "none",
    beta: float = 1.0 / 9.0,
    center: bool = True,
    variance_scale: float = 0.25,
    angle: str = "rad",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """KFIoU loss (Kalman filter IoU), as mmrotate's ``kfiou_loss``.

    Yang et al. 2022, "The KFIoU Loss for Rotated Object Detection", eqs. 5-8: the
    "volume" of a Gaussian ``V = 4 sqrt(det S)`` (the box's area for s = 1/4), the
    overlap Gaussian's covariance ``S = S_p - K S_p`` with ``K = S_p (S_p + S_t)^-1``,
    whose determinant is ``det S_p det S_t / det(S_p + S_t)``, and ``KFIoU = V /
    (V_p + V_t - V)``, at most 1/3 (identical boxes). ``fun``: ``"none"`` ->
    ``1 - KFIoU``, ``"ln"`` -> ``-ln KFIoU`` (KFIoU clamped at eps), ``"exp"`` ->
    ``exp(1 - KFIoU) - 1``. KFIoU ignores the centres, so ``center=True`` adds
    mmrotate's smooth-L1 term ``sum over x, y of smoothL1_beta(mu_p - mu_t)``; mmrotate
    applies it to the anchor-encoded offsets, so pass ``center=False`` and add your
    own centre term when the boxes are in pixels. mmrotate adds its eps (1e-6) to the
    denominator; here a denominator ``<= eps`` gives KFIoU 0. Symmetric in pred and
    target.

    Arguments and returns as in :func:`probiou_loss`; ``variance_scale`` defaults to 1/4.

    Example
    -------
    >>> import torch
    >>> b = torch.tensor([[0.0, 0.0, 2.0, 3.0, 0.5]])
    >>> kfiou_loss(b, b)  # KFIoU of identical boxes is 1/3
    tensor(0.6667)
    """
    check_choice("fun", fun, KFIOU_FUNS)
    _check_common(reduction, eps, variance_scale)
    check_positive("beta", beta, allow_zero=True)
    xp, p, t, dt = _prepare(pred, target, weight, angle)
    g = _Pair(xp, p, t, variance_scale, eps, angle == "deg")
    v_p, v_t = 4.0 * g.sqrt_det_p, 4.0 * g.sqrt_det_t
    v = 4.0 * g.sqrt_det_pt / xp.sqrt(g.det_sum())
    kfiou = _safe_ratio(xp, v, v_p + v_t - v, eps)
    if fun == "ln":
        loss = -xp.log(xp.clip(kfiou, min=eps))
    elif fun == "exp":
        loss = xp.exp(1.0 - kfiou) - 1.0
    else:
        loss = 1.0 - kfiou
    if center:
        loss = loss + _smooth_l1(xp, g.dx, beta) + _smooth_l1(xp, g.dy, beta)
    return reduce_loss(xp, loss, weight, reduction, dt)


def _smooth_l1(xp: Any, d: Any, beta: float) -> Any:
    # Girshick 2015 (Fast R-CNN) eq. 3 with mmdet's beta: 0.5 d^2 / beta below beta
    ad = xp.abs(d)
    if beta == 0:
        return ad
    return xp.where(ad < beta, 0.5 * ad * ad / beta, ad - 0.5 * beta)
