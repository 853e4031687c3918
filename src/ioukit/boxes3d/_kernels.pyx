"""Compiled kernels of ``ioukit.boxes3d``: exact IoU of oriented 3-D boxes.

Every box arrives as 15 float64 numbers (``ioukit.boxes3d._formats.to_frames``): the
center (3), three unit axes (3 x 3, one per row) and three half sizes (3).

General oriented boxes (:func:`oriented_iou`): the intersection of two boxes is a convex
polytope whose boundary is (faces of A inside B) + (faces of B inside A). Each face
rectangle is clipped (Sutherland-Hodgman) against the other box's six half-spaces and
the volume follows from the divergence theorem, V = 1/3 sum_f (n_f . (p_f - o)) area_f
(the algorithm of pytorch3d's ``box3d_overlap``, pytorch3d/csrc/iou_box3d: clip the
faces of each box by the other's planes, then sum face contributions). Coplanar faces
(within ``tol`` of each other) are decided once per pair of planes: same direction, the
face of B is dropped and A's face is not clipped by that plane (the shared patch counts
once); opposite direction, the boxes only touch there and the volume is 0.

Yaw-only boxes (:func:`yaw_iou`): BEV rotated-rectangle intersection (the convex
clipping of ``ioukit.geometry._convex``) times the overlap of the z ranges.
"""

from cython.parallel cimport prange
from libc.math cimport fabs, sqrt, cos, sin

from ioukit.geometry._convex cimport convex_hull_area, rbox_corners, rbox_intersection_area

from ioukit._threads import PARALLEL_MIN_ITEMS

__all__ = ["oriented_iou", "oriented_intersection", "yaw_measure", "YAW_MODES"]

DEF MAXV = 16


# ------------------------------------------------------------------ small vector helpers
cdef inline double _dot(const double* a, const double* b) noexcept nogil:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


cdef inline double _plane_dist(const double* box, int k, double s, const double* p) noexcept nogil:
    # signed distance of p to the face plane (axis k, side s) of box; <= 0 inside
    cdef const double* u = box + 3 + 3 * k
    return s * (u[0] * (p[0] - box[0]) + u[1] * (p[1] - box[1]) + u[2] * (p[2] - box[2])) \
        - box[12 + k]


cdef inline void _face(const double* box, int k, double s, double* poly) noexcept nogil:
    # the 4 corners of face (k, s), in cyclic order
    cdef int i = (k + 1) % 3, j = (k + 2) % 3, c, v
    cdef const double* uk = box + 3 + 3 * k
    cdef const double* ui = box + 3 + 3 * i
    cdef const double* uj = box + 3 + 3 * j
    cdef double hk = box[12 + k] * s, hi = box[12 + i], hj = box[12 + j]
    cdef double si[4]
    cdef double sj[4]
    si[0] = -1; si[1] = 1; si[2] = 1; si[3] = -1
    sj[0] = -1; sj[1] = -1; sj[2] = 1; sj[3] = 1
    for v in range(4):
        for c in range(3):
            poly[3 * v + c] = box[c] + hk * uk[c] + si[v] * hi * ui[c] + sj[v] * hj * uj[c]


cdef inline int _clip(double* poly, int n, const double* box, int k, double s,
                      double* tmp) noexcept nogil:
    # Sutherland-Hodgman: keep the part of poly (n vertices) with plane distance <= 0
    cdef int m = 0, i, c
    cdef double d0, d1, t
    cdef double* p0
    cdef double* p1
    if n == 0:
        return 0
    p0 = poly + 3 * (n - 1)
    d0 = _plane_dist(box, k, s, p0)
    for i in range(n):
        p1 = poly + 3 * i
        d1 = _plane_dist(box, k, s, p1)
        if (d0 <= 0) != (d1 <= 0):
            t = d0 / (d0 - d1)
            for c in range(3):
                tmp[3 * m + c] = p0[c] + t * (p1[c] - p0[c])
            m += 1
        if d1 <= 0:
            for c in range(3):
                tmp[3 * m + c] = p1[c]
            m += 1
        p0 = p1
        d0 = d1
    for i in range(3 * m):
        poly[i] = tmp[i]
    return m


