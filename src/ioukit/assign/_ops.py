"""The few array operations the assigners need beyond the array API (NumPy and torch).

Sorting is stable everywhere so that ties resolve to the lowest index on every backend
(torch's ``topk`` leaves the order of ties unspecified); ``argmax`` and ``max`` return
the first maximum, as NumPy and ``Tensor.max(dim)`` do.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import is_numpy

__all__ = ["Assignment", "argsort", "scatter_true", "take", "to_numpy", "from_numpy"]


class Assignment(NamedTuple):
    """Result of a dense assigner (one row per image when batched).

    gt_index : int64 [..., N]
        Index of the GT each prediction learns from, ``-1`` for background.
    iou : float [..., N]
        IoU of each prediction (or anchor) with its assigned GT, 0 for background.
    quality : float [..., N]
        The soft classification target of the assigned class (varifocal / quality focal
        targets): the IoU for ATSS and SimOTA, the normalised alignment metric for
        task-aligned assignment; 0 for background.
    """

    gt_index: Any
    iou: Any
    quality: Any


def argsort(xp: Any, x: Any, axis: int, descending: bool = False) -> Any:
    """Stable argsort: ties keep index order, also with ``descending``."""
    if is_numpy(x):
        return np.argsort(-x if descending else x, axis=axis, kind="stable")
    return x.argsort(dim=axis, descending=descending, stable=True)


def take(x: Any, idx: Any, axis: int) -> Any:
    """``take_along_axis`` (NumPy) / ``gather`` (torch)."""
    if is_numpy(x):
        return np.take_along_axis(x, idx, axis=axis)
    return x.gather(axis, idx)


def scatter_true(shape_like: Any, idx: Any, values: Any, axis: int) -> Any:
    """Boolean array shaped like ``shape_like``, ``values`` written at ``idx`` along ``axis``."""
    if is_numpy(shape_like):
        out = np.zeros(shape_like.shape, dtype=bool)
        np.put_along_axis(out, idx, values, axis=axis)
        return out
    import torch

    out = torch.zeros(shape_like.shape, dtype=torch.bool, device=shape_like.device)
    return out.scatter(axis, idx, values)


def first_argmax(x: Any, axis: int) -> tuple[Any, Any]:
    """``(max, argmax)`` along ``axis``, the first index on ties."""
    if is_numpy(x):
        i = np.argmax(x, axis=axis)
        return np.take_along_axis(x, np.expand_dims(i, axis), axis=axis).squeeze(axis), i
    v, i = x.max(dim=axis)
    return v, i


def first_argmin(x: Any, axis: int) -> Any:
    if is_numpy(x):
        return np.argmin(x, axis=axis)
    return x.min(dim=axis).indices


def onehot(mask_like: Any, idx: Any, axis: int) -> Any:
    """Boolean one-hot of ``idx`` along ``axis`` of an array shaped like ``mask_like``."""
    return scatter_true(mask_like, _expand(idx, axis), _true_like(mask_like, idx, axis), axis)


def _expand(idx: Any, axis: int) -> Any:
    return np.expand_dims(idx, axis) if is_numpy(idx) else idx.unsqueeze(axis)


def _true_like(mask_like: Any, idx: Any, axis: int) -> Any:
    if is_numpy(idx):
        return np.ones(_expand(idx, axis).shape, dtype=bool)
    import torch

    return torch.ones(_expand(idx, axis).shape, dtype=torch.bool, device=idx.device)


def to_numpy(x: Any) -> np.ndarray:
    if is_numpy(x):
        return x
    return x.detach().cpu().numpy()


def from_numpy(x: np.ndarray, like: Any) -> Any:
    if is_numpy(like):
        return x
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).to(like.device)
