"""Calibration of detection confidences: ECE, MCE and the reliability diagram.

A detection is *correct* when it is a true positive at an IoU threshold under COCO's
matching (the engine's match records: ``ioukit.coco.evaluate(..., keep_matches=True)``,
area range "all", the last ``maxDets``); detections COCO ignores (on crowd regions,
flag 2) are left out. Scores are binned into ``n_bins`` equal-width bins on [0, 1]:
``edges = numpy.linspace(0, 1, n_bins + 1)``, bin ``b`` holds
``edges[b] <= score < edges[b + 1]``, the last bin also holds ``score == 1``.

Expected and maximum calibration error (Guo et al., "On Calibration of Modern Neural
Networks", ICML 2017, eq. 3 and 5; for detection, Kueppers et al., CVPR-W 2020):

- ``ECE = sum_b (n_b / N) * |acc_b - conf_b|``
- ``MCE = max_b |acc_b - conf_b|`` over non-empty bins

with ``acc_b`` the fraction of correct detections in bin ``b`` and ``conf_b`` their
mean score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError

__all__ = ["Calibration", "calibration_error", "calibration", "plot_reliability"]


class Calibration:
    """What :func:`calibration_error` and :func:`calibration` return.

    Attributes
    ----------
    ece, mce : float              0.0 without detections
    bin_edges : float64 (n_bins + 1,)
    count : int64 (n_bins,)       detections per bin
    confidence : float64 (n_bins,)  mean score per bin (NaN: empty bin)
    accuracy : float64 (n_bins,)    fraction correct per bin (NaN: empty bin)
    n : int                       detections counted
    iou_threshold : float or None  the IoU that defines "correct" (None: given flags)
    """

    ece: float
    mce: float
    bin_edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    n: int
    iou_threshold: float | None

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __repr__(self) -> str:
        return f"Calibration(ece={self.ece:.4f}, mce={self.mce:.4f}, n={self.n})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as None).

        >>> c = calibration_error([0.9, 0.2], [True, False], n_bins=2)
        >>> round(c.to_dict()["ece"], 12), c.to_dict()["accuracy"]
        (0.15, [0.0, 1.0])
        """

        def clean(a: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in a]

        return {
            "ece": float(self.ece),
            "mce": float(self.mce),
            "n": int(self.n),
            "iou_threshold": self.iou_threshold,
            "bin_edges": [float(v) for v in self.bin_edges],
            "count": [int(v) for v in self.count],
            "confidence": clean(self.confidence),
            "accuracy": clean(self.accuracy),
        }

    def plot(self, ax: Any = None) -> Any:
        """The reliability diagram (:func:`plot_reliability`).

        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ax = calibration_error([0.9, 0.2], [True, False], n_bins=2).plot()
        >>> len(ax.patches)
        2
        """
        return plot_reliability(self, ax=ax)


