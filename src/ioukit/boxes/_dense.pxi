# The dense kernels of ioukit.boxes (every box of a against every box of b), included by
# _kernels.pyx (built for the CPU baseline) and by _kernels_avx2.pyx (the same code built
# for AVX2; see there). IoU/IoA are the torchvision-convention primitives of
# ioukit.geometry._primitives, in the inputs' dtype; the other measures run in float64.

from cython.parallel import prange
from libc.math cimport NAN, atan2, exp, fabs, frexp, isinf, isnan, ldexp, pow
from libc.stdlib cimport free, malloc

import math

from ioukit.geometry._primitives cimport (
    box_area_tv,
    box_inter_tv,
    box_ioa_tv,
    box_iou_tv,
    real,
)

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #else
    static int omp_get_max_threads(void) { return 1; }
    #endif
    """
    int omp_get_max_threads() nogil

cdef enum:
    # Below this many output elements the thread pool's wake-up (milliseconds on a busy
    # machine) costs more than the work: such problems run on the calling thread.
    PARALLEL_MIN_ELEMENTS = 1 << 18


cdef inline int _threads(bint parallel) noexcept nogil:
    # OpenMP's current thread count for large problems, the calling thread alone otherwise
    return omp_get_max_threads() if parallel else 1


# Coordinates up to these magnitudes cannot overflow any intermediate of the
# measures (areas <= 4 L^2, sums of two areas or squared distances <= 16 L^2)
cdef double OVERLAP_LIMIT_F32 = 2.0 ** 60
cdef double OVERLAP_LIMIT_F64 = 2.0 ** 508


# ------------------------------------------------------------ dense IoU / IoA
cdef inline void _overlap_row(const real* a, const real* bt, Py_ssize_t stride,
                              const real* area_b, real* row, Py_ssize_t m, bint ioa,
                              real eps) noexcept nogil:
    # row[j], j < m: IoU (or IoA) of box a (x1, y1, x2, y2) with box j of b, given as
    # columns bt[j] (x1), bt[stride + j] (y1), bt[2 * stride + j] (x2),
    # bt[3 * stride + j] (y2) and its area area_b[j]: unit-stride loads, so the loop
    # vectorises
    cdef real ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3]
    cdef real area_a = box_area_tv(ax1, ay1, ax2, ay2)
    cdef const real* bx1 = bt
    cdef const real* by1 = bt + stride
    cdef const real* bx2 = bt + 2 * stride
    cdef const real* by2 = bt + 3 * stride
    cdef Py_ssize_t j
    if ioa:
        for j in range(m):
            row[j] = box_ioa_tv(ax1, ay1, ax2, ay2, area_a, bx1[j], by1[j], bx2[j], by2[j], eps)
    else:
        for j in range(m):
            row[j] = box_iou_tv(ax1, ay1, ax2, ay2, area_a, bx1[j], by1[j], bx2[j], by2[j],
                                area_b[j], eps)


cdef void _column_areas(const real* bt, Py_ssize_t stride, real* area_b,
                        Py_ssize_t m) noexcept nogil:
    # area_b[j] = the area of box j of the columns bt (layout of _overlap_row)
    cdef Py_ssize_t j
    for j in range(m):
        area_b[j] = box_area_tv(bt[j], bt[stride + j], bt[2 * stride + j], bt[3 * stride + j])


# ------------------------------------------------ boxes beyond the common path
# Finite boxes whose areas (or sums of areas) overflow would give 0 or NaN from the
# formulas above: [0, 0, 1e20, 1e20] in float32 has an infinite area. Such boxes, and
# boxes with a NaN coordinate, are found in one O(N + M) pass and only their pairs
# are recomputed afterwards, so the common loops (and their bits) are unchanged.
# The recomputation scales the pair by a power of two (exact), so it gives the bits
# the formula would give in an unbounded exponent range.

cdef inline bint _beyond(const real* c, double limit) noexcept nogil:
    # a coordinate NaN, infinite or above `limit` in magnitude (written so NaN is caught)
    return not (fabs(c[0]) <= limit and fabs(c[1]) <= limit and fabs(c[2]) <= limit
                and fabs(c[3]) <= limit)


cdef inline double _pair_scale(const double* c) noexcept nogil:
    # 2**-e with the largest |c[k]| of the 8 coordinates in [0.5, 1): a power of two, so
    # the scaled coordinates are exact (unless one falls below the smallest normal)
    cdef double big = 0.0
    cdef int k, e
    for k in range(8):
        if fabs(c[k]) > big:
            big = fabs(c[k])
    if big == 0.0:
        return 1.0
    frexp(big, &e)
    return ldexp(1.0, -e)


cdef inline int _nonfinite(const double* c) noexcept nogil:
    # 1: a NaN among the 8 coordinates, 2: an infinity, 0: all finite
    cdef int k, out = 0
    for k in range(8):
        if isnan(c[k]):
            return 1
        if isinf(c[k]):
            out = 2
    return out


cdef real _careful_overlap(const real* a, const real* bt, Py_ssize_t stride, Py_ssize_t j,
                           bint ioa, real eps) noexcept nogil:
    # IoU / IoA of box a with column j of bt (the layout of _overlap_row) for a pair
    # with a NaN (-> NaN, as torchvision), an infinity (the plain formula) or a huge
    # coordinate (the formula on the pair scaled by a power of two; eps scales as areas)
    cdef double c[8]
    cdef double sc
    cdef real x[8]
    cdef real e = eps
    cdef int k, kind
    c[0] = a[0]; c[1] = a[1]; c[2] = a[2]; c[3] = a[3]
    c[4] = bt[j]; c[5] = bt[stride + j]; c[6] = bt[2 * stride + j]; c[7] = bt[3 * stride + j]
    kind = _nonfinite(c)
    if kind == 1:
        return <real>NAN
    sc = 1.0 if kind == 2 else _pair_scale(c)
    for k in range(8):
        x[k] = <real>(c[k] * sc)
    if sc != 1.0:
        e = <real>(<double>eps * sc * sc)
    if ioa:
        return box_ioa_tv(x[0], x[1], x[2], x[3], box_area_tv(x[0], x[1], x[2], x[3]),
                          x[4], x[5], x[6], x[7], e)
    return box_iou_tv(x[0], x[1], x[2], x[3], box_area_tv(x[0], x[1], x[2], x[3]),
                      x[4], x[5], x[6], x[7], box_area_tv(x[4], x[5], x[6], x[7]), e)


cdef char* _beyond_flags(const real* a, const real* bt, Py_ssize_t nk, Py_ssize_t n,
                         Py_ssize_t m, double limit, Py_ssize_t* count) noexcept nogil:
    # flags[0 : nk * n] for a's rows, flags[nk * n :] for b's columns; count: how many
    # are set. NULL when the allocation fails (the caller raises MemoryError).
    cdef char* flags = <char*>malloc(nk * (n + m) + 1)
    cdef Py_ssize_t t, k, j
    cdef real col[4]
    if flags == NULL:
        return NULL
    count[0] = 0
    for t in range(nk * n):
        flags[t] = _beyond(a + 4 * t, limit)
        count[0] += flags[t]
    for k in range(nk):
        for j in range(m):
            col[0] = bt[k * 4 * m + j]
            col[1] = bt[k * 4 * m + m + j]
            col[2] = bt[k * 4 * m + 2 * m + j]
            col[3] = bt[k * 4 * m + 3 * m + j]
            flags[nk * n + k * m + j] = _beyond(col, limit)
            count[0] += flags[nk * n + k * m + j]
    return flags


def pairwise_overlap(const real[:, :, ::1] a, const real[:, :, ::1] bt, real[:, :, ::1] out,
                     bint ioa, double eps):
    """IoU (or IoA when ``ioa``) of every box pair, in the inputs' dtype, into ``out``.

    ``a`` [K, N, 4] xyxy; ``bt`` [K, 4, M], b's coordinates as columns (x1, y1, x2, y2
    rows); ``out`` [K, N, M], all C-contiguous and of one dtype (float32 or float64).
    ``eps`` is rounded to that dtype: a denominator ``<= eps`` gives 0.
    """
    cdef Py_ssize_t n = a.shape[1], m = bt.shape[2], rows = a.shape[0] * a.shape[1]
    cdef Py_ssize_t t, k, i, j, nbeyond = 0
    cdef real e = <real>eps
    cdef int nt = _threads(rows * m >= PARALLEL_MIN_ELEMENTS)
    cdef char* flags = NULL
    if a.shape[0] != bt.shape[0] or out.shape[0] != a.shape[0] or out.shape[1] != n \
            or out.shape[2] != m or a.shape[2] != 4 or bt.shape[1] != 4:
        raise ValueError("pairwise_overlap: shapes of a, bt and out do not match")
    # b's areas once per box, not once per pair (IoU; the same bits either way): ~10%
    # fewer operations in the inner loop
    cdef real* area_b = <real*>malloc((bt.shape[0] * m + 1) * sizeof(real))
    if area_b == NULL:
        raise MemoryError()
    try:
        with nogil:
            if not ioa:
                for k in range(bt.shape[0]):
                    _column_areas(&bt[k, 0, 0], m, area_b + k * m, m)
            if nt == 1:  # no parallel region: starting one costs a microsecond
                for t in range(rows):
                    k = t // n
                    i = t - k * n
                    _overlap_row(&a[k, i, 0], &bt[k, 0, 0], m, area_b + k * m, &out[k, i, 0],
                                 m, ioa, e)
            else:
                for t in prange(rows, num_threads=nt, schedule="static"):
                    k = t // n
                    i = t - k * n
                    _overlap_row(&a[k, i, 0], &bt[k, 0, 0], m, area_b + k * m, &out[k, i, 0],
                                 m, ioa, e)
        # pairs with a NaN, infinite or huge coordinate: recomputed by _careful_overlap
        with nogil:
            flags = _beyond_flags(&a[0, 0, 0], &bt[0, 0, 0], a.shape[0], n, m,
                                  OVERLAP_LIMIT_F32 if real is float else OVERLAP_LIMIT_F64,
                                  &nbeyond)
        if flags == NULL:
            raise MemoryError()
        if nbeyond:
            with nogil:
                for t in range(rows):
                    k = t // n
                    i = t - k * n
                    for j in range(m):
                        if flags[t] or flags[rows + k * m + j]:
                            out[k, i, j] = _careful_overlap(&a[k, i, 0], &bt[k, 0, 0], m, j,
                                                            ioa, e)
    finally:
        free(area_b)
        free(flags)


# -------------------------------------------------------- dense other measures
# measure codes of pairwise_measure (iou and ioa run in pairwise_overlap)
MODES = {
    "iou": 0,
    "ioa": 1,
    "giou": 2,
    "diou": 3,
    "ciou": 4,
    "eiou": 5,
    "siou": 6,
    "alpha_iou": 7,
    "mpdiou": 8,
}
# base measure codes of Alpha-IoU
ALPHA_BASES = {"iou": 0, "giou": 1, "diou": 2, "ciou": 3}

# CIoU's 4 / pi^2, computed as the Python expression (the same double as before)
cdef double FOUR_OVER_PI2 = 4.0 / math.pi**2


cdef inline double _sdiv(double num, double den, double eps) noexcept nogil:
    # _terms.safe_divide: exactly 0 when the denominator is at most eps
    return num / den if den > eps else 0.0


cdef inline double _spow(double x, double p) noexcept nogil:
    # _terms.safe_pow: x ** p for x > 0, else 0
    return pow(x, p) if x > 0.0 else 0.0


cdef inline double _angle(double w, double h, double eps) noexcept nogil:
    # atan(w / h) as atan2 (pi/2 for zero height, 0 for a point box)
    return atan2(w, h) if w * w + h * h > eps else 0.0


cdef inline double _dmax(double a, double b) noexcept nogil:
    # Python's max(a, b) on two floats
    return b if b > a else a


cdef inline double _dmin(double a, double b) noexcept nogil:
    # Python's min(a, b) on two floats
    return b if b < a else a


cdef inline double _measure_pair(int mode, int base, double ax1, double ay1, double ax2,
                                 double ay2, double bx1, double by1, double bx2, double by2,
                                 double eps, double p0, double p1) noexcept nogil:
    # one (a, b) pair of the measure `mode` (MODES), in float64; p0: SIoU's theta,
    # Alpha-IoU's alpha (base: ALPHA_BASES), MPDIoU's image width; p1: its height
    cdef double wa = ax2 - ax1, ha = ay2 - ay1, wb = bx2 - bx1, hb = by2 - by1
    cdef double area_a = wa * ha, area_b = wb * hb
    cdef double iou = box_iou_tv(ax1, ay1, ax2, ay2, area_a, bx1, by1, bx2, by2, area_b, eps)
    # union (GIoU's penalty), enclosing box, centre offset (b's minus a's)
    cdef double union = area_a + area_b - box_inter_tv(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
    cdef double cw = _dmax(ax2, bx2) - _dmin(ax1, bx1)
    cdef double ch = _dmax(ay2, by2) - _dmin(ay1, by1)
    cdef double dx = (bx1 + bx2) * 0.5 - (ax1 + ax2) * 0.5
    cdef double dy = (by1 + by2) * 0.5 - (ay1 + ay2) * 0.5
    cdef double rho2 = dx * dx + dy * dy
    cdef double c2 = cw * cw + ch * ch
    cdef double d, v, out, lam, gamma, dist, om_w, om_h, shape, d1, d2
    if mode == 2:  # GIoU, Rezatofighi et al. 2019 (arXiv:1902.09630)
        return iou - _sdiv(cw * ch - union, cw * ch, eps)
    if mode == 3:  # DIoU, Zheng et al. 2020 (arXiv:1911.08287)
        # the penalty is _primitives.diou_penalty's arithmetic (DIoU-NMS), bit for bit
        # (tests/test_nms_diou_matrix.py); written here on the shared rho2 / c2, as
        # calling the primitive made this loop ~4x slower (measured, GCC 12 -O3)
        return iou - _sdiv(rho2, c2, eps)
    if mode == 4:  # CIoU, Zheng et al. 2020 (arXiv:1911.08287)
        d = _angle(wb, hb, eps) - _angle(wa, ha, eps)
        v = FOUR_OVER_PI2 * d * d
        return iou - _sdiv(rho2, c2, eps) - _sdiv(v, (1.0 - iou) + v, eps) * v
    if mode == 5:  # EIoU, Zhang et al. 2021 (arXiv:2101.08158)
        return (iou - _sdiv(rho2, c2, eps) - _sdiv((wa - wb) * (wa - wb), cw * cw, eps)
                - _sdiv((ha - hb) * (ha - hb), ch * ch, eps))
    if mode == 6:  # SIoU, Gevorgyan 2022 (arXiv:2205.12740); p0 = theta
        lam = _sdiv(2.0 * fabs(dx) * fabs(dy), rho2, eps)
        gamma = 2.0 - lam
        dist = ((1.0 - exp(-gamma * _sdiv(dx * dx, cw * cw, eps)))
                + (1.0 - exp(-gamma * _sdiv(dy * dy, ch * ch, eps))))
        om_w = _sdiv(fabs(wa - wb), _dmax(wa, wb), eps)
        om_h = _sdiv(fabs(ha - hb), _dmax(ha, hb), eps)
        shape = _spow(1.0 - exp(-om_w), p0) + _spow(1.0 - exp(-om_h), p0)
        return iou - 0.5 * (dist + shape)
    if mode == 7:  # Alpha-IoU, He et al. 2021 (arXiv:2110.13675); p0 = alpha
        out = _spow(iou, p0)
        if base == 1:
            out -= _spow(_sdiv(cw * ch - union, cw * ch, eps), p0)
        elif base == 2:
            out -= _spow(_sdiv(rho2, c2, eps), p0)
        elif base == 3:
            d = _angle(wb, hb, eps) - _angle(wa, ha, eps)
            v = FOUR_OVER_PI2 * d * d
            out -= _spow(_sdiv(rho2, c2, eps), p0) + _spow(_sdiv(v, (1.0 - iou) + v, eps) * v, p0)
        return out
    if mode == 8:  # MPDIoU, Ma & Xu 2023 (arXiv:2307.07662); p0, p1 = image w, h
        d1 = (ax1 - bx1) * (ax1 - bx1) + (ay1 - by1) * (ay1 - by1)
        d2 = (ax2 - bx2) * (ax2 - bx2) + (ay2 - by2) * (ay2 - by2)
        return iou - _sdiv(d1 + d2, p0 * p0 + p1 * p1, eps)
    return iou


cdef inline void _measure_loop(int mode, int base, const double* a, const double* bt,
                               double* row, Py_ssize_t m, double eps, double p0,
                               double p1) noexcept nogil:
    # row[j] = the measure of box a with box j of bt (b's columns, as in _overlap_row)
    cdef double ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3]
    cdef Py_ssize_t j
    for j in range(m):
        row[j] = _measure_pair(mode, base, ax1, ay1, ax2, ay2, bt[j], bt[m + j], bt[2 * m + j],
                               bt[3 * m + j], eps, p0, p1)


cdef void _measure_row(int mode, int base, const double* a, const double* bt, double* row,
                       Py_ssize_t m, double eps, double p0, double p1) noexcept nogil:
    # One loop per measure, each with its mode a constant: the compiler drops the other
    # measures' branches from it, and the branch-free ones (GIoU, DIoU, EIoU, MPDIoU)
    # vectorise.
    if mode == 2:
        _measure_loop(2, 0, a, bt, row, m, eps, p0, p1)
    elif mode == 3:
        _measure_loop(3, 0, a, bt, row, m, eps, p0, p1)
    elif mode == 4:
        _measure_loop(4, 0, a, bt, row, m, eps, p0, p1)
    elif mode == 5:
        _measure_loop(5, 0, a, bt, row, m, eps, p0, p1)
    elif mode == 6:
        _measure_loop(6, 0, a, bt, row, m, eps, p0, p1)
    elif mode == 7:
        _measure_loop(7, base, a, bt, row, m, eps, p0, p1)
    elif mode == 8:
        _measure_loop(8, 0, a, bt, row, m, eps, p0, p1)


cdef double _careful_measure(int mode, int base, const double* a, const double* bt,
                             Py_ssize_t m, Py_ssize_t j, double eps, double p0,
                             double p1) noexcept nogil:
    # _measure_pair for a pair with a NaN (-> NaN), an infinity (as is) or a huge
    # coordinate (scaled by a power of two; eps and MPDIoU's image size scale with it)
    cdef double c[8]
    cdef double sc
    cdef int k, kind
    c[0] = a[0]; c[1] = a[1]; c[2] = a[2]; c[3] = a[3]
    c[4] = bt[j]; c[5] = bt[m + j]; c[6] = bt[2 * m + j]; c[7] = bt[3 * m + j]
    kind = _nonfinite(c)
    if kind == 1:
        return NAN
    sc = 1.0 if kind == 2 else _pair_scale(c)
    if sc != 1.0:
        for k in range(8):
            c[k] = c[k] * sc
        eps = eps * sc * sc
        if mode == 8:
            p0 = p0 * sc
            p1 = p1 * sc
    return _measure_pair(mode, base, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], eps,
                         p0, p1)


def pairwise_measure(const double[:, :, ::1] a, const double[:, :, ::1] bt,
                     double[:, :, ::1] out, int mode, double eps, double p0=0.0,
                     double p1=0.0, int base=0):
    """A measure of :data:`MODES` other than IoU and IoA for every box pair, in float64.

    Layout as in :func:`pairwise_overlap`. ``p0``: SIoU's theta, Alpha-IoU's alpha,
    MPDIoU's image width; ``p1``: MPDIoU's image height; ``base``: Alpha-IoU's base
    measure (a value of :data:`ALPHA_BASES`).
    """
    cdef Py_ssize_t n = a.shape[1], m = bt.shape[2], rows = a.shape[0] * a.shape[1]
    cdef Py_ssize_t t, k, i, j, nbeyond = 0
    cdef int nt = _threads(rows * m >= PARALLEL_MIN_ELEMENTS)
    cdef char* flags
    if a.shape[0] != bt.shape[0] or out.shape[0] != a.shape[0] or out.shape[1] != n \
            or out.shape[2] != m or a.shape[2] != 4 or bt.shape[1] != 4:
        raise ValueError("pairwise_measure: shapes of a, bt and out do not match")
    if not 2 <= mode <= 8 or not 0 <= base <= 3:
        raise ValueError(f"pairwise_measure: unknown mode {mode} or base {base}")
    with nogil:
        if nt == 1:  # no parallel region (as in pairwise_overlap)
            for t in range(rows):
                k = t // n
                i = t - k * n
                _measure_row(mode, base, &a[k, i, 0], &bt[k, 0, 0], &out[k, i, 0], m, eps, p0,
                             p1)
        else:
            for t in prange(rows, num_threads=nt, schedule="static"):
                k = t // n
                i = t - k * n
                _measure_row(mode, base, &a[k, i, 0], &bt[k, 0, 0], &out[k, i, 0], m, eps, p0,
                             p1)
    # pairs with a NaN, infinite or huge coordinate: recomputed by _careful_measure
    with nogil:
        flags = _beyond_flags(&a[0, 0, 0], &bt[0, 0, 0], a.shape[0], n, m, OVERLAP_LIMIT_F64,
                              &nbeyond)
    if flags == NULL:
        raise MemoryError()
    try:
        if nbeyond:
            with nogil:
                for t in range(rows):
                    k = t // n
                    i = t - k * n
                    for j in range(m):
                        if flags[t] or flags[rows + k * m + j]:
                            out[k, i, j] = _careful_measure(mode, base, &a[k, i, 0],
                                                            &bt[k, 0, 0], m, j, eps, p0, p1)
    finally:
        free(flags)
