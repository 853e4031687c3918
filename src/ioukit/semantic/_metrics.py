"""Metrics from pair counts, with the absent-class policy and the averaging level.

Everything here is NumPy on small arrays: per-class counts ``tp``, ``gt`` (target
pixels of the class, void predictions included) and ``pred`` (pixels predicted as the
class on non-ignored targets), shaped ``[..., C]``, int64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["ABSENT_POLICIES", "AVERAGES", "ratio", "class_metrics", "nanmean", "check_policy"]

#: absent-class policies: the value of a ratio whose denominator is 0
ABSENT_POLICIES = ("nan", "exclude_gt_absent", "zero", "one")
#: averaging levels
AVERAGES = ("dataset", "image", "image_class")

_FILL = {"nan": np.nan, "exclude_gt_absent": np.nan, "zero": 0.0, "one": 1.0}


def check_policy(absent: str, average: str) -> None:
    """Raise when ``absent`` / ``average`` is not a known name."""
    if absent not in ABSENT_POLICIES:
        raise InvalidParameterError(f"absent must be one of {ABSENT_POLICIES}; got {absent!r}")
    if average not in AVERAGES:
        raise InvalidParameterError(f"average must be one of {AVERAGES}; got {average!r}")


def ratio(num: Any, den: Any, gt: Any, absent: str) -> np.ndarray:
    """``num / den`` per element, with the absent policy where ``den == 0``.

    ``"nan"`` / ``"zero"`` / ``"one"`` give NaN / 0 / 1 there; ``"exclude_gt_absent"``
    gives NaN there and also wherever the class has no target pixel (``gt == 0``).

    >>> ratio(np.array([1, 0, 0]), np.array([2, 0, 3]), np.array([2, 0, 0]), "zero").tolist()
    [0.5, 0.0, 0.0]
    >>> ratio(np.array([1, 0, 0]), np.array([2, 0, 3]), np.array([2, 0, 0]), "exclude_gt_absent")
    array([0.5, nan, nan])
    """
    num = np.asarray(num, np.float64)
    den = np.asarray(den, np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), _FILL[absent])
    np.divide(num, den, out=out, where=den > 0)
    if absent == "exclude_gt_absent":
        out[np.broadcast_to(np.asarray(gt) == 0, out.shape)] = np.nan
    return out


def nanmean(x: np.ndarray, axis: Any = None) -> Any:
    """Mean over the non-NaN values (NaN, without a warning, when there are none)."""
    ok = ~np.isnan(x)
    n = ok.sum(axis=axis)
    s = np.where(ok, x, 0.0).sum(axis=axis)
    return np.divide(s, n, out=np.full(np.shape(s), np.nan), where=n > 0)[()]


def class_metrics(tp: np.ndarray, gt: np.ndarray, pred: np.ndarray, absent: str) -> dict:
    """Per-class ratios and their per-row summaries for counts ``[..., C]``.

    IoU ``tp / (gt + pred - tp)`` and Dice ``2 tp / (gt + pred)`` (mmseg's
    ``total_area_to_metrics``), precision ``tp / pred``, recall (class accuracy)
    ``tp / gt``; the means skip NaN; pixel accuracy ``sum tp / sum gt``; frequency-
    weighted IoU ``sum_c (gt_c / sum gt) IoU_c`` over the classes with a value
    (detectron2's ``SemSegEvaluator`` fwIoU).

    >>> m = class_metrics(np.array([3, 0]), np.array([4, 0]), np.array([3, 1]), "nan")
    >>> m["iou"].tolist(), float(m["miou"]), float(m["pixel_accuracy"])
    ([0.75, 0.0], 0.375, 0.75)
    """
    union = gt + pred - tp
    iou = ratio(tp, union, gt, absent)
    dice = ratio(2 * tp, gt + pred, gt, absent)
    precision = ratio(tp, pred, gt, absent)
    recall = ratio(tp, gt, gt, absent)
    total = gt.sum(axis=-1)
    pixel_accuracy = np.divide(
        tp.sum(axis=-1),
        total,
        out=np.full(np.shape(total), np.nan, dtype=np.float64),
        where=total > 0,
    )
    freq = np.divide(gt, total[..., None], out=np.zeros(gt.shape), where=total[..., None] > 0)
    fwiou = np.where(np.isnan(iou), 0.0, freq * iou).sum(axis=-1)
    fwiou = np.where(total > 0, fwiou, np.nan)
    return {
        "iou": iou,
        "dice": dice,
        "precision": precision,
        "recall": recall,
        "miou": nanmean(iou, -1),
        "mdice": nanmean(dice, -1),
        "mean_class_accuracy": nanmean(recall, -1),
        "pixel_accuracy": pixel_accuracy[()],
        "fwiou": fwiou[()],
    }
