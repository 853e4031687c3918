"""IoU and GIoU losses of 3-D boxes (PyTorch, differentiable).

``fmt="xyzxyz"`` (axis-aligned) and ``fmt="xyzlwhyaw"`` (yaw-only; conventions in
docs/boxes3d.md). The values equal ``1 - ioukit.boxes3d.iou`` / ``1 - giou`` (the tests
compare them); the gradients come from autograd through a differentiable form:

- the BEV intersection of two rotated rectangles is the convex polygon whose vertices are
  the corners of each rectangle inside the other and the crossings of their edges (24
  candidates); the valid ones are ordered by angle about their mean (the order is
  piecewise constant, so it carries no gradient) and the shoelace formula gives the
  area (the construction of mmcv's ``diff_iou_rotated``, Zhou et al. 2019, "IoU loss
  for 2D/3D object detection");
- GIoU's enclosing prism: the convex hull of the 8 BEV corners (a corner is on the hull
  when some edge through it has every corner on one side) times the joint z span.
"""

from __future__ import annotations

from typing import Any

from .._backend import namespace
from ..errors import InvalidFormatError, ShapeMismatchError
from ._common import check_choice, reduce_loss

__all__ = ["iou3d_loss", "giou3d_loss"]

EPS = 1e-7
_SIGNS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))


def _torch() -> Any:
    import torch

    return torch


def _bev_corners(b: Any) -> Any:
    """[..., 4, 2] corners of (cx, cy, l, w, yaw) rectangles, counter-clockwise."""
    torch = _torch()
    c, s = torch.cos(b[..., 6]), torch.sin(b[..., 6])
    hl, hw = b[..., 3] / 2, b[..., 4] / 2
    pts = []
    for sl, sw in _SIGNS:
        dx, dy = sl * hl, sw * hw
        pts.append(torch.stack([b[..., 0] + dx * c - dy * s, b[..., 1] + dx * s + dy * c], -1))
    return torch.stack(pts, -2)


def _inside(p: Any, rect: Any) -> Any:
    """[..., K] whether points p [..., K, 2] lie in the rectangles [..., 7] (closed)."""
    torch = _torch()
    c, s = torch.cos(rect[..., 6])[..., None], torch.sin(rect[..., 6])[..., None]
    dx, dy = p[..., 0] - rect[..., None, 0], p[..., 1] - rect[..., None, 1]
    u, v = dx * c + dy * s, -dx * s + dy * c
    tol = 1e-9 * (1 + rect[..., None, 3] + rect[..., None, 4])
    return (u.abs() <= rect[..., None, 3] / 2 + tol) & (v.abs() <= rect[..., None, 4] / 2 + tol)


def _ordered_area(pts: Any, valid: Any) -> Any:
    """Area of the convex polygon of the valid points of pts [..., K, 2] (any order)."""
    torch = _torch()
    w = valid.to(pts.dtype)
    k = w.sum(-1, keepdim=True)
    center = (pts * w[..., None]).sum(-2) / k.clamp(min=1)
    rel = pts - center[..., None, :]
    with torch.no_grad():
        ang = torch.atan2(rel[..., 1], rel[..., 0])
        ang = torch.where(valid, ang, torch.full_like(ang, 10.0))  # invalid points last
        order = ang.argsort(-1)
    srt = torch.gather(rel, -2, order[..., None].expand_as(rel))
    ok = torch.gather(valid, -1, order)
    srt = torch.where(ok[..., None], srt, srt[..., :1, :])  # invalid -> the first point
    nxt = torch.roll(srt, -1, dims=-2)
    cross = srt[..., 0] * nxt[..., 1] - srt[..., 1] * nxt[..., 0]
    area = 0.5 * cross.sum(-1)
    return torch.where(k[..., 0] >= 3, area.abs(), torch.zeros_like(area))


def _bev_intersection(a: Any, b: Any) -> Any:
    torch = _torch()
    ca, cb = _bev_corners(a), _bev_corners(b)
    # edges of a (4) x edges of b (4): p + t d = q + u e, 0 <= t, u <= 1
    p, d = ca[..., :, None, :], (torch.roll(ca, -1, -2) - ca)[..., :, None, :]
    q, e = cb[..., None, :, :], (torch.roll(cb, -1, -2) - cb)[..., None, :, :]
    den = d[..., 0] * e[..., 1] - d[..., 1] * e[..., 0]
    qp = q - p
    ok_den = den.abs() > 1e-12 * (1 + (d * d).sum(-1) + (e * e).sum(-1))
    safe = torch.where(ok_den, den, torch.ones_like(den))
    t = (qp[..., 0] * e[..., 1] - qp[..., 1] * e[..., 0]) / safe
    u = (qp[..., 0] * d[..., 1] - qp[..., 1] * d[..., 0]) / safe
    cross_ok = ok_den & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    xpts = (p + t[..., None] * d).flatten(-3, -2)
    pts = torch.cat([ca, cb, xpts], -2)
    valid = torch.cat([_inside(ca, b), _inside(cb, a), cross_ok.flatten(-2)], -1)
    return _ordered_area(pts, valid)


