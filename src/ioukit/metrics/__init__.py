"""Metrics: precision/recall curves, average precision and F1 from match records.

Layer 3 of the evaluation engine (docs/architecture.md, docs/metrics.md): it reads the
records a matcher writes (``ioukit.matching``: per detection a score and a flag, 0 FP,
1 TP, 2 ignored) and imports nothing above it.

- :func:`precision_recall_curve` ranks records (stable, best score first) and counts
  them: :class:`PRCurve`;
- :func:`average_precision` integrates a curve: ``"voc11"`` (VOC2007 11-point),
  ``"all_point"`` (VOC2010+), ``"coco101"`` (pycocotools), each bit-exact with its
  reference; :func:`interpolated_precision` is the COCO step alone;
- :func:`f1`, :func:`f1_from_counts`, :func:`best_f1`;
- :func:`threshold_index` / :func:`find_threshold`: an evaluated threshold by value
  (one tolerance, :data:`THRESHOLD_ATOL`, for every look-up).

Example
-------
>>> import numpy as np
>>> from ioukit import metrics
>>> c = metrics.precision_recall_curve(np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1]), 2)
>>> metrics.average_precision(c.recall, c.precision, "all_point")
0.8333333333333333
>>> metrics.best_f1(c)["f1"]
0.8
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time they load on first use
    from ._ap import (
        COCO101_RECALLS,
        INTERPOLATIONS,
        VOC11_RECALLS,
        average_precision,
        interpolated_precision,
    )
    from ._curve import PRECISION_RULES, PRCurve, precision_recall_curve, rank
    from ._f1 import best_f1, f1, f1_from_counts
    from ._thresholds import THRESHOLD_ATOL, find_threshold, threshold_index

# name -> submodule. Loaded on first use (PEP 562), so that ``ioukit eval``, which only
# looks thresholds up, does not pay for the PR-curve and AP modules at start-up.
_WHERE = {
    "COCO101_RECALLS": "._ap",
    "INTERPOLATIONS": "._ap",
    "VOC11_RECALLS": "._ap",
    "average_precision": "._ap",
    "interpolated_precision": "._ap",
    "PRECISION_RULES": "._curve",
    "PRCurve": "._curve",
    "precision_recall_curve": "._curve",
    "rank": "._curve",
    "best_f1": "._f1",
    "f1": "._f1",
    "f1_from_counts": "._f1",
    "THRESHOLD_ATOL": "._thresholds",
    "find_threshold": "._thresholds",
    "threshold_index": "._thresholds",
}

__all__ = [
    "PRCurve",
    "precision_recall_curve",
    "rank",
    "PRECISION_RULES",
    "average_precision",
    "interpolated_precision",
    "INTERPOLATIONS",
    "VOC11_RECALLS",
    "COCO101_RECALLS",
    "f1",
    "f1_from_counts",
    "best_f1",
    "THRESHOLD_ATOL",
    "find_threshold",
    "threshold_index",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value  # later look-ups are plain attribute reads
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
