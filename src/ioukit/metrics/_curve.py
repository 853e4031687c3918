"""Precision/recall curves from match records.

A detector's records (per detection: a score and a flag, true positive / false
positive / ignored) are ranked by descending score and counted cumulatively:

    tp[i] = #TP among the first i + 1,  fp[i] = #FP among the first i + 1
    recall = tp / num_gt,  precision = tp / (tp + fp)   (three zero-division rules)

Ignored detections stay in the ranking and add to neither count (py-faster-rcnn
``voc_eval`` lines 192-195; pycocotools ``COCOeval.accumulate``), so the curve has one
point per detection.
"""

from __future__ import annotations

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError, ShapeMismatchError
from ..matching import FP, IGNORED, TP

__all__ = ["PRCurve", "precision_recall_curve", "rank", "PRECISION_RULES"]

#: How ``tp / (tp + fp)`` treats a zero denominator (the first detections all ignored):
#: "plain" py-faster-rcnn ``tp / (tp + fp)`` (NaN); "guarded" Detectron
#: ``tp / np.maximum(tp + fp, np.finfo(np.float64).eps)`` (0); "coco" pycocotools
#: ``tp / (fp + tp + np.spacing(1))`` (an epsilon in every denominator).
PRECISION_RULES = ("plain", "guarded", "coco")


@lightclass
class PRCurve:
    """A ranked precision/recall curve (one point per detection, best score first).

    Attributes
    ----------
    order : int64 (N,)       input positions in rank order
    scores : float64 (N,)    scores in rank order
    flags : uint8 (N,)       0 FP, 1 TP, 2 ignored, in rank order
    tp, fp : float64 (N,)    cumulative counts
    recall, precision : float64 (N,)
    num_gt : int             positives the recall divides by
    """

    order: np.ndarray
    scores: np.ndarray
    flags: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    num_gt: int


def _flags(flags: np.ndarray) -> np.ndarray:
    f = np.asarray(flags)
    if f.dtype == np.bool_:
        return np.where(f, TP, FP).astype(np.uint8)
    if f.size and not np.isin(f, (FP, TP, IGNORED)).all():
        bad = np.flatnonzero(~np.isin(f, (FP, TP, IGNORED)))[0]
        raise InvalidParameterError(
            f"flags[{bad}] = {f.ravel()[bad]}: expected 0 (FP), 1 (TP) or 2 (ignored)"
        )
    return f.astype(np.uint8, copy=False)


def rank(scores: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Positions by descending score, ties by ascending ``tiebreak`` (else input order).

    A stable sort: the VOC devkit's MATLAB ``sort(-confidence)`` and pycocotools'
    ``np.argsort(-scores, kind="mergesort")``. (py-faster-rcnn uses NumPy's default,
    unstable sort: its order among tied scores is platform-dependent.)

    >>> rank(np.array([0.5, 0.9, 0.5])).tolist()
    [1, 0, 2]
    >>> rank(np.array([0.5, 0.9, 0.5]), tiebreak=np.array([7, 0, 3])).tolist()
    [1, 2, 0]
    """
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        raise InvalidParameterError(f"scores[{int(np.flatnonzero(np.isnan(s))[0])}] is NaN")
    if tiebreak is None:
        return np.argsort(-s, kind="stable")
    tb = np.asarray(tiebreak)
    if tb.shape != s.shape:
        raise ShapeMismatchError(f"tiebreak has shape {tb.shape}, scores {s.shape}")
    return np.lexsort((tb, -s))


def _precision(tp: np.ndarray, fp: np.ndarray, rule: str) -> np.ndarray:
    if rule == "plain":
        with np.errstate(invalid="ignore", divide="ignore"):
            return tp / (tp + fp)
    if rule == "guarded":
        return tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    if rule == "coco":
        return tp / (fp + tp + np.spacing(1))
    raise InvalidParameterError(f"precision_rule must be one of {PRECISION_RULES}, got {rule!r}")


def precision_recall_curve(
    scores: np.ndarray,
    flags: np.ndarray,
    num_gt: int,
    *,
    tiebreak: np.ndarray | None = None,
    precision_rule: str = "plain",
) -> PRCurve:
    """Rank match records by score and build the cumulative precision/recall curve.

    Parameters
    ----------
    scores : float (N,)
    flags : (N,) 0 false positive, 1 true positive, 2 ignored (``ioukit.matching``
        codes), or bool (True = TP)
    num_gt : int
        Positives (non-ignored GT). With 0 the recall is NaN (0 / 0; no warning).
    tiebreak : (N,), optional
        Order among equal scores (ascending); default input order (see :func:`rank`).
    precision_rule : "plain" | "guarded" | "coco"
        See :data:`PRECISION_RULES`.

    Example
    -------
    >>> c = precision_recall_curve(np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1]), 2)
    >>> c.recall.tolist(), c.precision.tolist()
    ([0.5, 0.5, 1.0], [1.0, 0.5, 0.6666666666666666])
    """
    f = _flags(flags)
    s = np.asarray(scores, dtype=np.float64)
    if f.shape != s.shape or s.ndim != 1:
        raise ShapeMismatchError(f"scores {s.shape} and flags {f.shape} must be equal 1-D shapes")
    if num_gt < 0:
        raise InvalidParameterError(f"num_gt must be >= 0, got {num_gt}")
    order = rank(s, tiebreak)
    fr = f[order]
    # cumulative sums of 0./1. floats: exact integer counts (py-faster-rcnn's cumsum)
    tp = np.cumsum((fr == TP).astype(np.float64))
    fp = np.cumsum((fr == FP).astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = tp / float(num_gt)
    return PRCurve(
        order, s[order], fr, tp, fp, recall, _precision(tp, fp, precision_rule), int(num_gt)
    )
