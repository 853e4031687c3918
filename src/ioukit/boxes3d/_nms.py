"""Greedy NMS of 3-D boxes, in 3-D or in bird's-eye view, and its class-aware form."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_torch
from ..errors import InvalidParameterError, ShapeMismatchError
from ._measures import _measure

__all__ = ["nms3d", "batched_nms3d"]


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if is_torch(x) else x)


def _greedy(boxes: np.ndarray, scores: np.ndarray, thr: float, fmt: str, bev: bool) -> np.ndarray:
    n = len(scores)
    order = np.argsort(-scores, kind="stable")  # equal scores: the lower index first
    ov = _measure(boxes[order], boxes[order], fmt, False, "bev_iou" if bev else "iou", 0.0)
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed[i + 1 :] |= ov[i, i + 1 :] > thr
    return order[np.asarray(keep, dtype=np.int64)]


def _check(boxes: np.ndarray, scores: np.ndarray, fmt: str, thr: float) -> None:
    rows = len(boxes) if boxes.ndim else 0
    if scores.ndim != 1 or rows != len(scores):
        raise ShapeMismatchError(
            f"boxes {boxes.shape} and scores {scores.shape}: one score per box"
        )
    if not np.isfinite(thr):
        raise InvalidParameterError(f"iou_threshold must be finite, got {thr}")


def _back(keep: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        import torch

        return torch.as_tensor(keep, dtype=torch.int64, device=like.device)
    return keep


def nms3d(
    boxes: Any, scores: Any, iou_threshold: float, *, fmt: str = "xyzlwhyaw", bev: bool = False
) -> Any:
    """Greedy NMS of 3-D boxes: visit by decreasing score, drop every later box whose
    3-D IoU (``bev=True``: BEV IoU) with a kept one is **strictly greater** than
    ``iou_threshold``. Equal scores keep the lower index first.

    ``boxes`` ``(N, 7)`` (or any :func:`iou` format), ``scores`` ``(N,)``; returns the
    kept indices ``(K,)`` int64 by decreasing score (NumPy or a torch tensor on the
    input's device).

    >>> b = np.array([[0, 0, 0, 4, 2, 2, 0], [0.2, 0, 0, 4, 2, 2, 0.1], [9, 9, 0, 4, 2, 2, 0]])
    >>> nms3d(b, np.array([0.9, 0.95, 0.5]), 0.5)
    array([1, 2])
    """
    b, s = _np(boxes).astype(np.float64), _np(scores).astype(np.float64)
    _check(b, s, fmt, iou_threshold)
    return _back(_greedy(b, s, float(iou_threshold), fmt, bev), boxes)


def batched_nms3d(
    boxes: Any,
    scores: Any,
    labels: Any,
    iou_threshold: float,
    *,
    fmt: str = "xyzlwhyaw",
    bev: bool = False,
) -> Any:
    """Class-aware :func:`nms3d`: boxes suppress only boxes of the same label.

    Returns the kept indices over all labels, by decreasing score (equal scores: lower
    index first).

    >>> b = np.array([[0, 0, 0, 4, 2, 2, 0], [0.2, 0, 0, 4, 2, 2, 0.1]])
    >>> batched_nms3d(b, np.array([0.9, 0.95]), np.array([0, 1]), 0.5)
    array([1, 0])
    """
    b, s = _np(boxes).astype(np.float64), _np(scores).astype(np.float64)
    lab = _np(labels).reshape(-1)
    _check(b, s, fmt, iou_threshold)
    if len(lab) != len(s):
        raise ShapeMismatchError(f"labels ({len(lab)}) and scores ({len(s)}): one label per box")
    kept = [
        np.flatnonzero(lab == c)[_greedy(b[lab == c], s[lab == c], float(iou_threshold), fmt, bev)]
        for c in np.unique(lab)
    ]
    keep = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    keep = keep[np.lexsort((keep, -s[keep]))]
    return _back(keep.astype(np.int64), boxes)
