"""TorchScript-compatible ``nms`` and ``batched_nms`` (torchvision's signatures).

``torch.jit.script`` compiles these: they call the registered operators
``torch.ops.ioukit.nms`` / ``torch.ops.ioukit.batched_nms``, which run
:func:`ioukit.nms.nms` / :func:`ioukit.nms.batched_nms` (same keep lists as
``torchvision.ops.nms`` / ``batched_nms``, ties to the lower index). Importing this
module registers the operators. ``torch.compile`` needs none of this: the public
functions route torch tensors through the same operators while compiling.

>>> import torch
>>> from ioukit.nms.torchscript import nms
>>> scripted = torch.jit.script(nms)
>>> boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
>>> scripted(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
tensor([0, 2])
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _torch_ops  # noqa: F401  (registers torch.ops.ioukit.*)

__all__ = ["nms", "batched_nms"]


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Hard greedy NMS, (N, 4) xyxy boxes and (N,) scores -> kept indices (int64).

    >>> import torch
    >>> nms(torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11]]), torch.tensor([0.5, 0.5]), 0.5)
    tensor([0])
    """
    return torch.ops.ioukit.nms(boxes, scores, iou_threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Class-aware NMS: boxes with different ``idxs`` never suppress each other.

    >>> import torch
    >>> b = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]])
    >>> batched_nms(b, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]), 0.5)
    tensor([0, 2])
    """
    return torch.ops.ioukit.batched_nms(boxes, scores, idxs, iou_threshold)
