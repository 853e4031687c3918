"""Multi-object tracking: IoU association and MOT metrics exact against TrackEval.

- :func:`associate` / :func:`associate_two_stage`: IoU association of tracks and
  detections (Hungarian or greedy; ByteTrack's two stages); :func:`iou_matrix`.
- :class:`SortTracker`: a minimal SORT (Kalman + IoU association), an example.
- :func:`evaluate`: HOTA, CLEAR (MOTA, MOTP, IDSW, ...), Identity (IDF1, ...) of tracker
  output in MOTChallenge files or arrays, per sequence and combined, identical to
  TrackEval; per-sequence functions in :mod:`ioukit.tracking.metrics`.

See docs/tracking.md.

>>> from ioukit.tracking import evaluate
>>> gt = [([1], [[0, 0, 10, 10]]), ([1], [[2, 0, 10, 10]])]
>>> evaluate(gt, gt).combined["HOTA"]
1.0
"""

from __future__ import annotations

from . import metrics
from ._association import (
    Association,
    TwoStageAssociation,
    associate,
    associate_two_stage,
    iou_matrix,
)
from ._evaluate import TrackingResult, evaluate
from ._io import find_sequences, read_mot_txt
from ._sort import SortTracker

__all__ = [
    "associate",
    "associate_two_stage",
    "iou_matrix",
    "Association",
    "TwoStageAssociation",
    "SortTracker",
    "evaluate",
    "TrackingResult",
    "read_mot_txt",
    "find_sequences",
    "metrics",
]
