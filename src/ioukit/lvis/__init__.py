"""LVIS evaluation identical to the ``lvis`` package (0.5.3, ``LVISEval``), and fast.

One call::

    result = ioukit.lvis.evaluate(gt, dt, iou_type="bbox")
    result.results["AP"], result.results["APr"]   # LVISEval.results
    result.precision                               # LVISEval.eval["precision"] [T,R,K,A]

LVIS is a protocol of the COCO engine: its federated filters (``neg_category_ids``,
``not_exhaustive_category_ids``), the 300-detections-per-image cap and the r/c/f
frequency groups are rules on top of :func:`ioukit.coco.evaluate_groups` and the greedy
matcher :func:`ioukit.matching.match_lvis` (docs/lvis.md).

Step by step (sharded evaluation merges as in ``ioukit.coco``):
``g, d, p = prepare(gt, dt)``; ``s = evaluate_images(g, d, p, image_ids=shard)``;
``ioukit.coco.merge_states([...])``; ``accumulate(s, freq_groups(g, p))``.
"""

from __future__ import annotations

from ._load import load_gt
from .evaluate import (
    RESULT_KEYS,
    accumulate,
    evaluate,
    evaluate_images,
    freq_groups,
    lvis_rules,
    prepare,
)
from .result import LvisResult

__all__ = [
    "evaluate",
    "LvisResult",
    "RESULT_KEYS",
    "prepare",
    "load_gt",
    "lvis_rules",
    "evaluate_images",
    "freq_groups",
    "accumulate",
]
