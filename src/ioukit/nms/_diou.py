"""DIoU-NMS (Zheng et al. 2020)."""

from __future__ import annotations

from typing import Any

from . import _kernels as K
from ._common import (
    as_numpy_boxes,
    as_numpy_scores,
    check_eps,
    check_numpy,
    check_threshold,
    empty_index,
    is_cuda,
    wrap_index,
)
from ._hard import _run_greedy

__all__ = ["diou_nms"]

#: The penalty is 0 where the enclosing box's squared diagonal c^2 is at most this: a
#: threshold, never added (the meaning of ``eps`` everywhere in ioukit), and the
#: default of ``ioukit.boxes.diou``, so the two agree bit for bit on the penalty.
DIOU_EPS = 1e-12


def diou_nms(
    boxes: Any, scores: Any, iou_threshold: float, beta: float = 1.0, *, eps: float = DIOU_EPS
) -> Any:
    """Greedy NMS that suppresses when ``IoU - (rho^2 / c^2) ** beta > iou_threshold``.

    Zheng et al. 2020 ("Distance-IoU Loss", the DIoU-NMS rule): rho is the distance
    between the two box centres, c the diagonal of their smallest enclosing box.
    Boxes whose centres are far apart are kept even when they overlap. The IoU term
    uses the same arithmetic as :func:`nms`; the penalty is computed in float64 and
    is 0 where ``c^2 <= eps`` (as :func:`ioukit.boxes.diou`'s penalty, bit for bit).
    With ``beta == 1`` every backend gives bit-identical results; other betas use
    ``pow``, which may differ by one ulp between libm, torch CPU and CUDA.

    Args:
        boxes: (N, 4) ``xyxy`` boxes.
        scores: (N,) scores (ties: lower index first).
        iou_threshold: suppression threshold on the DIoU value.
        beta: exponent of the distance penalty (1.0 in the paper; YOLO code uses 0.6-1.0).
        eps: no penalty where ``c^2 <= eps`` (a threshold, never added; default 1e-12,
            as :func:`ioukit.boxes.diou`).

    Returns:
        (K,) int64 indices of kept boxes by decreasing score.

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import diou_nms
        >>> # box 1: IoU 60/100 = 0.6, rho^2/c^2 = 4/200 = 0.02, DIoU 0.58 > 0.52: removed
        >>> # box 2: IoU 70/130 = 0.538, rho^2/c^2 = 9/269 = 0.033, DIoU 0.505: kept
        >>> boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 6], [3, 0, 13, 10]], float)
        >>> diou_nms(boxes, np.array([0.9, 0.8, 0.7]), 0.52)
        array([0, 2])
    """
    thr = check_threshold("iou_threshold", iou_threshold)
    beta = check_threshold("beta", beta)
    eps = check_eps(eps)
    if is_cuda(boxes):
        from . import _torch

        return _torch.diou_nms(boxes, scores, thr, beta, eps)
    b = as_numpy_boxes(boxes)
    s = as_numpy_scores(scores, b.shape[0])
    check_numpy(b, s)
    if b.shape[0] == 0:
        return empty_index(boxes)
    keep = _run_greedy(b, s, None, thr, K.MODE_DIOU, beta, eps)
    return wrap_index(keep, boxes)
