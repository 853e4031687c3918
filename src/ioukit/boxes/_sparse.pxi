# The sparse IoU sweep of ioukit.boxes.iou_pairs (derivation of the window in _pairs.py),
# included by _kernels.pyx and _kernels_avx2.pyx after _dense.pxi (whose _overlap_row
# computes every candidate's IoU: the dense kernel's arithmetic, so the same bits).

from libc.math cimport fabs, floor
from libc.stdint cimport int64_t
from libc.string cimport memcpy

import numpy as np

cdef enum:
    # threads from n_a * 8 + n_b >= this (the thread pool's wake-up outweighs less work)
    SWEEP_PARALLEL_MIN = 20000
    # rows of a handed to a thread at a time (their costs vary)
    SWEEP_CHUNK = 64
    # candidates whose IoUs are computed at once, in a buffer on the thread's stack
    SWEEP_BLOCK = 512


cdef struct Grid:
    # the uniform grid of iou_pairs: cell (cx, cy) covers x0 + [cx, cx + 1) * sx (and y);
    # cells numbered cy * nx + cx
    double x0
    double y0
    double sx
    double sy
    Py_ssize_t nx
    Py_ssize_t ny


cdef inline Py_ssize_t _clamp_cell(double c, Py_ssize_t ncell) noexcept nogil:
    # min(max(int(c), 0), ncell - 1) for a cell coordinate c, clamped as a double first
    # so that a far-away coordinate cannot overflow the integer conversion
    if not c > 0:
        return 0
    if c >= ncell - 1:
        return ncell - 1
    return <Py_ssize_t>c


def grid_sort(const double[::1] bx, const double[::1] by, Grid grid):
    """Counting sort of points ``(bx, by)`` into ``grid``'s cells.

    ``grid``: a dict of the cells' origin ``x0``, ``y0``, size ``sx``, ``sy`` and
    counts ``nx``, ``ny``. Returns ``(starts [cells + 1], order [M])`` (int64): the
    points of cell ``c`` (numbered ``cy * nx + cx``) are ``order[starts[c]:starts[c + 1]]``,
    in index order. Points outside the grid go to the nearest border cell.
    """
    cdef Py_ssize_t m = bx.shape[0], j, c, ncells = grid.nx * grid.ny
    if by.shape[0] != m or grid.nx < 1 or grid.ny < 1:
        raise ValueError("grid_sort: bx and by differ in length, or the grid is empty")
    cell_arr = np.empty(m, np.int64)
    starts_arr = np.zeros(ncells + 1, np.int64)
    order_arr = np.empty(m, np.int64)
    fill_arr = np.empty(ncells, np.int64)
    cdef int64_t[::1] cell = cell_arr, starts = starts_arr, order = order_arr, fill = fill_arr
    with nogil:
        for j in range(m):
            cell[j] = (_clamp_cell((by[j] - grid.y0) / grid.sy, grid.ny) * grid.nx
                       + _clamp_cell((bx[j] - grid.x0) / grid.sx, grid.nx))
            starts[cell[j] + 1] += 1
        for c in range(ncells):
            starts[c + 1] += starts[c]
            fill[c] = starts[c]
        for j in range(m):
            order[fill[cell[j]]] = j
            fill[cell[j]] += 1
    return starts_arr, order_arr


cdef inline bint _cell_range(double lo, double hi, double origin, double size,
                             Py_ssize_t ncell, Py_ssize_t* c0, Py_ssize_t* c1) noexcept nogil:
    # cells [c0, c1] (clamped to the grid) under [lo, hi]; False when all of it is outside
    cdef double f0 = floor((lo - origin) / size), f1 = floor((hi - origin) / size)
    c0[0] = _clamp_cell(f0, ncell)
    c1[0] = _clamp_cell(f1, ncell)
    return not (f1 < 0 or f0 >= ncell)


cdef Py_ssize_t _block_hits(const real* a, const real* bt, Py_ssize_t m, const real* area_b,
                            const int64_t* order, Py_ssize_t p0, Py_ssize_t count, real t,
                            real eps, int64_t* ib, real* vals) noexcept nogil:
    # Candidates p0 .. p0 + count - 1 (count <= SWEEP_BLOCK) of the cell-ordered columns
    # bt (stride m): how many have IoU >= t with box a; unless ib is NULL, their indices
    # in b (order[p]) and IoUs also go to ib[0:hits], vals[0:hits], in candidate order.
    cdef real iou[SWEEP_BLOCK]
    cdef int64_t idx[SWEEP_BLOCK]
    cdef Py_ssize_t q, hits = 0
    cdef real v
    _overlap_row(a, bt + p0, m, area_b + p0, iou, count, False, eps)
    if ib == NULL:
        for q in range(count):
            hits += iou[q] >= t
        return hits
    # branch-free compaction (hits are unpredictable): write each candidate at the next
    # free slot, advance past it on a hit; in place, since hits <= q
    for q in range(count):
        v = iou[q]
        iou[hits] = v
        idx[hits] = order[p0 + q]
        hits += v >= t
    memcpy(ib, idx, hits * sizeof(int64_t))
    memcpy(vals, iou, hits * sizeof(real))
    return hits


