"""Soft-NMS (Bodla et al. 2017), with ensemble-boxes' exact semantics."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..errors import InvalidParameterError
from . import _kernels as K
from ._common import (
    as_numpy_boxes,
    as_numpy_scores,
    check_numpy,
    check_threshold,
    is_cuda,
    wrap_index,
    wrap_values,
)

__all__ = ["soft_nms"]

_METHODS = {"linear": 1, "gaussian": 2}


def soft_nms(
    boxes: Any,
    scores: Any,
    iou_threshold: float = 0.5,
    sigma: float = 0.5,
    method: Literal["linear", "gaussian"] = "gaussian",
    score_threshold: float = 0.001,
) -> tuple[Any, Any]:
    """Soft-NMS: decay the scores of overlapping boxes instead of removing them.

    Follows ``ensemble_boxes.ensemble_boxes_nms.cpu_soft_nms_float`` step for step
    (the defaults are its defaults), which differs from the paper in small ways
    that are kept on purpose so results match to the last bit of IoU:

    - at each step the highest remaining score (first one on ties) is swapped into
      place only if strictly higher, so equal scores keep their current order;
    - linear decay ``s * (1 - iou)`` applies when ``iou > iou_threshold`` (strict;
      the paper writes ``>=``); gaussian decay ``s * exp(-iou**2 / sigma)`` applies
      to every later box, ``iou_threshold`` is unused;
    - IoU is computed in float64 whatever the input dtype; decayed scores are
      stored back in the scores' dtype after every step;
    - a box is returned when its final score is ``> score_threshold``.

    Unlike ensemble-boxes' ``soft_nms`` wrapper (which returns the *original*
    scores of the kept boxes), the decayed scores are returned.

    Args:
        boxes: (N, 4) ``xyxy`` boxes.
        scores: (N,) scores.
        iou_threshold: linear method only: decay when IoU > this.
        sigma: gaussian method only: decay ``exp(-iou**2 / sigma)``.
        method: ``"linear"`` or ``"gaussian"`` rescoring (Bodla et al. 2017).
        score_threshold: keep boxes whose decayed score is ``> score_threshold``.

    Returns:
        ``(keep, decayed)``: (K,) int64 indices in processing order (non-increasing
        decayed score) and their (K,) decayed scores; same backend/device as input.

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import soft_nms
        >>> boxes = np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float)  # IoU = 2 / 6 = 1/3
        >>> keep, s = soft_nms(boxes, np.array([0.9, 0.8]), 0.3, method="linear")
        >>> keep, s.round(6)  # 0.8 * (1 - 1/3)
        (array([0, 1]), array([0.9     , 0.533333]))
    """
    if method not in _METHODS:
        raise InvalidParameterError(f"method must be 'linear' or 'gaussian', got {method!r}")
    nt = check_threshold("iou_threshold", iou_threshold)
    sig = check_threshold("sigma", sigma)
    if method == "gaussian" and not sig > 0:
        raise InvalidParameterError(f"sigma must be > 0 for the gaussian method, got {sigma}")
    thr = check_threshold("score_threshold", score_threshold)
    if is_cuda(boxes):
        from . import _torch

        return _torch.soft_nms(boxes, scores, nt, sig, thr, _METHODS[method])
    b = as_numpy_boxes(boxes)
    s = as_numpy_scores(scores, b.shape[0])
    check_numpy(b, s)
    b64 = b.astype(np.float64)
    if b64.shape[0] == 0:
        return wrap_index(np.zeros(0, np.int64), boxes), wrap_values(s.copy(), scores)
    keep, dec = K.soft_nms(b64, s.copy(), nt, sig, thr, _METHODS[method])
    return wrap_index(keep, boxes), wrap_values(dec, scores)
