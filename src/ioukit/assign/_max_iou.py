"""Max-IoU anchor labelling: Faster R-CNN's RPN / ROI rule, torchvision's ``Matcher``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_numpy
from ..boxes._measures import _cpu_kernels
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels
from ._common import as_boxes, batch_gt, check_finite, check_threshold

__all__ = ["max_iou_assign", "BELOW_LOW_THRESHOLD", "BETWEEN_THRESHOLDS"]

#: torchvision ``Matcher``'s codes: an anchor below the negative threshold ...
BELOW_LOW_THRESHOLD = -1
#: ... and an anchor between the two thresholds (ignored by the loss).
BETWEEN_THRESHOLDS = -2


def max_iou_assign(
    gt_boxes: Any,
    anchors: Any,
    *,
    pos_iou_threshold: float = 0.7,
    neg_iou_threshold: float = 0.3,
    allow_low_quality_matches: bool = True,
    fmt: str = "xyxy",
    gt_mask: Any = None,
) -> Any:
    """Label every anchor with its GT index, -1 (negative) or -2 (ignored).

    Ren et al. 2015 (Faster R-CNN, section 3.1.2), as torchvision's
    ``models.detection._utils.Matcher`` computes it:

    - each anchor takes the GT of highest IoU (the first GT on ties);
    - IoU ``< neg_iou_threshold``: ``-1``; ``neg <= IoU < pos``: ``-2``; ``>= pos``:
      the GT index;
    - ``allow_low_quality_matches``: for each GT, *every* anchor whose IoU with it equals
      that GT's highest IoU (ties included, also when that highest IoU is 0) is set back
      to its own best GT (which may be another GT; torchvision's rule).

    The RPN uses ``(0.7, 0.3, True)``, the ROI heads ``(0.5, 0.5, False)``. The IoU is
    ``torchvision.ops.box_iou``'s arithmetic (:mod:`ioukit.boxes`' ``tv`` convention, in
    the boxes' dtype), thresholds compared in that dtype, so the labels are equal to
    ``Matcher(pos, neg, low)(box_iou(gt_boxes, anchors))``. Differences: no GT gives
    every anchor -1 (torchvision raises), and two zero-area boxes have IoU 0 (NaN in
    torchvision).

    Parameters
    ----------
    gt_boxes : array [M, 4] or [B, M, 4]
        Ground truth of one image, or of B images padded to M (see ``gt_mask``).
    anchors : array [N, 4] or [B, N, 4]
        Anchors (or proposals), shared by the images or per image.
    pos_iou_threshold, neg_iou_threshold : float
        ``neg_iou_threshold <= pos_iou_threshold``.
    allow_low_quality_matches : bool
        Give each GT its best anchors even below ``pos_iou_threshold``.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of both box arrays.
    gt_mask : bool array [M] or [B, M], optional
        False marks padding rows of ``gt_boxes``, which are never assigned.

    Returns
    -------
    int64 array [N] or [B, N]
        Same library and device as the inputs. NumPy runs compiled kernels (ioukit.boxes'
        dense IoU, then the assignment pass of ``_kernels.pyx``); torch runs
        device-agnostic tensor operations (CPU or CUDA).

    Example
    -------
    >>> import numpy as np
    >>> gt = np.array([[0.0, 0.0, 10.0, 10.0]])
    >>> anchors = np.array([[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30.0]])
    >>> max_iou_assign(gt, anchors)  # IoU 1.0, 0.5, 0.0
    array([ 0, -2, -1])
    >>> max_iou_assign(gt, anchors[1:], pos_iou_threshold=0.5, neg_iou_threshold=0.5,
    ...                allow_low_quality_matches=False)
    array([ 0, -1])
    """
    pos = check_threshold("pos_iou_threshold", pos_iou_threshold)
    neg = check_threshold("neg_iou_threshold", neg_iou_threshold)
    if neg > pos:
        raise InvalidParameterError(
            f"neg_iou_threshold={neg_iou_threshold!r} must be <= "
            f"pos_iou_threshold={pos_iou_threshold!r}"
        )
    tensors_in = _cpu_float_tensor(gt_boxes) and _cpu_float_tensor(anchors)
    if tensors_in:
        # CPU tensors: the compiled kernels on zero-copy NumPy views (as ioukit.nms does),
        # converted first so that every check below runs on NumPy (each torch call costs
        # microseconds of dispatch, several times the kernels' work on a small image)
        dtype = _promote(gt_boxes, anchors)
        gt_boxes = gt_boxes.detach().to(dtype).numpy()
        anchors = anchors.detach().to(dtype).numpy()
        if gt_mask is not None and not is_numpy(gt_mask) and not isinstance(gt_mask, list):
            gt_mask = gt_mask.detach().cpu().numpy()
    gt = as_boxes(gt_boxes, "gt_boxes", fmt)
    anc = as_boxes(anchors, "anchors", fmt)
    gt, mask, batched = batch_gt(gt, gt_mask)
    if anc.ndim == 3 and anc.shape[0] != gt.shape[0]:
        raise ShapeMismatchError(
            f"anchors has {anc.shape[0]} images but gt_boxes has {gt.shape[0]}"
        )
    check_finite(gt, "gt_boxes")
    check_finite(anc, "anchors")
    low = bool(allow_low_quality_matches)
    if is_numpy(gt) and is_numpy(anc):
        out = _assign_numpy(gt, mask, anc, pos, neg, low)
    else:
        out = _assign_torch(gt, mask, anc, pos, neg, low)
    if tensors_in:
        out = _torch_from_numpy(out)
    return out if batched or anc.ndim == 3 else out[0]


def _cpu_float_tensor(x: Any) -> bool:
    # without importing torch: any torch.Tensor subclass, on the CPU, float32/float64
    return (
        type(x).__module__.startswith("torch")
        and hasattr(x, "is_floating_point")
        and x.is_floating_point()
        and x.device.type == "cpu"
        and x.element_size() >= 4
    )


def _promote(g: Any, a: Any) -> Any:
    import torch

    return torch.promote_types(g.dtype, a.dtype)


def _assign_numpy(gt: Any, mask: Any, anc: Any, pos: float, neg: float, low: bool) -> Any:
    dtype = np.result_type(gt, anc)
    if dtype not in (np.float32, np.float64):
        dtype = np.dtype(np.float32)  # float16: computed in float32, as torch's CPU kernels
    a3 = anc if anc.ndim == 3 else anc[None]
    b, m, n = gt.shape[0], gt.shape[1], a3.shape[1]
    out = np.empty((b, n), dtype=np.int64)
    if b * n == 0:
        return out
    # ioukit.boxes' dense IoU kernel (box_iou_tv, eps 0: the arithmetic of
    # torchvision.ops.box_iou), called directly: the public boxes.iou validates and
    # converts again, ~50 us per call, more than a typical image's whole assignment
    if a3.shape[0] == 1:  # shared anchors: the B images' GTs as one [1, B*M] batch
        g3 = gt.reshape(1, b * m, 4)
    else:
        g3 = gt
    iou = np.empty((g3.shape[0], g3.shape[1], n), dtype=dtype)
    if iou.size:
        bt = np.ascontiguousarray(a3.transpose(0, 2, 1), dtype=dtype)
        _cpu_kernels.pairwise_overlap(np.ascontiguousarray(g3, dtype=dtype), bt, iou, False, 0.0)
    iou = iou.reshape(b, m, n)
    _kernels.max_iou_match(iou, np.ascontiguousarray(mask).view(np.uint8), out, pos, neg, low)
    return out


def _assign_torch(gt: Any, mask: Any, anc: Any, pos: float, neg: float, low: bool) -> Any:
    import torch

    # the torch twin of the kernels' box_iou_tv (torchvision's arithmetic), any device
    from ..nms._torch import _box_iou_tv

    gt, anc = gt.detach(), anc.detach()
    dtype = torch.promote_types(gt.dtype, anc.dtype)
    gt, anc = gt.to(dtype), anc.to(dtype)
    b, m = gt.shape[0], gt.shape[1]
    a3 = anc if anc.ndim == 3 else anc[None].expand(b, -1, -1)
    n = a3.shape[1]
    if m == 0 or n == 0:
        return torch.full((b, n), -1, dtype=torch.int64, device=gt.device)
    if b == 0:
        return torch.full((0, n), -1, dtype=torch.int64, device=gt.device)

    def area(x: Any) -> Any:
        return (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])

    iou = torch.stack([_box_iou_tv(gt[k], a3[k], area(gt[k]), area(a3[k])) for k in range(b)])
    # zero union: 0, not torchvision's NaN (documented above)
    iou = torch.nan_to_num(iou, nan=0.0)
    iou = iou.masked_fill(~mask[:, :, None], float("-inf"))
    # Matcher.__call__: best GT per anchor (the first on ties), then the thresholds
    best, matches = iou.max(dim=1)
    all_matches = matches.clone()
    matches[best < neg] = -1
    matches[(best >= neg) & (best < pos)] = -2
    if low:
        # Matcher.set_low_quality_matches_: every anchor tied at a GT's best IoU
        gt_best = iou.max(dim=2, keepdim=True).values
        hit = ((iou == gt_best) & mask[:, :, None]).any(dim=1)
        matches = torch.where(hit, all_matches, matches)
    return matches


def _torch_from_numpy(x: Any) -> Any:
    import torch

    return torch.from_numpy(x)