cdef Py_ssize_t _sweep_row(const real* a, const real* bt, Py_ssize_t m, const real* area_b,
                           const int64_t* starts, const int64_t* order, const Grid* grid,
                           real t, real eps, int64_t* ib, real* vals) noexcept nogil:
    # The pairs of box a (x1, y1, x2, y2) with IoU >= t among the boxes of b in the cells
    # under its window: their count; unless ib is NULL, also b's index and the IoU of
    # each, to ib[k], vals[k] (k from 0), ordered by cell row, cell, index in b.
    cdef real ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3]
    cdef real wa = ax2 - ax1, ha = ay2 - ay1
    cdef real area_a = wa * ha
    cdef double tf = t
    cdef double reach = 1.0 / tf - tf
    cdef double slack_x, slack_y
    cdef Py_ssize_t cx0, cx1, cy0, cy1, cy, p, p1, count, k = 0
    if not area_a > eps:  # zero-area a: IoU 0 with everything
        return 0
    # the window of _pairs' derivation, widened against rounding: widths and coordinate
    # sums in the inputs' dtype, the bounds in float64
    slack_x = 1e-4 * wa + 1e-6 * (<real>fabs(ax1) + <real>fabs(ax2))
    slack_y = 1e-4 * ha + 1e-6 * (<real>fabs(ay1) + <real>fabs(ay2))
    if not _cell_range(ax1 - wa * reach - slack_x, ax2 - tf * wa + slack_x,
                       grid.x0, grid.sx, grid.nx, &cx0, &cx1):
        return 0
    if not _cell_range(ay1 - ha * reach - slack_y, ay2 - tf * ha + slack_y,
                       grid.y0, grid.sy, grid.ny, &cy0, &cy1):
        return 0
    for cy in range(cy0, cy1 + 1):
        # the candidates in cells cx0..cx1 of grid row cy: contiguous in cell order
        p = starts[cy * grid.nx + cx0]
        p1 = starts[cy * grid.nx + cx1 + 1]
        while p < p1:
            count = p1 - p if p1 - p < SWEEP_BLOCK else SWEEP_BLOCK
            if ib == NULL:
                k += _block_hits(a, bt, m, area_b, order, p, count, t, eps, NULL, NULL)
            else:
                k += _block_hits(a, bt, m, area_b, order, p, count, t, eps, ib + k, vals + k)
            p += count
    return k


def iou_pairs_sweep(const real[:, ::1] a, const real[:, ::1] b, const int64_t[::1] starts,
                    const int64_t[::1] order, Grid grid, double t, double eps):
    """Pairs with IoU >= ``t`` of boxes ``a`` [N, 4] x ``b`` [M, 4] (xyxy, one dtype).

    ``starts``, ``order``: :func:`grid_sort` of b's top-left corners into ``grid``.
    ``t`` and ``eps`` are rounded to the inputs' dtype. Returns ``(offsets [N + 1],
    index_b, iou)``: row i's pairs are ``offsets[i]:offsets[i + 1]``, in grid-cell
    order (not necessarily by index_b).
    """
    cdef Py_ssize_t n = a.shape[0], m = b.shape[0], i, p, c
    cdef real tr = <real>t, er = <real>eps
    cdef int nt = _threads(n * 8 + m >= SWEEP_PARALLEL_MIN)
    cdef int64_t total
    if a.shape[1] != 4 or b.shape[1] != 4 or order.shape[0] != m \
            or starts.shape[0] != grid.nx * grid.ny + 1:
        raise ValueError("iou_pairs_sweep: shapes of a, b, starts, order do not match")
    dtype = np.float32 if real is float else np.float64
    offsets_arr = np.zeros(n + 1, np.int64)
    if m == 0:
        return offsets_arr, np.zeros(0, np.int64), np.zeros(0, dtype)
    # b as columns in cell order, and the areas: a window's candidates in one grid row
    # are then contiguous, and their IoUs vectorise like the dense kernel's
    bt_arr = np.empty((4, m), dtype)
    area_arr = np.empty(m, dtype)
    cdef real[:, ::1] bt = bt_arr
    cdef real[::1] area_b = area_arr
    with nogil:
        for p in range(m):
            for c in range(4):
                bt[c, p] = b[order[p], c]
        _column_areas(&bt[0, 0], m, &area_b[0], m)
    cdef int64_t[::1] offsets = offsets_arr
    # pass 1 counts each row's pairs (to offsets[i + 1]), pass 2 writes them from the
    # prefix offsets on
    with nogil:
        if nt == 1:  # no parallel region: starting one costs a microsecond
            for i in range(n):
                offsets[i + 1] = _sweep_row(&a[i, 0], &bt[0, 0], m, &area_b[0], &starts[0],
                                            &order[0], &grid, tr, er, NULL, NULL)
        else:
            for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=SWEEP_CHUNK):
                offsets[i + 1] = _sweep_row(&a[i, 0], &bt[0, 0], m, &area_b[0], &starts[0],
                                            &order[0], &grid, tr, er, NULL, NULL)
    np.cumsum(offsets_arr, out=offsets_arr)
    total = offsets[n]
    ib_arr = np.empty(total, np.int64)
    vals_arr = np.empty(total, dtype)
    cdef int64_t[::1] ib = ib_arr
    cdef real[::1] vals = vals_arr
    if total == 0:
        return offsets_arr, ib_arr, vals_arr
    with nogil:
        if nt == 1:
            for i in range(n):
                if offsets[i + 1] > offsets[i]:
                    _sweep_row(&a[i, 0], &bt[0, 0], m, &area_b[0], &starts[0], &order[0],
                               &grid, tr, er, &ib[offsets[i]], &vals[offsets[i]])
        else:
            for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=SWEEP_CHUNK):
                if offsets[i + 1] > offsets[i]:
                    _sweep_row(&a[i, 0], &bt[0, 0], m, &area_b[0], &starts[0], &order[0],
                               &grid, tr, er, &ib[offsets[i]], &vals[offsets[i]])
    return offsets_arr, ib_arr, vals_arr
