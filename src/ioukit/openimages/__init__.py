"""Open Images challenge detection evaluation (group-of boxes, hierarchy, verified labels).

One call::

    result = ioukit.openimages.evaluate("boxes.csv", "predictions.csv",
                                        labels="labels.csv", hierarchy="hierarchy.json")
    print(result.summary())

The numbers follow the official evaluation (TF object detection API,
``OpenImagesDetectionChallengeEvaluator``); every rule and its source is in
:mod:`ioukit.openimages.evaluate` and docs/openimages.md. The protocol is a
composition of the engine's layers: ``ioukit.matching`` (groups, IoU, the VOC greedy
rule with ``>=``), ``ioukit.boxes.ioa`` (group-of boxes) and ``ioukit.metrics``
(ranking, all-point AP).

Example
-------
>>> from ioukit import openimages
>>> h = openimages.load_hierarchy({"LabelName": "root", "Subcategory": [
...     {"LabelName": "animal", "Subcategory": [{"LabelName": "dog"}]}]})
>>> h.ancestors["dog"]
['animal']
"""

from __future__ import annotations

from ._hierarchy import Hierarchy, load_hierarchy
from ._tables import read_boxes, read_labels, read_predictions
from .evaluate import OUTCOMES, OpenImagesResult, evaluate

__all__ = [
    "evaluate",
    "OpenImagesResult",
    "OUTCOMES",
    "Hierarchy",
    "load_hierarchy",
    "read_boxes",
    "read_labels",
    "read_predictions",
]
