"""Input coercion shared by ``ioukit.rotated``: arrays in, host float arrays for the kernels.

Boxes are ``[..., 5]`` rows ``(cx, cy, w, h, angle)``. NumPy arrays go to the kernels
as they are (float32 or float64; integers become float64, float16 float32); torch and
JAX arrays are copied to the host and the result comes back in the caller's library,
dtype and device (no autograd through the compiled measures).
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from .._backend import is_numpy, is_torch, namespace, to_floating
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError

__all__ = ["ANGLE_UNITS", "angle_scale", "as_rboxes", "host", "check_rboxes", "back", "check_eps"]

ANGLE_UNITS = ("rad", "deg")


def angle_scale(angle: Any) -> float:
    """Factor turning the caller's angle unit into radians."""
    if angle == "rad":
        return 1.0
    if angle == "deg":
        return math.pi / 180.0
    raise InvalidParameterError(f"angle must be 'rad' or 'deg'; got {angle!r}")


def as_rboxes(x: Any, name: str) -> Any:
    """The caller's array (lists become NumPy), floating, with a last axis of 5."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0:
            x = x.reshape(0, 5)
    xp = namespace(x)
    x = to_floating(x, xp)
    if len(x.shape) < 1 or x.shape[-1] != 5:
        raise ShapeMismatchError(
            f"{name} must have shape [..., 5] (cx, cy, w, h, angle); got {tuple(x.shape)}"
        )
    return x


def host(x: Any) -> np.ndarray:
    """A NumPy float32/float64 view or copy of ``x`` (float16/bfloat16 widen to float32)."""
    if is_numpy(x):
        a = np.asarray(x)
    elif is_torch(x):
        t = x.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.dtype.itemsize < 4:
            t = t.float()
        a = t.numpy()
    else:
        a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    return a


def check_rboxes(a: np.ndarray, name: str) -> None:
    """Raise InvalidBoxesError naming the first non-finite row or negative side."""
    flat = a.reshape(-1, 5)
    bad = ~np.isfinite(flat).all(axis=1)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InvalidBoxesError(f"{name} row {r} is not finite: {flat[r].tolist()}")
    neg = (flat[:, 2] < 0) | (flat[:, 3] < 0)
    if neg.any():
        r = int(np.flatnonzero(neg)[0])
        raise InvalidBoxesError(
            f"{name} row {r} has a negative width or height: {flat[r].tolist()}"
        )


def radians(a: np.ndarray, scale: float, dtype: np.dtype) -> np.ndarray:
    """C-contiguous [K, 5] array in ``dtype`` with the angle in radians."""
    out = np.array(a.reshape(-1, 5), dtype=dtype, order="C", copy=True)
    if scale != 1.0:
        out[:, 4] = out[:, 4] * scale
    return out


def back(values: np.ndarray, like: Any, dtype: Any) -> Any:
    """``values`` in ``like``'s library and device, in ``dtype`` (that library's dtype)."""
    if is_numpy(like):
        return values.astype(dtype, copy=False)
    xp = namespace(like)
    if is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(values)).to(device=like.device, dtype=dtype)
    dev = array_api_compat.device(like)
    return xp.astype(xp.asarray(values, device=dev), dtype)


def check_eps(eps: Any) -> float:
    """``eps``: a finite number >= 0 (a threshold on the denominator, never added to it)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    v = float(eps)
    if not (v >= 0 and math.isfinite(v)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    return v
