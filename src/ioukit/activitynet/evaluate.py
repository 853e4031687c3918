"""``ioukit.activitynet.evaluate``: temporal detection mAP, a composition of the engine.

1. load: ActivityNet JSON -> columns (:mod:`._load`);
2. group: one group per (label, video) (the ``ioukit.matching.Groups`` layout);
   predictions best score first, equal scores *later in the file first* (the official
   ``argsort()[::-1]``);
3. overlap: ``ioukit.matching.grouped_box_iou`` on the segments as height-1 boxes
   ``[start, 0, end, 1]`` (continuous coordinates): ``inter / (len_p + len_g - inter)``,
   the very floats of the official ``segment_iou``;
4. match: ``ioukit.matching.match_coco`` without crowd or area rules: each prediction
   takes the unmatched ground truth of highest tIoU ``>= t`` in its video (ties: the
   later one), at every threshold at once: the official greedy loop;
5. score: per label, the cumulative precision / recall over all its predictions and
   the all-point AP (``interpolated_prec_rec``: ``ioukit.metrics.average_precision``'s
   "all_point", compiled for all labels and thresholds in one call, :mod:`._ap_kernel`).

Conventions and sources: docs/activitynet.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ..matching import TP, Groups, grouped_box_iou, match_coco
from ._ap_kernel import all_point_ap
from ._load import GroundTruth, Predictions, read_ground_truth, read_predictions

__all__ = [
    "evaluate",
    "ActivityNetResult",
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "THUMOS14_TIOU_THRESHOLDS",
    "PRESETS",
]

#: ``np.linspace(0.5, 0.95, 10)``, the official default (bit for bit)
ACTIVITYNET_TIOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
ACTIVITYNET_TIOU_THRESHOLDS.setflags(write=False)
#: THUMOS14's tIoU 0.3:0.7 step 0.1
THUMOS14_TIOU_THRESHOLDS = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
THUMOS14_TIOU_THRESHOLDS.setflags(write=False)
#: named threshold sets accepted as ``tiou_thresholds``
PRESETS = {"activitynet": ACTIVITYNET_TIOU_THRESHOLDS, "thumos14": THUMOS14_TIOU_THRESHOLDS}

_ALL = np.array([[-np.inf, np.inf]])


@dataclass
class ActivityNetResult:
    """Temporal detection AP per tIoU threshold and class.

    Attributes
    ----------
    tiou_thresholds : float64 (T,)
    labels : list of str         classes of the ground truth (first-appearance order)
    ap : float64 (T, K)          AP per threshold and class (0 for a class without
                                 predictions)
    map : float64 (T,)           mean over classes, per threshold
    average_map : float          mean of ``map``
    num_gt, num_pred : int64 (K,)
    subset : str or None
    """

    tiou_thresholds: np.ndarray
    labels: list
    ap: np.ndarray
    map: np.ndarray
    average_map: float
    num_gt: np.ndarray
    num_pred: np.ndarray
    subset: str | None
    _flags: np.ndarray = field(repr=False)

    def summary(self) -> str:
        """mAP per tIoU threshold and the average, as a small table."""
        head = "tIoU  " + "  ".join(f"{t:>6.2f}" for t in self.tiou_thresholds) + "     avg"
        row = "mAP   " + "  ".join(f"{m:6.4f}" for m in self.map) + f"  {self.average_map:6.4f}"
        n = int(self.num_gt.sum())
        info = (
            f"ActivityNet detection \u00b7 subset {self.subset} \u00b7 {len(self.labels)} classes"
            f" \u00b7 {n} GT \u00b7 {int(self.num_pred.sum())} predictions"
        )
        return "\n".join([info, head, row])

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Numbers as JSON-able Python objects."""
        return {
            "protocol": "activitynet",
            "subset": self.subset,
            "tiou_thresholds": self.tiou_thresholds.tolist(),
            "labels": list(self.labels),
            "map": self.map.tolist(),
            "average_map": float(self.average_map),
            "ap": self.ap.tolist(),
            "num_gt": self.num_gt.tolist(),
            "num_pred": self.num_pred.tolist(),
        }