cdef inline double _poly_term(const double* poly, int n, const double* normal,
                              const double* origin) noexcept nogil:
    # (n . (p0 - o)) * area of the planar convex polygon (area = |n . sum of fan crosses| / 2)
    cdef double ax = 0, ay = 0, az = 0, e1x, e1y, e1z, e2x, e2y, e2z, d
    cdef int i
    if n < 3:
        return 0
    for i in range(1, n - 1):
        e1x = poly[3 * i] - poly[0]
        e1y = poly[3 * i + 1] - poly[1]
        e1z = poly[3 * i + 2] - poly[2]
        e2x = poly[3 * i + 3] - poly[0]
        e2y = poly[3 * i + 4] - poly[1]
        e2z = poly[3 * i + 5] - poly[2]
        ax += e1y * e2z - e1z * e2y
        ay += e1z * e2x - e1x * e2z
        az += e1x * e2y - e1y * e2x
    d = normal[0] * (poly[0] - origin[0]) + normal[1] * (poly[1] - origin[1]) \
        + normal[2] * (poly[2] - origin[2])
    return d * 0.5 * fabs(normal[0] * ax + normal[1] * ay + normal[2] * az)


cdef inline int _on_plane(const double* poly, const double* box, int k, double s,
                          double tol) noexcept nogil:
    cdef int v
    for v in range(4):
        if fabs(_plane_dist(box, k, s, poly + 3 * v)) > tol:
            return 0
    return 1


cdef double _inter_volume(const double* A, const double* B, double tol) noexcept nogil:
    """Volume of A n B (both 15-number frames)."""
    cdef double poly[3 * MAXV]
    cdef double tmp[3 * MAXV]
    cdef double normal[3]
    cdef double fa[3 * 4]
    cdef double fb[3 * 4]
    # coplanar[fa][fb]: 0 no, 1 same direction, -1 opposite (a face index is 2 * k + side)
    cdef int coplanar[6][6]
    cdef int ka, kb, sa_i, sb_i, fa_i, fb_i, n, c
    cdef double sa, sb, vol = 0, rr, dist
    # bounding spheres apart: no overlap
    rr = sqrt(A[12] * A[12] + A[13] * A[13] + A[14] * A[14]) \
        + sqrt(B[12] * B[12] + B[13] * B[13] + B[14] * B[14])
    dist = (A[0] - B[0]) * (A[0] - B[0]) + (A[1] - B[1]) * (A[1] - B[1]) \
        + (A[2] - B[2]) * (A[2] - B[2])
    if dist >= rr * rr:
        return 0
    for fa_i in range(6):
        ka = fa_i >> 1
        sa = 1.0 if fa_i & 1 else -1.0
        _face(A, ka, sa, fa)
        for fb_i in range(6):
            kb = fb_i >> 1
            sb = 1.0 if fb_i & 1 else -1.0
            coplanar[fa_i][fb_i] = 0
            if not _on_plane(fa, B, kb, sb, tol):
                continue
            _face(B, kb, sb, fb)
            if not _on_plane(fb, A, ka, sa, tol):
                continue
            if sa * sb * _dot(A + 3 + 3 * ka, B + 3 + 3 * kb) > 0:
                coplanar[fa_i][fb_i] = 1
            else:
                return 0  # touching faces: the intersection has no volume
    # faces of A clipped by B's half-spaces
    for fa_i in range(6):
        ka = fa_i >> 1
        sa = 1.0 if fa_i & 1 else -1.0
        _face(A, ka, sa, poly)
        n = 4
        for fb_i in range(6):
            if coplanar[fa_i][fb_i]:
                continue
            n = _clip(poly, n, B, fb_i >> 1, 1.0 if fb_i & 1 else -1.0, tmp)
        for c in range(3):
            normal[c] = sa * A[3 + 3 * ka + c]
        vol += _poly_term(poly, n, normal, A)
    # faces of B clipped by A's half-spaces (a face coplanar with one of A's: counted there)
    for fb_i in range(6):
        kb = fb_i >> 1
        sb = 1.0 if fb_i & 1 else -1.0
        n = 4
        for fa_i in range(6):
            if coplanar[fa_i][fb_i]:
                n = 0
        if n == 0:
            continue
        _face(B, kb, sb, poly)
        for fa_i in range(6):
            n = _clip(poly, n, A, fa_i >> 1, 1.0 if fa_i & 1 else -1.0, tmp)
        for c in range(3):
            normal[c] = sb * B[3 + 3 * kb + c]
        vol += _poly_term(poly, n, normal, A)
    return vol / 3.0


