"""The VOC greedy rule over groups (compiled: ``ioukit.matching._greedy``).

Sources: Pascal VOC devkit ``VOCevaldet.m`` (VOC2007 and VOC2012), py-faster-rcnn
``lib/datasets/voc_eval.py`` (lines 146-189), Detectron ``detectron/datasets/voc_eval.py``.
The rule, step by step, is in the kernel's module docstring and docs/voc.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._threads import get_num_threads
from ..errors import InvalidParameterError, ShapeMismatchError
from ._greedy import match_voc_kernel
from ._groups import Groups
from ._records import MatchRecords

__all__ = ["match_voc", "iou_thresholds"]

_PARALLEL_DETS = 1 << 14


def iou_thresholds(value: float | Sequence[float] | np.ndarray, who: str) -> np.ndarray:
    """One IoU threshold or several, as a validated float64 (T,) array.

    >>> iou_thresholds(0.5, "f").tolist(), iou_thresholds([0.5, 0.75], "f").tolist()
    ([0.5], [0.5, 0.75])
    """
    thr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if thr.ndim != 1 or thr.size == 0:
        raise InvalidParameterError(f"{who}: iou_threshold must be a number or a 1-D list")
    if not np.all((thr >= 0) & (thr <= 1)):
        raise InvalidParameterError(f"{who}: iou_threshold must lie in [0, 1], got {thr.tolist()}")
    return thr


def _rule(threshold_rule: str) -> bool:
    if threshold_rule not in (">", ">="):
        raise InvalidParameterError(
            f"threshold_rule must be '>' (py-faster-rcnn, Detectron) or '>=' (MATLAB "
            f"devkit), got {threshold_rule!r}"
        )
    return threshold_rule == ">="


def match_voc(
    ious: np.ndarray,
    groups: Groups,
    gt_difficult: np.ndarray,
    iou_threshold: float | Sequence[float] | np.ndarray = 0.5,
    *,
    threshold_rule: str = ">",
) -> MatchRecords:
    """Greedy VOC matching of every group: one record per detection.

    Within a group, detections are taken in ``groups.dt_index`` order (best score
    first). Each takes its best-IoU GT among all GT of the group (the first of equal
    maxima). If that IoU passes the threshold: a difficult GT makes the detection
    ignored (the GT stays free); a free GT makes it a true positive and takes the GT;
    a taken GT makes it a false positive. Otherwise (or with no GT) it is a false
    positive.

    Parameters
    ----------
    ious : float64 flat buffer from :func:`grouped_box_iou` (the Groups layout)
    groups : Groups
    gt_difficult : bool (Ng_all,), indexed by GT row
    iou_threshold : float or (T,) thresholds in [0, 1], matched independently
    threshold_rule : ">" (py-faster-rcnn / Detectron, default) or ">=" (MATLAB devkit)

    Example
    -------
    Two detections on one GT (IoU 0.8 and 0.6), then one on a difficult GT:

    >>> from ioukit.matching import build_groups
    >>> g = build_groups(np.array([0, 0, 1]), np.array([0, 1]), 2,
    ...                  dt_score=np.array([0.9, 0.8, 0.7]))
    >>> r = match_voc(np.array([0.8, 0.6, 0.9]), g, np.array([False, True]))
    >>> r.flags[:, 0].tolist(), r.gt_row[:, 0].tolist(), r.best_gt.tolist()
    ([1, 0, 2], [0, -1, 1], [0, 0, 1])
    """
    thr = iou_thresholds(iou_threshold, "match_voc")
    inclusive = _rule(threshold_rule)
    ious = np.ascontiguousarray(ious, dtype=np.float64)
    if ious.shape != (int(groups.iou_offsets[-1]),):
        raise ShapeMismatchError(
            f"match_voc: ious has shape {ious.shape}, the groups need ({groups.iou_offsets[-1]},)"
        )
    diff = np.ascontiguousarray(gt_difficult, dtype=np.bool_).view(np.uint8)
    if groups.gt_index.size and int(groups.gt_index.max()) >= diff.size:
        raise ShapeMismatchError(
            f"match_voc: gt_difficult has {diff.size} rows, the groups use row "
            f"{int(groups.gt_index.max())}"
        )
    nd, t = len(groups.dt_index), len(thr)
    flags = np.zeros((nd, t), np.uint8)
    gt_row = np.zeros((nd, t), np.int64)
    best_gt = np.zeros(nd, np.int64)
    best_iou = np.zeros(nd, np.float64)
    taken = np.zeros((len(groups.gt_index), t), np.uint8)
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    match_voc_kernel(
        ious,
        i64(groups.iou_offsets),
        i64(groups.dt_offsets),
        i64(groups.gt_index),
        i64(groups.gt_offsets),
        diff,
        thr,
        inclusive,
        flags,
        gt_row,
        best_gt,
        best_iou,
        taken,
        get_num_threads() if nd >= _PARALLEL_DETS else 1,
    )
    return MatchRecords(i64(groups.dt_index), flags, gt_row, best_gt, best_iou, thr)
