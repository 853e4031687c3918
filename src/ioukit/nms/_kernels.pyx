"""Compiled kernels behind ``ioukit.nms`` (NumPy arrays and CPU tensors).

Every pairwise overlap comes from ``ioukit/geometry/_primitives.pxd`` (the one box
arithmetic of the compiled kernels), evaluated inside the suppression loop: no N x M
matrix may be materialised at 100k boxes, and the arithmetic has to follow the
reference being matched operation by operation so that exact-threshold ties agree:

* hard NMS and DIoU-NMS: torchvision's ``nms_kernel_impl`` (``box_iou_tv_nms``: areas
  and IoU in the boxes' dtype, no eps, compared with a double threshold), DIoU's
  distance penalty from Zheng et al. 2020 (``diou_penalty``, float64);
* Soft-NMS: ensemble-boxes' ``cpu_soft_nms_float`` (IoU in float64, C library ``exp``);
* Matrix-NMS: SOLOv2's decay (Wang et al. 2020), without its N x N matrices;
* WBF: ensemble-boxes' ``weighted_boxes_fusion`` (v1.0.9), step for step.

The overlaps are unguarded: 0 / 0 between two degenerate boxes gives NaN, which never
suppresses, exactly as the C++ and NumPy references do. The build compiles without
fast-math or FMA contraction, so each operation rounds as written.

Speed without changing a bit: pairs that cannot matter are not evaluated (a strip index
finds the boxes a kept box may overlap; a disjoint pair's IoU is exactly 0 / union; Matrix-NMS
visits only the pairs of one class), and hot loops test disjointness with one well-predicted
branch, because GCC compiles the primitives' ``max(0, w)`` clamps as branches, which
mispredict when overlapping and disjoint pairs alternate.
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY, exp, fabs, isfinite, isnan, pow
from libc.stdint cimport int64_t

from ioukit.geometry._primitives cimport box_area_tv, box_iou_tv_nms, diou_penalty, real

import numpy as np

from ioukit._threads import get_num_threads

# Scores are float32 or float64 independently of the boxes.
ctypedef fused score_t:
    float
    double

# Hard-NMS pairwise measures (``greedy_nms``'s ``mode``).
cpdef enum:
    MODE_IOU = 0
    MODE_DIOU = 1

# WBF conf_type codes (ensemble-boxes' names, in its order).
cpdef enum:
    CONF_AVG = 0
    CONF_MAX = 1
    CONF_BOX_AND_MODEL_AVG = 2
    CONF_ABSENT_MODEL_AWARE_AVG = 3

# Matrix-NMS below this many boxes runs on one thread (thread start-up would dominate).
cdef Py_ssize_t _MATRIX_SERIAL_BELOW = 256


# ---------------------------------------------------------------- validation
cdef inline int _row_problem(const real[:, ::1] boxes, const score_t[::1] scores,
                             Py_ssize_t i, bint allow_inverted) noexcept nogil:
    # The first_bad_row code of row i (0: valid).
    cdef Py_ssize_t k
    for k in range(4):
        if not isfinite(boxes[i, k]):
            return 1
    if not allow_inverted and (boxes[i, 2] < boxes[i, 0] or boxes[i, 3] < boxes[i, 1]):
        return 2
    if isnan(scores[i]):
        return 3
    return 0


def first_bad_row(const real[:, ::1] boxes, const score_t[::1] scores, bint allow_inverted):
    """(row, code) of the first invalid row, (-1, 0) if none.

    code 1: non-finite coordinate, 2: x2 < x1 or y2 < y1, 3: NaN score.
    """
    cdef Py_ssize_t i
    cdef int code
    with nogil:
        for i in range(boxes.shape[0]):
            code = _row_problem(boxes, scores, i, allow_inverted)
            if code:
                with gil:
                    return i, code
    return -1, 0


cdef inline bint _sum_exact(real a, real b) noexcept nogil:
    # Knuth's TwoSum: the rounding error of a + b, exactly; True when it is 0 (and finite).
    cdef real s = a + b
    cdef real bb = s - a
    cdef real err = (a - (s - bb)) + (b - bb)
    return err == 0 and isfinite(s)


def offsets_exact(const real[:, ::1] boxes, const real[::1] offs):
    """True when boxes + offs[:, None] is exact in boxes' dtype for every element.

    Zero rounding error everywhere (Knuth's TwoSum) means the shifted boxes give the
    same IoU arithmetic as the original ones.
    """
    cdef Py_ssize_t i, k
    cdef bint exact = True
    with nogil:
        for i in range(boxes.shape[0]):
            for k in range(4):
                if not _sum_exact(boxes[i, k], offs[i]):
                    exact = False
                    break
            if not exact:
                break
    return exact


# ------------------------------------------------------------ hard (greedy) NMS
cdef struct Measure:
    double thr    # suppress when the measure is > thr (torchvision compares as double)
    int mode      # MODE_IOU or MODE_DIOU
    double beta   # DIoU: exponent of the distance penalty
    double eps    # DIoU: no penalty when the enclosing box's squared diagonal is <= eps


cdef inline bint _suppresses(real ix1, real iy1, real ix2, real iy2, real iarea,
                             real jx1, real jy1, real jx2, real jy2, real jarea,
                             Measure m) noexcept nogil:
    # torchvision nms_kernel_impl's ovr in the boxes' dtype, compared as a double; DIoU
    # subtracts Zheng et al.'s penalty (float64) from it.
    cdef real ovr = box_iou_tv_nms(ix1, iy1, ix2, iy2, iarea, jx1, jy1, jx2, jy2, jarea)
    cdef double pen
    if m.mode == MODE_IOU:
        return ovr > m.thr
    pen = diou_penalty(ix1, iy1, ix2, iy2, jx1, jy1, jx2, jy2, m.eps)
    if m.beta != 1.0:
        pen = pow(pen, m.beta)
    return <double>ovr - pen > m.thr


def diou_penalties(const double[:, ::1] a, const double[:, ::1] b, double eps):
    """The distance penalty DIoU-NMS subtracts, for the aligned pairs ``(a[i], b[i])``.

    ``diou_penalty`` of ``ioukit.geometry._primitives`` (rho^2 / c^2 in float64, 0 where
    c^2 <= eps) on (N, 4) xyxy float64 boxes; float64 (N,). The penalty alone, for
    tests and for callers that compare it with ``ioukit.boxes.diou``'s.

    >>> import numpy as np
    >>> diou_penalties(np.array([[0., 0., 2., 2.]]), np.array([[2., 0., 4., 2.]]), 1e-12)
    array([0.2])
    """
    cdef Py_ssize_t i, n = a.shape[0]
    if b.shape[0] != n or a.shape[1] != 4 or b.shape[1] != 4:
        raise ValueError("diou_penalties: a and b must both be (N, 4)")
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for i in range(n):
            o[i] = diou_penalty(a[i, 0], a[i, 1], a[i, 2], a[i, 3],
                                b[i, 0], b[i, 1], b[i, 2], b[i, 3], eps)
    return out


def _strip_sizes(b):
    """(hs, ws, xorder) of the strip index: twice the median height and width, x1 order.

    The sizes only shape the index (never which boxes are kept); one partition of the
    (2, N) heights and widths gives np.median's values at a third of its cost.
    """
    n = b.shape[0]
    d = np.empty((2, n))
    np.subtract(b[:, 3], b[:, 1], out=d[0], dtype=np.float64)
    np.subtract(b[:, 2], b[:, 0], out=d[1], dtype=np.float64)
    k = n // 2
    if n % 2:
        d.partition(k, axis=1)
        med = d[:, k]
    else:
        d.partition((k - 1, k), axis=1)
        med = (d[:, k - 1] + d[:, k]) / 2
    return 2.0 * float(med[0]), 2.0 * float(med[1]), np.argsort(b[:, 0])


def greedy_nms(boxes, order, labels, double thr, int mode=MODE_IOU, double beta=1.0,
               double eps=0.0):
    """Greedy NMS with torchvision's arithmetic; kept indices in score order.

    boxes: (N, 4) C-contiguous float32/float64 (the IoU runs in that dtype); order:
    (N,) int64 indices by decreasing score; labels: None, or (N,) int64 dense class
    ids 0..C-1 (boxes of different labels never suppress each other); thr: suppress
    when the measure is > thr; mode MODE_IOU (IoU) or MODE_DIOU (IoU minus
    (rho^2 / c^2) ** beta, the penalty 0 where c^2 <= eps).

    thr >= 0 uses the sparse candidate search of ``_greedy_sparse`` (a pair can only
    suppress when the boxes overlap); thr < 0 visits every later box, as torchvision.
    """
    cdef Measure m = Measure(thr, mode, beta, eps)
    if boxes.shape[0] == 0:
        return np.empty(0, np.int64)
    use_labels = labels is not None
    lab = labels if use_labels else np.zeros(1, np.int64)
    if boxes.dtype == np.float32:
        if thr < 0:
            return _greedy_dense[float](boxes, order, lab, use_labels, m)
        hs, ws, xorder = _strip_sizes(boxes)
        return _greedy_sparse[float](boxes, order, xorder, lab, use_labels, m, hs, ws)
    if boxes.dtype == np.float64:
        if thr < 0:
            return _greedy_dense[double](boxes, order, lab, use_labels, m)
        hs, ws, xorder = _strip_sizes(boxes)
        return _greedy_sparse[double](boxes, order, xorder, lab, use_labels, m, hs, ws)
    raise TypeError(f"greedy_nms: boxes must be float32 or float64, got {boxes.dtype}")


cdef object _greedy_dense(const real[:, ::1] boxes, const int64_t[::1] order,
                          const int64_t[::1] lab, bint use_labels, Measure m):
    # Greedy NMS visiting every later box (torchvision's loop); used for thr < 0.
    cdef Py_ssize_t n = boxes.shape[0]
    cdef Py_ssize_t r, q, nk = 0
    cdef int64_t i, j
    cdef real[::1] areas = np.empty(n, np.float32 if real is float else np.float64)
    cdef unsigned char[::1] supp = np.zeros(n, np.uint8)
    keep_arr = np.empty(n, np.int64)
    cdef int64_t[::1] keep = keep_arr
    with nogil:
        for r in range(n):
            areas[r] = box_area_tv(boxes[r, 0], boxes[r, 1], boxes[r, 2], boxes[r, 3])
        for r in range(n):
            i = order[r]
            if supp[i]:
                continue
            keep[nk] = i
            nk += 1
            for q in range(r + 1, n):
                j = order[q]
                if supp[j] or (use_labels and lab[j] != lab[i]):
                    continue
                if _suppresses(boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3], areas[i],
                               boxes[j, 0], boxes[j, 1], boxes[j, 2], boxes[j, 3], areas[j], m):
                    supp[j] = 1
    return keep_arr[:nk]


# ----------------------------------------------------------- strip candidate index
cdef struct Strips:
    int64_t nstrip  # strips per label
    int64_t nlab    # labels (1 without labels)
    double hs       # strip height
    double ymin     # top of strip 0
    double ws       # largest width of a "normal" box (its height must also be <= hs)
    double wn       # widest normal box, padded
    double wb       # widest big box, padded
    double hpad     # hs, padded


cdef Strips _strip_plan(const real[:, ::1] boxes, const int64_t[::1] lab, bint use_labels,
                        double hs, double ws) noexcept nogil:
    # Strip height and count. At most ~4N (label, strip) segments, so the segment table
    # stays O(N + C).
    cdef Strips st
    cdef Py_ssize_t i, n = boxes.shape[0]
    cdef double ymin = boxes[0, 1]
    cdef double ymax = boxes[0, 3]
    cdef int64_t nlab = 1
    for i in range(n):
        ymin = min(ymin, <double>boxes[i, 1])
        ymax = max(ymax, <double>boxes[i, 3])
        if use_labels:
            nlab = max(nlab, lab[i] + 1)
    cdef double ext = ymax - ymin
    hs = max(hs, ext * nlab / max(4.0 * n, 1024.0))
    if not hs > 0:
        hs = 1.0
    st.nstrip = <int64_t>(ext / hs) + 2
    st.nlab = nlab
    st.hs = hs
    st.ymin = ymin
    st.ws = ws
    st.wn = st.wb = st.hpad = 0.0  # set by _strip_fill
    return st


cdef inline int64_t _strip_key(const real[:, ::1] boxes, Py_ssize_t i, const int64_t[::1] lab,
                               bint use_labels, const Strips *st) noexcept nogil:
    # Segment of box i: normal boxes by (label, strip of y1); big boxes after all of them,
    # by label.
    cdef int64_t lb = lab[i] if use_labels else 0
    cdef double bw = <double>boxes[i, 2] - <double>boxes[i, 0]
    cdef double bh = <double>boxes[i, 3] - <double>boxes[i, 1]
    if bh > st.hs or bw > st.ws:
        return st.nlab * st.nstrip + lb
    return lb * st.nstrip + <int64_t>((<double>boxes[i, 1] - st.ymin) / st.hs)


cdef void _strip_fill(const real[:, ::1] boxes, const int64_t[::1] xorder,
                      const int64_t[::1] lab, bint use_labels, Strips *st,
                      int64_t[::1] segstart, int64_t[::1] xo, int64_t[::1] key) noexcept nogil:
    # Stable counting sort of the x1 order by segment: xo in (segment, x1) order, segment k
    # is xo[segstart[k]:segstart[k + 1]]. Also the padded widest widths. key: scratch (N,).
    cdef Py_ssize_t i, t, n = boxes.shape[0]
    cdef Py_ssize_t nkey = segstart.shape[0] - 1
    cdef int64_t k, nbig = st.nlab * st.nstrip
    cdef double bw, wn = 0.0, wb = 0.0
    for i in range(n):
        k = _strip_key(boxes, i, lab, use_labels, st)
        key[i] = k
        segstart[k + 1] += 1
        bw = <double>boxes[i, 2] - <double>boxes[i, 0]
        if k >= nbig:
            wb = max(wb, bw)
        else:
            wn = max(wn, bw)
    for k in range(nkey):
        segstart[k + 1] += segstart[k]
    # segstart[k] serves as segment k's fill cursor; afterwards it holds the start of
    # segment k + 1, so the table is shifted back by one.
    for t in range(n):
        i = xorder[t]
        k = key[i]
        xo[segstart[k]] = i
        segstart[k] += 1
    for k in range(nkey, 0, -1):
        segstart[k] = segstart[k - 1]
    segstart[0] = 0
    # Pad widths by a relative 1e-9 so float64 rounding of x2 - x1 cannot drop a candidate.
    st.wn = wn * (1.0 + 1e-9) + 1e-300
    st.wb = wb * (1.0 + 1e-9) + 1e-300
    st.hpad = st.hs * (1.0 + 1e-9) + 1e-300


cdef inline int64_t _lower_bound(const real[::1] a, int64_t lo, int64_t hi,
                                 double v) noexcept nogil:
    # First p in [lo, hi) with a[p] >= v (a sorted ascending on that range).
    cdef int64_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline int64_t _query(int64_t[:, ::1] ranges, const real[::1] sx1,
                           const int64_t[::1] segstart, const Strips *st, int64_t lb,
                           real x1, real y1, real y2) noexcept nogil:
    # Fill ranges[k] = (first, end) of the index slices that may overlap the box; returns
    # their count. A box overlapping (x1, y1, x2, y2) in label lb starts in a strip that
    # can reach [y1 - hs, y2) and has its x1 in [x1 - max width, x2); the caller scans
    # each slice while sx1 < x2.
    cdef int64_t c = 0, s, k, e
    cdef double fx1 = x1
    cdef int64_t s_lo = <int64_t>(max(<double>y1 - st.hpad - st.ymin, 0.0) / st.hs)
    cdef int64_t s_hi = min(<int64_t>(max(<double>y2 - st.ymin, 0.0) / st.hs), st.nstrip - 1)
    for s in range(s_lo, s_hi + 1):
        k = lb * st.nstrip + s
        e = segstart[k + 1]
        ranges[c, 0] = _lower_bound(sx1, segstart[k], e, fx1 - st.wn - fabs(fx1) * 1e-15)
        ranges[c, 1] = e
        c += 1
    k = st.nlab * st.nstrip + lb
    e = segstart[k + 1]
    ranges[c, 0] = _lower_bound(sx1, segstart[k], e, fx1 - st.wb - fabs(fx1) * 1e-15)
    ranges[c, 1] = e
    return c + 1


cdef object _greedy_sparse(const real[:, ::1] boxes, const int64_t[::1] order,
                           const int64_t[::1] xorder, const int64_t[::1] lab, bint use_labels,
                           Measure m, double hs, double ws):
    # Greedy NMS with a sparse candidate search (thr >= 0), same decisions as the dense loop.
    #
    # A pair can only suppress when the two boxes overlap with positive area, so a kept box
    # needs only the boxes it overlaps. "Normal" boxes (width <= ws and height <= hs, twice
    # the median sizes) are bucketed into horizontal strips of height hs (by y1) and sorted
    # by (label, strip, x1): a query visits the few strips that can reach it and, in each,
    # the x1 range [x1 - max_w, x2). The remaining "big" boxes are sorted by (label, x1) and
    # scanned over [x1 - their max_w, x2). Memory is O(N); the visit order never matters
    # because each (kept, later) pair is decided by the same predicate as torchvision's loop.
    cdef Py_ssize_t n = boxes.shape[0]
    cdef Strips st = _strip_plan(boxes, lab, use_labels, hs, ws)
    cdef int64_t[::1] segstart = np.zeros(st.nlab * st.nstrip + st.nlab + 1, np.int64)
    # Scratch in two allocations (each costs more than the work at 1k boxes).
    cdef int64_t[:, ::1] ints = np.empty((4, n), np.int64)
    cdef int64_t[::1] xo = ints[0]     # index slot -> box
    cdef int64_t[::1] pos = ints[1]    # box -> index slot
    cdef int64_t[::1] srank = ints[2]  # index slot -> score rank
    cdef int64_t[::1] key = ints[3]    # box -> segment
    # Candidate data in index order, so the window scans read memory sequentially.
    cdef real[:, ::1] cand = np.empty((5, n), np.float32 if real is float else np.float64)
    cdef real[::1] sx1 = cand[0]
    cdef real[::1] sy1 = cand[1]
    cdef real[::1] sx2 = cand[2]
    cdef real[::1] sy2 = cand[3]
    cdef real[::1] sarea = cand[4]
    cdef int64_t[:, ::1] ranges = np.empty((st.nstrip + 1, 2), np.int64)
    cdef unsigned char[::1] supp = np.zeros(n, np.uint8)  # by index slot
    keep_arr = np.empty(n, np.int64)
    cdef int64_t[::1] keep = keep_arr
    cdef Py_ssize_t p, r, k, nr, nk = 0
    cdef int64_t i, q, end, lb
    cdef real ix1, iy1, ix2, iy2, iarea
    # The scan below reads through plain local pointers: GCC keeps them in registers,
    # whereas memoryview data pointers are reloaded after every byte store to supp.
    cdef const real *cx1 = &sx1[0]
    cdef const real *cy1 = &sy1[0]
    cdef const real *cx2 = &sx2[0]
    cdef const real *cy2 = &sy2[0]
    cdef const real *carea = &sarea[0]
    cdef const int64_t *crank = &srank[0]
    cdef unsigned char *csupp = &supp[0]
    with nogil:
        _strip_fill(boxes, xorder, lab, use_labels, &st, segstart, xo, key)
        for p in range(n):
            i = xo[p]
            sx1[p] = boxes[i, 0]
            sy1[p] = boxes[i, 1]
            sx2[p] = boxes[i, 2]
            sy2[p] = boxes[i, 3]
            sarea[p] = box_area_tv(sx1[p], sy1[p], sx2[p], sy2[p])
            pos[i] = p
        for r in range(n):
            srank[pos[order[r]]] = r
        for r in range(n):
            i = order[r]
            p = pos[i]
            if supp[p]:
                continue
            keep[nk] = i
            nk += 1
            ix1 = sx1[p]
            iy1 = sy1[p]
            ix2 = sx2[p]
            iy2 = sy2[p]
            iarea = sarea[p]
            lb = lab[i] if use_labels else 0
            nr = _query(ranges, sx1, segstart, &st, lb, ix1, iy1, iy2)
            for k in range(nr):
                q = ranges[k, 0]
                end = ranges[k, 1]
                while q < end and cx1[q] < ix2:
                    # A later, live box that overlaps with positive area: the others have
                    # IoU 0 (or NaN), which never exceeds thr >= 0, even less so minus
                    # DIoU's penalty >= 0. One branch (bitwise &); past it the IoU's clamps
                    # (compiled as branches) always go the same way.
                    if ((crank[q] > r) & (not csupp[q]) & (cy1[q] < iy2) & (cy2[q] > iy1)
                            & (cx2[q] > ix1)):
                        if _suppresses(ix1, iy1, ix2, iy2, iarea, cx1[q], cy1[q], cx2[q],
                                       cy2[q], carea[q], m):
                            csupp[q] = 1
                    q += 1
    return keep_arr[:nk]


# ------------------------------------------------------------ disjoint-first IoU
cdef inline double _zero_over(double u) noexcept nogil:
    # 0 / u, without the division in the usual case u > 0 (the quotient is then +0).
    return 0.0 if u > 0 else 0.0 / u


cdef inline bint _crossing(real ax1, real ay1, real ax2, real ay2,
                           real bx1, real by1, real bx2, real by2) noexcept nogil:
    # Separating-axis test: ax1 < bx2, bx1 < ax2, ay1 < by2 and by1 < ay2, as one comparison
    # of the smallest gap (for finite floats a - b > 0 exactly when a > b), so the caller has
    # one branch, and a predictable one when most pairs are disjoint.
    return min(min(bx2 - ax1, ax2 - bx1), min(by2 - ay1, ay2 - by1)) > 0


cdef inline double _iou_disjoint_first(double ax1, double ay1, double ax2, double ay2,
                                       double area_a, double bx1, double by1, double bx2,
                                       double by2, double area_b) noexcept nogil:
    # box_iou_tv_nms for loops where most pairs are disjoint (finite boxes). A pair that
    # fails _crossing has intersection exactly +0 there, so its IoU is
    # 0 / (area_a + area_b); testing that first spares the primitive's clamps, which GCC
    # compiles as branches that mispredict on such pairs.
    if _crossing(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2):
        return box_iou_tv_nms(ax1, ay1, ax2, ay2, area_a, bx1, by1, bx2, by2, area_b)
    return _zero_over(area_a + area_b)


# ------------------------------------------------------------------- Soft-NMS
cdef inline double _soft_decay(double ox1, double oy1, double ox2, double oy2, double oarea,
                               double jx1, double jy1, double jx2, double jy2, double jarea,
                               double nt, double sigma, int method) noexcept nogil:
    # The reference's IoU (it takes the y extent first; IEEE products commute, so inter is
    # bit-identical), then the weight. Returns 1.0 when nothing changes.
    cdef double ovr = box_iou_tv_nms(ox1, oy1, ox2, oy2, oarea, jx1, jy1, jx2, jy2, jarea)
    if method == 1:
        # Bodla et al. 2017, linear rescoring, with ensemble-boxes' strict ">".
        return 1.0 - ovr if ovr > nt else 1.0
    # Bodla et al. 2017, gaussian rescoring: exp(-iou^2 / sigma), no threshold. The C
    # library's exp: NumPy's SIMD exp (the reference's) can be 1 ulp off it, so the tests
    # run the reference with this exp (docs/nms.md).
    return exp(-(ovr * ovr) / sigma)


cdef inline void _block_max(const score_t[::1] scores, double[::1] bv, int64_t[::1] bi,
                            int64_t blk, int64_t bsize, int64_t first,
                            int64_t n) noexcept nogil:
    # Leftmost maximum of scores[p] over p >= first in block blk, NaNs ignored (the caller
    # skips the argmax while any NaN is pending, as the reference does).
    cdef int64_t p, best = -1
    cdef double v, bestv = -INFINITY
    for p in range(max(blk * bsize, first), min((blk + 1) * bsize, n)):
        v = scores[p]
        if not isnan(v) and (best == -1 or v > bestv):
            best = p
            bestv = v
    bv[blk] = bestv
    bi[blk] = best


cdef inline int _decay_at(score_t[::1] scores, int64_t pj, double wgt, double[::1] bv,
                          int64_t[::1] bi, int64_t bsize, int64_t i, int64_t n) noexcept nogil:
    # scores[pj] *= wgt as the reference does it (product in float64, stored in the
    # scores' dtype); keeps the block maxima current; returns 1 if it just became NaN.
    cdef bint was_nan = isnan(scores[pj])
    cdef int64_t blk = pj // bsize
    cdef double v
    scores[pj] = wgt * scores[pj]
    v = scores[pj]
    if bi[blk] == pj:
        _block_max(scores, bv, bi, blk, bsize, i + 1, n)
    elif not isnan(v) and (bi[blk] == -1 or v > bv[blk] or (v == bv[blk] and pj < bi[blk])):
        # A negative score grows toward 0 when decayed: it may become the maximum.
        bv[blk] = v
        bi[blk] = pj
    return 1 if (isnan(v) and not was_nan) else 0


def soft_nms(boxes, scores, double nt, double sigma, double thresh, int method):
    """Soft-NMS exactly as ensemble-boxes' ``cpu_soft_nms_float``.

    boxes: (N, 4) C-contiguous float64 (ensemble-boxes concatenates an index column,
    which makes its IoU float64 whatever the input); scores: (N,) float32/float64,
    decayed in place in that dtype. method 1: linear, 2: gaussian. Returns the original
    indices of the boxes whose final score is > thresh, in processing order, and those
    scores.

    The reference visits every (processed, later) pair. A pair whose boxes do not
    overlap has IoU exactly 0 and weight exactly 1 (exp(-0) or the linear branch not
    taken), and multiplying by 1.0 changes no bit, so only overlapping pairs are
    visited here, found through the strip index of hard NMS. A zero-area box still
    visits everything (0 / 0 is NaN in the reference). The per-step argmax runs over
    block maxima (see ``_soft_nms``).
    """
    if boxes.shape[0] == 0:
        return np.empty(0, np.int64), scores.copy()
    hs, ws, xorder = _strip_sizes(boxes)
    if scores.dtype == np.float32:
        return _soft_nms[float](boxes, scores, nt, sigma, thresh, method, xorder, hs, ws)
    if scores.dtype == np.float64:
        return _soft_nms[double](boxes, scores, nt, sigma, thresh, method, xorder, hs, ws)
    raise TypeError(f"soft_nms: scores must be float32 or float64, got {scores.dtype}")


cdef object _soft_nms(const double[:, ::1] boxes, score_t[::1] scores, double nt, double sigma,
                      double thresh, int method, const int64_t[::1] xorder, double hs,
                      double ws):
    # Block maxima (blocks of 64 positions, leftmost wins ties) replace the reference's
    # O(N) argmax per step by O(N / 64) over blocks; a block is re-scanned only when its own
    # maximum changes.
    cdef Py_ssize_t n = boxes.shape[0]
    cdef const int64_t[::1] lab0 = np.zeros(1, np.int64)
    cdef Strips st = _strip_plan(boxes, lab0, False, hs, ws)
    cdef int64_t[::1] segstart = np.zeros(st.nlab * st.nstrip + st.nlab + 1, np.int64)
    cdef int64_t[::1] xo = np.empty(n, np.int64)
    cdef int64_t[::1] key = np.empty(n, np.int64)
    cdef double[::1] areas = np.empty(n)
    cdef double[::1] sx1 = np.empty(n)
    cdef double[::1] sy1 = np.empty(n)
    cdef double[::1] sx2 = np.empty(n)
    cdef double[::1] sy2 = np.empty(n)
    cdef double[::1] sarea = np.empty(n)
    cdef int64_t[:, ::1] ranges = np.empty((st.nstrip + 1, 2), np.int64)
    cdef int64_t[::1] perm = np.arange(n, dtype=np.int64)  # position -> original index
    cdef int64_t[::1] oq = np.empty(n, np.int64)      # original index -> index slot
    cdef int64_t[::1] qwhere = np.empty(n, np.int64)  # index slot -> position
    cdef int64_t bsize = 64
    cdef int64_t nb = (n + bsize - 1) // bsize
    cdef double[::1] bv = np.empty(nb)
    cdef int64_t[::1] bi = np.empty(nb, np.int64)
    cdef int64_t i, j, o, q, pj, mp, blk, a, end, nr, k, cnt = 0, n_nan = 0
    cdef double ms, wgt, ox1, oy1, ox2, oy2, oarea
    cdef score_t tmp
    with nogil:
        _strip_fill(boxes, xorder, lab0, False, &st, segstart, xo, key)
        for q in range(n):
            o = xo[q]
            areas[o] = box_area_tv(boxes[o, 0], boxes[o, 1], boxes[o, 2], boxes[o, 3])
            sx1[q] = boxes[o, 0]
            sy1[q] = boxes[o, 1]
            sx2[q] = boxes[o, 2]
            sy2[q] = boxes[o, 3]
            sarea[q] = areas[o]
            oq[o] = q
            qwhere[q] = o  # position p starts as original index p
        for blk in range(nb):
            _block_max(scores, bv, bi, blk, bsize, 0, n)
        for i in range(n):
            if bi[i // bsize] == i:
                _block_max(scores, bv, bi, i // bsize, bsize, i + 1, n)
            if isnan(scores[i]):
                n_nan -= 1  # NaN scores at positions > i (a 0/0 IoU leaves them)
            # Reference: maxpos = np.argmax(scores[i+1:]) (first maximum), swapped in only
            # when strictly larger, so an equal score already in place stays first. A NaN
            # makes np.max NaN, and "x < NaN" never swaps.
            if i != n - 1 and n_nan == 0:
                mp = -1
                ms = -INFINITY
                for blk in range((i + 1) // bsize, nb):
                    if bi[blk] != -1 and (mp == -1 or bv[blk] > ms):
                        mp = bi[blk]
                        ms = bv[blk]
                if scores[i] < scores[mp]:
                    tmp = scores[i]
                    scores[i] = scores[mp]
                    scores[mp] = tmp
                    a = perm[i]
                    perm[i] = perm[mp]
                    perm[mp] = a
                    qwhere[oq[perm[i]]] = i
                    qwhere[oq[perm[mp]]] = mp
                    _block_max(scores, bv, bi, mp // bsize, bsize, i + 1, n)
            o = perm[i]
            ox1 = boxes[o, 0]
            oy1 = boxes[o, 1]
            ox2 = boxes[o, 2]
            oy2 = boxes[o, 3]
            oarea = areas[o]
            if oarea == 0.0:
                for pj in range(i + 1, n):
                    j = perm[pj]
                    wgt = _soft_decay(ox1, oy1, ox2, oy2, oarea, boxes[j, 0], boxes[j, 1],
                                      boxes[j, 2], boxes[j, 3], areas[j], nt, sigma, method)
                    n_nan += _decay_at(scores, pj, wgt, bv, bi, bsize, i, n)
                continue
            nr = _query(ranges, sx1, segstart, &st, 0, ox1, oy1, oy2)
            for k in range(nr):
                q = ranges[k, 0]
                end = ranges[k, 1]
                while q < end and sx1[q] < ox2:
                    pj = qwhere[q]
                    # No overlap in y or x: IoU exactly 0 and weight exactly 1 (skip). One
                    # branch (bitwise &), as in _greedy_sparse.
                    if (pj > i) & (sy1[q] < oy2) & (sy2[q] > oy1) & (sx2[q] > ox1):
                        wgt = _soft_decay(ox1, oy1, ox2, oy2, oarea, sx1[q], sy1[q], sx2[q],
                                          sy2[q], sarea[q], nt, sigma, method)
                        if wgt != 1.0:
                            n_nan += _decay_at(scores, pj, wgt, bv, bi, bsize, i, n)
                    q += 1
        for i in range(n):
            if scores[i] > thresh:
                cnt += 1
    keep_arr = np.empty(cnt, np.int64)
    out_arr = np.empty(cnt, np.float32 if score_t is float else np.float64)
    cdef int64_t[::1] keep = keep_arr
    cdef score_t[::1] out = out_arr
    cnt = 0
    for i in range(n):
        if scores[i] > thresh:
            keep[cnt] = perm[i]
            out[cnt] = scores[i]
            cnt += 1
    return keep_arr, out_arr


# ----------------------------------------------------------------- Matrix-NMS
cdef inline bint _rows_cross(const double[:, ::1] b, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    # Rows i and j overlap with positive area (see _crossing).
    return _crossing(b[i, 0], b[i, 1], b[i, 2], b[i, 3], b[j, 0], b[j, 1], b[j, 2], b[j, 3])


cdef inline double _row_iou(const double[:, ::1] b, const double[::1] areas, Py_ssize_t i,
                            Py_ssize_t j) noexcept nogil:
    # IoU of rows i and j in float64 (torchvision's arithmetic, unguarded).
    return box_iou_tv_nms(b[i, 0], b[i, 1], b[i, 2], b[i, 3], areas[i],
                          b[j, 0], b[j, 1], b[j, 2], b[j, 3], areas[j])


cdef inline double _kernel_of(double x, int kernel, double sigma) noexcept nogil:
    # SOLOv2 (Wang et al. 2020) Matrix-NMS kernel f: gaussian exp(-sigma x^2), linear 1 - x.
    if kernel == 0:
        return exp(-sigma * (x * x))
    return 1.0 - x


cdef inline double _compensation(const double[:, ::1] b, const double[::1] areas,
                                 Py_ssize_t first, Py_ssize_t j) noexcept nogil:
    # comp_j: the largest IoU of j with a higher-scored box of its class, rows first..j-1
    # (0 if none). A disjoint pair's IoU is +0 or NaN, which never raises it: skipped.
    cdef Py_ssize_t i
    cdef double iou, c = 0.0
    for i in range(first, j):
        if _rows_cross(b, i, j):
            iou = _row_iou(b, areas, i, j)
            if iou > c:
                c = iou
    return c


cdef inline double _decay_of(const double[:, ::1] b, const double[::1] areas,
                             const double[::1] den, const double[::1] disjoint,
                             Py_ssize_t first, Py_ssize_t j, int kernel,
                             double sigma) noexcept nogil:
    # decay_j: min(1, min over rows i = first..j-1 of f(iou_ij) / f(comp_i)), with
    # den[i] = f(comp_i) (the linear one floored at eps). A disjoint pair's IoU is
    # 0 / union: +-0, whose factor is disjoint[i] = f(0) / den[i], or NaN (a zero union),
    # which never lowers the minimum.
    cdef Py_ssize_t i
    cdef double v, d = 1.0
    for i in range(first, j):
        if _rows_cross(b, i, j):
            v = _kernel_of(_row_iou(b, areas, i, j), kernel, sigma) / den[i]
        elif _zero_over(areas[i] + areas[j]) == 0:
            v = disjoint[i]
        else:
            continue
        if v < d:
            d = v
    return d


def matrix_nms_boxes(boxes, labels, int kernel, double sigma, double eps):
    """Matrix-NMS decay factors for boxes already sorted by decreasing score.

    boxes (N, 4) float64; labels None (one class) or (N,) int64; kernel 0: gaussian,
    1: linear. Returns decay (N,) float64,
    ``min(1, min_{i<j, same class} f(iou_ij) / f(comp_i))`` (SOLOv2, Wang et al. 2020),
    each factor computed as the reference does. Rows are grouped by label (a stable sort
    keeps the score order inside a group), so a box visits only the higher-scored boxes
    of its class; each row is independent and the rows are split across OpenMP threads.
    O(N) memory instead of the reference's N x N matrices.
    """
    n = boxes.shape[0]
    if labels is None:
        rows = np.arange(n)
        first = np.zeros(n, np.int64)
    else:
        rows = np.argsort(labels, kind="stable")
        lab = labels[rows]
        starts = np.flatnonzero(lab[1:] != lab[:n - 1]) + 1
        # first[p]: the group start of position p (positions are in label, score order)
        first = np.zeros(n, np.int64)
        first[starts] = np.diff(starts, prepend=0)
        first = np.cumsum(first)
    grouped = np.ascontiguousarray(boxes[rows])
    decay = np.empty(n)
    decay[rows] = _matrix_decay(grouped, first, kernel, sigma, eps)
    return decay


cdef object _matrix_decay(const double[:, ::1] b, const int64_t[::1] first, int kernel,
                          double sigma, double eps):
    # The decay of every row of b; rows first[p]..p-1 are the higher-scored boxes of p's
    # class.
    cdef Py_ssize_t i, j, n = b.shape[0]
    cdef int nt = 1 if n < _MATRIX_SERIAL_BELOW else get_num_threads()
    cdef double[:, ::1] work = np.empty((4, n))
    cdef double[::1] areas = work[0]
    cdef double[::1] comp = work[1]
    cdef double[::1] den = work[2]       # f(comp_i), the divisor of every pair (i, j)
    cdef double[::1] disjoint = work[3]  # f(0) / f(comp_i): a disjoint pair's factor
    decay_arr = np.empty(n)
    cdef double[::1] decay = decay_arr
    with nogil:
        for j in range(n):
            areas[j] = box_area_tv(b[j, 0], b[j, 1], b[j, 2], b[j, 3])
        # Row j costs O(j - first[j]): guided scheduling balances the triangles.
        for j in prange(n, num_threads=nt, schedule="guided"):
            comp[j] = _compensation(b, areas, first[j], j)
        for i in range(n):
            if kernel == 0:
                den[i] = exp(-sigma * (comp[i] * comp[i]))
            else:
                den[i] = max(1.0 - comp[i], eps)
            disjoint[i] = _kernel_of(0.0, kernel, sigma) / den[i]
        for j in prange(n, num_threads=nt, schedule="guided"):
            decay[j] = _decay_of(b, areas, den, disjoint, first[j], j, kernel, sigma)
    return decay_arr


# ------------------------------------------------------- weighted boxes fusion
cdef inline Py_ssize_t _best_cluster(const double[:, ::1] wb, const double[::1] wb_a,
                                     Py_ssize_t nc, double bx1, double by1, double bx2,
                                     double by2, double *bestv) noexcept nogil:
    # ensemble-boxes' find_matching_box_fast: np.argmax over the IoUs with the clusters
    # (first maximum; a NaN wins at once, as in NumPy). -1 when there is no cluster.
    cdef Py_ssize_t c, best = -1
    cdef double iou, barea = box_area_tv(bx1, by1, bx2, by2)
    bestv[0] = -INFINITY
    for c in range(nc):
        iou = _iou_disjoint_first(wb[c, 0], wb[c, 1], wb[c, 2], wb[c, 3], wb_a[c],
                                  bx1, by1, bx2, by2, barea)
        if isnan(iou):
            bestv[0] = iou
            return c
        if best == -1 or iou > bestv[0]:
            best = c
            bestv[0] = iou
    return best


cdef inline double _fused_score(double s, int64_t k, double w, const unsigned char[::1] present,
                                const double[::1] weights, double wsum, double wmax, int conf,
                                bint overflow) noexcept nogil:
    # ensemble-boxes' confidence rescaling of a cluster of k boxes (score s, weight w).
    cdef Py_ssize_t t, nmodels = weights.shape[0]
    cdef double uw = 0.0, aw = 0.0
    if conf == CONF_BOX_AND_MODEL_AVG:
        s = s * k / w
        for t in range(nmodels):
            if present[t]:
                uw += weights[t]
        return s * uw / wsum
    if conf == CONF_ABSENT_MODEL_AWARE_AVG:
        for t in range(nmodels):
            if not present[t]:
                aw += weights[t]
        return s * k / (w + aw)
    if conf == CONF_MAX:
        return s / wmax
    if not overflow:
        return s * min(nmodels, k) / wsum
    return s * k / wsum


def wbf(const double[:, ::1] coords, const double[::1] score, const double[::1] wcol,
        const int64_t[::1] model, const int64_t[::1] offsets, const double[::1] weights,
        double wsum, double wmax, double iou_thr, int conf, bint overflow):
    """Weighted boxes fusion, ensemble-boxes' ``weighted_boxes_fusion`` step for step.

    Inputs are the prefiltered boxes grouped by label (group g is rows
    offsets[g]:offsets[g+1]) and within a group in ensemble-boxes' processing order.
    coords (M, 4) float64, score/wcol (M,) float64 (score already times the model
    weight), model (M,) int64 model index into weights (one per model, float64); wsum
    and wmax: the sum and max of the weights as the caller computed them. Returns per
    fused box: group, coords (float64 holding the reference's float32 values), rescaled
    score.
    """
    cdef Py_ssize_t m = coords.shape[0]
    cdef Py_ssize_t ng = offsets.shape[0] - 1
    cdef Py_ssize_t nmodels = weights.shape[0]
    cdef Py_ssize_t g, r, c, k, nc, s0, s1, no = 0
    cdef Py_ssize_t cap = 0  # the largest group
    for g in range(ng):
        cap = max(cap, offsets[g + 1] - offsets[g])
    out_g_arr = np.empty(m, np.int64)
    out_b_arr = np.empty((m, 4), np.float64)
    out_s_arr = np.empty(m, np.float64)
    cdef int64_t[::1] out_g = out_g_arr
    cdef double[:, ::1] out_b = out_b_arr
    cdef double[::1] out_s = out_s_arr
    # Per-cluster state of one group, reused across groups (reset for each).
    cdef double[:, ::1] wb = np.empty((cap, 4))  # cluster box as the reference stores it
    cdef double[::1] wb_a = np.empty(cap)  # its box_area_tv, kept current with wb
    cdef double[::1] wb_s = np.empty(cap)
    cdef double[::1] wb_w = np.empty(cap)
    cdef float[:, ::1] acc = np.empty((cap, 4), np.float32)  # get_weighted_box's 'box[4:]'
    cdef double[::1] conf_acc = np.empty(cap)
    cdef double[::1] w_acc = np.empty(cap)
    cdef double[::1] cmax = np.empty(cap)
    cdef int64_t[::1] cnt = np.empty(cap, np.int64)
    cdef unsigned char[:, ::1] present = np.empty((cap, max(nmodels, 1)), np.uint8)
    cdef double bestv
    with nogil:
        for g in range(ng):
            s0 = offsets[g]
            s1 = offsets[g + 1]
            acc[:s1 - s0, :] = 0
            conf_acc[:s1 - s0] = 0
            w_acc[:s1 - s0] = 0
            cmax[:s1 - s0] = 0
            cnt[:s1 - s0] = 0
            present[:s1 - s0, :] = 0
            nc = 0
            for r in range(s0, s1):
                # A box joins the best cluster when that IoU is > iou_thr (NaN joins).
                c = _best_cluster(wb, wb_a, nc, coords[r, 0], coords[r, 1], coords[r, 2],
                                  coords[r, 3], &bestv)
                if c == -1 or bestv <= iou_thr:
                    c = nc
                    nc += 1
                    for k in range(4):
                        wb[c, k] = coords[r, k]
                    wb_a[c] = box_area_tv(wb[c, 0], wb[c, 1], wb[c, 2], wb[c, 3])
                    wb_s[c] = score[r]
                    wb_w[c] = wcol[r]
                # Running state of get_weighted_box (it re-sums from scratch each time, in
                # the same order, so a running sum gives the same bits).
                for k in range(4):
                    acc[c, k] = <float>(<double>acc[c, k] + score[r] * coords[r, k])
                conf_acc[c] += score[r]
                w_acc[c] += wcol[r]
                if cnt[c] == 0 or score[r] > cmax[c]:
                    cmax[c] = score[r]
                cnt[c] += 1
                present[c, model[r]] = 1
                if cnt[c] > 1:
                    for k in range(4):
                        wb[c, k] = <double><float>(<double>acc[c, k] / conf_acc[c])
                    wb_a[c] = box_area_tv(wb[c, 0], wb[c, 1], wb[c, 2], wb[c, 3])
                    if conf == CONF_MAX:
                        wb_s[c] = <double><float>cmax[c]
                    else:
                        wb_s[c] = <double><float>(conf_acc[c] / cnt[c])
                    wb_w[c] = <double><float>w_acc[c]
            for c in range(nc):
                out_g[no] = g
                for k in range(4):
                    out_b[no, k] = wb[c, k]
                out_s[no] = _fused_score(wb_s[c], cnt[c], wb_w[c], present[c], weights, wsum,
                                         wmax, conf, overflow)
                no += 1
    return out_g_arr[:no], out_b_arr[:no], out_s_arr[:no]
