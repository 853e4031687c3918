"""IoU of 3-D boxes: pairwise and aligned, axis-aligned / yaw-only / fully oriented.

- ``"xyzxyz"``: closed form (products of 1-D overlaps), NumPy broadcasting.
- ``"xyzlwhyaw"``: the BEV rotated-rectangle intersection (``ioukit.geometry._convex``,
  shared with ``ioukit.rotated``) times the z overlap, compiled (``_kernels.yaw_measure``).
- ``"xyzlwhmat"`` / ``"corners"``: exact convex-polytope intersection
  (``_kernels.oriented_iou``, the face-clipping method of pytorch3d's ``box3d_overlap``).

All run in float64; the result has the input's float dtype (float64 for integers) and
the input's array type (NumPy, or a torch tensor on the input's device; no autograd:
the differentiable forms are the losses in ``ioukit.losses``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_torch
from ..errors import BackendError, InvalidParameterError, ShapeMismatchError
from . import _kernels as K
from ._formats import WIDTH, _check_fmt, to_frames

__all__ = ["iou", "bev_iou", "giou", "intersection"]

#: coplanar faces closer than this (relative to the boxes' coordinates) are one plane
COPLANAR_RTOL = 1e-9


def _to_numpy(x: Any, name: str) -> tuple[np.ndarray, Any]:
    """float64 NumPy copy of x, and how to give results back (dtype/device of x)."""
    if is_torch(x):
        t = x.detach()
        back = ("torch", t.dtype if t.is_floating_point() else None, t.device)
        return t.cpu().to(dtype=__import__("torch").float64).numpy(), back
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        arr = np.asarray(x)
        dt = arr.dtype if arr.dtype.kind == "f" else None
        return arr.astype(np.float64, copy=False), ("numpy", dt, None)
    raise BackendError(f"{name}: expected a NumPy array, torch tensor or list, got {type(x)}")


def _give_back(out: np.ndarray, back: Any) -> Any:
    kind, dtype, device = back
    if kind == "torch":
        import torch

        t = torch.from_numpy(np.ascontiguousarray(out))
        return t.to(device=device, dtype=dtype or torch.float64)
    return out.astype(dtype, copy=False) if dtype is not None else out


def _split(x: np.ndarray, fmt: str, name: str, aligned: bool) -> tuple[tuple[int, ...], int]:
    """(leading shape, rows) of a box array: [..., N, W] (pairwise) or [..., W] (aligned)."""
    box_nd = 2 if fmt == "corners" else 1
    if x.ndim < box_nd + (0 if aligned else 1):
        box = "8, 3" if box_nd == 2 else str(WIDTH[fmt])
        rows = "" if aligned else "N, "
        raise ShapeMismatchError(f"{name}: expected [..., {rows}{box}] boxes, got {x.shape}")
    lead = x.shape[: x.ndim - box_nd]
    return lead, int(np.prod(lead, dtype=np.int64))


def _measure(a: Any, b: Any, fmt: str, aligned: bool, what: str, eps: float) -> Any:
    _check_fmt(fmt)
    an, back = _to_numpy(a, "a")
    bn, back_b = _to_numpy(b, "b")
    if back[0] != back_b[0]:
        raise BackendError("a and b must come from one array library (NumPy or torch)")
    if back[1] is None and back_b[1] is not None:
        back = back_b
    la, na = _split(an, fmt, "a", aligned)
    lb, nb = _split(bn, fmt, "b", aligned)
    if aligned:
        if la != lb:
            raise ShapeMismatchError(f"aligned=True needs equal box counts, got {la} and {lb}")
        out = _rows(an, bn, fmt, True, what, eps).reshape(la)
        return _give_back(out, back)
    if la[:-1] != lb[:-1]:
        raise ShapeMismatchError(f"a {an.shape} and b {bn.shape}: batch axes must match")
    batch, n, m = la[:-1], la[-1], lb[-1]
    nb_ = int(np.prod(batch, dtype=np.int64))
    box_shape = an.shape[len(la) :]
    a3 = an.reshape(nb_, n, *box_shape)
    b3 = bn.reshape(nb_, m, *box_shape)
    out = np.empty((nb_, n, m), dtype=np.float64)
    for k in range(nb_):
        out[k] = _rows(a3[k], b3[k], fmt, False, what, eps)
    return _give_back(out.reshape(*batch, n, m), back)


def _rows(a: np.ndarray, b: np.ndarray, fmt: str, aligned: bool, what: str, eps: float) -> Any:
    """The measure of 2-D row arrays (pairwise [N, M] or aligned [N])."""
    if fmt == "xyzxyz":
        fa, fb = to_frames(a, fmt, name="a"), to_frames(b, fmt, name="b")
        return _axis_aligned(fa, fb, aligned, what, eps)
    if fmt == "xyzlwhyaw":
        to_frames(a, fmt, name="a")  # validation (shape, finite, sizes >= 0)
        to_frames(b, fmt, name="b")
        ra = np.ascontiguousarray(a.reshape(-1, 7))
        rb = np.ascontiguousarray(b.reshape(-1, 7))
        return K.yaw_measure(ra, rb, aligned, K.YAW_MODES[what], eps)
    if what not in ("iou", "intersection"):
        raise InvalidParameterError(
            f"{what} is defined for fmt='xyzxyz' and 'xyzlwhyaw', not for fmt={fmt!r}"
        )
    fa, fb = to_frames(a, fmt, name="a"), to_frames(b, fmt, name="b")
    return K.oriented_iou(fa, fb, aligned, COPLANAR_RTOL, eps, what == "intersection")


def _axis_aligned(fa: np.ndarray, fb: np.ndarray, aligned: bool, what: str, eps: float) -> Any:
    # boxes as (lo, hi) per axis; broadcast [N, 1, 3] x [1, M, 3] unless aligned
    alo, ahi = fa[:, 0:3] - fa[:, 12:15], fa[:, 0:3] + fa[:, 12:15]
    blo, bhi = fb[:, 0:3] - fb[:, 12:15], fb[:, 0:3] + fb[:, 12:15]
    if not aligned:
        alo, ahi = alo[:, None], ahi[:, None]
    axes = slice(0, 2) if what.startswith("bev") else slice(0, 3)
    ext_a = (ahi - alo)[..., axes].prod(-1)
    ext_b = (bhi - blo)[..., axes].prod(-1)
    side = np.clip(np.minimum(ahi, bhi) - np.maximum(alo, blo), 0, None)[..., axes]
    inter = side.prod(-1)
    if what in ("intersection", "bev_intersection"):
        return np.broadcast_to(inter, np.broadcast_shapes(ext_a.shape, ext_b.shape)).copy()
    union = ext_a + ext_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > eps, inter / np.where(union > eps, union, 1), 0.0)
    if what != "giou":
        return iou
    hull = (np.maximum(ahi, bhi) - np.minimum(alo, blo)).prod(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hull > eps, iou - (hull - union) / np.where(hull > eps, hull, 1), iou)


def iou(a: Any, b: Any, *, fmt: str = "xyzlwhyaw", aligned: bool = False, eps: float = 0.0) -> Any:
    """Exact 3-D IoU, pairwise ``[..., N, W] x [..., M, W] -> [..., N, M]`` or aligned
    ``[..., W] x [..., W] -> [...]``.

    ``fmt``: ``"xyzlwhyaw"`` (default; BEV rotated intersection x z overlap),
    ``"xyzxyz"`` (axis-aligned), ``"xyzlwhmat"`` (center, size, rotation matrix) or
    ``"corners"`` (``[..., 8, 3]``, exact convex-polytope intersection). A union
    ``<= eps`` gives 0 (two empty boxes). NumPy or torch (CPU/CUDA, computed on the CPU,
    no gradient); result in the input's float dtype.

    >>> a = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    >>> b = np.array([[1.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0], [0, 0, 0, 2, 2, 2, np.pi / 4]])
    >>> iou(a, b).round(6)  # a half overlap: 4 / 12; a 45-degree turn: 8(sqrt2 - 1) / ...
    array([[0.333333, 0.707107]])
    >>> iou([0, 0, 0, 2, 2, 2], [1, 1, 1, 3, 3, 3], fmt="xyzxyz", aligned=True)
    array(0.06666667)
    """
    return _measure(a, b, fmt, aligned, "iou", eps)


def intersection(a: Any, b: Any, *, fmt: str = "xyzlwhyaw", aligned: bool = False) -> Any:
    """Exact intersection volume (same shapes and formats as :func:`iou`).

    >>> intersection([[0, 0, 0, 2, 2, 2]], [[1, 1, 1, 3, 3, 3]], fmt="xyzxyz")
    array([[1.]])
    """
    return _measure(a, b, fmt, aligned, "intersection", 0.0)


def bev_iou(
    a: Any, b: Any, *, fmt: str = "xyzlwhyaw", aligned: bool = False, eps: float = 0.0
) -> Any:
    """Bird's-eye-view IoU: the boxes' footprints in the x-y plane (z ignored).

    Defined for ``"xyzlwhyaw"`` (rotated rectangles ``(cx, cy, l, w, yaw)``) and
    ``"xyzxyz"`` (rectangles ``(x1, y1, x2, y2)``).

    >>> bev_iou([[0, 0, 0, 2, 2, 2, 0]], [[1, 0, 5, 2, 2, 1, 0]]).round(6)  # z apart
    array([[0.333333]])
    """
    if fmt not in ("xyzlwhyaw", "xyzxyz"):
        raise InvalidParameterError(f"bev_iou is defined for 'xyzlwhyaw' and 'xyzxyz', not {fmt!r}")
    return _measure(a, b, fmt, aligned, "bev_iou", eps)


def giou(a: Any, b: Any, *, fmt: str = "xyzlwhyaw", aligned: bool = False, eps: float = 0.0) -> Any:
    """Generalized IoU in 3-D (Rezatofighi et al. 2019): ``IoU - (C - U) / C``.

    The enclosing shape ``C``: for ``"xyzxyz"`` the smallest axis-aligned box holding
    both; for ``"xyzlwhyaw"`` the prism whose base is the convex hull of both BEV
    rectangles and whose height is the joint z span (min bottom to max top). Both
    contain the union and give 1 for identical boxes, ``-> -1`` far apart. Not defined
    for the general formats. A ``C <= eps`` gives the IoU.

    >>> giou([[0, 0, 0, 1, 1, 1]], [[2, 0, 0, 3, 1, 1]], fmt="xyzxyz")  # 1 - 2/3 gap
    array([[-0.33333333]])
    """
    if fmt not in ("xyzlwhyaw", "xyzxyz"):
        raise InvalidParameterError(f"giou is defined for 'xyzlwhyaw' and 'xyzxyz', not {fmt!r}")
    return _measure(a, b, fmt, aligned, "giou", eps)
