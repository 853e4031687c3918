"""Looking up an evaluated threshold by value: one rule, one tolerance.

Results are indexed by threshold (COCO's ``precision[T, ...]``, VOC's per-threshold
AP, match records per IoU threshold); a caller names the threshold by value
(``iou_threshold=0.75``). Thresholds made with ``np.linspace`` are not the decimal
values they print as (``0.55000000000000004``), so a value matches the first
threshold within :data:`THRESHOLD_ATOL` of it. The one exception is pycocotools'
``summarize``, which looks thresholds up with ``==``; ``ioukit.coco`` reproduces it
there (and only there) so that the 12 summary numbers stay identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["THRESHOLD_ATOL", "find_threshold", "threshold_index"]

#: A value names a threshold when ``|threshold - value| <= THRESHOLD_ATOL``.
THRESHOLD_ATOL = 1e-9


def find_threshold(thresholds: Any, value: float) -> int | None:
    """Index of the first threshold within :data:`THRESHOLD_ATOL` of ``value``, else None.

    >>> t = np.linspace(0.5, 0.95, 10)
    >>> find_threshold(t, 0.55), find_threshold(t, 0.56)
    (1, None)
    """
    thr = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    hit = np.flatnonzero(np.abs(thr - float(value)) <= THRESHOLD_ATOL)
    return int(hit[0]) if hit.size else None


def threshold_index(thresholds: Any, value: float, *, name: str = "IoU threshold") -> int:
    """:func:`find_threshold`, raising :class:`~ioukit.errors.InvalidParameterError`
    (naming ``name`` and the evaluated thresholds) when ``value`` is not one of them.

    >>> threshold_index([0.5, 0.75], 0.75)
    1
    >>> threshold_index([0.5, 0.75], 0.6)
    Traceback (most recent call last):
    ...
    ioukit.errors.InvalidParameterError: IoU threshold 0.6 was not evaluated; the thresholds are [0.5, 0.75]
    """  # noqa: E501
    i = find_threshold(thresholds, value)
    if i is None:
        thr = np.asarray(thresholds, dtype=np.float64).reshape(-1).tolist()
        raise InvalidParameterError(f"{name} {value} was not evaluated; the thresholds are {thr}")
    return i