def _hull_area(pts: Any) -> Any:
    """Area of the convex hull of pts [..., K, 2]."""
    torch = _torch()
    with torch.no_grad():
        pi, pj = pts[..., :, None, None, :], pts[..., None, :, None, :]
        pk = pts[..., None, None, :, :]
        cr = (pj[..., 0] - pi[..., 0]) * (pk[..., 1] - pi[..., 1]) - (pj[..., 1] - pi[..., 1]) * (
            pk[..., 0] - pi[..., 0]
        )
        scale = 1e-12 * (1 + (pts * pts).sum(-1).amax(-1))[..., None, None, None]
        distinct = (pi - pj).abs().sum(-1)[..., 0] > 0
        edge = (cr >= -scale).all(-1) & distinct  # [..., i, j]: every point left of i->j
        on_hull = edge.any(-1) | edge.any(-2)
    return _ordered_area(pts, on_hull)


def _measure(pred: Any, target: Any, fmt: str, eps: float, giou: bool) -> tuple[Any, Any]:
    torch = _torch()
    if not (isinstance(pred, torch.Tensor) and isinstance(target, torch.Tensor)):
        raise InvalidFormatError("3-D box losses take torch tensors (pred and target)")
    width = {"xyzxyz": 6, "xyzlwhyaw": 7}
    if fmt not in width:
        raise InvalidFormatError(f"fmt must be 'xyzxyz' or 'xyzlwhyaw' for 3-D losses, got {fmt!r}")
    if pred.shape != target.shape or pred.shape[-1:] != (width[fmt],):
        raise ShapeMismatchError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)}: equal [..., {width[fmt]}]"
        )
    dt = torch.promote_types(pred.dtype, target.dtype)
    if not dt.is_floating_point:
        dt = torch.float32
    p, t = pred.to(dt), target.to(dt)
    if fmt == "xyzxyz":
        lo, hi = torch.maximum(p[..., :3], t[..., :3]), torch.minimum(p[..., 3:], t[..., 3:])
        inter = (hi - lo).clamp(min=0).prod(-1)
        va, vb = (p[..., 3:] - p[..., :3]).prod(-1), (t[..., 3:] - t[..., :3]).prod(-1)
        hull = (torch.maximum(p[..., 3:], t[..., 3:]) - torch.minimum(p[..., :3], t[..., :3])).prod(
            -1
        )
    else:
        za0, za1 = p[..., 2] - p[..., 5] / 2, p[..., 2] + p[..., 5] / 2
        zb0, zb1 = t[..., 2] - t[..., 5] / 2, t[..., 2] + t[..., 5] / 2
        dz = (torch.minimum(za1, zb1) - torch.maximum(za0, zb0)).clamp(min=0)
        inter = _bev_intersection(p, t) * dz
        va, vb = p[..., 3] * p[..., 4] * p[..., 5], t[..., 3] * t[..., 4] * t[..., 5]
        hull = None
        if giou:
            span = torch.maximum(za1, zb1) - torch.minimum(za0, zb0)
            hull = _hull_area(torch.cat([_bev_corners(p), _bev_corners(t)], -2)) * span
    union = va + vb - inter
    ok = union > eps
    iou = torch.where(
        ok, inter / torch.where(ok, union, torch.ones_like(union)), torch.zeros_like(union)
    )
    if not giou:
        return iou, dt
    hull = torch.maximum(hull, union)  # rounding: the enclosing shape holds the union
    okh = hull > eps
    pen = torch.where(
        okh, (hull - union) / torch.where(okh, hull, torch.ones_like(hull)), torch.zeros_like(hull)
    )
    return iou - pen, dt


def iou3d_loss(
    pred: Any,
    target: Any,
    *,
    fmt: str = "xyzlwhyaw",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """3-D IoU loss ``1 - IoU`` of aligned pairs ``[..., 7]`` (or ``[..., 6]`` xyzxyz).

    Equals ``1 - ioukit.boxes3d.iou(pred, target, fmt=fmt, aligned=True)``; a union
    ``<= eps`` gives IoU 0. torch tensors, autograd through the exact intersection.

    >>> import torch
    >>> p = torch.tensor([[0.0, 0, 0, 2, 2, 2, 0]], requires_grad=True)
    >>> loss = iou3d_loss(p, torch.tensor([[1.0, 0, 0, 2, 2, 2, 0]]))  # IoU 1/3
    >>> round(float(loss.detach()), 6)
    0.666667
    >>> loss.backward(); bool(p.grad[0, 0] < 0)  # moving toward the target lowers it
    True
    """
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    iou, dt = _measure(pred, target, fmt, eps, giou=False)
    return reduce_loss(namespace(pred), 1.0 - iou, weight, reduction, dt)


def giou3d_loss(
    pred: Any,
    target: Any,
    *,
    fmt: str = "xyzlwhyaw",
    reduction: str = "mean",
    weight: Any = None,
    eps: float = EPS,
) -> Any:
    """3-D GIoU loss ``1 - GIoU`` (enclosing shape as in ``ioukit.boxes3d.giou``), in [0, 2).

    >>> import torch
    >>> p = torch.tensor([[0.0, 0, 0, 1, 1, 1, 0]])
    >>> round(float(giou3d_loss(p, torch.tensor([[2.0, 0, 0, 1, 1, 1, 0]]))), 6)  # 1 + 1/3
    1.333333
    """
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    g, dt = _measure(pred, target, fmt, eps, giou=True)
    return reduce_loss(namespace(pred), 1.0 - g, weight, reduction, dt)
