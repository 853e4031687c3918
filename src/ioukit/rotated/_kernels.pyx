"""Compiled kernels behind ``ioukit.rotated``, ``ioukit.nms.rotated_nms`` and ``ioukit.dota``.

Every overlap comes from ``ioukit/geometry/_convex.pxd`` (Sutherland-Hodgman clipping in
double, whatever the input dtype). Boxes are rows ``(cx, cy, w, h, angle)`` with the angle
in radians (the Python layer converts degrees); polygons are rows ``(x1, y1, ..., xk, yk)``.
Pairwise kernels split rows over threads (``prange``) when the work is large enough; the
value of a pair does not depend on the thread count.
"""

from cython.parallel cimport prange
from libc.math cimport cos, fabs, sin
from libc.stdint cimport int64_t

from libc.stdlib cimport free, malloc

from ioukit.geometry._convex cimport (
    CONVEX_MAX_INPUT,
    RBox,
    rbox_giou_prepared,
    rbox_inter_prepared,
    rbox_iou_crowd_prepared,
    rbox_iou_prepared,
    rbox_prepare,
    convex_hull_area,
    convex_intersection_area,
    polygon_intersection_area,
    polygon_signed_area,
    rbox_giou,
    rbox_intersection_area,
    rbox_iou,
    rbox_iou_crowd,
)

import numpy as np

from ioukit._threads import get_num_threads

ctypedef fused real:
    float
    double

ctypedef fused score_t:
    float
    double

# Pairwise measures (``mode``).
cpdef enum:
    MODE_IOU = 0
    MODE_GIOU = 1
    MODE_INTER = 2

# Below this many pairs a kernel runs on the calling thread.
PARALLEL_MIN_PAIRS = 1 << 14


cdef inline double _measure(int mode, const RBox* a, const RBox* b, double eps) noexcept nogil:
    if mode == MODE_IOU:
        return rbox_iou_prepared(a, b, eps)
    if mode == MODE_GIOU:
        return rbox_giou_prepared(a, b, eps)
    return rbox_inter_prepared(a, b)


cdef RBox* _prepare(const real[:, ::1] boxes) except NULL:
    # One RBox per row (corner offsets, area, half diagonal): no trigonometry per pair.
    cdef Py_ssize_t n = boxes.shape[0]
    cdef Py_ssize_t i
    cdef RBox* out = <RBox*>malloc((n if n > 0 else 1) * sizeof(RBox))
    if out == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            rbox_prepare(boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3], boxes[i, 4],
                         &out[i])
    return out


def _threads(Py_ssize_t work):
    return get_num_threads() if work >= PARALLEL_MIN_PAIRS else 1


# ------------------------------------------------------------------------ dense
def pairwise(const real[:, ::1] a, const real[:, ::1] b, real[:, ::1] out, int mode,
             double eps):
    """out[i, j] = measure(a[i], b[j]) for (N, 5) and (M, 5) boxes."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t m = b.shape[0]
    cdef Py_ssize_t i, j
    cdef int nt = _threads(n * m)
    cdef RBox* pa = _prepare(a)
    cdef RBox* pb
    try:
        pb = _prepare(b)
    except MemoryError:
        free(pa)
        raise
    with nogil:
        for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=4):
            for j in range(m):
                out[i, j] = <real>_measure(mode, &pa[i], &pb[j], eps)
    free(pa)
    free(pb)


def aligned(const real[:, ::1] a, const real[:, ::1] b, real[::1] out, int mode, double eps):
    """out[i] = measure(a[i], b[i])."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t i
    cdef int nt = _threads(n)
    with nogil:
        for i in prange(n, num_threads=nt, schedule="static"):
            out[i] = <real>_measure_one(mode, a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4],
                                        b[i, 0], b[i, 1], b[i, 2], b[i, 3], b[i, 4], eps)


cdef inline double _measure_one(int mode, double acx, double acy, double aw, double ah,
                                double at, double bcx, double bcy, double bw, double bh,
                                double bt, double eps) noexcept nogil:
    # The boxes live on this call's stack: a struct filled through a pointer inside a
    # prange body would be shared by the threads (Cython privatises assigned names only).
    cdef RBox ra, rb
    rbox_prepare(acx, acy, aw, ah, at, &ra)
    rbox_prepare(bcx, bcy, bw, bh, bt, &rb)
    return _measure(mode, &ra, &rb, eps)


# ----------------------------------------------------------------------- sparse
cdef inline void _hbb(double cx, double cy, double w, double h, double t,
                      double* x0, double* y0, double* x1, double* y1) noexcept nogil:
    # Axis-aligned hull of a rotated box: half extents |w/2 cos| + |h/2 sin| etc.
    cdef double c = fabs(cos(t))
    cdef double s = fabs(sin(t))
    cdef double ex = 0.5 * (w * c + h * s)
    cdef double ey = 0.5 * (w * s + h * c)
    x0[0] = cx - ex
    x1[0] = cx + ex
    y0[0] = cy - ey
    y1[0] = cy + ey


