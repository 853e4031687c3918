"""Voxel IoU of occupancy grids: dense boolean grids and sparse coordinate lists."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError

__all__ = ["voxel_iou", "sparse_voxel_iou"]


def voxel_iou(a: Any, b: Any, *, spatial_dims: int = 3, zero_division: float = 0.0) -> Any:
    """IoU of occupancy grids ``[..., X, Y, Z]`` (bool or 0/1), over the last
    ``spatial_dims`` axes: ``|a and b| / |a or b|`` per leading index, ``[...]``.

    Both grids empty gives ``zero_division``. NumPy arrays or torch tensors (the result
    is float64 / a float tensor on the input's device).

    >>> a = np.zeros((4, 4, 4), bool); a[:2] = True      # 32 voxels
    >>> b = np.zeros((4, 4, 4), bool); b[1:3] = True     # 32 voxels, 16 shared
    >>> float(voxel_iou(a, b))                            # 16 / 48
    0.3333333333333333
    """
    if spatial_dims < 1:
        raise InvalidParameterError(f"spatial_dims must be >= 1, got {spatial_dims}")
    if hasattr(a, "detach") and hasattr(b, "detach"):  # torch: stay on the device
        import torch

        if a.shape != b.shape:
            raise ShapeMismatchError(f"voxel_iou: a {tuple(a.shape)} and b {tuple(b.shape)} differ")
        dims = tuple(range(a.ndim - spatial_dims, a.ndim))
        ab, bb = a.bool(), b.bool()
        inter = (ab & bb).sum(dim=dims).to(torch.float64)
        union = (ab | bb).sum(dim=dims).to(torch.float64)
        return torch.where(
            union > 0, inter / union.clamp(min=1), torch.full_like(union, zero_division)
        )
    an, bn = np.asarray(a).astype(bool, copy=False), np.asarray(b).astype(bool, copy=False)
    if an.shape != bn.shape:
        raise ShapeMismatchError(f"voxel_iou: a {an.shape} and b {bn.shape} differ")
    if an.ndim < spatial_dims:
        raise ShapeMismatchError(f"voxel_iou: need >= {spatial_dims} axes, got {an.shape}")
    dims = tuple(range(an.ndim - spatial_dims, an.ndim))
    inter = np.count_nonzero(an & bn, axis=dims)
    union = np.count_nonzero(an | bn, axis=dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), zero_division)


def _keys(c: np.ndarray, name: str) -> np.ndarray:
    if c.ndim != 2:
        raise ShapeMismatchError(
            f"sparse_voxel_iou: {name} must be (N, D) coordinates, got {c.shape}"
        )
    if c.dtype.kind not in "iub":
        raise InvalidParameterError(f"sparse_voxel_iou: {name} must hold integers, got {c.dtype}")
    # one structured key per row: set operations on whole coordinate rows
    c = np.ascontiguousarray(c, dtype=np.int64)
    return np.unique(c.view([("", np.int64)] * c.shape[1]).ravel())


def sparse_voxel_iou(a: Any, b: Any, *, zero_division: float = 0.0) -> float:
    """IoU of two sets of occupied voxels given as integer coordinates ``(N, D)`` and
    ``(M, D)`` (e.g. the indices of a sparse tensor). Repeated rows count once.

    >>> a = np.array([[0, 0, 0], [0, 0, 1], [5, 5, 5]])
    >>> b = np.array([[0, 0, 1], [5, 5, 5], [5, 5, 5], [9, 9, 9]])
    >>> sparse_voxel_iou(a, b)  # 2 shared of 4 distinct
    0.5
    """
    an = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a)
    bn = np.asarray(b.detach().cpu().numpy() if hasattr(b, "detach") else b)
    if an.ndim == 2 and bn.ndim == 2 and an.shape[1] != bn.shape[1]:
        raise ShapeMismatchError(f"sparse_voxel_iou: a has {an.shape[1]} columns, b {bn.shape[1]}")
    ka, kb = _keys(an, "a"), _keys(bn, "b")
    inter = len(np.intersect1d(ka, kb, assume_unique=True))
    union = len(ka) + len(kb) - inter
    return inter / union if union else float(zero_division)
