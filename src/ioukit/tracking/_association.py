"""IoU association of tracks and detections: optimal (Hungarian) or greedy, and ByteTrack's
two stages.

Boxes are continuous (no +1: TrackEval, py-motmetrics, torchvision); ``legacy=True`` uses
the +1-pixel areas of cython_bbox (ByteTrack, SORT's original code).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from .. import boxes as _boxes
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels

__all__ = ["Association", "associate", "associate_two_stage", "iou_matrix"]


class Association(NamedTuple):
    """matches : (K, 2) int64 (track index, detection index), by track index;
    unmatched_tracks, unmatched_detections : sorted int64 indices; iou : (N, M) matrix."""

    matches: np.ndarray
    unmatched_tracks: np.ndarray
    unmatched_detections: np.ndarray
    iou: np.ndarray


def _as_boxes(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0:
        return np.zeros((0, 4))
    if a.ndim != 2 or a.shape[1] != 4:
        raise ShapeMismatchError(f"{name}: expected (N, 4) boxes, got shape {a.shape}")
    return a


def _legacy_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # cython_bbox.bbox_overlaps: +1 on widths, heights and areas; 0 unless both overlaps > 0
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + 1
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + 1
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(inter > 0, inter / np.where(inter > 0, union, 1.0), 0.0)


def iou_matrix(tracks: Any, detections: Any, *, fmt: str = "xyxy", legacy: bool = False):
    """(N, M) IoU of N track boxes and M detection boxes (float64).

    Continuous boxes by default (``ioukit.boxes.iou``); ``legacy=True``: +1-pixel areas.

    >>> iou_matrix([[0, 0, 2, 2]], [[1, 1, 3, 3]])
    array([[0.14285714]])
    >>> iou_matrix([[0, 0, 2, 2]], [[1, 1, 3, 3]], legacy=True)  # 4 / (9 + 9 - 4)
    array([[0.28571429]])
    """
    a, b = _as_boxes(tracks, "tracks"), _as_boxes(detections, "detections")
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    if fmt != "xyxy":
        a, b = _boxes.convert(a, fmt, "xyxy"), _boxes.convert(b, fmt, "xyxy")
    if legacy:
        return _legacy_iou(a, b)
    return np.asarray(_boxes.iou(a, b), dtype=np.float64)


def _assign(iou: np.ndarray, iou_threshold: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    n, m = iou.shape
    if n == 0 or m == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    if method == "hungarian":
        rows, cols = linear_sum_assignment(-iou)
        keep = iou[rows, cols] >= iou_threshold
        return rows[keep], cols[keep]
    if method == "greedy":
        flat = np.ascontiguousarray(iou)
        order = np.argsort(-flat, axis=None, kind="stable").astype(np.int64)
        rows, cols = _kernels.greedy_pairs(flat, order, float(iou_threshold))
        o = np.argsort(rows, kind="stable")
        return rows[o], cols[o]
    raise InvalidParameterError(f"method {method!r}: expected 'hungarian' or 'greedy'")


def associate(
    tracks: Any,
    detections: Any,
    iou_threshold: float = 0.3,
    method: str = "hungarian",
    *,
    fmt: str = "xyxy",
    legacy: bool = False,
) -> Association:
    """Match N track boxes to M detection boxes by IoU.

    ``method="hungarian"``: the assignment maximising the total IoU (SciPy's
    ``linear_sum_assignment``, as SORT and ByteTrack), then pairs below ``iou_threshold``
    are dropped; ``"greedy"``: pairs taken in decreasing IoU while both are free. A pair
    matches when IoU >= ``iou_threshold``.

    Parameters
    ----------
    tracks : (N, 4) boxes; detections : (M, 4) boxes, in ``fmt`` (xyxy, xywh, cxcywh).
    legacy : +1-pixel areas (cython_bbox) instead of continuous boxes.

    Returns
    -------
    Association(matches (K, 2), unmatched_tracks, unmatched_detections, iou (N, M)).

    Example
    -------
    >>> r = associate([[0, 0, 10, 10], [20, 20, 30, 30]], [[21, 20, 31, 30], [50, 50, 60, 60]])
    >>> r.matches.tolist(), r.unmatched_tracks.tolist(), r.unmatched_detections.tolist()
    ([[1, 0]], [0], [1])
    """
    iou = iou_matrix(tracks, detections, fmt=fmt, legacy=legacy)
    rows, cols = _assign(iou, iou_threshold, method)
    return _result(iou, rows, cols)


def _result(iou: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> Association:
    n, m = iou.shape
    matches = np.stack([rows, cols], 1).astype(np.int64).reshape(-1, 2)
    free_t = np.ones(n, bool)
    free_t[rows] = False
    free_d = np.ones(m, bool)
    free_d[cols] = False
    return Association(
        matches, np.nonzero(free_t)[0].astype(np.int64), np.nonzero(free_d)[0].astype(np.int64), iou
    )


class TwoStageAssociation(NamedTuple):
    """matches : (K, 2) (track, detection) over both stages (detection indices into the
    full input); unmatched_tracks; unmatched_high (high-score detections left: new-track
    candidates); unmatched_low (low-score detections left: dropped by ByteTrack)."""

    matches: np.ndarray
    unmatched_tracks: np.ndarray
    unmatched_high: np.ndarray
    unmatched_low: np.ndarray


def associate_two_stage(
    tracks: Any,
    detections: Any,
    scores: Any,
    *,
    high_score: float = 0.5,
    low_score: float = 0.1,
    iou_thresholds: tuple[float, float] = (0.2, 0.5),
    second_stage_tracks: Any = None,
    method: str = "hungarian",
    fmt: str = "xyxy",
    legacy: bool = False,
) -> TwoStageAssociation:
    """ByteTrack's association (Zhang et al. 2022, yolox/tracker/byte_tracker.py ``update``).

    Stage 1 matches detections with score >= ``high_score`` to every track at IoU >=
    ``iou_thresholds[0]`` (ByteTrack's ``match_thresh`` 0.8 on 1 - IoU); stage 2 matches
    the detections with ``low_score`` < score < ``high_score`` to the tracks left over (only
    those flagged in ``second_stage_tracks``, ByteTrack's currently tracked ones; default
    all) at IoU >= ``iou_thresholds[1]``. ByteTrack's score fusion and its lost-track
    bookkeeping are the caller's.

    Example
    -------
    >>> t = [[0, 0, 10, 10], [20, 0, 30, 10]]
    >>> d = [[0, 0, 10, 10], [20, 0, 30, 10], [50, 0, 60, 10]]
    >>> r = associate_two_stage(t, d, [0.9, 0.3, 0.05])
    >>> r.matches.tolist(), r.unmatched_high.tolist(), r.unmatched_low.tolist()
    ([[0, 0], [1, 1]], [], [])
    """
    t = _as_boxes(tracks, "tracks")
    d = _as_boxes(detections, "detections")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape[0] != d.shape[0]:
        raise ShapeMismatchError(f"scores: {s.shape[0]} scores for {d.shape[0]} detections")
    high = np.nonzero(s >= high_score)[0]
    low = np.nonzero((s > low_score) & (s < high_score))[0]
    first = associate(t, d[high], iou_thresholds[0], method, fmt=fmt, legacy=legacy)
    left = first.unmatched_tracks
    if second_stage_tracks is not None:
        flag = np.asarray(second_stage_tracks, dtype=bool).reshape(-1)
        if flag.shape[0] != t.shape[0]:
            raise ShapeMismatchError(
                f"second_stage_tracks: {flag.shape[0]} flags for {t.shape[0]} tracks"
            )
        candidates = left[flag[left]]
    else:
        candidates = left
    second = associate(t[candidates], d[low], iou_thresholds[1], method, fmt=fmt, legacy=legacy)
    m1 = np.stack([first.matches[:, 0], high[first.matches[:, 1]]], 1)
    m2 = np.stack([candidates[second.matches[:, 0]], low[second.matches[:, 1]]], 1)
    matches = np.concatenate([m1, m2]).astype(np.int64).reshape(-1, 2)
    matches = matches[np.argsort(matches[:, 0], kind="stable")]
    taken = np.zeros(t.shape[0], bool)
    taken[matches[:, 0]] = True
    return TwoStageAssociation(
        matches,
        np.nonzero(~taken)[0].astype(np.int64),
        high[first.unmatched_detections].astype(np.int64),
        low[second.unmatched_detections].astype(np.int64),
    )