def _thresholds(tiou_thresholds: Any) -> np.ndarray:
    if isinstance(tiou_thresholds, str):
        if tiou_thresholds not in PRESETS:
            raise InvalidParameterError(
                f"tiou_thresholds={tiou_thresholds!r}: a preset name is one of {sorted(PRESETS)}"
            )
        return np.array(PRESETS[tiou_thresholds], dtype=np.float64)
    t = np.atleast_1d(np.asarray(tiou_thresholds, dtype=np.float64))
    if t.ndim != 1 or t.size == 0 or not np.all((t >= 0) & (t <= 1)):
        raise InvalidParameterError(
            "tiou_thresholds must be a non-empty list of numbers in [0, 1]; "
            f"got {tiou_thresholds!r}"
        )
    return t


def _rank(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank, order) of the predictions: descending score, equal scores later in the file
    first (the official ``score.argsort()[::-1]``, with tied scores kept in input order);
    ``order`` lists the rows by rank, ``rank`` is its inverse."""
    n = score.size
    # a stable sort of the reversed array, mapped back: ties come out later-row first
    order = (n - 1) - np.argsort(-score[::-1], kind="stable")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    return rank, order.astype(np.int64, copy=False)


def _sort_by(major: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Positions ordered by (major, rank); ranks are distinct integers >= 0."""
    if rank.size == 0:
        return np.zeros(0, np.int64)
    n = int(rank.max()) + 1
    top = int(major.max()) + 1
    if top < (2**62) // n:
        return np.argsort(major * n + rank)  # unique keys: any sort gives this order
    return np.lexsort((rank, major))


def _groups(gt: GroundTruth, pr: Predictions, rank: np.ndarray) -> Groups:
    """One group per (label, video) holding predictions; predictions by rank."""
    n_vid = max(len(gt.video_ids), 1)
    counted = np.flatnonzero(pr.video >= 0)  # a video without GT: FP, in no group
    key = pr.label[counted] * n_vid + pr.video[counted]
    order = _sort_by(key, rank[counted])
    dt_index = counted[order]
    sorted_key = key[order]
    first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if key.size else []
    keys = sorted_key[first]
    dt_off = np.r_[first, key.size].astype(np.int64)
    g_key = gt.label * n_vid + gt.video
    pos = np.minimum(np.searchsorted(keys, g_key), max(keys.size - 1, 0))
    hit = keys[pos] == g_key if keys.size else np.zeros(g_key.size, bool)
    gt_rows = np.flatnonzero(hit)
    gt_group = pos[gt_rows]
    gt_order = np.argsort(gt_group, kind="stable")  # GT in file order within a group
    gt_counts = np.bincount(gt_group, minlength=keys.size)
    gt_off = np.r_[0, np.cumsum(gt_counts)].astype(np.int64)
    iou_off = np.r_[0, np.cumsum(np.diff(dt_off) * gt_counts)].astype(np.int64)
    return Groups(dt_index.astype(np.int64), dt_off, gt_rows[gt_order].astype(np.int64), gt_off,
                  iou_off, None)  # fmt: skip


def _as_boxes(seg: np.ndarray) -> np.ndarray:
    # [start, 0, end, 1]: box IoU is inter * 1 / (len * 1 + len * 1 - inter * 1), the very
    # floats of segment_iou
    out = np.zeros((seg.shape[0], 4))
    out[:, 0], out[:, 2], out[:, 3] = seg[:, 0], seg[:, 1], 1.0
    return out


