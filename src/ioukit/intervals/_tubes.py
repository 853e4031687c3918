"""Spatio-temporal tubes: tube IoU, and the frames where two tracks overlap.

A tube is an array [T, 5] of rows ``(frame, x1, y1, x2, y2)``, frames increasing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import boxes as _boxes
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels

__all__ = ["tube_iou", "Possession", "possession"]


def _tube(x: Any, name: str) -> np.ndarray:
    t = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] != 5:
        raise ShapeMismatchError(f"{name} must be [T, 5] (frame, x1, y1, x2, y2); got {t.shape}")
    if t.shape[0] and not np.all(np.diff(t[:, 0]) > 0):
        bad = int(np.flatnonzero(np.diff(t[:, 0]) <= 0)[0]) + 1
        raise InvalidParameterError(f"{name} row {bad}: frames must increase (frame {t[bad, 0]})")
    _boxes.validate(t[:, 1:])
    return t


def _box_iou_legacy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # ACT-detector utils.py overlap2d / area2d: pixel-inclusive boxes (+1)
    iw = np.maximum(0, np.minimum(a[:, 2] + 1, b[:, 2] + 1) - np.maximum(a[:, 0], b[:, 0]))
    ih = np.maximum(0, np.minimum(a[:, 3] + 1, b[:, 3] + 1) - np.maximum(a[:, 1], b[:, 1]))
    inter = iw * ih

    def area(x: np.ndarray) -> np.ndarray:
        return (x[:, 2] - x[:, 0] + 1) * (x[:, 3] - x[:, 1] + 1)

    return inter / (area(a) + area(b) - inter)


def tube_iou(a: Any, b: Any, *, legacy: bool = True) -> float:
    """Spatio-temporal IoU of two tubes: temporal IoU x mean per-frame box IoU.

    The video-mAP overlap of UCF101-24 / J-HMDB / AVA tube evaluations (Kalogeiton et
    al. 2017, ACT-detector ``utils.py`` ``iou3dt``): with frames counted inclusively,
    ``tIoU = (min(ends) - max(starts) + 1) / (max(ends) - min(starts) + 1)`` (0 when the
    frame ranges are disjoint), times the mean box IoU over the frames both tubes have
    in their common range.

    Parameters
    ----------
    a, b : array [T, 5]
        ``(frame, x1, y1, x2, y2)`` rows, frames increasing (integers).
    legacy : bool
        True (default, as ACT-detector): pixel-inclusive boxes, ``w = x2 - x1 + 1``.
        False: continuous boxes (:func:`ioukit.boxes.iou`).

    Returns
    -------
    float in [0, 1].

    Example
    -------
    >>> import numpy as np
    >>> a = np.array([[f, 0, 0, 9, 9] for f in range(1, 11)], float)   # frames 1..10
    >>> b = np.array([[f, 0, 0, 9, 4] for f in range(6, 16)], float)   # frames 6..15
    >>> tube_iou(a, b)  # tIoU 5/15 x box IoU 50/100
    0.16666666666666666
    """
    ta, tb = _tube(a, "a"), _tube(b, "b")
    if not ta.shape[0] or not tb.shape[0]:
        return 0.0
    tmin = max(ta[0, 0], tb[0, 0])
    tmax = min(ta[-1, 0], tb[-1, 0])
    if tmax < tmin:
        return 0.0
    t_inter = tmax - tmin + 1
    t_union = max(ta[-1, 0], tb[-1, 0]) - min(ta[0, 0], tb[0, 0]) + 1
    _, ia, ib = np.intersect1d(ta[:, 0], tb[:, 0], assume_unique=True, return_indices=True)
    if ia.size == 0:
        return 0.0
    ba, bb = ta[ia, 1:], tb[ib, 1:]
    ious = _box_iou_legacy(ba, bb) if legacy else _boxes.iou(ba, bb, aligned=True)
    return float(np.mean(ious) * (t_inter / t_union))


@dataclass
class Possession:
    """Frames where two tracks overlap, merged into intervals.

    Attributes
    ----------
    mask : bool (T,)            per frame: box IoU >= iou_threshold
    iou : float64 (T,)          per-frame box IoU
    intervals : float64 (K, 2)  ``[start, end)`` of each run, in time units (frame / fps)
    duration : float            total length of the intervals
    """

    mask: np.ndarray
    iou: np.ndarray
    intervals: np.ndarray
    duration: float


def possession(
    boxes_a: Any,
    boxes_b: Any,
    *,
    iou_threshold: float = 0.5,
    fps: float = 1.0,
    min_gap: int = 0,
) -> Possession:
    """The frames where two per-frame box tracks overlap (IoU >= tau), as intervals.

    E.g. a player and the ball detected frame by frame: possession time is the total
    duration of the runs of frames where their box IoU reaches ``iou_threshold``.

    Parameters
    ----------
    boxes_a, boxes_b : array [T, 4]
        ``xyxy`` boxes of the two tracks, one row per frame (frame t of both).
    iou_threshold : float
        tau; a frame counts when the box IoU is ``>=`` it.
    fps : float
        Frames per second: run ``[i, j)`` of frames becomes ``[i / fps, j / fps)``.
    min_gap : int
        Runs separated by at most this many frames are merged into one (0: none).

    Returns
    -------
    Possession : ``.mask``, ``.iou``, ``.intervals`` [K, 2], ``.duration``.

    Example
    -------
    >>> import numpy as np
    >>> a = np.array([[0, 0, 2, 2]] * 6, float)
    >>> b = np.array([[0, 0, 2, 2], [0, 0, 2, 2], [5, 5, 6, 6],
    ...               [0, 0, 2, 1], [0, 0, 2, 2], [9, 9, 10, 10]], float)
    >>> p = possession(a, b, iou_threshold=0.5, fps=2.0)
    >>> p.mask.tolist(), p.intervals.tolist(), p.duration
    ([True, True, False, True, True, False], [[0.0, 1.0], [1.5, 2.5]], 2.0)
    """
    if not float(fps) > 0:
        raise InvalidParameterError(f"fps must be > 0, got {fps!r}")
    if int(min_gap) < 0:
        raise InvalidParameterError(f"min_gap must be >= 0, got {min_gap!r}")
    a = np.asarray(boxes_a.detach().cpu() if hasattr(boxes_a, "detach") else boxes_a, float)
    b = np.asarray(boxes_b.detach().cpu() if hasattr(boxes_b, "detach") else boxes_b, float)
    if a.shape != b.shape or a.ndim != 2:
        raise ShapeMismatchError(
            f"boxes_a {a.shape} and boxes_b {b.shape} must both be [T, 4], one row per frame"
        )
    ious = np.asarray(_boxes.iou(a, b, aligned=True), dtype=np.float64)
    mask = ious >= float(iou_threshold)
    runs = _kernels.true_runs(np.ascontiguousarray(mask).view(np.uint8))
    if min_gap and len(runs) > 1:
        # merge runs whose gap (frames between them) is at most min_gap
        gap = runs[1:, 0] - runs[:-1, 1]
        new = np.concatenate(([True], gap > int(min_gap)))
        first = np.flatnonzero(new)
        last = np.concatenate((first[1:] - 1, [len(runs) - 1]))
        runs = np.stack([runs[first, 0], runs[last, 1]], axis=1)
    intervals = runs.astype(np.float64) / float(fps)
    duration = float(np.sum(intervals[:, 1] - intervals[:, 0])) if len(intervals) else 0.0
    return Possession(mask, ious, intervals.reshape(-1, 2), duration)
