"""ioukit: Intersection over Union and everything built on it.

Submodules (each imported on first use, so ``import ioukit`` stays cheap):

- :mod:`ioukit.boxes`   axis-aligned boxes: formats, area, IoU, IoA, GIoU, DIoU,
  CIoU, EIoU, SIoU, Alpha-IoU, MPDIoU; pairwise and aligned; sparse ``iou_pairs``
- :mod:`ioukit.sets`    Jaccard of plain sets / label arrays, Dice <-> IoU
- :mod:`ioukit.rotated` rotated boxes: exact IoU / GIoU, conversions (le90, le135, oc)
- :mod:`ioukit.polygons` simple polygons (holes, concave), periodic domains, rasters
- :mod:`ioukit.boxes3d` 3-D boxes (axis-aligned, yaw-only, oriented), voxels, 3-D NMS
- :mod:`ioukit.intervals` temporal intervals: IoU family, losses, NMS, tubes
- :mod:`ioukit.rle`     COCO run-length encoding, byte-compatible with pycocotools
- :mod:`ioukit.masks`   dense and soft masks (2-D / 3-D): IoU and Dice
- :mod:`ioukit.losses`  IoU-family regression losses (torch / JAX autograd)
- :mod:`ioukit.nms`     NMS, batched NMS, Soft-NMS, DIoU-NMS, Matrix-NMS, WBF
- :mod:`ioukit.coco`    COCO-style AP/AR identical to pycocotools, streaming evaluator
- :mod:`ioukit.voc`     Pascal VOC AP (11-point and all-point), as the devkit computes it
- :mod:`ioukit.lvis`    LVIS AP (federated, APr/APc/APf), identical to lvis-api
- :mod:`ioukit.dota`, :mod:`ioukit.kitti`, :mod:`ioukit.activitynet`,
  :mod:`ioukit.openimages`  rotated-box, 3-D, temporal and Open Images protocols
- :mod:`ioukit.semantic` confusion matrix, mIoU (each peer's absent-class rule)
- :mod:`ioukit.panoptic` panoptic quality PQ / SQ / RQ, identical to panopticapi
- :mod:`ioukit.tracking` IoU association, CLEAR / Identity / HOTA as TrackEval
- :mod:`ioukit.tide`    TIDE error analysis, calibration, per-image diagnostics
- :mod:`ioukit.occlusion` visible fraction, the amodal IoU ceiling, AP by occlusion
- :mod:`ioukit.assign`  training-time assignment (max-IoU, ATSS, TAL, Hungarian, SimOTA)
- :mod:`ioukit.matching`  greedy matching rules over (image, category) groups
- :mod:`ioukit.metrics` PR curves, average precision (coco101, voc11, all_point), F1
- :mod:`ioukit.distributed`  the same evaluation sharded over Dask (``dask`` extra)
- :mod:`ioukit.report`  HTML report and plots; :mod:`ioukit.cli` the ``ioukit`` command
- :mod:`ioukit.errors`  the exception hierarchy

The compiled kernels split large work over OpenMP threads (all cores by default):
:func:`get_num_threads` / :func:`set_num_threads`, ``OMP_NUM_THREADS`` or threadpoolctl.

The suppression functions are re-exported here: ``ioukit.nms`` is both the package
and (callable) the function ``ioukit.nms.nms``.

Example:
    >>> import numpy as np
    >>> import ioukit
    >>> b = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0]])
    >>> ioukit.nms(b, np.array([0.9, 0.8]), 0.5)
    array([0])
    >>> float(ioukit.boxes.iou(b[:1], b[1:])[0, 0])  # 81 / (100 + 100 - 81)
    0.680672268907563
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "boxes",
    "sets",
    "rle",
    "masks",
    "losses",
    "nms",
    "coco",
    "distributed",
    "report",
    "cli",
    "errors",
    "io",
    "synthetic",
    "check",
    "voc",
    "lvis",
    "metrics",
    "matching",
    "geometry",
    "rotated",
    "polygons",
    "boxes3d",
    "intervals",
    "dota",
    "kitti",
    "activitynet",
    "openimages",
    "semantic",
    "panoptic",
    "tracking",
    "tide",
    "occlusion",
    "assign",
}
_NMS_FUNCTIONS = {
    "batched_nms",
    "soft_nms",
    "diou_nms",
    "matrix_nms",
    "weighted_boxes_fusion",
}

_THREAD_FUNCTIONS = {"get_num_threads", "set_num_threads"}

__all__ = [
    "__version__",
    *sorted(_SUBMODULES),
    *sorted(_NMS_FUNCTIONS),
    *sorted(_THREAD_FUNCTIONS),
]


def __getattr__(name: str) -> Any:
    # PEP 562 lazy loading: kernels and torch are only imported when used.
    if name in _THREAD_FUNCTIONS:
        return getattr(importlib.import_module("._threads", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NMS_FUNCTIONS:
        return getattr(importlib.import_module(".nms", __name__), name)
    raise AttributeError(f"module 'ioukit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
