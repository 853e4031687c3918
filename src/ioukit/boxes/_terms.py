"""Array-API building blocks of the IoU family (shared by boxes and losses).

Every function here takes the array namespace ``xp`` explicitly and works on
boxes that are *already* in ``xyxy`` layout and *already* floating point, with
shapes that broadcast against each other and end in 4. The same code therefore
serves both forms of every measure:

- aligned:  ``a`` [..., N, 4] with ``b`` [..., N, 4]           -> [..., N]
- pairwise: ``a[..., :, None, :]`` with ``b[..., None, :, :]`` -> [..., N, M]

The functions use only array-API operations (plus ``where`` guards), so they
are differentiable under torch autograd and traceable by ``jax.jit``. Every
division and every non-smooth point is guarded so that degenerate inputs
(zero-area boxes, identical boxes, coincident centres) give finite values and
finite gradients, never NaN. ``eps`` is always a *threshold*: a denominator
(or squared norm) ``<= eps`` counts as zero. It is never added to a
denominator, so results away from degeneracy are exact.

Names and signatures are stable: :mod:`ioukit.losses` imports them.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "safe_divide",
    "safe_pow",
    "box_area",
    "box_wh",
    "box_center",
    "inter_union",
    "enclosing_box",
    "enclosing_wh",
    "enclosing_diagonal_sq",
    "center_offsets",
    "center_distance_sq",
    "width_height_diff_sq",
    "corner_distances_sq",
    "aspect_consistency_v",
    "ciou_alpha",
    "giou_penalty",
    "diou_penalty",
    "ciou_penalty",
    "eiou_penalty",
    "siou_angle_cost",
    "siou_distance_cost",
    "siou_shape_cost",
    "siou_penalty",
    "mpdiou_penalty",
]

Array = Any


def safe_divide(xp: Any, num: Array, den: Array, eps: float) -> Array:
    """``num / den`` where ``den > eps``, else exactly 0, with finite gradients.

    The masked-out denominator is replaced by 1 *before* dividing, so neither
    the value nor the autograd/JAX gradient sees ``x / 0`` (the usual
    ``where(den > 0, num / den, 0)`` still back-propagates NaN).

    Shapes: ``num`` and ``den`` broadcast; the result has their broadcast shape.
    """
    # written with <= so that a NaN denominator gives NaN (NaN in, NaN out, as
    # torchvision), not the 0 of a vanished denominator
    zero = den <= eps
    return xp.where(zero, 0.0, num / xp.where(zero, 1.0, den))


def safe_pow(xp: Any, x: Array, p: float) -> Array:
    """``x ** p`` for ``x > 0`` and 0 for ``x <= 0``, with finite gradients.

    Guards the infinite derivative of ``x ** p`` at 0 for ``p < 1`` (Alpha-IoU
    with alpha < 1). Shapes: elementwise.
    """
    zero = x <= 0  # NaN stays NaN
    return xp.where(zero, 0.0, xp.pow(xp.where(zero, 1.0, x), p))


def box_wh(xp: Any, boxes: Array) -> tuple[Array, Array]:
    """Width and height ``(x2 - x1, y2 - y1)`` of xyxy boxes [..., 4] -> two [...]."""
    return boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]


def box_center(xp: Any, boxes: Array) -> tuple[Array, Array]:
    """Centre ``((x1 + x2) / 2, (y1 + y2) / 2)`` of xyxy boxes [..., 4] -> two [...]."""
    return (boxes[..., 0] + boxes[..., 2]) * 0.5, (boxes[..., 1] + boxes[..., 3]) * 0.5


def box_area(xp: Any, boxes: Array) -> Array:
    """Area ``(x2 - x1) * (y2 - y1)`` of xyxy boxes [..., 4] -> [...]."""
    w, h = box_wh(xp, boxes)
    return w * h


def inter_union(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """Intersection and union areas of xyxy boxes ``a`` and ``b`` (broadcast).

    Intersection is the clipped overlap rectangle (0 for disjoint or touching
    boxes); union is ``area(a) + area(b) - inter``. Shapes: [..., 4] x [..., 4]
    -> two arrays of the broadcast leading shape.
    """
    iw = xp.clip(xp.minimum(a[..., 2], b[..., 2]) - xp.maximum(a[..., 0], b[..., 0]), min=0)
    ih = xp.clip(xp.minimum(a[..., 3], b[..., 3]) - xp.maximum(a[..., 1], b[..., 1]), min=0)
    inter = iw * ih
    return inter, box_area(xp, a) + box_area(xp, b) - inter


def enclosing_box(xp: Any, a: Array, b: Array) -> tuple[Array, Array, Array, Array]:
    """Smallest axis-aligned box enclosing ``a`` and ``b``: ``(x1, y1, x2, y2)``.

    Returned as four arrays of the broadcast leading shape (not stacked, to
    avoid a copy in the hot path).
    """
    return (
        xp.minimum(a[..., 0], b[..., 0]),
        xp.minimum(a[..., 1], b[..., 1]),
        xp.maximum(a[..., 2], b[..., 2]),
        xp.maximum(a[..., 3], b[..., 3]),
    )


def enclosing_wh(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """Width and height ``(cw, ch)`` of the enclosing box of ``a`` and ``b``."""
    x1, y1, x2, y2 = enclosing_box(xp, a, b)
    return x2 - x1, y2 - y1


def enclosing_diagonal_sq(xp: Any, a: Array, b: Array) -> Array:
    """Squared diagonal ``cw**2 + ch**2`` of the enclosing box (DIoU's c^2)."""
    cw, ch = enclosing_wh(xp, a, b)
    return cw * cw + ch * ch


def center_offsets(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """Centre offsets ``(cx_b - cx_a, cy_b - cy_a)`` (signed)."""
    acx, acy = box_center(xp, a)
    bcx, bcy = box_center(xp, b)
    return bcx - acx, bcy - acy


def center_distance_sq(xp: Any, a: Array, b: Array) -> Array:
    """Squared Euclidean distance of the centres (DIoU's rho^2)."""
    dx, dy = center_offsets(xp, a, b)
    return dx * dx + dy * dy


def width_height_diff_sq(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """``((w_a - w_b)**2, (h_a - h_b)**2)``: EIoU's rho^2(w, w_gt), rho^2(h, h_gt)."""
    wa, ha = box_wh(xp, a)
    wb, hb = box_wh(xp, b)
    return (wa - wb) ** 2, (ha - hb) ** 2


def corner_distances_sq(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """Squared distances of the top-left and of the bottom-right corners (MPDIoU d1^2, d2^2)."""
    d1 = (a[..., 0] - b[..., 0]) ** 2 + (a[..., 1] - b[..., 1]) ** 2
    d2 = (a[..., 2] - b[..., 2]) ** 2 + (a[..., 3] - b[..., 3]) ** 2
    return d1, d2


def _aspect_angle(xp: Any, w: Array, h: Array, eps: float) -> Array:
    # atan(w / h) written as atan2(w, h): equal for h > 0, pi/2 for a zero-height
    # box, and 0 (with zero gradient) for a point box where w^2 + h^2 <= eps.
    ok = w * w + h * h > eps
    return xp.where(ok, xp.atan2(xp.where(ok, w, 0.0), xp.where(ok, h, 1.0)), 0.0)


def aspect_consistency_v(xp: Any, a: Array, b: Array, eps: float) -> Array:
    """CIoU's aspect-ratio consistency ``v`` (Zheng et al. 2020, arXiv:1911.08287, CIoU's v).

    ``v = 4 / pi**2 * (atan(w_b / h_b) - atan(w_a / h_a))**2``, in [0, 1].
    ``atan(w / h)`` is evaluated as ``atan2(w, h)`` (pi/2 for zero height); a
    box with ``w**2 + h**2 <= eps`` (a point) has angle 0. Symmetric in a, b.
    """
    wa, ha = box_wh(xp, a)
    wb, hb = box_wh(xp, b)
    d = _aspect_angle(xp, wb, hb, eps) - _aspect_angle(xp, wa, ha, eps)
    return (4.0 / math.pi**2) * d * d


def ciou_alpha(xp: Any, iou: Array, v: Array, eps: float) -> Array:
    """CIoU's trade-off ``alpha = v / ((1 - IoU) + v)`` (Zheng et al. 2020, CIoU's trade-off).

    0 where the denominator is ``<= eps`` (identical boxes: IoU = 1, v = 0).
    The paper differentiates through it; torchvision/ultralytics detach it and
    mmdet uses it only where IoU > 0.5. Losses choose: pass ``iou``/``v``
    detached for the former, or mask the result for the latter.
    """
    return safe_divide(xp, v, (1.0 - iou) + v, eps)


def giou_penalty(xp: Any, a: Array, b: Array, union: Array, eps: float) -> Array:
    """GIoU penalty ``(C - U) / C``, C the enclosing-box area.

    Rezatofighi et al. 2019 (arXiv:1902.09630), Algorithm 1.

    ``union`` is the second output of :func:`inter_union`. 0 where ``C <= eps``.
    """
    cw, ch = enclosing_wh(xp, a, b)
    c_area = cw * ch
    return safe_divide(xp, c_area - union, c_area, eps)


def diou_penalty(xp: Any, a: Array, b: Array, eps: float) -> Array:
    """DIoU penalty ``rho**2 / c**2``; 0 where ``c**2 <= eps``.

    Zheng et al. 2020 (arXiv:1911.08287), R_DIoU.
    """
    return safe_divide(xp, center_distance_sq(xp, a, b), enclosing_diagonal_sq(xp, a, b), eps)


def ciou_penalty(xp: Any, a: Array, b: Array, iou: Array, eps: float) -> Array:
    """CIoU penalty ``rho**2 / c**2 + alpha * v`` (Zheng et al. 2020, R_CIoU).

    alpha is differentiated through, as in the paper (see :func:`ciou_alpha`).
    """
    v = aspect_consistency_v(xp, a, b, eps)
    return diou_penalty(xp, a, b, eps) + ciou_alpha(xp, iou, v, eps) * v


def eiou_penalty(xp: Any, a: Array, b: Array, eps: float) -> Array:
    """EIoU penalty (Zhang et al. 2021, arXiv:2101.08158, L_EIoU).

    ``rho**2(b, b_gt) / c**2 + rho**2(w, w_gt) / cw**2 + rho**2(h, h_gt) / ch**2``,
    with c, cw, ch the diagonal, width and height of the enclosing box; each
    ratio is 0 where its denominator is ``<= eps``.
    """
    cw, ch = enclosing_wh(xp, a, b)
    dw2, dh2 = width_height_diff_sq(xp, a, b)
    return (
        safe_divide(xp, center_distance_sq(xp, a, b), cw * cw + ch * ch, eps)
        + safe_divide(xp, dw2, cw * cw, eps)
        + safe_divide(xp, dh2, ch * ch, eps)
    )


def siou_angle_cost(xp: Any, a: Array, b: Array, eps: float) -> Array:
    """SIoU angle cost ``Lambda`` (Gevorgyan 2022, arXiv:2205.12740, angle cost), in [0, 1].

    ``Lambda = 1 - 2 sin**2(arcsin(c_h / sigma) - pi/4)`` with sigma the centre
    distance and c_h the centres' height difference. That expression equals
    ``sin(2 alpha) = 2 |dx| |dy| / sigma**2`` exactly (1 - 2 sin^2 t = cos 2t),
    which we evaluate because it needs neither arcsin nor sqrt (both have
    infinite derivatives at the ends). 0 where ``sigma**2 <= eps``
    (coincident centres).
    """
    dx, dy = center_offsets(xp, a, b)
    return safe_divide(xp, 2.0 * xp.abs(dx) * xp.abs(dy), dx * dx + dy * dy, eps)


def siou_distance_cost(xp: Any, a: Array, b: Array, angle_cost: Array, eps: float) -> Array:
    """SIoU distance cost ``Delta`` (Gevorgyan 2022, distance cost), in [0, 2).

    ``Delta = sum_{t=x,y} (1 - exp(-gamma * rho_t))`` with ``gamma = 2 - Lambda``,
    ``rho_x = (dx / cw)**2``, ``rho_y = (dy / ch)**2`` and cw, ch the enclosing
    box's width and height (ratios 0 where ``cw**2`` / ``ch**2 <= eps``).
    """
    dx, dy = center_offsets(xp, a, b)
    cw, ch = enclosing_wh(xp, a, b)
    gamma = 2.0 - angle_cost
    rho_x = safe_divide(xp, dx * dx, cw * cw, eps)
    rho_y = safe_divide(xp, dy * dy, ch * ch, eps)
    return (1.0 - xp.exp(-gamma * rho_x)) + (1.0 - xp.exp(-gamma * rho_y))


def siou_shape_cost(xp: Any, a: Array, b: Array, theta: float, eps: float) -> Array:
    """SIoU shape cost ``Omega`` (Gevorgyan 2022, shape cost), in [0, 2).

    ``Omega = sum_{t=w,h} (1 - exp(-omega_t))**theta`` with
    ``omega_w = |w_a - w_b| / max(w_a, w_b)`` (0 where the max is ``<= eps``).
    """
    wa, ha = box_wh(xp, a)
    wb, hb = box_wh(xp, b)
    om_w = safe_divide(xp, xp.abs(wa - wb), xp.maximum(wa, wb), eps)
    om_h = safe_divide(xp, xp.abs(ha - hb), xp.maximum(ha, hb), eps)
    return safe_pow(xp, 1.0 - xp.exp(-om_w), theta) + safe_pow(xp, 1.0 - xp.exp(-om_h), theta)


def siou_penalty(xp: Any, a: Array, b: Array, theta: float, eps: float) -> Array:
    """SIoU penalty ``(Delta + Omega) / 2`` (Gevorgyan 2022: L_box = 1 - IoU + penalty)."""
    lam = siou_angle_cost(xp, a, b, eps)
    return 0.5 * (siou_distance_cost(xp, a, b, lam, eps) + siou_shape_cost(xp, a, b, theta, eps))


def mpdiou_penalty(xp: Any, a: Array, b: Array, width: Any, height: Any, eps: float) -> Array:
    """MPDIoU penalty ``(d1**2 + d2**2) / (w**2 + h**2)`` (Ma & Xu 2023, arXiv:2307.07662).

    d1, d2: distances of the top-left and of the bottom-right corners; w, h:
    the input image's width and height (numbers, or arrays broadcasting with
    the result). 0 where ``w**2 + h**2 <= eps``.
    """
    d1, d2 = corner_distances_sq(xp, a, b)
    den = width * width + height * height
    if isinstance(den, (int, float)):  # plain numbers: no array mask needed
        return (d1 + d2) * (1.0 / den) if den > eps else xp.zeros_like(d1)
    return safe_divide(xp, d1 + d2, den, eps)
