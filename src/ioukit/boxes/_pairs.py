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
import numba
import numpy as np

from .._backend import is_numpy, namespace, to_floating
from .._numba_start import light_numba_start
from ..errors import InvalidParameterError, ShapeMismatchError
from ._formats import as_box_array, check_boxes, check_format, to_host, to_xyxy
from ._kernels import iou_pair
from ._measures import DEFAULT_EPS

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["IouPairs", "iou_pairs"]


class IouPairs(NamedTuple):
    """Sparse IoU result: ``iou[k] = IoU(a[index_a[k]], b[index_b[k]])``.

    Ordered by ``index_a``, then ``index_b``. Arrays of the input's library.
    """

    index_a: Any
    index_b: Any
    iou: Any


@numba.njit(cache=True)
def _grid(bx, by, x0, y0, sx, sy, nx, ny):
    # counting sort of b's top-left corners into nx * ny cells (row-major in x)
    m = bx.shape[0]
    cell = np.empty(m, np.int64)
    counts = np.zeros(nx * ny + 1, np.int64)
    for j in range(m):
        cx = min(max(int((bx[j] - x0) / sx), 0), nx - 1)
        cy = min(max(int((by[j] - y0) / sy), 0), ny - 1)
        cell[j] = cy * nx + cx
        counts[cell[j] + 1] += 1
    for c in range(nx * ny):
        counts[c + 1] += counts[c]
    order = np.empty(m, np.int64)
    fill = counts[:-1].copy()
    for j in range(m):
        order[fill[cell[j]]] = j
        fill[cell[j]] += 1
    return counts, order


@numba.njit(inline="always")
def _cell_range(lo, hi, origin, size, ncell):
    c0 = int(math.floor((lo - origin) / size))
    c1 = int(math.floor((hi - origin) / size))
    return min(max(c0, 0), ncell - 1), min(max(c1, 0), ncell - 1), c1 < 0 or c0 >= ncell


@numba.njit(cache=True)
def _sweep_rows(
    a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, t, eps, zero, offsets, ib, vals, i0, i1
):
    # Rows i0..i1 of a. Two passes: first with offsets[0] < 0 to count pairs
    # per row (written to offsets[i + 1]), then with prefix offsets to write
    # (ib, vals).
    counting = offsets[0] < 0
    tf = float(t)
    reach = 1.0 / tf - tf
    for i in range(i0, i1):
        ax1, ay1, ax2, ay2 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        wa = ax2 - ax1
        ha = ay2 - ay1
        area_a = wa * ha
        if not area_a > eps:  # zero-area a: IoU 0 with everything
            if counting:
                offsets[i + 1] = 0
            continue
        slack_x = 1e-4 * wa + 1e-6 * (abs(ax1) + abs(ax2))
        slack_y = 1e-4 * ha + 1e-6 * (abs(ay1) + abs(ay2))
        cx0, cx1, out_x = _cell_range(
            ax1 - wa * reach - slack_x, ax2 - tf * wa + slack_x, x0, sx, nx
        )
        cy0, cy1, out_y = _cell_range(
            ay1 - ha * reach - slack_y, ay2 - tf * ha + slack_y, y0, sy, ny
        )
        k = 0 if counting else offsets[i]
        if not (out_x or out_y):
            for cy in range(cy0, cy1 + 1):
                for cx in range(cx0, cx1 + 1):
                    c = cy * nx + cx
                    for p in range(starts[c], starts[c + 1]):
                        j = order[p]
                        v = iou_pair(
                            ax1, ay1, ax2, ay2, area_a,
                            b[j, 0], b[j, 1], b[j, 2], b[j, 3], area_b[j], eps, zero,
                        )  # fmt: skip
                        if v >= t:
                            if not counting:
                                ib[k] = j
                                vals[k] = v
                            k += 1
        if counting:
            offsets[i + 1] = k


@numba.njit(cache=True)
def _sweep_serial(
    a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, t, eps, zero, offsets, ib, vals
):
    _sweep_rows(
        a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, t, eps, zero, offsets, ib, vals,
        0, a.shape[0],
    )  # fmt: skip


@numba.njit(cache=True, parallel=True)
def _sweep_parallel(
    a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, t, eps, zero, offsets, ib, vals
):
    n = a.shape[0]
    chunk = 64
    for c in numba.prange((n + chunk - 1) // chunk):
        _sweep_rows(
            a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, t, eps, zero, offsets, ib, vals,
            c * chunk, min(n, (c + 1) * chunk),
        )  # fmt: skip


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
    min_iou: float,
    *,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> IouPairs:
    """All pairs ``(i, j)`` with ``IoU(a[i], b[j]) >= min_iou``, without the dense matrix.

    Equals ``np.nonzero(iou(a, b) >= min_iou)`` with the values, in the same
    order (by i, then j) and to the bit (the same compiled per-pair formula),
    in memory proportional to N + M + the number of pairs.

    Parameters
    ----------
    a : array [N, 4]
    b : array [M, 4]
        NumPy arrays (or lists); torch / JAX arrays are copied to the host
        and the result converted back (no autograd through this function).
    min_iou : float
        Threshold in (0, 1]. (At 0 every pair qualifies: use :func:`iou`.)
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
    if not isinstance(min_iou, (int, float, np.floating)) or not (0 < min_iou <= 1):
        raise InvalidParameterError(f"min_iou must be a number in (0, 1]; got {min_iou!r}")
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
    ia, ib, vals = _iou_pairs_numpy(ah, bh, float(min_iou), float(eps))
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
    dtype = a.dtype.type
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, a.dtype))
    if n == 0 or m == 0:
        return empty
    wb = b[:, 2] - b[:, 0]
    hb = b[:, 3] - b[:, 1]
    area_b = wb * hb
    # cell = the median box size: a window then spans a few cells per axis
    cap = max(int(math.sqrt(4 * m)) + 1, 1)
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    sx, nx = _grid_shape(x0, float(b[:, 0].max()), float(np.median(wb)), cap)
    sy, ny = _grid_shape(y0, float(b[:, 1].max()), float(np.median(hb)), cap)
    starts, order = _grid(
        b[:, 0].astype(np.float64), b[:, 1].astype(np.float64), x0, y0, sx, sy, nx, ny
    )
    offsets = np.full(n + 1, -1, np.int64)
    dummy_i = np.zeros(0, np.int64)
    dummy_v = np.zeros(0, a.dtype)
    args = (a, b, area_b, starts, order, x0, y0, sx, sy, nx, ny, dtype(t), dtype(eps), dtype(0))
    # the thread pool's wake-up outweighs small problems
    sweep = _sweep_parallel if n * 8 + m >= 20000 else _sweep_serial
    sweep(*args, offsets, dummy_i, dummy_v)
    offsets[0] = 0
    np.cumsum(offsets, out=offsets)
    total = int(offsets[-1])
    if total == 0:
        return empty
    ib = np.empty(total, np.int64)
    vals = np.empty(total, a.dtype)
    sweep(*args, offsets, ib, vals)
    ia = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    # cells are visited in grid order, so a row's pairs may be out of index_b
    # order: one stable key sort fixes all rows (cheaper to compile than a
    # per-row sort in the kernel)
    if np.any((ib[1:] < ib[:-1]) & (ia[1:] == ia[:-1])):
        perm = np.argsort(ia * m + ib, kind="stable")
        ib, vals = ib[perm], vals[perm]
    return ia, ib, vals
