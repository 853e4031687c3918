"""Temporal intervals ``(start, end)``: IoU and its variants, losses, codings, NMS, tubes.

- Measures, pairwise ``[..., N, 2] x [..., M, 2] -> [..., N, M]`` or ``aligned=True``:
  :func:`iou` (temporal IoU), :func:`giou`, :func:`diou`; :func:`length`,
  :func:`validate`.
- Losses of aligned pairs (torch autograd, JAX, NumPy): :func:`iou_loss`,
  :func:`giou_loss`, :func:`diou_loss`.
- Codings against anchor segments: :func:`encode_offsets` / :func:`decode_offsets`
  (centre offset, log duration).
- Suppression (compiled): :func:`nms`, :func:`batched_nms`, :func:`soft_nms`
  (Gaussian or linear, optionally class-aware).
- Tubes: :func:`tube_iou` (temporal IoU x mean box IoU, the video-mAP overlap) and
  :func:`possession` (frames where two box tracks overlap, merged into intervals).

Every measure and loss takes NumPy, PyTorch or JAX arrays and returns the same kind.
Conventions and sources: docs/intervals.md.

>>> import numpy as np
>>> from ioukit import intervals
>>> intervals.iou(np.array([[0.0, 10.0]]), np.array([[5.0, 15.0]]))
array([[0.33333333]])
"""

from __future__ import annotations

from ._coding import decode_offsets, encode_offsets
from ._losses import diou_loss, giou_loss, iou_loss
from ._measures import diou, giou, iou, length, validate
from ._nms import batched_nms, nms, soft_nms
from ._tubes import Possession, possession, tube_iou

__all__ = [
    "iou",
    "giou",
    "diou",
    "length",
    "validate",
    "iou_loss",
    "giou_loss",
    "diou_loss",
    "encode_offsets",
    "decode_offsets",
    "nms",
    "batched_nms",
    "soft_nms",
    "tube_iou",
    "possession",
    "Possession",
]
