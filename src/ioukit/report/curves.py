"""Curves drawn in the report, derived from a COCO result's accumulated arrays.

Everything here reads ``precision`` [T,R,K,A,M], ``recall`` [T,K,A,M] and
``scores`` [T,R,K,A,M] exactly as pycocotools' ``COCOeval.eval`` holds them, so
a curve's area is the AP in the summary (COCO AP is the mean of the
interpolated precision at the 101 recall points). The arithmetic they share with
the evaluation (F1, thresholds looked up by value) is :mod:`ioukit.metrics`'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import f1 as _f1
from ..metrics import find_threshold

__all__ = [
    "max_dets_index",
    "iou_index",
    "pr_curves",
    "f1_confidence",
    "ap_by_area",
    "ap_by_iou",
]


def max_dets_index(params: Any, max_dets: int = 100) -> int:
    """Index of ``max_dets`` in ``params.maxDets`` (the last one when absent).

    >>> from types import SimpleNamespace
    >>> max_dets_index(SimpleNamespace(maxDets=[1, 10, 100]))
    2
    """
    md = list(params.maxDets)
    return md.index(max_dets) if max_dets in md else len(md) - 1


def iou_index(params: Any, iou: float) -> int | None:
    """Index of the IoU threshold ``iou`` in ``params.iouThrs``, else None.

    The look-up of every threshold by value: :func:`ioukit.metrics.find_threshold`
    (within ``ioukit.metrics.THRESHOLD_ATOL``).

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> iou_index(SimpleNamespace(iouThrs=np.linspace(.5, .95, 10)), 0.75)
    5
    """
    return find_threshold(params.iouThrs, iou)


def _mean_valid(a: np.ndarray, axis: Any) -> np.ndarray:
    valid = a > -1
    n = valid.sum(axis=axis)
    s = np.where(valid, a, 0.0).sum(axis=axis)
    return np.divide(s, n, out=np.full(np.shape(s), -1.0), where=n > 0)


def pr_curves(result: Any, *, area: int = 0, max_dets: int = 100) -> dict[str, np.ndarray]:
    """Precision at the 101 recall points, per IoU setting and per category.

    Returns a dict with ``recall`` (R,) and, for each of the keys ``"0.5"``,
    ``"0.75"`` (when those thresholds are evaluated) and ``"0.5:0.95"`` (the mean
    over all thresholds), an array (K, R) of precision per category, -1 for
    categories without ground truth; ``"<key>/all"`` holds the mean over
    categories with ground truth (R,), whose mean is the AP.

    Example
    -------
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> res = evaluate(*make_coco_dataset(n_images=30, n_categories=3, seed=0))
    >>> pc = pr_curves(res)
    >>> pc["0.5"].shape, round(float(pc["0.5/all"].mean()), 12) == round(float(res.stats[1]), 12)
    ((3, 101), True)
    """
    p = np.asarray(result.precision)[:, :, :, area, max_dets_index(result.params, max_dets)]
    out: dict[str, np.ndarray] = {"recall": np.asarray(result.params.recThrs, dtype=float)}
    for key, iou in (("0.5", 0.5), ("0.75", 0.75)):
        t = iou_index(result.params, iou)
        if t is not None:
            out[key] = p[t].T
    out["0.5:0.95"] = _mean_valid(p, axis=0).T
    for key in [k for k in out if k != "recall"]:
        out[key + "/all"] = _mean_valid(out[key], axis=0)
    return out


def f1_confidence(
    result: Any, *, iou: float = 0.5, max_dets: int = 100, num: int = 101
) -> dict[str, np.ndarray]:
    """F1 against the score threshold, per category and averaged over categories.

    For a threshold c, a category's recall is the largest of the 101 recall
    points reached by a detection scoring >= c (``scores`` holds that score), and
    its precision the interpolated precision there, so
    F1(c) = 2 P R / (P + R) (van Rijsbergen 1979, F-measure with beta = 1;
    :func:`ioukit.metrics.f1`).

    Returns ``confidence`` (num,), ``f1`` (K, num) (NaN rows for categories
    without ground truth), ``mean`` (num,) over categories with ground truth, and
    ``best`` = [confidence, mean F1] at the maximum of the mean curve.

    Example
    -------
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> res = evaluate(*make_coco_dataset(n_images=30, n_categories=3, seed=0))
    >>> f = f1_confidence(res)
    >>> f["confidence"].shape, f["f1"].shape, bool(0 < f["best"][1] <= 1)
    ((101,), (3, 101), True)
    """
    t = iou_index(result.params, iou)
    t = 0 if t is None else t
    m = max_dets_index(result.params, max_dets)
    P = np.asarray(result.precision)[t, :, :, 0, m].T  # (K, R)
    S = np.asarray(result.scores)[t, :, :, 0, m].T
    R = np.asarray(result.params.recThrs, dtype=float)
    has_gt = (P > -1).any(axis=1)
    reached = P > 0
    smax = float(S[reached].max()) if reached.any() else 1.0
    smin = float(S[reached].min()) if reached.any() else 0.0
    lo, hi = (0.0, 1.0) if smin >= 0 and smax <= 1 else (smin, smax)
    # rounded so that a grid point like 0.7 is the float 0.7 a detector's score would be
    conf = np.round(np.linspace(lo, hi, num), 12)
    K = P.shape[0]
    f1 = np.full((K, num), np.nan)
    for k in range(K):
        if not has_gt[k]:
            continue
        ok = reached[k]
        f1[k] = 0.0
        if not ok.any():
            continue
        s, p, r = S[k, ok], P[k, ok], R[ok]
        # scores fall as recall rises: the last point with score >= c is the reached recall.
        idx = np.searchsorted(-s, -conf, side="right") - 1
        hit = idx >= 0
        # p > 0 on reached points, so P + R > 0 and no zero division occurs
        f1[k, hit] = _f1(p[idx[hit]], r[idx[hit]])
    mean = np.nanmean(f1[has_gt], axis=0) if has_gt.any() else np.zeros(num)
    b = int(np.argmax(mean))
    return {"confidence": conf, "f1": f1, "mean": mean, "best": np.array([conf[b], mean[b]])}


def ap_by_area(result: Any, *, max_dets: int = 100) -> dict[str, np.ndarray]:
    """AP (mean over IoU thresholds, recall points, categories) and AR per area range.

    Returns ``labels`` (A,), ``AP`` (A,), ``AR`` (A,) and ``AP_per_class`` (K, A),
    -1 where no ground truth falls in the range, as COCO reports it.

    Example
    -------
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> res = evaluate(*make_coco_dataset(n_images=30, n_categories=3, seed=0))
    >>> a = ap_by_area(res)
    >>> a["labels"].tolist(), bool(abs(a["AP"][1] - res.stats[3]) < 1e-12)
    (['all', 'small', 'medium', 'large'], True)
    """
    m = max_dets_index(result.params, max_dets)
    p = np.asarray(result.precision)[..., m]  # T,R,K,A
    r = np.asarray(result.recall)[..., m]  # T,K,A
    return {
        "labels": np.asarray(list(result.params.areaRngLbl)),
        "AP": _mean_valid(p, axis=(0, 1, 2)),
        "AR": _mean_valid(r, axis=(0, 1)),
        "AP_per_class": _mean_valid(p, axis=(0, 1)),
    }


def ap_by_iou(result: Any, *, max_dets: int = 100) -> dict[str, np.ndarray]:
    """AP and AR at each IoU threshold (all areas), averaged over categories.

    Returns ``iou`` (T,), ``AP`` (T,) and ``AR`` (T,); the mean of ``AP`` over
    the default thresholds is COCO's AP, and ``AP`` at 0.5 is AP50.

    Example
    -------
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> res = evaluate(*make_coco_dataset(n_images=30, n_categories=3, seed=0))
    >>> d = ap_by_iou(res)
    >>> d["iou"].shape, bool(abs(d["AP"][0] - res.stats[1]) < 1e-12)
    ((10,), True)
    """
    m = max_dets_index(result.params, max_dets)
    a = _all_area(result.params)
    p = np.asarray(result.precision)[:, :, :, a, m]  # T,R,K
    r = np.asarray(result.recall)[:, :, a, m]  # T,K
    return {
        "iou": np.asarray(result.params.iouThrs, dtype=float),
        "AP": _mean_valid(p, axis=(1, 2)),
        "AR": _mean_valid(r, axis=1),
    }


def _all_area(params: Any) -> int:
    labels = list(params.areaRngLbl)
    return labels.index("all") if "all" in labels else 0