cdef inline double _volume(const double* box) noexcept nogil:
    return 8.0 * box[12] * box[13] * box[14]


cdef inline double _tol(const double* A, const double* B, double rel) noexcept nogil:
    cdef double s = 0
    cdef int c
    for c in range(3):
        s = s if s > fabs(A[c]) else fabs(A[c])
        s = s if s > fabs(B[c]) else fabs(B[c])
        s = s if s > A[12 + c] else A[12 + c]
        s = s if s > B[12 + c] else B[12 + c]
    return rel * s


cdef inline double _iou_pair(const double* A, const double* B, double rel, double eps,
                             int want_inter) noexcept nogil:
    cdef double inter = _inter_volume(A, B, _tol(A, B, rel))
    cdef double va = _volume(A), vb = _volume(B), m, union
    m = va if va < vb else vb
    # rounding may leave a hair outside [0, min volume]
    inter = 0 if inter < 0 else (m if inter > m else inter)
    if want_inter:
        return inter
    union = va + vb - inter
    return inter / union if union > eps else 0


def oriented_iou(const double[:, ::1] a, const double[:, ::1] b, bint aligned,
                 double rel_tol, double eps, bint intersection=False):
    """IoU (or intersection volume) of (N, 15) x (M, 15) frames: (N, M), or (N,) aligned."""
    import numpy as np
    cdef Py_ssize_t n = a.shape[0], m = b.shape[0], i, j
    cdef int nt = 1
    cdef int want = 1 if intersection else 0
    if aligned:
        out1 = np.zeros(n, dtype=np.float64)
        _aligned(a, b, out1, rel_tol, eps, want)
        return out1
    out = np.zeros((n, m), dtype=np.float64)
    cdef double[:, ::1] o = out
    if n * m * 40 >= PARALLEL_MIN_ITEMS:
        from ioukit._threads import get_num_threads
        nt = get_num_threads()
    if n == 0 or m == 0:
        return out
    for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        for j in range(m):
            o[i, j] = _iou_pair(&a[i, 0], &b[j, 0], rel_tol, eps, want)
    return out


cdef void _aligned(const double[:, ::1] a, const double[:, ::1] b, double[::1] o,
                   double rel_tol, double eps, int want) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(a.shape[0]):
        o[i] = _iou_pair(&a[i, 0], &b[i, 0], rel_tol, eps, want)


def oriented_intersection(const double[:, ::1] a, const double[:, ::1] b, bint aligned,
                          double rel_tol):
    """Intersection volumes: (N, M), or (N,) aligned."""
    return oriented_iou(a, b, aligned, rel_tol, 0.0, True)


# ------------------------------------------------------------------------- yaw-only boxes
cpdef enum:
    YAW_IOU = 0        # 3-D IoU
    YAW_BEV_IOU = 1    # bird's-eye-view IoU (the z extent ignored)
    YAW_GIOU = 2       # GIoU-3D: enclosing = BEV convex hull x joint z span
    YAW_INTER = 3      # intersection volume
    YAW_BEV_INTER = 4  # BEV intersection area

YAW_MODES = {"iou": YAW_IOU, "bev_iou": YAW_BEV_IOU, "giou": YAW_GIOU,
             "intersection": YAW_INTER, "bev_intersection": YAW_BEV_INTER}


