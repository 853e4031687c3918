"""Temporal NMS, temporal Soft-NMS and their class-aware (batched) forms.

NumPy arrays and torch tensors (any device: the suppression runs on the CPU in the
compiled kernels of :mod:`._kernels`, and the kept indices come back on the input's
device). Intervals are visited by decreasing score, equal scores lower index first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_torch
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from . import _kernels as K

__all__ = ["nms", "batched_nms", "soft_nms"]

_METHODS = {"linear": K.SOFT_LINEAR, "gaussian": K.SOFT_GAUSSIAN}


def _host(x: Any) -> np.ndarray:
    if is_torch(x):
        return x.detach().cpu().double().numpy() if x.is_floating_point() else x.cpu().numpy()
    return np.asarray(x)


def _intervals(x: Any) -> np.ndarray:
    a = _host(x)
    if a.ndim == 1 and a.size == 0:
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ShapeMismatchError(f"intervals must have shape (N, 2), got {tuple(a.shape)}")
    if a.dtype.kind not in "biuf":
        raise InvalidParameterError(f"intervals must be a real array, got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(a).all(axis=1) | (a[:, 1] < a[:, 0]))
    if bad.size:
        r = int(bad[0])
        why = "is not finite" if not np.isfinite(a[r]).all() else "has end < start"
        raise InvalidBoxesError(f"intervals row {r} {why}: {a[r].tolist()}")
    return a


def _scores(x: Any, n: int) -> np.ndarray:
    s = np.ascontiguousarray(_host(x), dtype=np.float64)
    if s.shape != (n,):
        raise ShapeMismatchError(f"scores must have shape ({n},) to match intervals, got {s.shape}")
    nan = np.flatnonzero(np.isnan(s))
    if nan.size:
        raise InvalidBoxesError(f"scores row {int(nan[0])} is NaN")
    return s


def _labels(x: Any, n: int) -> tuple[np.ndarray, int]:
    if x is None:
        return np.zeros(n, np.int64), 1
    lab = _host(x)
    if lab.shape != (n,):
        raise ShapeMismatchError(
            f"labels must have shape ({n},) to match intervals, got {lab.shape}"
        )
    if lab.dtype.kind == "f" and lab.size and not np.all(lab == np.trunc(lab)):
        raise InvalidParameterError("labels must be integers")
    if lab.dtype.kind not in "biuf":
        raise InvalidParameterError(f"labels must be integers, got dtype {lab.dtype}")
    uniq, dense = np.unique(lab, return_inverse=True)
    return np.ascontiguousarray(dense.reshape(-1), dtype=np.int64), max(len(uniq), 1)


def _number(name: str, v: Any) -> float:
    f = float(v)
    if np.isnan(f):
        raise InvalidParameterError(f"{name} must be a number, got NaN")
    return f


def _order(s: np.ndarray) -> np.ndarray:
    # decreasing score, ties lower index first (a stable sort of the negation)
    return np.argsort(-s, kind="stable").astype(np.int64)


def _wrap(idx: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(idx, np.int64)).to(like.device)
    return np.ascontiguousarray(idx, dtype=np.int64)


def _wrap_values(v: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        import torch

        dt = like.dtype if like.is_floating_point() else torch.float64
        return torch.from_numpy(v).to(device=like.device, dtype=dt)
    return v


def _hard(intervals: Any, scores: Any, labels: Any, iou_threshold: float) -> Any:
    thr = _number("iou_threshold", iou_threshold)
    iv = _intervals(intervals)
    s = _scores(scores, iv.shape[0])
    lab, n_lab = _labels(labels, iv.shape[0])
    keep = K.greedy_nms(iv, _order(s), lab, n_lab, thr)
    return _wrap(keep, intervals)


def nms(intervals: Any, scores: Any, iou_threshold: float) -> Any:
    """Greedy temporal NMS: keep the best interval, drop those with tIoU > threshold.

    Intervals are visited by decreasing score (equal scores: lower index first); each
    kept interval removes every later one whose tIoU with it is **strictly greater**
    than ``iou_threshold`` (torchvision's rule for boxes). tIoU as
    :func:`ioukit.intervals.iou` in float64 (0 for two zero-length intervals).

    Args:
        intervals: (N, 2) ``(start, end)``; NumPy, list or torch tensor (any device).
        scores: (N,) scores.
        iou_threshold: suppress when tIoU > this value (a negative value keeps only the
            best interval).

    Returns:
        (K,) int64 indices of the kept intervals by decreasing score, NumPy or a torch
        tensor on the input's device.

    Raises:
        InvalidBoxesError: a NaN/inf bound, end < start, or a NaN score (names the row).

    Example:
        >>> import numpy as np
        >>> from ioukit.intervals import nms
        >>> iv = np.array([[0.0, 10.0], [1.0, 11.0], [20.0, 30.0]])
        >>> nms(iv, np.array([0.9, 0.8, 0.7]), 0.5)
        array([0, 2])
    """
    return _hard(intervals, scores, None, iou_threshold)


def batched_nms(intervals: Any, scores: Any, labels: Any, iou_threshold: float) -> Any:
    """Class-aware temporal NMS: intervals of different labels never suppress each other.

    Same rule and tie order as :func:`nms`, run within each label in one kernel call
    (no coordinate offsets). ``labels`` (N,) are integers of any value.

    Returns:
        (K,) int64 indices of the kept intervals by decreasing score, all labels mixed.

    Example:
        >>> import numpy as np
        >>> from ioukit.intervals import batched_nms
        >>> iv = np.array([[0.0, 10.0], [1.0, 11.0], [1.0, 11.0]])
        >>> batched_nms(iv, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5)
        array([0, 2])
    """
    return _hard(intervals, scores, labels, iou_threshold)


def soft_nms(
    intervals: Any,
    scores: Any,
    *,
    sigma: float = 0.5,
    method: str = "gaussian",
    iou_threshold: float = 0.3,
    score_threshold: float = 0.001,
    labels: Any = None,
) -> tuple[Any, Any]:
    """Temporal Soft-NMS (Bodla et al. 2017): decay overlapping scores instead of dropping.

    Repeatedly take the highest remaining (decayed) score, ties to the interval that
    comes first by original score then index, and rescore every other remaining interval
    of the same label by its tIoU with it:

    - ``"gaussian"`` (default): ``s * exp(-tIoU^2 / sigma)`` (every overlapping one);
    - ``"linear"``: ``s * (1 - tIoU)`` where ``tIoU > iou_threshold``.

    An interval is returned when its score at selection is ``> score_threshold``.
    Decays are computed in float64.

    Args:
        intervals: (N, 2) ``(start, end)``.
        scores: (N,) scores.
        sigma: Gaussian width (> 0).
        method: ``"gaussian"`` or ``"linear"``.
        iou_threshold: linear method only.
        score_threshold: keep intervals whose decayed score is above this.
        labels: (N,) integers, optional: the batched (class-aware) form.

    Returns:
        ``(keep, decayed)``: (K,) int64 indices in selection order (non-increasing
        decayed score) and their (K,) decayed scores; NumPy or torch on the input's device.

    Example:
        >>> import numpy as np
        >>> from ioukit.intervals import soft_nms
        >>> iv = np.array([[0.0, 4.0], [2.0, 6.0]])  # tIoU 1/3
        >>> keep, s = soft_nms(iv, np.array([0.9, 0.8]), sigma=0.5)
        >>> keep, s.round(4)  # 0.8 * exp(-(1/9) / 0.5)
        (array([0, 1]), array([0.9   , 0.6406]))
    """
    if method not in _METHODS:
        raise InvalidParameterError(f"method must be 'linear' or 'gaussian', got {method!r}")
    sig = _number("sigma", sigma)
    if method == "gaussian" and not sig > 0:
        raise InvalidParameterError(f"sigma must be > 0 for the gaussian method, got {sigma}")
    nt = _number("iou_threshold", iou_threshold)
    thr = _number("score_threshold", score_threshold)
    iv = _intervals(intervals)
    s = _scores(scores, iv.shape[0])
    lab, n_lab = _labels(labels, iv.shape[0])
    keep, dec = K.soft_nms(iv, s.copy(), _order(s), lab, n_lab, nt, sig, thr, _METHODS[method])
    return _wrap(keep, intervals), _wrap_values(dec, scores)
