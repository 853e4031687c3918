"""Sparse IoU: the pairs with IoU >= a threshold, without the dense N x M matrix.

The dense matrix is where large-scale matching runs out of memory
(maskrcnn-benchmark#18, detectron2#598: 100k x 100k float32 is 40 GB). For a
threshold t > 0 most pairs cannot qualify, and a box ``b`` can only reach
``IoU(a, b) >= t`` if its top-left corner lies in a small window around
``a``'s (derivation below). ``b``'s top-left corners are bucketed in a uniform
grid; each ``a`` visits the cells under its window and computes the exact IoU
of the candidates there. Memory is O(N + M + cells + pairs).

Window (any t in (0, 1]): IoU >= t implies inter >= t * area(a) and
inter >= t * area(b). Since the intersection height is at most h_a,
iw >= t * w_a; likewise iw >= t * w_b, so w_b <= w_a / t. Then
``b.x1 <= min(a.x2, b.x2) - iw <= a.x2 - t w_a`` and
``b.x1 = b.x2 - w_b >= a.x1 + iw - w_b >= a.x1 - w_a (1/t - t)``; the same
holds for y. The window is widened by a small slack so that floating-point
rounding never drops a pair the dense kernel would keep.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import array_api_compat
import numpy as np

from .._backend import is_numpy, namespace, to_floating
from .._deprecation import UNSET, renamed
from ..errors import InvalidParameterError, ShapeMismatchError
from ._formats import as_box_array, check_boxes, check_format, to_host, to_xyxy
from ._measures import DEFAULT_EPS, _cpu_kernels, _rescale

__all__ = ["IouPairs", "iou_pairs"]


class IouPairs(NamedTuple):
    """Sparse IoU result: ``iou[k] = IoU(a[index_a[k]], b[index_b[k]])``.

    Ordered by ``index_a``, then ``index_b``. Arrays of the input's library.
    """

    index_a: Any
    index_b: Any
    iou: Any


def _grid_shape(lo: float, hi: float, size: float, cap: int) -> tuple[float, int]:
    extent = max(hi - lo, 0.0)
    if not size > 0 or not math.isfinite(size):
        size = extent / max(cap, 1) if extent > 0 else 1.0
    n = int(extent / size) + 1
    if n > cap:  # outliers far away: coarser cells rather than a huge grid
        size = extent / cap * (1 + 1e-9)
        n = cap
    return size, n


def iou_pairs(
    a: Any,
    b: Any,
    iou_threshold: float = UNSET,
    *,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
    min_iou: float = UNSET,
) -> IouPairs:
    """All pairs ``(i, j)`` with ``IoU(a[i], b[j]) >= iou_threshold``, without the dense matrix.

    Equals ``np.nonzero(iou(a, b) >= iou_threshold)`` with the values, in the same
    order (by i, then j) and to the bit (the same compiled per-pair formula),
    in memory proportional to N + M + the number of pairs.

    Parameters
    ----------
    a : array [N, 4]
    b : array [M, 4]
        NumPy arrays (or lists); torch / JAX arrays are copied to the host
        and the result converted back (no autograd through this function).
    iou_threshold : float
        Threshold in (0, 1]. (At 0 every pair qualifies: use :func:`iou`.)
        ``min_iou=`` is its deprecated name.
    fmt, eps, validate, image_size
        As for :func:`iou`.

    Returns
    -------
    IouPairs
        ``(index_a [P] int64, index_b [P] int64, iou [P])``, iou in the
        inputs' promoted dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import iou_pairs
    >>> a = np.array([[0.0, 0.0, 2.0, 2.0], [10.0, 10.0, 12.0, 12.0]])
    >>> b = np.array([[0.0, 0.0, 2.0, 1.0], [10.0, 10.0, 12.0, 12.0], [50.0, 50.0, 51.0, 51.0]])
    >>> p = iou_pairs(a, b, 0.5)
    >>> p.index_a, p.index_b, p.iou
    (array([0, 1]), array([0, 1]), array([0.5, 1. ]))
    """
    t = renamed("iou_pairs", "min_iou", "iou_threshold", min_iou, iou_threshold, UNSET)
    if t is UNSET:
        raise TypeError("iou_pairs() missing required argument: 'iou_threshold'")
    if not isinstance(t, (int, float, np.floating)) or not (0 < t <= 1):
        raise InvalidParameterError(f"iou_threshold must be a number in (0, 1]; got {t!r}")
    if not isinstance(eps, (int, float)) or not (eps >= 0 and math.isfinite(eps)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    a = as_box_array(a, "a")
    b = as_box_array(b, "b")
    check_format(fmt)
    xp = namespace(a, b)
    for name, x in (("a", a), ("b", b)):
        if len(x.shape) != 2:
            raise ShapeMismatchError(f"iou_pairs: {name} must be [K, 4]; got {tuple(x.shape)}")
    a = to_floating(a, xp)
    b = to_floating(b, xp)
    if validate:
        check_boxes(xp, a, fmt, "a")
        check_boxes(xp, b, fmt, "b")
    out_dtype = xp.result_type(a, b)
    native = is_numpy(a)
    ah, bh = (a, b) if native else (to_host(a), to_host(b))
    dtype = np.result_type(ah, bh)
    if dtype not in (np.float32, np.float64):  # float16 / bfloat16 -> float32
        dtype = np.dtype(np.float32)
    ah = np.ascontiguousarray(to_xyxy(np, ah.astype(dtype, copy=False), fmt, image_size))
    bh = np.ascontiguousarray(to_xyxy(np, bh.astype(dtype, copy=False), fmt, image_size))
    # finite boxes whose areas overflow: both inputs scaled by a power of two (exact)
    ah, bh, eps, _ = _rescale(np, ah, bh, float(eps), {}, dtype)
    ia, ib, vals = _iou_pairs_numpy(ah, bh, float(t), float(eps))
    if native:
        return IouPairs(ia, ib, vals.astype(out_dtype, copy=False))
    # back to the caller's library and device
    dev = array_api_compat.device(a)
    return IouPairs(
        xp.asarray(ia, device=dev),
        xp.asarray(ib, device=dev),
        xp.astype(xp.asarray(vals, device=dev), out_dtype),
    )


def _iou_pairs_numpy(a: np.ndarray, b: np.ndarray, t: float, eps: float) -> tuple:
    n, m = a.shape[0], b.shape[0]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, a.dtype))
    if n == 0 or m == 0:
        return empty
    wb = b[:, 2] - b[:, 0]
    hb = b[:, 3] - b[:, 1]
    # cell = the median box size: a window then spans a few cells per axis
    cap = max(int(math.sqrt(4 * m)) + 1, 1)
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    sx, nx = _grid_shape(x0, float(b[:, 0].max()), float(np.median(wb)), cap)
    sy, ny = _grid_shape(y0, float(b[:, 1].max()), float(np.median(hb)), cap)
    grid = {"x0": x0, "y0": y0, "sx": sx, "sy": sy, "nx": nx, "ny": ny}
    bx, by = b[:, 0].astype(np.float64), b[:, 1].astype(np.float64)
    starts, order = _cpu_kernels.grid_sort(bx, by, grid)
    # t and eps are rounded to the inputs' dtype in the kernel, as the dense kernel does
    offsets, ib, vals = _cpu_kernels.iou_pairs_sweep(a, b, starts, order, grid, t, eps)
    if len(vals) == 0:
        return empty
    ia = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    # cells are visited in grid order, so a row's pairs may be out of index_b
    # order: one stable key sort fixes all rows
    if np.any((ib[1:] < ib[:-1]) & (ia[1:] == ia[:-1])):
        perm = np.argsort(ia * m + ib, kind="stable")
        ib, vals = ib[perm], vals[perm]
    return ia, ib, vals