cdef inline double _yaw_pair(const double* a, const double* b, int mode,
                             double eps) noexcept nogil:
    # a, b: (cx, cy, cz, l, w, h, yaw); the BEV box is (cx, cy, l, w, yaw)
    cdef double za0 = a[2] - 0.5 * a[5], za1 = a[2] + 0.5 * a[5]
    cdef double zb0 = b[2] - 0.5 * b[5], zb1 = b[2] + 0.5 * b[5]
    cdef double dz, bev, inter, union, va, vb, hull, span, iou
    cdef double xs[8]
    cdef double ys[8]
    dz = (za1 if za1 < zb1 else zb1) - (za0 if za0 > zb0 else zb0)
    if dz < 0:
        dz = 0
    if mode == YAW_BEV_IOU or mode == YAW_BEV_INTER:
        bev = rbox_intersection_area(a[0], a[1], a[3], a[4], a[6], b[0], b[1], b[3], b[4], b[6])
        if mode == YAW_BEV_INTER:
            return bev
        union = a[3] * a[4] + b[3] * b[4] - bev
        iou = bev / union if union > eps else 0
        return iou if iou < 1 else 1
    va = a[3] * a[4] * a[5]
    vb = b[3] * b[4] * b[5]
    inter = 0
    if dz > 0:
        bev = rbox_intersection_area(a[0], a[1], a[3], a[4], a[6], b[0], b[1], b[3], b[4], b[6])
        inter = bev * dz
    if mode == YAW_INTER:
        return inter
    union = va + vb - inter
    iou = inter / union if union > eps else 0
    iou = iou if iou < 1 else 1
    if mode == YAW_IOU:
        return iou
    # GIoU-3D (Rezatofighi et al. 2019 with a prism as the enclosing shape): the convex
    # hull of both BEV rectangles times the joint z span
    rbox_corners(0.0, 0.0, a[3], a[4], a[6], xs, ys)
    rbox_corners(b[0] - a[0], b[1] - a[1], b[3], b[4], b[6], xs + 4, ys + 4)
    span = (za1 if za1 > zb1 else zb1) - (za0 if za0 < zb0 else zb0)
    hull = convex_hull_area(xs, ys, 8) * span
    if not (hull > eps):
        return iou
    if hull < union:  # rounding: the enclosing prism contains the union
        hull = union
    return iou - (hull - union) / hull


def yaw_measure(const double[:, ::1] a, const double[:, ::1] b, bint aligned, int mode,
                double eps):
    """A yaw-box measure (``YAW_MODES``) of (N, 7) x (M, 7): (N, M), or (N,) aligned."""
    import numpy as np
    cdef Py_ssize_t n = a.shape[0], m = b.shape[0], i, j
    cdef int nt = 1
    cdef double[::1] o1
    cdef double[:, ::1] o
    cdef double dx, dy, rr
    if aligned:
        out1 = np.zeros(n, dtype=np.float64)
        o1 = out1
        with nogil:
            for i in range(n):
                o1[i] = _yaw_pair(&a[i, 0], &b[i, 0], mode, eps)
        return out1
    out = np.zeros((n, m), dtype=np.float64)
    o = out
    if n == 0 or m == 0:
        return out
    # circumradii of the BEV rectangles: most pairs of a scene are rejected by them alone
    # (their measure is 0 in every mode but GIoU, which needs the hull)
    ra_arr = 0.5 * np.hypot(np.asarray(a[:, 3]), np.asarray(a[:, 4]))
    rb_arr = 0.5 * np.hypot(np.asarray(b[:, 3]), np.asarray(b[:, 4]))
    cdef const double[::1] ra = ra_arr
    cdef const double[::1] rb = rb_arr
    cdef bint can_reject = mode != YAW_GIOU
    if n * m >= PARALLEL_MIN_ITEMS * 8:
        from ioukit._threads import get_num_threads
        nt = get_num_threads()
    for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        for j in range(m):
            if can_reject:
                dx = b[j, 0] - a[i, 0]
                dy = b[j, 1] - a[i, 1]
                rr = ra[i] + rb[j]
                if dx * dx + dy * dy > rr * rr:
                    continue  # out is zero-initialised
            o[i, j] = _yaw_pair(&a[i, 0], &b[j, 0], mode, eps)
    return out
