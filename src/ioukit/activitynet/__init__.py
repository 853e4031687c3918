"""ActivityNet / THUMOS14 temporal action detection mAP.

One call::

    r = ioukit.activitynet.evaluate("activity_net.v1-3.min.json", "results.json")
    print(r.map, r.average_map)

The numbers are those of the official ActivityNet ``Evaluation/eval_detection.py``
(``ANETdetection``; see docs/activitynet.md for every convention), built from the
engine's layers: ``ioukit.matching`` (groups, greedy matching) and ``ioukit.metrics``
(all-point interpolated AP). ``tiou_thresholds="thumos14"`` is THUMOS14's 0.3:0.7.

>>> from ioukit import activitynet
>>> activitynet.THUMOS14_TIOU_THRESHOLDS.tolist()
[0.3, 0.4, 0.5, 0.6, 0.7]
"""

from __future__ import annotations

from ._load import GroundTruth, Predictions, read_ground_truth, read_predictions
from .evaluate import (
    ACTIVITYNET_TIOU_THRESHOLDS,
    PRESETS,
    THUMOS14_TIOU_THRESHOLDS,
    ActivityNetResult,
    evaluate,
)

__all__ = [
    "evaluate",
    "ActivityNetResult",
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "THUMOS14_TIOU_THRESHOLDS",
    "PRESETS",
    "read_ground_truth",
    "read_predictions",
    "GroundTruth",
    "Predictions",
]
