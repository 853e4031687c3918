"""Axis-aligned boxes: formats, area, validation, IoU and its variants.

Every function takes NumPy, PyTorch (CPU or CUDA, autograd intact) or JAX
arrays (also under ``jax.jit``) and returns the caller's array type on the
caller's device. Box layout is ``xyxy`` unless ``fmt`` says otherwise.

Measures (pairwise ``[..., N, 4] x [..., M, 4] -> [..., N, M]``, or
``aligned=True``: ``[..., 4] x [..., 4] -> [...]``): :func:`iou`, :func:`ioa`,
:func:`giou`, :func:`diou`, :func:`ciou`, :func:`eiou`, :func:`siou`,
:func:`alpha_iou`, :func:`mpdiou`. Sparse: :func:`iou_pairs` (pairs above a
threshold, without the dense matrix).

>>> import numpy as np
>>> from ioukit import boxes
>>> boxes.iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3]]))
array([[0.14285714]])
"""

from __future__ import annotations

from ._formats import FORMATS, area, convert, validate
from ._measures import alpha_iou, ciou, diou, eiou, giou, ioa, iou, mpdiou, siou
from ._pairs import IouPairs, iou_pairs

__all__ = [
    "FORMATS",
    "convert",
    "area",
    "validate",
    "iou",
    "ioa",
    "giou",
    "diou",
    "ciou",
    "eiou",
    "siou",
    "alpha_iou",
    "mpdiou",
    "iou_pairs",
    "IouPairs",
]
