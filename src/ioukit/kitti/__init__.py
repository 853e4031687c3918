"""KITTI object detection evaluation: AP R40 / R11 in the image, BEV and 3-D.

:func:`evaluate` reproduces kitti-object-eval-python (OpenPCDet, mmdet3d) and the
official devkit's rules: difficulties from 2-D height, occlusion and truncation,
DontCare regions, Van / Person_sitting ignored for Car / Pedestrian, IoU thresholds
0.7 / 0.5 / 0.5 (docs/kitti.md). 3-D and BEV overlaps come from ``ioukit.boxes3d``.

>>> from ioukit import kitti
>>> kitti.DIFFICULTIES
('easy', 'moderate', 'hard')
"""

from __future__ import annotations

from ._labels import Objects, load_objects, read_label_file
from .evaluate import DIFFICULTIES, METRICS, MIN_OVERLAP, KittiResult, evaluate, get_thresholds

__all__ = [
    "evaluate",
    "KittiResult",
    "DIFFICULTIES",
    "METRICS",
    "MIN_OVERLAP",
    "get_thresholds",
    "load_objects",
    "read_label_file",
    "Objects",
]
