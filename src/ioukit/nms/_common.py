"""Input coercion and validation shared by every suppression function.

Public functions accept NumPy arrays, torch tensors (any device) and plain lists.
NumPy inputs (and CPU tensors, through a zero-copy view) go to the compiled kernels;
CUDA tensors go to the vectorised torch code in :mod:`ioukit.nms._torch`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_numeric_array, is_torch
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from . import _kernels as K

__all__ = [
    "as_numpy_boxes",
    "as_numpy_labels",
    "as_numpy_scores",
    "check_numpy",
    "check_threshold",
    "empty_index",
    "is_cuda",
    "stable_desc_order",
    "wrap_index",
    "wrap_values",
]


def is_cuda(x: Any) -> bool:
    """True for a torch tensor on a non-CPU device (CUDA, MPS ...)."""
    return is_torch(x) and x.device.type != "cpu"


def _dequantized(t: Any) -> Any:
    """A quantized tensor as torchvision's quantized NMS reads it, else ``t``.

    torchvision's ``qnms_kernel`` works on the stored integers (``int_repr``) cast
    to float32: a per-tensor scale and zero point cancel out of every IoU and keep
    the score order, so the same kernel on those integers gives its keep list.
    Other quantization schemes (per channel) are dequantized.
    """
    if not getattr(t, "is_quantized", False):
        return t
    import torch

    if t.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        return t.int_repr().to(torch.float32)
    return t.dequantize()


def as_numpy_boxes(boxes: Any, name: str = "boxes") -> np.ndarray:
    """(N, 4) C-contiguous float32/float64 array in the dtype IoU is computed in.

    float16/bfloat16 are widened to float32 (exact; torchvision's CPU kernel has no
    half path and its CUDA kernel accumulates in float32), integers become float64 on
    NumPy and float32 on torch (the library's promotion rule).
    """
    if is_torch(boxes):
        import torch

        t = _dequantized(boxes.detach())
        if t.dtype in (torch.float16, torch.bfloat16) or not t.dtype.is_floating_point:
            t = t.to(torch.float32)
        a = t.contiguous().numpy()
    else:
        a = as_numeric_array(boxes, name)
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        elif a.dtype.kind in "biu":
            a = a.astype(np.float64)
        elif a.dtype.kind != "f":
            raise InvalidParameterError(f"{name} must be a real array, got dtype {a.dtype}")
    if a.ndim == 1 and a.size == 0:
        a = a.reshape(0, 4)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ShapeMismatchError(f"{name} must have shape (N, 4), got {tuple(a.shape)}")
    return np.ascontiguousarray(a)


def as_numpy_scores(scores: Any, n: int, name: str = "scores") -> np.ndarray:
    """(N,) float array; float16/bfloat16/integers become float32/float64 (exact)."""
    if is_torch(scores):
        import torch

        t = _dequantized(scores.detach())
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.to(torch.float32)
        elif not t.dtype.is_floating_point:
            t = t.to(torch.float64)
        s = t.contiguous().numpy()
    else:
        s = as_numeric_array(scores, name)
        if s.dtype == np.float16:
            s = s.astype(np.float32)
        elif s.dtype.kind in "biu":
            s = s.astype(np.float64)
        elif s.dtype.kind != "f":
            raise InvalidParameterError(f"{name} must be a real array, got dtype {s.dtype}")
    if s.ndim != 1 or s.shape[0] != n:
        raise ShapeMismatchError(f"{name} must have shape ({n},) to match boxes, got {s.shape}")
    return np.ascontiguousarray(s)


def as_numpy_labels(labels: Any, n: int) -> np.ndarray:
    """(N,) int64 labels."""
    if labels is None:
        raise InvalidParameterError("labels must be an (N,) array of integer labels; got None")
    lab = labels.detach().cpu().numpy() if is_torch(labels) else as_numeric_array(labels, "labels")
    if lab.ndim != 1 or lab.shape[0] != n:
        raise ShapeMismatchError(f"labels must have shape ({n},) to match boxes, got {lab.shape}")
    if lab.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(lab) | (lab != np.trunc(lab)))
        if bad.size:
            raise InvalidParameterError(
                f"labels row {bad[0]} is {lab[bad[0]]!r}; labels must be integers"
            )
    elif lab.dtype.kind not in "biu":
        raise InvalidParameterError(f"labels must be integers, got dtype {lab.dtype}")
    return np.ascontiguousarray(lab.astype(np.int64, copy=False))


_BOX_PROBLEM = {
    1: "is not finite",
    2: "has x2 < x1 or y2 < y1 (negative width or height)",
}


def check_numpy(boxes: np.ndarray, scores: np.ndarray | None, allow_inverted: bool = False) -> None:
    """Raise an ioukit error naming the first bad row (NaN/inf box, inverted box, NaN score)."""
    s = scores if scores is not None else np.zeros(boxes.shape[0])
    row, what = K.first_bad_row(boxes, s, allow_inverted)
    if row < 0:
        return
    if what == 3:
        raise InvalidBoxesError(f"scores row {row} is NaN")
    raise InvalidBoxesError(f"boxes row {row} {_BOX_PROBLEM[what]}: {boxes[row].tolist()}")


def stable_desc_order(scores: np.ndarray) -> np.ndarray:
    """Indices by decreasing score; equal scores keep the lower index first."""
    n = scores.shape[0]
    if scores.dtype == np.float32 and n < 2**32:
        # One unsigned 64-bit sort of (inverted order-preserving score bits, index):
        # the keys are unique, so NumPy's fast SIMD sort gives the stable order.
        # "+ 0" turns -0.0 into +0.0, which compare equal as floats.
        u = (scores + np.float32(0)).view(np.uint32).astype(np.uint64)
        u = np.where(u >> np.uint64(31), u ^ np.uint64(0xFFFFFFFF), u | np.uint64(0x80000000))
        key = ((np.uint64(0xFFFFFFFF) - u) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        return (np.sort(key) & np.uint64(0xFFFFFFFF)).astype(np.int64)
    # Negation is exact for floats, and a stable ascending sort of -s is the
    # documented tie rule (lower index first), the same as torch.sort(stable=True).
    return np.argsort(-scores, kind="stable").astype(np.int64, copy=False)


def empty_index(like: Any) -> Any:
    """An empty int64 index on the same backend / device as ``like``."""
    if is_torch(like):
        import torch

        return torch.empty((0,), dtype=torch.int64, device=like.device)
    return np.empty((0,), dtype=np.int64)


def wrap_index(idx: np.ndarray, like: Any) -> Any:
    """Return ``idx`` (int64) as the same kind of array as ``like`` (CPU tensors share memory)."""
    if is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))
    return np.ascontiguousarray(idx, dtype=np.int64)


def wrap_values(vals: np.ndarray, like: Any) -> Any:
    """Return float values as the same kind of array as ``like`` (torch: like's dtype)."""
    if is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(vals)).to(like.dtype)
    return vals


def check_threshold(name: str, value: float) -> float:
    """A threshold as a float; InvalidParameterError for None, non-numbers and NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        if not (is_torch(value) and value.numel() == 1):
            raise InvalidParameterError(f"{name} must be a number; got {value!r}")
    v = float(value)
    if v != v:  # NaN (a Python comparison: torch.compile traces it without a branch)
        raise InvalidParameterError(f"{name} must be a number, got NaN")
    return v


def check_eps(eps: Any) -> float:
    """``eps``: a finite number >= 0 (a threshold, as in ioukit.boxes)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    v = float(eps)
    if not (v >= 0 and np.isfinite(v)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    return v