def hulls(const real[:, ::1] boxes):
    """(N, 4) float64 axis-aligned hulls (x0, y0, x1, y1), widened by a relative 1e-12
    so that rounding never drops an overlapping pair."""
    cdef Py_ssize_t n = boxes.shape[0]
    cdef Py_ssize_t i
    cdef double x0, y0, x1, y1, pad
    out_np = np.empty((n, 4), np.float64)
    cdef double[:, ::1] out = out_np
    with nogil:
        for i in range(n):
            _hbb(boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3], boxes[i, 4],
                 &x0, &y0, &x1, &y1)
            pad = 1e-12 * (fabs(x0) + fabs(x1) + fabs(y0) + fabs(y1) + 1.0)
            out[i, 0] = x0 - pad
            out[i, 1] = y0 - pad
            out[i, 2] = x1 + pad
            out[i, 3] = y1 + pad
    return out_np


def pairs_count(const real[:, ::1] a, const real[:, ::1] b, const double[:, ::1] ha,
                const double[:, ::1] hb, const int64_t[::1] order, const double[::1] xs,
                double max_w, double thr, double eps, int64_t[::1] counts):
    """counts[i] = number of j with IoU(a[i], b[j]) >= thr (b sorted by hull x0: order, xs)."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t i
    cdef int nt = _threads(n * 64)
    with nogil:
        for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=16):
            counts[i] = _row_pairs(a, b, ha, hb, order, xs, max_w, thr, eps, i, NULL, NULL)


def pairs_fill(const real[:, ::1] a, const real[:, ::1] b, const double[:, ::1] ha,
               const double[:, ::1] hb, const int64_t[::1] order, const double[::1] xs,
               double max_w, double thr, double eps, const int64_t[::1] offsets,
               int64_t[::1] index_b, double[::1] values):
    """Write row i's pairs at offsets[i] (same visiting order as pairs_count)."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t i
    cdef int nt = _threads(n * 64)
    with nogil:
        for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=16):
            _row_pairs(a, b, ha, hb, order, xs, max_w, thr, eps, i,
                       &index_b[offsets[i]], &values[offsets[i]])


cdef Py_ssize_t _lower_bound(const double[::1] xs, double v) noexcept nogil:
    cdef Py_ssize_t lo = 0
    cdef Py_ssize_t hi = xs.shape[0]
    cdef Py_ssize_t mid
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef Py_ssize_t _row_pairs(const real[:, ::1] a, const real[:, ::1] b,
                           const double[:, ::1] ha, const double[:, ::1] hb,
                           const int64_t[::1] order, const double[::1] xs, double max_w,
                           double thr, double eps, Py_ssize_t i, int64_t* ib,
                           double* vals) noexcept nogil:
    # Candidates: b's hull x0 in [a.x0 - max hull width of b, a.x1]; then y overlap,
    # then the area-ratio bound IoU <= min(area) / max(area), then the exact IoU.
    cdef Py_ssize_t k, j, cnt = 0
    cdef Py_ssize_t start = _lower_bound(xs, ha[i, 0] - max_w)
    cdef double area_a = <double>a[i, 2] * <double>a[i, 3]
    cdef double area_b, v, lo, hi
    for k in range(start, xs.shape[0]):
        if xs[k] > ha[i, 2]:
            break
        j = order[k]
        if hb[j, 2] < ha[i, 0] or hb[j, 1] > ha[i, 3] or hb[j, 3] < ha[i, 1]:
            continue
        area_b = <double>b[j, 2] * <double>b[j, 3]
        lo = area_a if area_a < area_b else area_b
        hi = area_a if area_a > area_b else area_b
        if lo < thr * hi * (1.0 - 1e-12):
            continue
        v = rbox_iou(a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4],
                     b[j, 0], b[j, 1], b[j, 2], b[j, 3], b[j, 4], eps)
        if v >= thr:
            if ib != NULL:
                ib[cnt] = j
                vals[cnt] = v
            cnt += 1
    return cnt