def _match(gt: GroundTruth, pr: Predictions, thr: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """TP flags (N, T) of the predictions, in their file order."""
    groups = _groups(gt, pr, rank)
    ious = grouped_box_iou(_as_boxes(pr.segment), _as_boxes(gt.segment), groups, legacy=False)
    n, g = pr.score.size, gt.segment.shape[0]
    flags, _ = match_coco(ious, groups, np.zeros(g), np.zeros(n), thr, _ALL)
    tp = np.zeros((n, thr.size), dtype=bool)
    tp[groups.dt_index] = flags[:, 0, :] == TP
    return tp


def _average_precision(
    gt: GroundTruth, pr: Predictions, tp: np.ndarray, order: np.ndarray, n_thr: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = len(gt.labels)
    num_gt = np.bincount(gt.label, minlength=k).astype(np.int64)
    num_pred = np.bincount(pr.label, minlength=k).astype(np.int64)
    # rank within each label (the official per-class sort): a stable partition of the
    # ranked rows by label (a radix sort for small label types)
    lab = pr.label[order]
    lab = lab.astype(np.int16) if k < 2**15 else lab
    by_label = order[np.argsort(lab, kind="stable")]
    starts = np.concatenate(([0], np.cumsum(num_pred))).astype(np.int64)
    tps = np.ascontiguousarray(tp).view(np.uint8).reshape(-1, n_thr)
    ap = all_point_ap(tps, by_label, starts, num_gt.astype(np.float64))
    return ap, num_gt, num_pred


def evaluate(
    ground_truth: Any,
    prediction: Any,
    *,
    tiou_thresholds: Sequence[float] | np.ndarray | str = ACTIVITYNET_TIOU_THRESHOLDS,
    subset: str | None = "validation",
    unknown_labels: str = "error",
    exclude_videos: Iterable[str] = (),
) -> ActivityNetResult:
    """ActivityNet temporal action detection mAP, as the official ``eval_detection.py``.

    Parameters
    ----------
    ground_truth : ActivityNet ground-truth JSON path or dict (``"database"``: video id
        -> ``{"subset", "annotations": [{"segment": [s, e], "label"}]}``).
    prediction : ActivityNet results JSON path or dict (``"results"``: video id ->
        ``[{"label", "score", "segment": [s, e]}]``).
    tiou_thresholds : float (T,) or a preset name: ``"activitynet"`` (default,
        ``np.linspace(0.5, 0.95, 10)``) or ``"thumos14"`` (0.3:0.7 step 0.1).
    subset : the ground-truth videos whose ``"subset"`` equals this (official default
        ``"validation"``); None for every video. Predictions are not filtered.
    unknown_labels : "error" (default; the official code raises too) or "ignore": what a
        prediction whose label has no ground truth in the subset does.
    exclude_videos : video ids left out of both sides (the official blocked videos).

    Returns
    -------
    ActivityNetResult : ``.map`` (T,), ``.average_map``, ``.ap`` (T, K), ``.labels``.

    Example
    -------
    One video, two classes; the first "Dive" prediction overlaps its GT at tIoU 0.8:

    >>> gt = {"database": {"v1": {"subset": "validation", "annotations": [
    ...     {"segment": [0.0, 10.0], "label": "Dive"},
    ...     {"segment": [20.0, 30.0], "label": "Run"}]}}}
    >>> pred = {"results": {"v1": [
    ...     {"label": "Dive", "score": 0.9, "segment": [0.0, 8.0]},
    ...     {"label": "Dive", "score": 0.5, "segment": [1.0, 9.0]},
    ...     {"label": "Run", "score": 0.7, "segment": [20.0, 30.0]}]}}
    >>> r = evaluate(gt, pred, tiou_thresholds=[0.5, 0.85])
    >>> r.ap.tolist()  # Dive: TP at 0.5, FP at 0.85; Run: exact
    [[1.0, 1.0], [0.0, 1.0]]
    >>> r.map.tolist(), r.average_map
    ([1.0, 0.5], 0.75)
    """
    thr = _thresholds(tiou_thresholds)
    excluded = tuple(exclude_videos)
    gt = read_ground_truth(ground_truth, subset, excluded)
    pr = read_predictions(prediction, gt, unknown_labels=unknown_labels, exclude_videos=excluded)
    rank, order = _rank(pr.score)
    tp = _match(gt, pr, thr, rank)
    ap, num_gt, num_pred = _average_precision(gt, pr, tp, order, thr.size)
    m = ap.mean(axis=1) if ap.shape[1] else np.full(thr.size, np.nan)
    return ActivityNetResult(
        thr, list(gt.labels), ap, m, float(m.mean()), num_gt, num_pred, subset, tp
    )
