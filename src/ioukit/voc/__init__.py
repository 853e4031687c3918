"""Pascal VOC detection evaluation (VOC2007 11-point and VOC2010+ all-point AP).

One call::

    result = ioukit.voc.evaluate("VOC2007/Annotations", "results/comp4_det_test_{cls}.txt",
                                 image_set="VOC2007/ImageSets/Main/test.txt")
    print(result.summary())

The numbers are those of the devkit's ``VOCevaldet`` / py-faster-rcnn's ``voc_eval``
(see docs/voc.md for every convention and option). The protocol is a composition of
the engine's layers: ``ioukit.matching`` (groups, "+1 pixel" IoU, the VOC greedy rule)
and ``ioukit.metrics`` (PR curves, 11-point / all-point AP).

Readers: :func:`read_annotations`, :func:`read_voc_xml`, :func:`read_image_set`,
:func:`read_results_files`. :data:`VOC_CLASSES` lists the 20 classes in devkit order.

Example
-------
>>> from ioukit import voc
>>> len(voc.VOC_CLASSES), voc.VOC_CLASSES[0]
(20, 'aeroplane')
"""

from __future__ import annotations

from ._results import Detections, read_coco_gt, read_coco_results, read_results_files
from ._xml import GroundTruth, read_annotations, read_image_set, read_voc_xml
from .evaluate import METRICS, VocResult, evaluate

__all__ = [
    "evaluate",
    "VocResult",
    "METRICS",
    "VOC_CLASSES",
    "read_annotations",
    "read_voc_xml",
    "read_image_set",
    "read_results_files",
    "read_coco_gt",
    "read_coco_results",
    "GroundTruth",
    "Detections",
]

#: The 20 Pascal VOC classes, in the devkit's order (``VOCinit.m``).
VOC_CLASSES = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
