"""Match records: what a matcher says about every detection.

Flags use the codes of every rule (``ioukit.matching._greedy``): 0 false positive,
1 true positive, 2 ignored (counted neither way, e.g. a VOC detection on a difficult GT
or a COCO detection on a crowd region).
"""

from __future__ import annotations

import numpy as np

from .._lightclass import lightclass

__all__ = ["FP", "TP", "IGNORED", "MatchRecords"]

FP, TP, IGNORED = 0, 1, 2


@lightclass
class MatchRecords:
    """Per-detection outcome of a matcher, aligned with ``groups.dt_index``.

    Attributes
    ----------
    dt_row : int64 (Nd,)       detection row (``groups.dt_index``)
    flags : uint8 (Nd, T)      0 FP, 1 TP, 2 ignored, per IoU threshold
    gt_row : int64 (Nd, T)     GT row the rule matched (TP, or ignored on an ignored
                               GT); -1 where it matched none. COCO / LVIS: also where
                               the match does not count (GT id 0, flag FP)
    best_gt : int64 (Nd,)      the detection's best-IoU GT row in its group (-1 without GT)
    best_iou : float64 (Nd,)   its IoU (0 without GT)
    iou_thresholds : float64 (T,)
    iou : float64 (Nd, T)      IoU with ``gt_row``; NaN where ``gt_row`` is -1

    Example
    -------
    >>> r = MatchRecords(np.array([3]), np.array([[TP]], np.uint8), np.array([[0]]),
    ...                  np.array([0]), np.array([0.7]), np.array([0.5]), np.array([[0.7]]))
    >>> r.by_row(4)["flags"][:, 0].tolist()  # rows without a record are FP, gt -1
    [0, 0, 0, 1]
    >>> r.by_row(4)["iou"][:, 0].tolist()
    [nan, nan, nan, 0.7]
    """

    dt_row: np.ndarray
    flags: np.ndarray
    gt_row: np.ndarray
    best_gt: np.ndarray
    best_iou: np.ndarray
    iou_thresholds: np.ndarray
    iou: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.iou is None:  # derived: the matched GT's IoU is the best one (VOC)
            self.iou = np.where(self.gt_row >= 0, self.best_iou[:, None], np.nan)

    def by_row(self, n_dt: int) -> dict[str, np.ndarray]:
        """The records scattered to detection-row order (``n_dt`` rows).

        Rows that no group holds get flag FP, GT -1, best IoU 0 and IoU NaN.
        """
        t = len(self.iou_thresholds)
        out = {
            "flags": np.full((n_dt, t), FP, np.uint8),
            "gt_row": np.full((n_dt, t), -1, np.int64),
            "best_gt": np.full(n_dt, -1, np.int64),
            "best_iou": np.zeros(n_dt, np.float64),
            "iou": np.full((n_dt, t), np.nan),
        }
        for name, arr in out.items():
            arr[self.dt_row] = getattr(self, name)
        return out
