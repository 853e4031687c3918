"""F1 (F-measure with beta = 1; van Rijsbergen 1979): 2 P R / (P + R).

Two spellings of the same number, each with its reference's rounding:

- :func:`f1` from precision and recall: ``2 * p * r / (p + r)``;
- :func:`f1_from_counts` from counts: ``2 tp / (tp + fp + num_gt)`` (what
  ``ioukit.coco``'s ``f1_optimal`` computes: one division, exact for integers).

:func:`best_f1` picks the score threshold with the highest F1 on a ranked curve.
"""

from __future__ import annotations

import math

import numpy as np

from ._curve import PRCurve

__all__ = ["f1", "f1_from_counts", "best_f1"]


def f1(precision, recall, *, zero_division: float = 0.0):
    """Elementwise ``2 * p * r / (p + r)``; ``zero_division`` where ``p + r == 0``.

    ``zero_division`` (default 0.0, scikit-learn's default) replaces only the case
    ``p + r == 0`` (no true positive); a NaN precision or recall gives NaN. Scalars in
    give a float out.

    >>> f1(0.5, 1.0)
    0.6666666666666666
    >>> f1(np.array([0.0, 1.0]), np.array([0.0, 0.5]), zero_division=np.nan).tolist()
    [nan, 0.6666666666666666]
    """
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    den = p + r
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den == 0, zero_division, 2 * p * r / den)
    return float(out) if out.ndim == 0 else out


def f1_from_counts(tp, fp, num_gt, *, zero_division: float = 0.0):
    """Elementwise ``2 tp / (tp + fp + num_gt)``; ``zero_division`` where that is 0 / 0.

    Equal to :func:`f1` of ``P = tp / (tp + fp)``, ``R = tp / num_gt`` up to rounding
    (this spelling divides once).

    >>> f1_from_counts(3, 1, 5)
    0.6666666666666666
    >>> f1_from_counts(0, 0, 0)
    0.0
    """
    tp = np.asarray(tp, dtype=np.float64)
    den = tp + np.asarray(fp, dtype=np.float64) + np.asarray(num_gt, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den == 0, zero_division, 2 * tp / den)
    return float(out) if out.ndim == 0 else out


def best_f1(curve: PRCurve) -> dict[str, float]:
    """The score threshold ``score >= s`` with the highest F1 on a ranked curve.

    A threshold keeps whole runs of equal scores, so only the last point of each run
    is a candidate; the first maximum wins (the highest threshold). F1 is
    :func:`f1_from_counts`. Returns ``precision``, ``recall``, ``f1``, ``threshold``
    and ``num_gt``: all NaN without GT; zeros and threshold NaN without a true
    positive. (The rule of ``ioukit.coco``'s ``f1_optimal``.)

    >>> from ioukit.metrics import precision_recall_curve
    >>> c = precision_recall_curve(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0]), 3)
    >>> best_f1(c)
    {'precision': 0.6666666666666666, 'recall': 0.6666666666666666, 'f1': 0.6666666666666666, 'threshold': 0.7, 'num_gt': 3}
    """  # noqa: E501
    nan = math.nan
    n_gt = curve.num_gt
    if n_gt == 0:
        return {"precision": nan, "recall": nan, "f1": nan, "threshold": nan, "num_gt": 0}
    score = curve.scores
    none = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "threshold": nan, "num_gt": n_gt}
    if score.size == 0:
        return none
    ends = np.flatnonzero(np.r_[score[1:] != score[:-1], True])
    tpe, fpe = curve.tp[ends], curve.fp[ends]
    f = 2 * tpe / (tpe + fpe + n_gt)
    j = int(np.argmax(f))
    if tpe[j] == 0:
        return none
    return {
        "precision": float(tpe[j] / (tpe[j] + fpe[j])),
        "recall": float(tpe[j] / n_gt),
        "f1": float(f[j]),
        "threshold": float(score[ends[j]]),
        "num_gt": n_gt,
    }
