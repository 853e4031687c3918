"""``ioukit::nms`` and ``ioukit::batched_nms`` as torch operators.

A registered operator is what ``torch.compile`` (``fullgraph=True``), ``torch.export``
and ``torch.jit.script`` can call, as they call ``torch.ops.torchvision.nms``: the
compiler sees one opaque node whose output length is data-dependent (the fake
implementation below), and at run time the node runs :func:`ioukit.nms.nms` /
:func:`ioukit.nms.batched_nms` eagerly (compiled kernels, same keep lists and errors).
Imported (and the operators registered) when ``nms`` / ``batched_nms`` first see a
torch tensor while compiling or tracing, or by :mod:`ioukit.nms.torchscript`.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["nms", "batched_nms"]


@torch.library.custom_op("ioukit::nms", mutates_args=())
def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    from ._hard import nms as eager_nms

    return eager_nms(boxes, scores, iou_threshold).clone()


@nms.register_fake
def _nms_fake(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    # as torchvision's meta kernel: a length known only at run time
    torch._check(boxes.dim() == 2 and boxes.size(1) == 4, lambda: "boxes must be (N, 4)")
    torch._check(scores.dim() == 1 and scores.size(0) == boxes.size(0), lambda: "scores (N,)")
    n = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((n,), dtype=torch.int64)


@torch.library.custom_op("ioukit::batched_nms", mutates_args=())
def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    from ._hard import batched_nms as eager_batched_nms

    return eager_batched_nms(boxes, scores, idxs, iou_threshold).clone()


@batched_nms.register_fake
def _batched_nms_fake(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    n = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((n,), dtype=torch.int64)
