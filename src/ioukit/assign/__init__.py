"""Training-time assignment: which prediction learns from which ground truth.

Assigners (NumPy, or torch on any device; one image or a padded batch with
``gt_mask``):

- :func:`max_iou_assign`: IoU thresholds with low-quality matches (Faster R-CNN's RPN /
  ROI rule), equal to torchvision's ``Matcher``; a compiled kernel on NumPy;
- :func:`atss_assign`: ATSS's adaptive ``mean + std`` IoU threshold;
- :func:`task_aligned_assign`: TOOD / YOLOv8, ``t = s**alpha * IoU**beta``;
- :func:`simota_assign`: YOLOX's dynamic-k SimOTA;
- :func:`hungarian_assign`: DETR's one-to-one matcher (scipy's solver per image).

Targets: :func:`gather_targets` (each prediction's GT box and label) and
:func:`iou_aware_targets` (varifocal / quality focal targets, built with
:func:`ioukit.losses.iou_aware_score`). Box codings live beside the losses:
:func:`ioukit.losses.encode_deltas` / ``decode_deltas`` and
:func:`ioukit.losses.encode_distances` / ``decode_distances``.

Example: assign -> targets -> losses -> backward on a toy batch (an anchor-free head
on one 4 x 4 level, stride 8; docs/assign.md has the same example)

>>> import torch
>>> from ioukit import assign, losses
>>> ys, xs = torch.meshgrid(torch.arange(4.0), torch.arange(4.0), indexing="ij")
>>> points = torch.stack([xs, ys], -1).reshape(-1, 2) * 8 + 4  # [16, 2] cell centres
>>> gt_boxes = torch.tensor([[[2.0, 2.0, 20.0, 14.0], [16.0, 10.0, 30.0, 30.0]],
...                          [[4.0, 4.0, 28.0, 28.0], [0.0, 0.0, 0.0, 0.0]]])
>>> gt_labels = torch.tensor([[0, 2], [1, 0]])
>>> gt_mask = torch.tensor([[True, True], [True, False]])  # image 1 has one GT
>>> dist = torch.full((2, 16, 4), 0.5, requires_grad=True)  # head outputs (l, t, r, b)
>>> logits = torch.zeros(2, 16, 3, requires_grad=True)
>>> boxes = losses.decode_distances(points, dist, strides=8.0)  # [2, 16, 4]
>>> a = assign.task_aligned_assign(logits.sigmoid(), boxes, points, gt_labels, gt_boxes,
...                                gt_mask=gt_mask, topk=3)
>>> a.gt_index.shape, int((a.gt_index >= 0).sum())  # topk=3 for each of the 3 GTs
(torch.Size([2, 16]), 9)
>>> t = assign.gather_targets(gt_labels, gt_boxes, a.gt_index)
>>> box_loss = losses.giou_loss(boxes[t.positive], t.boxes[t.positive])
>>> cls_target = assign.iou_aware_targets(gt_labels, a.gt_index, a.quality, 3)
>>> cls_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, cls_target)
>>> (box_loss + cls_loss).backward()
>>> bool(dist.grad.abs().sum() > 0 and logits.grad.abs().sum() > 0)
True
"""

from __future__ import annotations

from ._atss import atss_assign
from ._hungarian import Matching, hungarian_assign
from ._max_iou import max_iou_assign
from ._ops import Assignment
from ._simota import simota_assign
from ._targets import Targets, gather_targets, iou_aware_targets
from ._task_aligned import task_aligned_assign

__all__ = [
    "Assignment",
    "Matching",
    "Targets",
    "max_iou_assign",
    "atss_assign",
    "task_aligned_assign",
    "simota_assign",
    "hungarian_assign",
    "gather_targets",
    "iou_aware_targets",
]
