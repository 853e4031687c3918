"""Suppression and fusion of detections: NMS and its relatives.

Functions (each takes NumPy arrays, lists, or torch tensors on any device):

- :func:`nms` hard greedy NMS, identical to ``torchvision.ops.nms``
- :func:`batched_nms` class-aware NMS (per-class or exact coordinate-offset path)
- :func:`soft_nms` Soft-NMS (Bodla et al. 2017), ensemble-boxes semantics
- :func:`diou_nms` DIoU-NMS (Zheng et al. 2020)
- :func:`matrix_nms` Matrix-NMS (SOLOv2) for boxes or masks
- :func:`weighted_boxes_fusion` WBF with ensemble-boxes semantics
- :func:`rotated_nms`, :func:`batched_rotated_nms` with the exact rotated IoU

Every function returns kept indices by decreasing score; equal scores keep the
lower index first (a stable sort) on every backend. NumPy inputs and CPU tensors
run in compiled (Cython) kernels (:mod:`ioukit.nms._kernels`); CUDA tensors run
the vectorised torch code in :mod:`ioukit.nms._torch` and stay on their device.

The package is also callable as its main function, so a top-level
``ioukit.nms`` can be both this package and ``nms``:
``ioukit.nms(boxes, scores, 0.5)`` is ``ioukit.nms.nms(boxes, scores, 0.5)``.

Rotated boxes: :func:`rotated_nms` runs the same greedy rule with the exact rotated
IoU of ``ioukit.rotated`` (its own compiled loop, ``ioukit.rotated._kernels``).

Example:
    >>> import numpy as np
    >>> import ioukit.nms as N
    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], float)
    >>> N.nms(boxes, np.array([0.5, 0.5]), 0.5)  # equal scores: lower index kept
    array([0])
    >>> N(boxes, np.array([0.5, 0.5]), 0.5)  # the package called as nms
    array([0])
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._diou import diou_nms
from ._hard import batched_nms, nms
from ._matrix import matrix_nms
from ._rotated import batched_rotated_nms, rotated_nms
from ._soft import soft_nms
from ._wbf import weighted_boxes_fusion

__all__ = [
    "nms",
    "batched_nms",
    "soft_nms",
    "diou_nms",
    "matrix_nms",
    "weighted_boxes_fusion",
    "rotated_nms",
    "batched_rotated_nms",
]


class _CallableModule(types.ModuleType):
    # A top-level ``from .nms import nms`` would shadow the package with the
    # function; making the package callable gives both names one object.
    def __call__(self, boxes: Any, scores: Any, iou_threshold: float) -> Any:
        return nms(boxes, scores, iou_threshold)


sys.modules[__name__].__class__ = _CallableModule
