"""DOTA (oriented object detection in aerial images) Task 1 evaluation.

:func:`evaluate` reads DOTA label files and per-class results files and computes the
devkit's (``dota_evaluation_task1.py``) per-class AP with polygon IoU, on ioukit's
engine (``ioukit.matching.match_voc``, ``ioukit.metrics``). See docs/dota.md.

Example:
    >>> from ioukit.dota import evaluate
    >>> r = evaluate({"P1": "0 0 4 0 4 2 0 2 car\\n"}, {"car": "P1 0.9 0 0 4 0 4 2 0 2\\n"})
    >>> r.ap
    {'car': 1.0}
"""

from __future__ import annotations

from ._files import read_labels, read_results
from .evaluate import DOTA_V1_CLASSES, METRICS, DotaResult, evaluate

__all__ = ["evaluate", "DotaResult", "METRICS", "DOTA_V1_CLASSES", "read_labels", "read_results"]
