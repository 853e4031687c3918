"""Semantic segmentation metrics: a streaming int64 confusion matrix and what follows.

``evaluate(preds, targets, num_classes=C)`` counts (target, prediction) label pairs
of label maps in one compiled pass (NumPy, torch on CPU; ``torch.bincount`` on a
CUDA device), never in floating point, and derives per-class IoU, Dice/F1,
precision, recall, mIoU, pixel accuracy, mean class accuracy, frequency-weighted IoU,
category IoU and Boundary IoU. The absent-class policy (``absent``) and the averaging
level (``average``) are explicit, with each peer's convention by name
(docs/semantic.md).

Example
-------
>>> import numpy as np
>>> from ioukit import semantic
>>> t = np.array([[0, 0, 1, 255]]); p = np.array([[0, 1, 1, 0]])
>>> r = semantic.evaluate(p, t, num_classes=2, ignore_index=255)
>>> r.iou.tolist(), r.miou, r.confusion.tolist()
([0.5, 0.5], 0.5, [[1, 1], [0, 1]])
"""

from __future__ import annotations

from . import _cityscapes as cityscapes
from ._confusion import confusion_matrix
from ._files import pair_label_folders, read_label_map
from ._metrics import ABSENT_POLICIES, AVERAGES
from .evaluator import SemanticEvaluator, category_iou, evaluate
from .result import SemanticResult

__all__ = [
    "evaluate",
    "SemanticEvaluator",
    "SemanticResult",
    "confusion_matrix",
    "category_iou",
    "read_label_map",
    "pair_label_folders",
    "cityscapes",
    "ABSENT_POLICIES",
    "AVERAGES",
]