# -------------------------------------------------------------------------- NMS
def greedy_rotated_nms(const real[:, ::1] boxes, const int64_t[::1] order,
                       const int64_t[::1] labels, bint use_labels, double thr, double eps):
    """Kept indices (in ``order``'s order) of hard greedy NMS: a kept box removes every
    later box (of its label, when ``use_labels``) whose rotated IoU is > thr."""
    cdef Py_ssize_t n = order.shape[0]
    cdef Py_ssize_t a, c, i, j, nkeep = 0
    hull_np = hulls(boxes)
    cdef double[:, ::1] h = hull_np
    supp_np = np.zeros(n, np.uint8)
    cdef unsigned char[::1] supp = supp_np
    keep_np = np.empty(n, np.int64)
    cdef int64_t[::1] keep = keep_np
    cdef double v
    cdef RBox* pb = _prepare(boxes)
    with nogil:
        for a in range(n):
            if supp[a]:
                continue
            i = order[a]
            keep[nkeep] = i
            nkeep += 1
            for c in range(a + 1, n):
                if supp[c]:
                    continue
                j = order[c]
                if use_labels and labels[i] != labels[j]:
                    continue
                if h[j, 0] > h[i, 2] or h[j, 2] < h[i, 0] or h[j, 1] > h[i, 3] \
                        or h[j, 3] < h[i, 1]:
                    continue
                v = rbox_iou_prepared(&pb[i], &pb[j], eps)
                if v > thr:
                    supp[c] = 1
    free(pb)
    return keep_np[:nkeep].copy()


# --------------------------------------------------------------------- polygons
def polygon_pairwise_iou(const double[:, ::1] p, const double[:, ::1] q, double[:, ::1] out,
                         double eps):
    """IoU of polygons (rows x1, y1, ..., xk, yk; any simple polygons, either orientation)."""
    cdef Py_ssize_t n = p.shape[0]
    cdef Py_ssize_t m = q.shape[0]
    cdef int kp = <int>(p.shape[1] // 2)
    cdef int kq = <int>(q.shape[1] // 2)
    cdef Py_ssize_t i, j
    cdef int nt = _threads(n * m * 4)
    if kp > CONVEX_MAX_INPUT or kq > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} vertices per polygon")
    with nogil:
        for i in prange(n, num_threads=nt, schedule="dynamic", chunksize=4):
            for j in range(m):
                out[i, j] = _poly_iou(&p[i, 0], kp, &q[j, 0], kq, eps)


cdef double _poly_iou(const double* p, int kp, const double* q, int kq,
                      double eps) noexcept nogil:
    cdef double px[CONVEX_MAX_INPUT]
    cdef double py[CONVEX_MAX_INPUT]
    cdef double qx[CONVEX_MAX_INPUT]
    cdef double qy[CONVEX_MAX_INPUT]
    cdef double ap, aq, inter, union, v, ox, oy
    cdef int k
    ox = p[0]  # clip about p's first vertex: small numbers, less cancellation
    oy = p[1]
    for k in range(kp):
        px[k] = p[2 * k] - ox
        py[k] = p[2 * k + 1] - oy
    for k in range(kq):
        qx[k] = q[2 * k] - ox
        qy[k] = q[2 * k + 1] - oy
    ap = fabs(polygon_signed_area(px, py, kp))
    aq = fabs(polygon_signed_area(qx, qy, kq))
    inter = polygon_intersection_area(px, py, kp, qx, qy, kq)
    if inter > ap:
        inter = ap
    if inter > aq:
        inter = aq
    union = ap + aq - inter
    if not (union > eps):
        return 0.0
    v = inter / union
    return v if v < 1.0 else 1.0


def polygon_areas(const double[:, ::1] p):
    """|shoelace area| of each polygon row."""
    cdef Py_ssize_t n = p.shape[0]
    cdef int kp = <int>(p.shape[1] // 2)
    cdef Py_ssize_t i
    cdef int k
    cdef double px[CONVEX_MAX_INPUT]
    cdef double py[CONVEX_MAX_INPUT]
    out_np = np.empty(n, np.float64)
    cdef double[::1] out = out_np
    if kp > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} vertices per polygon")
    with nogil:
        for i in range(n):
            for k in range(kp):
                px[k] = p[i, 2 * k]
                py[k] = p[i, 2 * k + 1]
            out[i] = fabs(polygon_signed_area(px, py, kp))
    return out_np


# --------------------------------------------------- direct access for the tests
def convex_area(const double[:, ::1] p, const double[:, ::1] q):
    """``convex_intersection_area`` of two (K, 2) point arrays (Q convex)."""
    cdef double px[CONVEX_MAX_INPUT]
    cdef double py[CONVEX_MAX_INPUT]
    cdef double qx[CONVEX_MAX_INPUT]
    cdef double qy[CONVEX_MAX_INPUT]
    cdef int n = <int>p.shape[0]
    cdef int m = <int>q.shape[0]
    cdef int k
    if n > CONVEX_MAX_INPUT or m > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} vertices per polygon")
    for k in range(n):
        px[k] = p[k, 0]
        py[k] = p[k, 1]
    for k in range(m):
        qx[k] = q[k, 0]
        qy[k] = q[k, 1]
    return convex_intersection_area(px, py, n, qx, qy, m)


