"""Matrix-NMS (SOLOv2, Wang et al. 2020) for boxes or masks."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._backend import is_torch
from ..errors import (
    InvalidBoxesError,
    InvalidMaskError,
    InvalidParameterError,
    ShapeMismatchError,
)
from . import _kernels as K
from ._common import (
    as_numpy_boxes,
    as_numpy_labels,
    as_numpy_scores,
    check_numpy,
    check_threshold,
    stable_desc_order,
    wrap_index,
    wrap_values,
)

__all__ = ["matrix_nms"]

_KERNELS = {"gaussian": 0, "linear": 1}

#: Floor of the linear kernel's denominator ``1 - comp`` (identical masks give 0).
MATRIX_EPS = 1e-6


def _numpy_mask_decay(
    m: np.ndarray, lab: np.ndarray | None, kernel: int, sigma: float
) -> np.ndarray:
    n = m.shape[0]
    f = m.reshape(n, -1).astype(np.float32)
    # float32 matmul of 0/1 values is exact below 2**24 pixels per mask.
    inter = (f @ f.T).astype(np.float64)
    area = f.sum(1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / ((area[:, None] + area[None, :]) - inter)
    same = np.ones((n, n), bool) if lab is None else lab[:, None] == lab[None, :]
    upper = np.triu(same, k=1)
    iou = np.where(upper, iou, 0.0)
    comp = iou.max(0) if n else np.zeros(0)
    if kernel == 0:
        d = np.exp(-sigma * (iou * iou)) / np.exp(-sigma * (comp * comp))[:, None]
    else:
        d = (1.0 - iou) / np.maximum(1.0 - comp, MATRIX_EPS)[:, None]
    d = np.where(upper, d, 1.0)
    return d.min(0) if n else np.zeros(0)


def matrix_nms(
    boxes_or_masks: Any,
    scores: Any,
    labels: Any = None,
    kernel: Literal["gaussian", "linear"] = "gaussian",
    sigma: float = 2.0,
    score_threshold: float | None = None,
) -> tuple[Any, Any]:
    """Matrix-NMS: decay every score in parallel by its overlap with better boxes.

    SOLOv2 (Wang et al. 2020, the Matrix-NMS decay factor). With boxes sorted by
    score, ``comp_i`` is the largest IoU of box i with any higher-scored box of its
    class, and box j's decay is

    ``min(1, min_{i<j, same class} f(iou_ij) / f(comp_i))``

    with ``f(x) = exp(-sigma x^2)`` (gaussian) or ``f(x) = 1 - x`` (linear, its
    denominator floored at 1e-6). The outer ``min(1, ...)`` is what the reference
    code's full-matrix minimum amounts to. Ties in score: lower index first.

    Boxes run in an O(N)-memory compiled kernel (the pairs of each class visited
    twice, no matrix); masks use one float32 matrix product (N x N, inherent to the
    method: use it on a pre-selected top-k as SOLOv2 does).

    Args:
        boxes_or_masks: (N, 4) ``xyxy`` boxes, or (N, H, W) binary masks.
        scores: (N,) scores.
        labels: (N,) integer classes; ``None`` treats all as one class.
        kernel: ``"gaussian"`` or ``"linear"``.
        sigma: gaussian kernel width (SOLOv2 uses 2.0).
        score_threshold: if given, keep only boxes with decayed score ``>=`` it
            (SOLOv2's ``update_thr``).

    Returns:
        ``(keep, decayed)``: (K,) int64 indices by decreasing decayed score (ties:
        lower index first) and their decayed scores (float64 on NumPy, the scores'
        dtype on torch).

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import matrix_nms
        >>> boxes = np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float)  # IoU = 1/3
        >>> keep, s = matrix_nms(boxes, np.array([0.9, 0.8]), kernel="linear")
        >>> keep, s.round(6)  # 0.8 * (1 - 1/3) / (1 - 0)
        (array([0, 1]), array([0.9     , 0.533333]))
    """
    if kernel not in _KERNELS:
        raise InvalidParameterError(f"kernel must be 'gaussian' or 'linear', got {kernel!r}")
    sig = check_threshold("sigma", sigma)
    kcode = _KERNELS[kernel]
    x = boxes_or_masks
    is_mask = getattr(x, "ndim", np.ndim(x)) == 3
    if is_torch(x) and x.device.type != "cpu":
        return _torch_matrix(x, scores, labels, is_mask, kcode, sig, score_threshold)
    if is_mask:
        m = x.detach().cpu().numpy() if is_torch(x) else np.asarray(x)
        if m.dtype != bool and not (m.dtype.kind in "biuf" and np.isin(m, (0, 1)).all()):
            raise InvalidMaskError("masks must be binary (bool or 0/1 values)")
        s = as_numpy_scores(scores, m.shape[0])
        check_numpy(np.zeros((m.shape[0], 4)), s)
    else:
        b = as_numpy_boxes(x)
        s = as_numpy_scores(scores, b.shape[0])
        check_numpy(b, s)
    n = s.shape[0]
    lab = None if labels is None else as_numpy_labels(labels, n)
    order = stable_desc_order(s)
    if is_mask:
        decay = _numpy_mask_decay(m[order], None if lab is None else lab[order], kcode, sig)
    else:
        lab_o = None if lab is None else lab[order]
        decay = K.matrix_nms_boxes(b[order].astype(np.float64), lab_o, kcode, sig, MATRIX_EPS)
    new = s[order].astype(np.float64) * decay
    return _finish(order, new, score_threshold, scores, x)


def _finish(order, new, score_threshold, scores, like):
    # Re-sort by decayed score; stable on the score order keeps the tie rule.
    o2 = np.argsort(-new, kind="stable")
    keep, vals = order[o2], new[o2]
    if score_threshold is not None:
        m = vals >= check_threshold("score_threshold", score_threshold)
        keep, vals = keep[m], vals[m]
    return wrap_index(keep, like), wrap_values(vals, scores)


def _torch_matrix(x, scores, labels, is_mask, kcode, sig, score_threshold):
    import torch

    from . import _torch

    if not is_mask and (x.ndim != 2 or x.shape[1] != 4):
        raise ShapeMismatchError(f"boxes must have shape (N, 4), got {tuple(x.shape)}")
    s = _torch._as_scores(scores, x.shape[0], x.device)
    if not is_mask:
        _torch._check(_torch._as_boxes(x), s)
    elif bool(torch.isnan(s).any()):
        raise InvalidBoxesError(f"scores row {int(torch.nonzero(torch.isnan(s))[0, 0])} is NaN")
    order = _torch._order(s)
    lab = None if labels is None else torch.as_tensor(labels, device=x.device)[order]
    decay = _torch.matrix_decay(x[order], lab, is_mask, kcode, sig, MATRIX_EPS)
    new = s[order].to(torch.float64) * decay
    o2 = torch.sort(new, descending=True, stable=True)[1]
    keep, vals = order[o2], new[o2]
    if score_threshold is not None:
        m = vals >= float(score_threshold)
        keep, vals = keep[m], vals[m]
    return keep, vals.to(s.dtype)
