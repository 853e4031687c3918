"""Input handling shared by the assigners: box arrays, batches, padding masks.

Every assigner takes one image (``gt_boxes`` [M, 4]) or a batch of images padded to
the same number of GTs (``gt_boxes`` [B, M, 4] with ``gt_mask`` [B, M], True for a real
GT); the predictions / anchors are shared ([N, 4]) or per image ([B, N, 4]). This
module is the one place those shapes are checked and the boxes converted to xyxy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_numpy, is_torch, namespace, to_floating
from ..boxes._formats import to_xyxy
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError

__all__ = ["as_boxes", "batch_gt", "check_finite", "check_int", "check_threshold"]

#: Box layouts the assigners accept (normalized forms: convert with boxes.convert).
FORMATS = ("xyxy", "xywh", "cxcywh")


def as_array(x: Any) -> Any:
    # lists and tuples only at the public boundary (architecture.md)
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def as_boxes(x: Any, name: str, fmt: str, *, ndims: tuple[int, ...] = (2, 3)) -> Any:
    """``x`` as floating xyxy boxes [..., 4] with ``x.ndim`` in ``ndims``."""
    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"fmt={fmt!r} is not one of {', '.join(FORMATS)} (convert normalized boxes "
            "with ioukit.boxes.convert first)"
        )
    x = as_array(x)
    if isinstance(x, np.ndarray) and x.size == 0 and x.ndim == 1:
        x = x.reshape(0, 4)
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) not in ndims or shape[-1] != 4:
        want = " or ".join(("[N, 4]", "[B, N, 4]")[d - 2] for d in ndims)
        raise ShapeMismatchError(f"{name} must have shape {want}; got shape {shape}")
    if isinstance(x, np.ndarray):  # the common case, without array_api_compat's look-up
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        return x if fmt == "xyxy" else to_xyxy(np, x, fmt)
    xp = namespace(x)
    x = to_floating(x, xp)
    return to_xyxy(xp, x, fmt)


def check_finite(x: Any, name: str) -> None:
    """Raise InvalidBoxesError naming the first row of ``x`` with a NaN or inf."""
    if isinstance(x, np.ndarray):
        ok = np.isfinite(x)
        if ok.all():
            return
    else:
        xp = namespace(x)
        ok = xp.isfinite(x)
        if bool(xp.all(ok)):
            return
    bad = np.argwhere(~np.asarray(ok.cpu() if is_torch(ok) else ok).all(axis=-1))[0]
    where = "row " + (str(int(bad[0])) if len(bad) == 1 else str(tuple(int(i) for i in bad)))
    raise InvalidBoxesError(f"{name}: {where} has a NaN or infinite coordinate")


def check_threshold(name: str, value: float) -> float:
    v = float(value)
    if not np.isfinite(v):
        raise InvalidParameterError(f"{name}={value!r} must be a finite number")
    return v


def check_int(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise InvalidParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def batch_gt(gt: Any, gt_mask: Any, *, name: str = "gt_boxes") -> tuple[Any, Any, bool]:
    """``(gt [B, M, ...], mask [B, M] bool, batched)`` from one image or a padded batch.

    ``gt`` is already a checked array whose last axis holds one GT's fields.
    """
    batched = gt.ndim == 3
    if not batched:
        gt = gt[None]
    b, m = gt.shape[0], gt.shape[1]
    if gt_mask is None:
        if is_numpy(gt):
            return gt, np.ones((b, m), dtype=bool), batched
        xp = namespace(gt)
        return gt, xp.ones((b, m), dtype=xp.bool, device=gt.device), batched
    gt_mask = as_array(gt_mask)
    if is_numpy(gt) != is_numpy(gt_mask):
        namespace(gt, gt_mask)  # raises BackendError naming both libraries
    if tuple(gt_mask.shape) != ((b, m) if batched else (m,)):
        raise ShapeMismatchError(
            f"gt_mask must have shape {(b, m) if batched else (m,)} (one flag per GT of "
            f"{name}); got shape {tuple(gt_mask.shape)}"
        )
    mask = gt_mask if batched else gt_mask[None]
    if is_numpy(mask):
        return gt, mask.astype(bool, copy=False), batched
    return gt, mask.bool() if is_torch(mask) else xp.astype(mask, xp.bool), batched


def batch_preds(x: Any, b: int, name: str, item_ndim: int = 2) -> Any:
    """Per-prediction array shared ([N, ...], ``item_ndim`` axes) or per image
    ([B, N, ...]) -> [B, N, ...] (a broadcast view, no copy)."""
    xp = namespace(x)
    if x.ndim == item_ndim:
        return xp.broadcast_to(x[None], (b, *x.shape))
    if x.ndim != item_ndim + 1 or x.shape[0] != b:
        raise ShapeMismatchError(
            f"{name} must be shared by the {b} image(s) ({item_ndim} axes) or given per "
            f"image ({item_ndim + 1} axes, {b} first); got shape {tuple(x.shape)}"
        )
    return x
