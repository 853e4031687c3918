"""Sparse rotated IoU: the pairs with IoU >= a threshold, without the dense N x M matrix.

Candidates come from the boxes' axis-aligned hulls: ``b`` sorted by hull ``x0``, each
``a`` visits the ``b`` whose ``x0`` lies in ``[a.x0 - max hull width, a.x1]``, keeps
those whose hulls overlap in y and whose area ratio allows ``IoU >= t``
(``IoU <= min(area) / max(area)``), and computes their exact IoU. The hulls are widened
by a relative 1e-12 so rounding never drops a pair. Memory: O(N + M + pairs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import namespace
from ..boxes import IouPairs
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels as K
from ._input import angle_scale, as_rboxes, back, check_eps, check_rboxes, host, radians

__all__ = ["iou_pairs"]


def iou_pairs(
    a: Any, b: Any, iou_threshold: float, *, angle: str = "rad", eps: float = 0.0
) -> IouPairs:
    """All pairs ``(i, j)`` with rotated ``IoU(a[i], b[j]) >= iou_threshold``.

    Equals ``np.nonzero(iou(a, b) >= iou_threshold)`` with the values, in the same order
    (by i, then j), without the dense matrix. The comparison is made on the double value
    before rounding to the output dtype.

    Args:
        a: ``[N, 5]`` boxes ``(cx, cy, w, h, angle)``.
        b: ``[M, 5]`` boxes.
        iou_threshold: in ``(0, 1]``.
        angle: ``"rad"`` or ``"deg"``.
        eps: a union ``<= eps`` gives 0.

    Returns:
        ``IouPairs(index_a [P] int64, index_b [P] int64, iou [P])`` in the inputs'
        library and device.

    Example:
        >>> import numpy as np
        >>> from ioukit.rotated import iou_pairs
        >>> a = np.array([[0.0, 0.0, 2.0, 2.0, 0.0], [10.0, 0.0, 2.0, 2.0, 0.0]])
        >>> b = np.array([[0.0, 0.0, 2.0, 2.0, 0.785], [50.0, 0.0, 2.0, 2.0, 0.0]])
        >>> p = iou_pairs(a, b, 0.5)
        >>> p.index_a, p.index_b, p.iou.round(4)
        (array([0]), array([0]), array([0.7071]))
    """
    t = iou_threshold
    if isinstance(t, bool) or not isinstance(t, (int, float, np.floating)) or not (0 < t <= 1):
        raise InvalidParameterError(f"iou_threshold must be a number in (0, 1]; got {t!r}")
    a = as_rboxes(a, "a")
    b = as_rboxes(b, "b")
    xp = namespace(a, b)
    out_dtype = xp.result_type(a.dtype, b.dtype)
    for name, x in (("a", a), ("b", b)):
        if len(x.shape) != 2:
            raise ShapeMismatchError(f"iou_pairs: {name} must be [K, 5]; got {tuple(x.shape)}")
    scale = angle_scale(angle)
    e = check_eps(eps)
    ah, bh = host(a), host(b)
    check_rboxes(ah, "a")
    check_rboxes(bh, "b")
    kdtype = np.result_type(ah.dtype, bh.dtype)
    ra, rb = radians(ah, scale, kdtype), radians(bh, scale, kdtype)
    ia, ib, vals = _pairs_numpy(ra, rb, float(t), e)
    return IouPairs(back(ia, a, xp.int64), back(ib, a, xp.int64), back(vals, a, out_dtype))


def _pairs_numpy(a: np.ndarray, b: np.ndarray, t: float, eps: float) -> tuple:
    n, m = a.shape[0], b.shape[0]
    if n == 0 or m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    ha, hb = K.hulls(a), K.hulls(b)
    order = np.argsort(hb[:, 0], kind="stable").astype(np.int64)
    xs = np.ascontiguousarray(hb[order, 0])
    max_w = float((hb[:, 2] - hb[:, 0]).max())
    counts = np.zeros(n, np.int64)
    K.pairs_count(a, b, ha, hb, order, xs, max_w, t, eps, counts)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    ib = np.empty(total, np.int64)
    vals = np.empty(total, np.float64)
    K.pairs_fill(a, b, ha, hb, order, xs, max_w, t, eps, offsets, ib, vals)
    ia = np.repeat(np.arange(n, dtype=np.int64), counts)
    perm = np.lexsort((ib, ia))  # rows in x0 order -> by i, then j
    return ia[perm], ib[perm], vals[perm]
