"""Hard greedy NMS and its class-aware form (torchvision-compatible)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._backend import is_compiling, is_torch
from ..errors import InvalidParameterError
from . import _kernels as K
from ._common import (
    as_numpy_boxes,
    as_numpy_labels,
    as_numpy_scores,
    check_numpy,
    check_threshold,
    empty_index,
    is_cuda,
    stable_desc_order,
    wrap_index,
)

__all__ = ["nms", "batched_nms"]


def _run_greedy(
    b: np.ndarray,
    s: np.ndarray,
    labels: np.ndarray | None,
    thr: float,
    mode: int = K.MODE_IOU,
    beta: float = 1.0,
    eps: float = 0.0,
) -> np.ndarray:
    order = stable_desc_order(s)
    lab = _dense_labels(labels) if labels is not None else None
    # thr >= 0: sparse candidate search; thr < 0 (even disjoint boxes suppress): every pair.
    return K.greedy_nms(b, order, lab, thr, mode, beta, eps)


def nms(boxes: Any, scores: Any, iou_threshold: float) -> Any:
    """Hard greedy non-maximum suppression, identical to ``torchvision.ops.nms``.

    Boxes are visited by decreasing score; each kept box removes every later box
    whose IoU with it is **strictly greater** than ``iou_threshold``. The IoU is
    computed exactly as torchvision's kernel does (area ``(x2-x1)*(y2-y1)`` with no
    +1, ``inter / (area_i + area_j - inter)`` in the boxes' dtype, compared against
    the threshold as a double), so exact-threshold ties agree bit for bit.

    Equal scores: the box with the lower index comes first (a stable sort), on every
    backend. float16/bfloat16 boxes are evaluated in float32.

    Args:
        boxes: (N, 4) ``xyxy`` boxes; NumPy array, torch tensor (any device) or list.
        scores: (N,) scores.
        iou_threshold: suppress when IoU > this value.

    Returns:
        (K,) int64 indices of the kept boxes, by decreasing score, as a NumPy array
        or a torch tensor on the input's device.

    Raises:
        InvalidBoxesError: a NaN/inf or inverted box, or a NaN score (names the row).

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import nms
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
        >>> nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5)
        array([0, 2])
    """
    if is_torch(boxes) and is_compiling():
        # torch.compile / export: one opaque operator (no graph break), run eagerly
        from . import _torch_ops

        return _torch_ops.nms(boxes, scores, float(iou_threshold))
    thr = check_threshold("iou_threshold", iou_threshold)
    if is_cuda(boxes):
        from . import _torch

        return _torch.nms(boxes, scores, thr)
    b = as_numpy_boxes(boxes)
    s = as_numpy_scores(scores, b.shape[0])
    check_numpy(b, s)
    if b.shape[0] == 0:
        return empty_index(boxes)
    return wrap_index(_run_greedy(b, s, None, thr), boxes)


def _dense_labels(lab: np.ndarray) -> np.ndarray:
    _, inv = np.unique(lab, return_inverse=True)
    return inv.astype(np.int64).reshape(-1)


def class_offsets(b: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Per-row offsets putting each class in its own coordinate band.

    Unlike torchvision's ``idx * (max + 1)`` (which lets classes overlap when
    coordinates are negative) the band width is computed from the min *and* the
    max: class k is shifted by ``k * 2**ceil(log2(max - min + 1))``. A power of two
    keeps the sum exact far more often; exactness is then checked, not assumed.
    """
    lo = float(b.min())
    hi = float(b.max())
    stride = 2.0 ** np.ceil(np.log2(hi - lo + 1.0))
    return (dense.astype(np.float64) * stride).astype(b.dtype)


def batched_nms(
    boxes: Any,
    scores: Any,
    labels: Any,
    iou_threshold: float,
    method: Literal["auto", "offset", "per_class"] = "auto",
) -> Any:
    """Class-aware NMS: boxes of different labels never suppress each other.

    Same contract as ``torchvision.ops.batched_nms`` (``labels`` is its ``idxs``).
    Two exact strategies give identical keep lists:

    - ``"per_class"``: one pass of the greedy kernel over boxes grouped by label
      (no coordinates change); the default on the CPU.
    - ``"offset"``: the coordinate-offset trick, shifting each class into its own
      band (from the min and max coordinate, so negative coordinates work). It is
      used only when every shifted coordinate is exactly representable (checked
      with an error-free sum); otherwise, and for negative thresholds (where even
      disjoint boxes suppress), the per-class path runs instead. Default on CUDA.

    Args:
        boxes: (N, 4) ``xyxy`` boxes.
        scores: (N,) scores.
        labels: (N,) integer class labels (any values, negative allowed).
        iou_threshold: suppress when IoU > this value (within one label).
        method: ``"auto"``, ``"offset"`` or ``"per_class"``.

    Returns:
        (K,) int64 indices of the kept boxes by decreasing score (ties: lower index
        first), same backend and device as ``boxes``.

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import batched_nms
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]], float)
        >>> batched_nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5)
        array([0, 2])
    """
    if method not in ("auto", "offset", "per_class"):
        raise InvalidParameterError(
            f"method must be 'auto', 'offset' or 'per_class', got {method!r}"
        )
    if is_torch(boxes) and is_compiling() and method == "auto":
        # torch.compile / export: one opaque operator (no graph break), run eagerly
        from . import _torch_ops

        return _torch_ops.batched_nms(boxes, scores, labels, float(iou_threshold))
    b = None if is_cuda(boxes) else as_numpy_boxes(boxes)
    if (b is not None and b.shape[0] == 0) or (is_torch(boxes) and boxes.numel() == 0):
        # torchvision's batched_nms returns an empty index for empty boxes before it
        # reads scores, idxs or the threshold (batched_nms(torch.empty(0), None, None, None))
        return empty_index(boxes)
    thr = check_threshold("iou_threshold", iou_threshold)
    if b is None:
        from . import _torch

        return _torch.batched_nms(boxes, scores, labels, thr, method)
    s = as_numpy_scores(scores, b.shape[0])
    lab = as_numpy_labels(labels, b.shape[0])
    check_numpy(b, s)
    if method == "offset" and thr >= 0:
        dense = _dense_labels(lab)
        offs = class_offsets(b, dense)
        if K.offsets_exact(b, offs):
            shifted = b + offs[:, None]
            return wrap_index(_run_greedy(shifted, s, None, thr), boxes)
    return wrap_index(_run_greedy(b, s, lab, thr), boxes)
