"""Pair counts of label maps: NumPy and CPU tensors through the compiled kernel, CUDA
tensors through ``torch.bincount`` on their device.

:func:`count_batch` turns one batch (``[N, *S]`` label maps, ``S`` the spatial shape)
into per-image count tables ``[N, C + 2, C + 1]`` (int64; rows = target, columns =
prediction; row ``C`` the ignored pixels, row ``C + 1`` targets outside ``[0, C)``,
column ``C`` predictions outside ``[0, C)``; see ``_kernels.pyx``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._backend import is_torch
from .._threads import PARALLEL_MIN_WORK, get_num_threads
from ..errors import InvalidMaskError, InvalidParameterError, ShapeMismatchError
from . import _kernels

__all__ = ["count_batch", "confusion_matrix", "LabelMapper", "as_label_array"]

# dtypes the kernel reads in place; every other integer dtype is widened once
_KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.int32), np.dtype(np.int64))
# at most this many int64 cells of per-image tables per kernel call (bounded memory)
_MAX_TABLE_CELLS = 1 << 22


def as_label_array(x: Any, name: str) -> Any:
    """A NumPy array or torch tensor of integer labels (lists become NumPy)."""
    if is_torch(x):
        if x.dtype.is_floating_point or x.dtype.is_complex:
            raise InvalidMaskError(f"{name}: label maps must hold integers; got {x.dtype}")
        return x
    a = np.asarray(x)
    if a.dtype == bool:
        return a.view(np.uint8)
    if a.dtype.kind not in "iu":
        raise InvalidMaskError(f"{name}: label maps must hold integers; got dtype {a.dtype}")
    return a


def _kernel_array(a: np.ndarray) -> np.ndarray:
    # flat, contiguous and of a dtype the kernel reads (no copy when it already is)
    if a.dtype not in _KERNEL_DTYPES:
        wide = np.int64 if a.dtype.itemsize >= 4 else np.int32
        a = a.astype(wide)
    return np.ascontiguousarray(a).reshape(-1)


class LabelMapper:
    """Label remapping before counting: a lookup table and mmseg's ``reduce_zero_label``.

    ``label_map`` ({old: new}) rewrites labels as mmseg's ``intersect_and_union`` does
    (every old value is looked up in the original map); ``reduce_zero_label`` then maps
    0 to ``ignore_index``, keeps ``ignore_index`` and lowers every other label by one
    (mmseg: ``label[label == 0] = 255; label -= 1; label[label == 254] = 255``).

    >>> m = LabelMapper({7: 0, 8: 1}, False, 255)
    >>> m(np.array([7, 8, 9], np.uint8)).tolist()
    [0, 1, 9]
    >>> LabelMapper(None, True, 255)(np.array([0, 1, 255], np.uint8)).tolist()
    [255, 0, 255]
    """

    def __init__(
        self, label_map: Mapping[int, int] | None, reduce_zero_label: bool, ignore_index: int | None
    ) -> None:
        self.items = sorted((int(k), int(v)) for k, v in (label_map or {}).items())
        self.reduce_zero_label = bool(reduce_zero_label)
        if self.reduce_zero_label and ignore_index is None:
            raise InvalidParameterError(
                "reduce_zero_label maps label 0 to ignore_index: give ignore_index (mmseg: 255)"
            )
        self.ignore_index = ignore_index
        self._lut: np.ndarray | None = None
        if self.items:
            lo = min(k for k, _ in self.items)
            hi = max(k for k, _ in self.items)
            if lo >= 0 and hi < 1 << 16:
                # values [0, 2^16): one gather; the table is the identity except at the keys
                lut = np.arange(max(hi + 1, 256), dtype=np.int64)
                for k, v in self.items:
                    lut[k] = v
                self._lut = lut

    @property
    def active(self) -> bool:
        return bool(self.items) or self.reduce_zero_label

    def __call__(self, a: Any) -> Any:
        if not self.active:
            return a
        if is_torch(a):
            import torch

            out = a.to(torch.int64)
            if self.items:
                src = out.clone()
                for k, v in self.items:
                    out[src == k] = v
            if self.reduce_zero_label:
                ign = self.ignore_index
                out = torch.where(out == 0, ign, torch.where(out == ign, ign, out - 1))
            return out
        out = np.asarray(a).astype(np.int64)
        if self.items:
            if self._lut is not None:
                inside = (out >= 0) & (out < self._lut.size)
                out = np.where(inside, self._lut[np.where(inside, out, 0)], out)
            else:
                src = out.copy()
                for k, v in self.items:
                    out[src == k] = v
        if self.reduce_zero_label:
            ign = int(self.ignore_index)  # type: ignore[arg-type]
            out = np.where(out == 0, ign, np.where(out == ign, ign, out - 1))
        return out


def _count_numpy(
    target: np.ndarray, pred: np.ndarray, num_classes: int, ignore_index: int | None
) -> np.ndarray:
    n = target.shape[0]
    k = (num_classes + 2) * (num_classes + 1)
    out = np.zeros((n, k), np.int64)
    if n == 0 or target.size == 0:
        return out.reshape(n, num_classes + 2, num_classes + 1)
    t, p = _kernel_array(target), _kernel_array(pred)
    per_image = t.size // n
    step = max(1, _MAX_TABLE_CELLS // k)
    for s in range(0, n, step):
        e = min(n, s + step)
        work = (e - s) * per_image
        threads = get_num_threads() if work >= PARALLEL_MIN_WORK else 1
        _kernels.confusion_counts(
            t[s * per_image : e * per_image],
            p[s * per_image : e * per_image],
            e - s,
            num_classes,
            ignore_index,
            threads,
            out[s:e],
        )
    return out.reshape(n, num_classes + 2, num_classes + 1)


def _count_torch_device(target: Any, pred: Any, num_classes: int, ignore_index: int | None) -> Any:
    # torch.bincount on the tensors' device (int64 counts), one index per pixel:
    # image * K + row * (C + 1) + col, with the same odd rows / column as the kernel.
    import torch

    n = target.shape[0]
    c = num_classes
    k = (c + 2) * (c + 1)
    t = target.reshape(n, -1).to(torch.int64)
    p = pred.reshape(n, -1).to(torch.int64)
    row = torch.where((t >= 0) & (t < c), t, c + 1)
    if ignore_index is not None:
        row = torch.where(t == ignore_index, c, row)
    col = torch.where((p >= 0) & (p < c), p, c)
    base = torch.arange(n, device=t.device, dtype=torch.int64).unsqueeze(1) * k
    idx = (base + row * (c + 1) + col).reshape(-1)
    counts = torch.bincount(idx, minlength=n * k)
    return counts.reshape(n, c + 2, c + 1).cpu().numpy()


def count_batch(
    target: Any, pred: Any, num_classes: int, ignore_index: int | None, spatial_dims: int = 2
) -> np.ndarray:
    """Per-image count tables ``[N, C + 2, C + 1]`` (int64) of one batch.

    ``target`` and ``pred``: ``[*S]`` (one map) or ``[N, *S]`` with ``S`` of
    ``spatial_dims`` axes; NumPy arrays or torch tensors (CPU: the compiled kernel,
    zero-copy; CUDA: ``torch.bincount`` on the device, one transfer of the tables).

    >>> t = np.array([[0, 1], [1, 255]], np.uint8); p = np.array([[0, 1], [0, 1]], np.uint8)
    >>> count_batch(t, p, 2, 255)[0, :2, :2].tolist()   # rows = target, cols = prediction
    [[1, 0], [1, 1]]
    """
    if target.ndim not in (spatial_dims, spatial_dims + 1):
        raise ShapeMismatchError(
            f"targets: expected {spatial_dims} spatial axes (or a batch of {spatial_dims + 1}); "
            f"got shape {tuple(target.shape)}"
        )
    if tuple(target.shape) != tuple(pred.shape):
        raise ShapeMismatchError(
            f"preds {tuple(pred.shape)} and targets {tuple(target.shape)} differ in shape"
        )
    if target.ndim == spatial_dims:
        target, pred = target[None], pred[None]
    if is_torch(target) != is_torch(pred):
        raise InvalidParameterError("preds and targets must both be torch tensors or both arrays")
    if is_torch(target):
        if target.device != pred.device:
            raise InvalidParameterError(
                f"preds on {pred.device} and targets on {target.device}: put them on one device"
            )
        if target.device.type != "cpu":
            return _count_torch_device(target, pred, num_classes, ignore_index)
        target, pred = target.numpy(), pred.numpy()
    return _count_numpy(np.asarray(target), np.asarray(pred), num_classes, ignore_index)


def confusion_matrix(
    preds: Any,
    targets: Any,
    *,
    num_classes: int,
    ignore_index: int | None = None,
    spatial_dims: int = 2,
) -> np.ndarray:
    """The int64 confusion matrix ``[C, C]`` (rows = target, columns = prediction).

    ``preds`` / ``targets``: one label map ``[*S]`` or a batch ``[N, *S]`` (NumPy or
    torch, CPU or CUDA). Target pixels equal to ``ignore_index`` are skipped;
    predictions outside ``[0, C)`` are counted nowhere in the matrix (they are misses of
    their target class; :class:`SemanticEvaluator` keeps them). A target outside
    ``[0, C)`` that is not ``ignore_index`` raises :class:`~ioukit.errors.InvalidMaskError`.

    >>> t = np.array([[0, 0, 1, 255]]); p = np.array([[0, 1, 1, 0]])
    >>> confusion_matrix(p, t, num_classes=2, ignore_index=255).tolist()
    [[1, 1], [0, 1]]
    """
    from .evaluator import SemanticEvaluator

    ev = SemanticEvaluator(num_classes, ignore_index=ignore_index, spatial_dims=spatial_dims)
    ev.update(preds, targets)
    return ev.confusion
