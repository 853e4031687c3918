"""Conversions: corner polygons, minimum-area rectangles, the DOTA angle conventions."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_numpy, namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError
from ._input import angle_scale, as_rboxes, back, host

__all__ = ["CONVENTIONS", "to_polygons", "from_polygons", "regularize"]

# mmrotate 1.x RotatedBoxes.regularize_boxes: (width_longer, start angle in radians)
CONVENTIONS = {
    "le90": (True, -np.pi / 2),
    "le135": (True, -np.pi / 4),
    "oc": (False, -np.pi / 2),
}


def to_polygons(boxes: Any, *, angle: str = "rad") -> Any:
    """Corners of rotated boxes, ``[..., 4, 2]``, counter-clockwise with the y axis up.

    With half axes ``u = (w/2) (cos t, sin t)`` and ``v = (h/2) (-sin t, cos t)`` the
    corners are ``c - u - v, c + u - v, c + u + v, c - u + v`` (positive shoelace area
    ``w h``; on an image with y down they run clockwise on screen).

    Args:
        boxes: ``[..., 5]`` rows ``(cx, cy, w, h, angle)``; NumPy, torch or JAX.
        angle: ``"rad"`` or ``"deg"``.

    Returns:
        ``[..., 4, 2]`` in the input's library and dtype (autograd intact).

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import to_polygons
        >>> to_polygons(np.array([[1.0, 1.0, 4.0, 2.0, 90.0]]), angle="deg").round(6) + 0.0
        array([[[ 2., -1.],
                [ 2.,  3.],
                [ 0.,  3.],
                [ 0., -1.]]])
    """
    b = as_rboxes(boxes, "boxes")
    xp = namespace(b)
    t = b[..., 4] * angle_scale(angle)
    c, s = xp.cos(t), xp.sin(t)
    hw, hh = b[..., 2] / 2, b[..., 3] / 2
    ux, uy = hw * c, hw * s
    vx, vy = -hh * s, hh * c
    cx, cy = b[..., 0], b[..., 1]
    xs = xp.stack([cx - ux - vx, cx + ux - vx, cx + ux + vx, cx - ux + vx], axis=-1)
    ys = xp.stack([cy - uy - vy, cy + uy - vy, cy + uy + vy, cy - uy + vy], axis=-1)
    return xp.stack([xs, ys], axis=-1)


def regularize(boxes: Any, convention: str = "le90", *, angle: str = "rad") -> Any:
    """One representation per box under a DOTA-ecosystem angle convention.

    The formulas of mmrotate 1.x ``RotatedBoxes.regularize_boxes``:

    - ``"le90"``: width >= height, angle in ``[-90, 90)`` degrees;
    - ``"le135"``: width >= height, angle in ``[-45, 135)``;
    - ``"oc"`` (OpenCV ``minAreaRect``): angle in ``[-90, 0)``, sides swapped as needed.

    Args:
        boxes: ``[..., 5]`` rows ``(cx, cy, w, h, angle)``.
        convention: ``"le90"``, ``"le135"`` or ``"oc"``.
        angle: unit of the input and output angle, ``"rad"`` or ``"deg"``.

    Returns:
        ``[..., 5]`` boxes covering the same regions, in the input's library and dtype.

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import regularize
        >>> regularize(np.array([[0.0, 0.0, 2.0, 4.0, 30.0]]), "le90", angle="deg")
        array([[  0.,   0.,   4.,   2., -60.]])
        >>> regularize(np.array([[0.0, 0.0, 2.0, 4.0, 30.0]]), "oc", angle="deg")
        array([[  0.,   0.,   4.,   2., -60.]])
    """
    if convention not in CONVENTIONS:
        raise InvalidParameterError(
            f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}"
        )
    width_longer, start = CONVENTIONS[convention]
    b = as_rboxes(boxes, "boxes")
    xp = namespace(b)
    scale = angle_scale(angle)
    half = np.pi / 2
    x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    t = b[..., 4] * scale
    if width_longer:
        keep = w > h
        w2, h2 = xp.where(keep, w, h), xp.where(keep, h, w)
        t = xp.where(keep, t, t + half)
        t = _mod(xp, t - start, np.pi) + start
    else:
        t = _mod(xp, t - start, np.pi)
        keep = t < half
        w2, h2 = xp.where(keep, w, h), xp.where(keep, h, w)
        t = xp.where(keep, t, t - half) + start
    return xp.stack([x, y, w2, h2, t / scale], axis=-1)


def _mod(xp: Any, x: Any, p: float) -> Any:
    # Python's / torch's floor modulo (result in [0, p)), as mmrotate's ``%``.
    r = x - xp.floor(x / p) * p
    return xp.where(r >= p, r - p, r)


def from_polygons(polygons: Any, *, convention: str | None = "le90", angle: str = "rad") -> Any:
    """Minimum-area rotated rectangles around point sets (``cv2.minAreaRect``-style).

    The smallest enclosing rectangle has a side on an edge of the points' convex hull
    (Freeman & Shapira 1975), so every direction between two points is tried and the
    smallest area wins (the first on ties). Degenerate inputs (all points equal) give a
    zero-size box at the point.

    Args:
        polygons: ``[..., K, 2]`` points (DOTA quadrilaterals: K = 4) or ``[..., 2K]``
            flat rows ``x1, y1, ..., xK, yK``.
        convention: ``"le90"`` (default), ``"le135"``, ``"oc"`` or ``None`` (raw).
        angle: unit of the output angle.

    Returns:
        ``[..., 5]`` boxes ``(cx, cy, w, h, angle)`` in the input's library and dtype
        (computed in float64 on the host).

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import from_polygons
        >>> quad = np.array([[0.0, 0.0], [2.0, 2.0], [1.0, 3.0], [-1.0, 1.0]])
        >>> from_polygons(quad, angle="deg").round(6)
        array([ 0.5     ,  1.5     ,  2.828427,  1.414214, 45.      ])
    """
    x = polygons
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    xp = namespace(x)
    x = to_floating(x, xp)
    out_dtype = x.dtype
    p = host(x).astype(np.float64)
    if p.ndim >= 1 and (p.ndim == 1 or p.shape[-1] != 2):
        if p.shape[-1] % 2:
            raise ShapeMismatchError(f"polygons must be [..., K, 2] or [..., 2K]; got {p.shape}")
        p = p.reshape(p.shape[:-1] + (p.shape[-1] // 2, 2))
    if p.ndim < 2 or p.shape[-2] < 1:
        raise ShapeMismatchError(f"polygons must be [..., K, 2] with K >= 1; got {p.shape}")
    if not np.isfinite(p).all():
        raise InvalidParameterError("polygons must be finite")
    boxes = _min_area_rect(p)
    scale = angle_scale(angle)
    if convention is not None:
        boxes = regularize(boxes, convention)
    boxes[..., 4] /= scale
    return boxes.astype(out_dtype) if is_numpy(x) else back(boxes, x, out_dtype)


def _min_area_rect(p: np.ndarray) -> np.ndarray:
    k = p.shape[-2]
    ii, jj = np.triu_indices(k, 1)
    d = p[..., jj, :] - p[..., ii, :]  # [..., P, 2] candidate directions
    norm = np.hypot(d[..., 0], d[..., 1])
    ok = norm > 0
    safe = np.where(ok, norm, 1.0)
    ux, uy = d[..., 0] / safe, d[..., 1] / safe
    # projections of every point on each direction u and on its normal (-uy, ux)
    px = p[..., None, :, 0]
    py = p[..., None, :, 1]
    a = px * ux[..., None] + py * uy[..., None]
    b = -px * uy[..., None] + py * ux[..., None]
    alo, ahi, blo, bhi = a.min(-1), a.max(-1), b.min(-1), b.max(-1)
    ar = np.where(ok, (ahi - alo) * (bhi - blo), np.inf)
    best = np.argmin(ar, axis=-1)[..., None]
    take = lambda v: np.take_along_axis(v, best, -1)[..., 0]  # noqa: E731
    ux, uy, alo, ahi, blo, bhi = map(take, (ux, uy, alo, ahi, blo, bhi))
    anyok = ok.any(-1)
    ca, cb = (alo + ahi) / 2, (blo + bhi) / 2
    cx = np.where(anyok, ca * ux - cb * uy, p[..., 0, 0])
    cy = np.where(anyok, ca * uy + cb * ux, p[..., 0, 1])
    w = np.where(anyok, ahi - alo, 0.0)
    h = np.where(anyok, bhi - blo, 0.0)
    t = np.where(anyok, np.arctan2(uy, ux), 0.0)
    return np.stack([cx, cy, w, h, t], axis=-1)