def simple_area(const double[:, ::1] p, const double[:, ::1] q):
    """``polygon_intersection_area`` of two (K, 2) point arrays (any simple polygons)."""
    cdef double px[CONVEX_MAX_INPUT]
    cdef double py[CONVEX_MAX_INPUT]
    cdef double qx[CONVEX_MAX_INPUT]
    cdef double qy[CONVEX_MAX_INPUT]
    cdef int n = <int>p.shape[0]
    cdef int m = <int>q.shape[0]
    cdef int k
    if n > CONVEX_MAX_INPUT or m > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} vertices per polygon")
    for k in range(n):
        px[k] = p[k, 0]
        py[k] = p[k, 1]
    for k in range(m):
        qx[k] = q[k, 0]
        qy[k] = q[k, 1]
    return polygon_intersection_area(px, py, n, qx, qy, m)


def hull_area(const double[:, ::1] p):
    """``convex_hull_area`` of a (K, 2) point array."""
    cdef double px[CONVEX_MAX_INPUT]
    cdef double py[CONVEX_MAX_INPUT]
    cdef int n = <int>p.shape[0]
    cdef int k
    if n > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} points")
    for k in range(n):
        px[k] = p[k, 0]
        py[k] = p[k, 1]
    return convex_hull_area(px, py, n)


# ---------------------------------------------------------- evaluation groups
def grouped_polygon_iou(const double[:, ::1] dt, const double[:, ::1] gt,
                        const int64_t[::1] dt_index, const int64_t[::1] dt_offsets,
                        const int64_t[::1] gt_index, const int64_t[::1] gt_offsets,
                        const int64_t[::1] iou_offsets, double[::1] out, double eps):
    """Polygon IoU of every group's (detection, GT) pairs, in ioukit.matching's layout:
    group g's D_g x G_g block, row-major, at out[iou_offsets[g]:]."""
    cdef Py_ssize_t ng = dt_offsets.shape[0] - 1
    cdef Py_ssize_t g, i, j, di, gj, base, ncols
    cdef int kd = <int>(dt.shape[1] // 2)
    cdef int kg = <int>(gt.shape[1] // 2)
    cdef int nt = _threads(out.shape[0] * 4)
    if kd > CONVEX_MAX_INPUT or kg > CONVEX_MAX_INPUT:
        raise ValueError(f"at most {CONVEX_MAX_INPUT} vertices per polygon")
    with nogil:
        for g in prange(ng, num_threads=nt, schedule="dynamic", chunksize=8):
            base = iou_offsets[g]
            ncols = gt_offsets[g + 1] - gt_offsets[g]
            for i in range(dt_offsets[g], dt_offsets[g + 1]):
                di = dt_index[i]
                for j in range(gt_offsets[g], gt_offsets[g + 1]):
                    gj = gt_index[j]
                    out[base + (i - dt_offsets[g]) * ncols + (j - gt_offsets[g])] = _poly_iou(
                        &dt[di, 0], kd, &gt[gj, 0], kg, eps)


def grouped_rbox_iou(const double[:, ::1] dt, const double[:, ::1] gt,
                     const int64_t[::1] dt_index, const int64_t[::1] dt_offsets,
                     const int64_t[::1] gt_index, const int64_t[::1] gt_offsets,
                     const int64_t[::1] iou_offsets, const unsigned char[::1] gt_iscrowd,
                     double[::1] out):
    """Rotated IoU of every group's (detection, GT) pairs (radians), COCO's crowd rule for
    crowd GT (intersection over the detection's area), in ioukit.matching's layout."""
    cdef Py_ssize_t ng = dt_offsets.shape[0] - 1
    cdef Py_ssize_t g, i, j, di, gj, base, ncols
    cdef int nt = _threads(out.shape[0])
    with nogil:
        for g in prange(ng, num_threads=nt, schedule="dynamic", chunksize=8):
            base = iou_offsets[g]
            ncols = gt_offsets[g + 1] - gt_offsets[g]
            for i in range(dt_offsets[g], dt_offsets[g + 1]):
                di = dt_index[i]
                for j in range(gt_offsets[g], gt_offsets[g + 1]):
                    gj = gt_index[j]
                    out[base + (i - dt_offsets[g]) * ncols + (j - gt_offsets[g])] = \
                        rbox_iou_crowd(dt[di, 0], dt[di, 1], dt[di, 2], dt[di, 3], dt[di, 4],
                                       gt[gj, 0], gt[gj, 1], gt[gj, 2], gt[gj, 3], gt[gj, 4],
                                       gt_iscrowd[gj] != 0, 0.0)