def calibration_error(scores: Any, correct: Any, *, n_bins: int = 10) -> Calibration:
    """ECE, MCE and reliability bins of scores in [0, 1] against correct / wrong flags.

    Parameters
    ----------
    scores : float (N,) in [0, 1]
    correct : bool (N,)
    n_bins : number of equal-width bins (see the module docstring for the edges).

    Example
    -------
    Two bins; [0, 0.5) holds 0.2 (wrong) and 0.4 (right): accuracy 0.5, confidence
    0.3; [0.5, 1] holds 0.9 (right): accuracy 1, confidence 0.9.
    ECE = 2/3 * 0.2 + 1/3 * 0.1:

    >>> c = calibration_error([0.2, 0.4, 0.9], [False, True, True], n_bins=2)
    >>> round(c.ece, 12), round(c.mce, 12), c.count.tolist()
    (0.166666666667, 0.2, [2, 1])
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    ok = np.asarray(correct).reshape(-1)
    if ok.shape != s.shape:
        raise ShapeMismatchError(
            f"calibration_error: scores has {s.size} values, correct {ok.size}"
        )
    if int(n_bins) < 1:
        raise InvalidParameterError(f"calibration_error: n_bins must be >= 1, got {n_bins}")
    bad = np.flatnonzero(~((s >= 0.0) & (s <= 1.0)))
    if bad.size:
        raise InvalidParameterError(
            f"calibration_error: scores[{bad[0]}] = {s[bad[0]]} is outside [0, 1]"
        )
    n_bins = int(n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.minimum(np.searchsorted(edges, s, side="right") - 1, n_bins - 1)
    count = np.bincount(b, minlength=n_bins).astype(np.int64)
    hits = np.bincount(b, weights=ok.astype(np.float64), minlength=n_bins)
    conf_sum = np.bincount(b, weights=s, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(count > 0, hits / count, np.nan)
        conf = np.where(count > 0, conf_sum / count, np.nan)
    gap = np.abs(acc - conf)
    full = count > 0
    n = int(s.size)
    ece = float(np.sum(count[full] / n * gap[full])) if n else 0.0
    mce = float(gap[full].max()) if n else 0.0
    return Calibration(
        ece=ece,
        mce=mce,
        bin_edges=edges,
        count=count,
        confidence=conf,
        accuracy=acc,
        n=n,
        iou_threshold=None,
    )


def calibration(
    result: Any,
    dt: Any = None,
    *,
    iou_threshold: float = 0.5,
    n_bins: int = 10,
    iou_type: str = "bbox",
) -> Calibration:
    """Calibration of a detector's scores against TP at ``iou_threshold``.

    Parameters
    ----------
    result : a ``CocoResult`` evaluated with ``keep_matches=True`` (its thresholds must
        include ``iou_threshold``), or COCO ground truth (path / dict) with ``dt``.
    dt : COCO results, when ``result`` is ground truth: evaluated here with COCO's rules
        at the one threshold ``iou_threshold``.
    iou_threshold : the IoU a TP needs.
    n_bins, iou_type : as :func:`calibration_error`; the IoU plug-in.

    Example
    -------
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=20, n_categories=3, seed=0)
    >>> c = calibration(gt, dt, iou_threshold=0.5)
    >>> 0.0 <= c.ece <= c.mce <= 1.0, c.iou_threshold
    (True, 0.5)
    """
    if dt is not None:
        from ..coco import evaluate as coco_evaluate

        result = coco_evaluate(
            result, dt, iou_type=iou_type, keep_matches=True, iouThrs=[float(iou_threshold)]
        )
    m = result.matches(float(iou_threshold))
    flag = np.asarray(m["flag"])
    kept = flag != 2  # COCO ignores detections on crowd regions: not scored here
    c = calibration_error(np.asarray(m["score"])[kept], flag[kept] == 1, n_bins=n_bins)
    c.iou_threshold = float(iou_threshold)
    return c


def plot_reliability(cal: Calibration, ax: Any = None) -> Any:
    """Reliability diagram: accuracy per score bin (bars) against the diagonal.

    Needs matplotlib (the ``report`` extra); returns the ``Axes``.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_reliability(calibration_error([0.1, 0.7, 0.8], [0, 1, 0], n_bins=5))
    >>> len(ax.patches)
    5
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plot_reliability needs matplotlib: pip install 'ioukit[report]'") from e
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    e = cal.bin_edges
    acc = np.nan_to_num(cal.accuracy, nan=0.0)
    ax.bar(e[:-1], acc, width=np.diff(e), align="edge", edgecolor="white", label="accuracy")
    ax.plot([0, 1], [0, 1], color="0.4", ls="--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("fraction correct")
    thr = "" if cal.iou_threshold is None else f" (TP @ IoU {cal.iou_threshold:g})"
    ax.set_title(f"ECE {cal.ece:.3f} \u00b7 MCE {cal.mce:.3f}{thr}")
    ax.legend(loc="upper left")
    return ax
