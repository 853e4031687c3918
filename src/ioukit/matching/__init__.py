"""Matching: from overlaps to per-detection match records.

Layer 2 of the evaluation engine (docs/architecture.md): it imports geometry below it
and nothing above. A matcher walks (image, category) *groups* laid out flat
(:class:`Groups`, :func:`build_groups`), reads the group's IoU block
(:func:`grouped_box_iou`) and writes :class:`MatchRecords`: per detection and IoU
threshold a flag (:data:`FP` 0, :data:`TP` 1, :data:`IGNORED` 2) and the matched GT
row, plus the detection's best GT and its IoU.

Rules (one compiled module, ``ioukit.matching._greedy``):

- :func:`match_coco`: pycocotools' ``evaluateImg`` rule, with per-row flags (ignored
  GT, reusable GT, detections ignored when unmatched) and area ranges; the COCO engine
  (``ioukit.coco``) runs on it;
- :func:`match_lvis`: the same rule with LVIS' flags (no crowd regions, the GT's
  ``ignore`` field, not-exhaustive categories), used by ``ioukit.lvis``;
- :func:`match_voc`: Pascal VOC devkit / py-faster-rcnn (best GT only, taken GT: FP).

Example
-------
>>> import numpy as np
>>> from ioukit import matching
>>> gt = np.array([[0., 0., 9., 9.]])
>>> dt = np.array([[0., 0., 9., 9.], [1., 1., 9., 9.]])  # a duplicate on one GT
>>> g = matching.build_groups(np.array([0, 0]), np.array([0]), 1,
...                           dt_score=np.array([0.9, 0.8]))
>>> r = matching.match_voc(matching.grouped_box_iou(dt, gt, g), g, np.array([False]))
>>> r.flags[:, 0].tolist()  # one TP, then FP: the GT is taken
[1, 0]
"""

from __future__ import annotations

from ._coco import match_coco, match_lvis
from ._groups import Groups, build_groups
from ._iou import grouped_box_iou
from ._records import FP, IGNORED, TP, MatchRecords
from ._voc import match_voc

__all__ = [
    "Groups",
    "build_groups",
    "grouped_box_iou",
    "match_coco",
    "match_lvis",
    "match_voc",
    "MatchRecords",
    "FP",
    "TP",
    "IGNORED",
]
