"""Panoptic quality (PQ, SQ, RQ), identical to panopticapi's ``pq_compute``.

One call::

    result = ioukit.panoptic.evaluate("panoptic_val2017.json", "predictions.json",
                                      gt_folder="panoptic_val2017", pred_folder="predictions")
    print(result.summary(per_class=True))
    result.results   # {"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"}, "per_class"}

In-memory images (id maps and ``segments_info``): :func:`evaluate_arrays`. PNG helpers:
:func:`rgb2id`, :func:`id2rgb`, :func:`write_png`. Conventions: docs/panoptic.md.

Example
-------
>>> import numpy as np
>>> from ioukit import panoptic
>>> ids = np.array([[1, 1, 0, 2]])
>>> seg = [{"id": 1, "category_id": 1, "area": 2}, {"id": 2, "category_id": 2, "area": 1}]
>>> cats = [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]
>>> panoptic.evaluate_arrays([(ids, seg)], [(ids, seg)], cats).results["Stuff"]
{'pq': 1.0, 'sq': 1.0, 'rq': 1.0, 'n': 1}
"""

from __future__ import annotations

from ._png import id2rgb, rgb2id, write_png
from ._synthetic import random_panoptic, write_panoptic
from .evaluate import GT_AREAS, GtAreaWarning, PanopticResult, evaluate, evaluate_arrays

__all__ = [
    "evaluate",
    "evaluate_arrays",
    "PanopticResult",
    "GtAreaWarning",
    "GT_AREAS",
    "rgb2id",
    "id2rgb",
    "write_png",
    "random_panoptic",
    "write_panoptic",
]
