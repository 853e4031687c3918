"""Rotated-box measures: area, IoU, GIoU, intersection area (pairwise or aligned).

The overlap of two rotated boxes is the area of one box's polygon clipped by the other's
(Sutherland-Hodgman, ``ioukit/geometry/_convex.pxd``), in double precision whatever the
input dtype, rounded once to the output dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import namespace
from ..errors import ShapeMismatchError
from . import _kernels as K
from ._input import angle_scale, as_rboxes, back, check_eps, check_rboxes, host, radians

__all__ = ["area", "iou", "giou", "intersection_area"]


def area(boxes: Any) -> Any:
    """Area ``w * h`` of rotated boxes.

    Args:
        boxes: ``[..., 5]`` rows ``(cx, cy, w, h, angle)``; NumPy, torch or JAX.

    Returns:
        ``[...]`` areas in the input's library and dtype (autograd intact).

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import area
        >>> area(np.array([[0.0, 0.0, 4.0, 2.0, 0.3]]))
        array([8.])
    """
    b = as_rboxes(boxes, "boxes")
    return b[..., 2] * b[..., 3]


def _measure(a: Any, b: Any, aligned: bool, angle: str, mode: int, eps: Any) -> Any:
    a = as_rboxes(a, "a")
    b = as_rboxes(b, "b")
    xp = namespace(a, b)
    out_dtype = xp.result_type(a.dtype, b.dtype)
    scale = angle_scale(angle)
    e = check_eps(eps)
    ah, bh = host(a), host(b)
    check_rboxes(ah, "a")
    check_rboxes(bh, "b")
    kdtype = np.result_type(ah.dtype, bh.dtype)
    if aligned:
        try:
            shape = np.broadcast_shapes(ah.shape[:-1], bh.shape[:-1])
        except ValueError:
            raise ShapeMismatchError(
                f"aligned: a {tuple(ah.shape)} and b {tuple(bh.shape)} do not broadcast"
            ) from None
        ra = radians(np.broadcast_to(ah, shape + (5,)), scale, kdtype)
        rb = radians(np.broadcast_to(bh, shape + (5,)), scale, kdtype)
        out = np.empty(ra.shape[0], kdtype)
        K.aligned(ra, rb, out, mode, e)
        return back(out.reshape(shape), a, out_dtype)
    for name, x in (("a", ah), ("b", bh)):
        if x.ndim < 2:
            raise ShapeMismatchError(f"{name} must be [..., N, 5]; got {tuple(x.shape)}")
    try:
        batch = np.broadcast_shapes(ah.shape[:-2], bh.shape[:-2])
    except ValueError:
        raise ShapeMismatchError(
            f"the batch shapes of a {tuple(ah.shape)} and b {tuple(bh.shape)} do not broadcast"
        ) from None
    n, m = ah.shape[-2], bh.shape[-2]
    ra = radians(np.broadcast_to(ah, batch + (n, 5)), scale, kdtype).reshape(batch + (n, 5))
    rb = radians(np.broadcast_to(bh, batch + (m, 5)), scale, kdtype).reshape(batch + (m, 5))
    out = np.empty(batch + (n, m), kdtype)
    for idx in np.ndindex(*batch):
        K.pairwise(ra[idx], rb[idx], out[idx], mode, e)
    return back(out, a, out_dtype)


def iou(a: Any, b: Any, *, aligned: bool = False, angle: str = "rad", eps: float = 0.0) -> Any:
    """Exact IoU of rotated boxes: ``inter / (w_a h_a + w_b h_b - inter)``.

    Boxes are rows ``(cx, cy, w, h, angle)``; the angle turns the width axis from +x
    towards +y: counter-clockwise with the y axis up, which is clockwise on screen
    for image coordinates (y down), the convention of mmcv / mmrotate.

    Args:
        a: ``[..., N, 5]`` boxes (``[..., 5]`` when ``aligned``).
        b: ``[..., M, 5]`` boxes; batch dimensions broadcast.
        aligned: IoU of ``a[..., i]`` with ``b[..., i]`` instead of every pair.
        angle: ``"rad"`` (default) or ``"deg"``.
        eps: a union ``<= eps`` gives 0 (never added to the denominator).

    Returns:
        ``[..., N, M]`` (or ``[...]`` when aligned) in ``[0, 1]``, in the inputs' library,
        device and promoted dtype; computed in double. Torch and JAX inputs are copied to
        the host and back (no autograd: see ``ioukit.losses`` for differentiable terms).

    Raises:
        InvalidBoxesError: a non-finite row or a negative width/height (names the row).

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import iou
        >>> a = np.array([[0.0, 0.0, 2.0, 2.0, 0.0]])
        >>> b = np.array([[0.0, 0.0, 2.0, 2.0, np.pi / 4], [1.0, 0.0, 2.0, 2.0, 0.0]])
        >>> iou(a, b).round(6)  # octagon: 1/sqrt(2); half overlap: 2/6
        array([[0.707107, 0.333333]])
        >>> iou(a, b[1:], aligned=True, angle="deg").round(6)
        array([0.333333])
    """
    return _measure(a, b, aligned, angle, K.MODE_IOU, eps)


def giou(a: Any, b: Any, *, aligned: bool = False, angle: str = "rad", eps: float = 0.0) -> Any:
    """Rotated GIoU: ``iou - (hull - union) / hull`` with the convex hull of both boxes.

    Rezatofighi et al. 2019 (GIoU), with the smallest enclosing convex shape (the convex
    hull of the 8 corners) as the enclosing region. Same arguments as :func:`iou`;
    values in ``[-1, 1]``; a hull of area ``<= eps`` gives the IoU.

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import giou
        >>> a = np.array([[0.0, 0.0, 2.0, 2.0, 0.0]])
        >>> b = np.array([[4.0, 0.0, 2.0, 2.0, 0.0]])  # hull 6 x 2, union 8
        >>> giou(a, b).round(6)
        array([[-0.333333]])
    """
    return _measure(a, b, aligned, angle, K.MODE_GIOU, eps)


def intersection_area(a: Any, b: Any, *, aligned: bool = False, angle: str = "rad") -> Any:
    """Area of the intersection of rotated boxes. Same arguments as :func:`iou`.

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import intersection_area
        >>> a = np.array([[0.0, 0.0, 4.0, 4.0, 0.0]])
        >>> intersection_area(a, np.array([[0.0, 0.0, 2.0, 2.0, 1.0]]))
        array([[4.]])
    """
    return _measure(a, b, aligned, angle, K.MODE_INTER, 0.0)
