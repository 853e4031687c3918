"""Average precision from a precision/recall curve, three interpolations.

- ``"voc11"``: Pascal VOC2007 11-point AP (devkit ``VOCevaldet.m``; py-faster-rcnn
  ``voc_eval.voc_ap(use_07_metric=True)``, lines 38-45): for t in
  ``np.arange(0., 1.1, 0.1)``, p(t) = max precision at recall >= t (0 if none), and
  ``ap = ap + p / 11.`` sequentially. The thresholds are NumPy's arange values, so
  0.3, 0.6 and 0.7 are 0.30000000000000004, 0.6000000000000001 and 0.7000000000000001:
  a recall of exactly 0.3 does not reach the 4th point.
- ``"all_point"``: VOC2010+ AP (devkit ``VOCap``; ``voc_ap(use_07_metric=False)``, lines
  46-61): sentinels ``mrec = [0, rec, 1]``, ``mpre = [0, prec, 0]``, precision envelope
  from the right, then ``np.sum((mrec[i+1] - mrec[i]) * mpre[i+1])`` over the points where
  recall changes (NumPy's pairwise sum, as the reference).
- ``"coco101"``: pycocotools ``COCOeval.accumulate``: precision envelope, then for each
  of the 101 recall thresholds ``np.linspace(0, 1, 101)`` the precision at
  ``np.searchsorted(recall, thresholds, side="left")``, 0 past the last recall; AP is the
  mean of those 101 values (``summarize``'s ``np.mean``, one category and threshold).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError

__all__ = [
    "average_precision",
    "interpolated_precision",
    "INTERPOLATIONS",
    "VOC11_RECALLS",
    "COCO101_RECALLS",
]

INTERPOLATIONS = ("voc11", "all_point", "coco101")

#: py-faster-rcnn's 11 recall points, bit for bit (0.30000000000000004, ...)
VOC11_RECALLS = np.arange(0.0, 1.1, 0.1)
VOC11_RECALLS.setflags(write=False)
#: pycocotools' ``Params.recThrs``
COCO101_RECALLS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
COCO101_RECALLS.setflags(write=False)


def _pair(recall: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(recall, dtype=np.float64)
    p = np.asarray(precision, dtype=np.float64)
    if r.ndim != 1 or r.shape != p.shape:
        raise ShapeMismatchError(f"recall {r.shape} and precision {p.shape}: equal 1-D shapes")
    return r, p


def _voc11(rec: np.ndarray, prec: np.ndarray, thresholds: np.ndarray) -> float:
    # voc_ap(use_07_metric=True), operation for operation
    n = float(len(thresholds))
    ap = 0.0
    for t in thresholds:
        hit = rec >= t
        p = 0 if np.sum(hit) == 0 else np.max(prec[hit])
        ap = ap + p / n
    return float(ap)


def _all_point(rec: np.ndarray, prec: np.ndarray) -> float:
    # voc_ap(use_07_metric=False); the right-to-left np.maximum loop is a reversed
    # maximum.accumulate (same values, NaN propagating alike)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _envelope_coco(prec: np.ndarray) -> np.ndarray:
    # pycocotools: for i in range(nd-1, 0, -1): if pr[i] > pr[i-1]: pr[i-1] = pr[i]
    if not np.isnan(prec).any():
        return np.maximum.accumulate(prec[::-1])[::-1]
    pr = prec.tolist()  # NaN compares False: keep the reference loop's exact behaviour
    for i in range(len(pr) - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    return np.array(pr, dtype=np.float64)


def interpolated_precision(
    recall: np.ndarray,
    precision: np.ndarray,
    recall_thresholds: np.ndarray | None = None,
    *,
    return_index: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """pycocotools' interpolated precision at each recall threshold.

    The precision envelope (max to the right) read at
    ``np.searchsorted(recall, recall_thresholds, side="left")``; 0 where that index is
    past the end (the recall never reaches the threshold). With ``return_index`` also
    the curve index per threshold (``len(recall)`` where none: look up scores there).

    >>> q = interpolated_precision(np.array([0.5, 1.0]), np.array([1.0, 0.5]),
    ...                            np.array([0.0, 0.5, 0.6, 1.0]))
    >>> q.tolist()
    [1.0, 1.0, 0.5, 0.5]
    """
    r, p = _pair(recall, precision)
    thr = COCO101_RECALLS if recall_thresholds is None else np.asarray(recall_thresholds, float)
    env = _envelope_coco(p)
    idx = np.searchsorted(r, thr, side="left")
    q = np.zeros(len(thr), dtype=np.float64)
    ok = idx < len(r)
    q[ok] = env[idx[ok]]
    return (q, idx) if return_index else q


def average_precision(
    recall: np.ndarray,
    precision: np.ndarray,
    interpolation: str = "all_point",
    *,
    recall_thresholds: np.ndarray | None = None,
) -> float:
    """Area under a ranked precision/recall curve, as a given benchmark computes it.

    Parameters
    ----------
    recall, precision : float (N,)
        One point per ranked detection (:func:`precision_recall_curve`), recall
        non-decreasing. Empty (no detections): AP 0.
    interpolation : "voc11" | "all_point" | "coco101"
        See the module docstring for each formula and its source.
    recall_thresholds : float (R,), optional
        "voc11": replaces ``np.arange(0., 1.1, 0.1)`` (``ap += p / R``); "coco101":
        replaces ``np.linspace(0, 1, 101)``. Not used by "all_point".

    A NaN precision (0 / 0 under the "plain" rule) propagates as in the references: an
    11-point AP whose maximum sees it is NaN.

    Example
    -------
    Two GT; ranked detections TP, FP, TP (recall .5 .5 1, precision 1 .5 2/3):

    >>> r, p = np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3])
    >>> average_precision(r, p, "all_point")  # .5 * 1 + .5 * 2/3
    0.8333333333333333
    >>> average_precision(r, p, "voc11")  # 6 * (1/11) + 5 * (2/3/11), summed in order
    0.8484848484848483
    >>> average_precision(r, p, "coco101")  # mean of 51 ones and 50 times 2/3
    0.8349834983498351
    """
    r, p = _pair(recall, precision)
    if interpolation == "voc11":
        thr = VOC11_RECALLS if recall_thresholds is None else np.asarray(recall_thresholds, float)
        return _voc11(r, p, thr)
    if interpolation == "all_point":
        return _all_point(r, p)
    if interpolation == "coco101":
        return float(np.mean(interpolated_precision(r, p, recall_thresholds)))
    raise InvalidParameterError(
        f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}"
    )
