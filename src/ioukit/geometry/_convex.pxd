# cython: language_level=3
"""Exact convex clipping: rotated-box corners, convex-polygon intersection, hulls.

Inline C functions ``cimport``-ed by the kernels of ``ioukit.rotated`` (rotated IoU,
rotated NMS, DOTA polygons) and ``ioukit.boxes3d`` (the bird's-eye-view overlap of two
yawed boxes). All arithmetic is in double, whatever the caller's dtype.

Method: Sutherland-Hodgman clipping (Sutherland & Hodgman 1974, "Reentrant polygon
clipping") of one polygon by each edge of a convex one, then the shoelace area.
Robustness: a point ON a clip line counts as inside, an intersection is emitted only
when the two endpoints are strictly on opposite sides (so the interpolation parameter
``t = d_p / (d_p - d_q)`` lies in [0, 1] and its denominator is never 0), and a vertex
on the line is never emitted twice. Touching edges give a zero-width polygon (area 0),
identical or nested boxes give the inner polygon, collinear edges are on-the-line
points, zero-area boxes give 0. No operation can produce NaN from finite inputs.

Signatures (for the callers; ``double*`` arrays are caller-owned, length given)::

    rbox_corners(cx, cy, w, h, angle, xs, ys)             -> void
        the 4 corners of a rotated box, counter-clockwise (positive signed area w*h)
        in a y-up frame: the width axis is (cos angle, sin angle), the height axis
        (-sin angle, cos angle); order: c-u-v, c+u-v, c+u+v, c-u+v (u, v the half axes)
    polygon_signed_area(xs, ys, n)                        -> double
        shoelace area (> 0 counter-clockwise), computed about the first vertex
    convex_intersection_area(px, py, n, qx, qy, m)        -> double
        area of P n Q for Q convex (either orientation) and P simple (convex or not);
        n, m <= CONVEX_MAX_INPUT (else -1.0, a caller bug); < 3 vertices -> 0
    polygon_intersection_area(px, py, n, qx, qy, m)       -> double
        area of P n Q for any two simple polygons (either orientation), by signed
        triangle fans (the DOTA devkit's polyiou method), each triangle pair clipped
        convexly; n, m <= CONVEX_MAX_INPUT
    convex_hull_area(xs, ys, n)                           -> double
        area of the convex hull of n <= CONVEX_MAX_INPUT points (monotone chain)
    rbox_intersection_area(a_cx, a_cy, a_w, a_h, a_t, b_cx, b_cy, b_w, b_h, b_t) -> double
        area of the intersection of two rotated boxes (clipped about a's centre, so
        large coordinates keep their precision); <= min(area a, area b); two upright
        boxes (both angles exactly 0) take the interval product, as pycocotools' bbIou
    rbox_iou(a..., b..., eps)                             -> double in [0, 1]
        inter / (w_a h_a + w_b h_b - inter); 0 when the union is <= eps
    rbox_iou_crowd(a..., b..., crowd, eps)                -> double in [0, 1]
        rbox_iou, or when crowd: inter / (w_a h_a) (COCO's crowd rule, a = detection)
    rbox_giou(a..., b..., eps)                            -> double in [-1, 1]
        iou - (hull - union) / hull, the hull being the convex hull of the 8 corners
        (Rezatofighi et al. 2019, GIoU, with the convex hull as the enclosing shape);
        iou when the hull's area is <= eps

Many pairs: ``rbox_prepare(cx, cy, w, h, angle, &box)`` fills an ``RBox`` once (area,
half diagonal, corner offsets: no trigonometry per pair), then ``rbox_inter_prepared``,
``rbox_iou_prepared``, ``rbox_iou_crowd_prepared``, ``rbox_giou_prepared`` take two
``const RBox*``; the scalar functions above are these on freshly prepared boxes, so
both forms give the same bits.

Widths and heights must be >= 0 and every input finite (the Python layer checks).
"""

from libc.math cimport cos, fabs, sin, sqrt

cdef enum:
    CONVEX_MAX_INPUT = 32   # vertices of one input polygon
    CONVEX_MAX_VERTS = 80   # clipping buffers (exact arithmetic needs n + m <= 64)


# ------------------------------------------------------------------- corners, area
cdef inline void rbox_corners(double cx, double cy, double w, double h, double angle,
                              double* xs, double* ys) noexcept nogil:
    cdef double c = cos(angle)
    cdef double s = sin(angle)
    cdef double ux = 0.5 * w * c
    cdef double uy = 0.5 * w * s
    cdef double vx = -0.5 * h * s
    cdef double vy = 0.5 * h * c
    xs[0] = cx - ux - vx
    ys[0] = cy - uy - vy
    xs[1] = cx + ux - vx
    ys[1] = cy + uy - vy
    xs[2] = cx + ux + vx
    ys[2] = cy + uy + vy
    xs[3] = cx - ux + vx
    ys[3] = cy - uy + vy


cdef inline double polygon_signed_area(const double* xs, const double* ys,
                                       int n) noexcept nogil:
    # Shoelace about the first vertex: the products stay small, so less cancellation.
    cdef double acc = 0.0
    cdef double x0, y0
    cdef int i
    if n < 3:
        return 0.0
    x0 = xs[0]
    y0 = ys[0]
    for i in range(1, n - 1):
        acc += (xs[i] - x0) * (ys[i + 1] - y0) - (xs[i + 1] - x0) * (ys[i] - y0)
    return 0.5 * acc


# ------------------------------------------------------------------------ clipping
cdef inline int _clip_halfplane(const double* inx, const double* iny, int n,
                                double ax, double ay, double bx, double by, double sign,
                                double* outx, double* outy) noexcept nogil:
    # Keep the part of the polygon on the side sign * cross(b - a, p - a) >= 0.
    cdef int i
    cdef int m = 0
    cdef double ex = bx - ax
    cdef double ey = by - ay
    cdef double px, py, qx, qy, dp, dq, t
    if n == 0:
        return 0
    px = inx[n - 1]
    py = iny[n - 1]
    dp = sign * (ex * (py - ay) - ey * (px - ax))
    for i in range(n):
        qx = inx[i]
        qy = iny[i]
        dq = sign * (ex * (qy - ay) - ey * (qx - ax))
        if dq >= 0:
            if dp < 0 and dq > 0 and m < CONVEX_MAX_VERTS:
                t = dp / (dp - dq)
                outx[m] = px + t * (qx - px)
                outy[m] = py + t * (qy - py)
                m += 1
            if m < CONVEX_MAX_VERTS:
                outx[m] = qx
                outy[m] = qy
                m += 1
        elif dp > 0 and m < CONVEX_MAX_VERTS:
            t = dp / (dp - dq)
            outx[m] = px + t * (qx - px)
            outy[m] = py + t * (qy - py)
            m += 1
        px = qx
        py = qy
        dp = dq
    return m


cdef inline double convex_intersection_area(const double* px, const double* py, int n,
                                            const double* qx, const double* qy,
                                            int m) noexcept nogil:
    cdef double ax[CONVEX_MAX_VERTS]
    cdef double ay[CONVEX_MAX_VERTS]
    cdef double bx[CONVEX_MAX_VERTS]
    cdef double by[CONVEX_MAX_VERTS]
    cdef double sign, sq
    cdef int i, k, j
    if n > CONVEX_MAX_INPUT or m > CONVEX_MAX_INPUT:
        return -1.0
    if n < 3 or m < 3:
        return 0.0
    sq = polygon_signed_area(qx, qy, m)
    if sq == 0.0 or polygon_signed_area(px, py, n) == 0.0:
        return 0.0
    sign = 1.0 if sq > 0 else -1.0
    for i in range(n):
        ax[i] = px[i]
        ay[i] = py[i]
    k = n
    for i in range(m):
        j = i + 1 if i + 1 < m else 0
        if i % 2 == 0:
            k = _clip_halfplane(ax, ay, k, qx[i], qy[i], qx[j], qy[j], sign, bx, by)
        else:
            k = _clip_halfplane(bx, by, k, qx[i], qy[i], qx[j], qy[j], sign, ax, ay)
        if k < 3:
            return 0.0
    if m % 2 == 1:
        return fabs(polygon_signed_area(bx, by, k))
    return fabs(polygon_signed_area(ax, ay, k))


cdef inline double polygon_intersection_area(const double* px, const double* py, int n,
                                             const double* qx, const double* qy,
                                             int m) noexcept nogil:
    # Signed fans: area(P n Q) = sum_ij s_i s_j area(T_i n U_j), T_i = (p0, p_i, p_i+1),
    # U_j = (q0, q_j, q_j+1), s the triangles' orientation signs (valid for any two
    # simple polygons; the DOTA devkit's polyiou.cpp computes the same sum).
    cdef double tx[3]
    cdef double ty[3]
    cdef double ux[3]
    cdef double uy[3]
    cdef double acc = 0.0
    cdef double st, su, a
    cdef int i, j
    if n > CONVEX_MAX_INPUT or m > CONVEX_MAX_INPUT:
        return -1.0
    if n < 3 or m < 3:
        return 0.0
    tx[0] = px[0]
    ty[0] = py[0]
    ux[0] = qx[0]
    uy[0] = qy[0]
    for i in range(1, n - 1):
        tx[1] = px[i]
        ty[1] = py[i]
        tx[2] = px[i + 1]
        ty[2] = py[i + 1]
        st = polygon_signed_area(tx, ty, 3)
        if st == 0.0:
            continue
        for j in range(1, m - 1):
            ux[1] = qx[j]
            uy[1] = qy[j]
            ux[2] = qx[j + 1]
            uy[2] = qy[j + 1]
            su = polygon_signed_area(ux, uy, 3)
            if su == 0.0:
                continue
            a = convex_intersection_area(tx, ty, 3, ux, uy, 3)
            acc += a if (st > 0) == (su > 0) else -a
    return fabs(acc)


# ---------------------------------------------------------------------------- hull
cdef inline double _cross3(double ox, double oy, double ax, double ay,
                           double bx, double by) noexcept nogil:
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


cdef inline double convex_hull_area(const double* xs, const double* ys,
                                    int n) noexcept nogil:
    # Andrew's monotone chain (Andrew 1979) on points sorted by (x, y).
    cdef double sx[CONVEX_MAX_INPUT]
    cdef double sy[CONVEX_MAX_INPUT]
    cdef double hx[2 * CONVEX_MAX_INPUT + 1]
    cdef double hy[2 * CONVEX_MAX_INPUT + 1]
    cdef double tx, ty
    cdef int i, j, k, lower
    if n > CONVEX_MAX_INPUT:
        return -1.0
    if n < 3:
        return 0.0
    for i in range(n):  # insertion sort: n is tiny
        tx = xs[i]
        ty = ys[i]
        j = i - 1
        while j >= 0 and (sx[j] > tx or (sx[j] == tx and sy[j] > ty)):
            sx[j + 1] = sx[j]
            sy[j + 1] = sy[j]
            j -= 1
        sx[j + 1] = tx
        sy[j + 1] = ty
    k = 0
    for i in range(n):
        while k >= 2 and _cross3(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1],
                                 sx[i], sy[i]) <= 0:
            k -= 1
        hx[k] = sx[i]
        hy[k] = sy[i]
        k += 1
    lower = k + 1
    for i in range(n - 2, -1, -1):
        while k >= lower and _cross3(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1],
                                     sx[i], sy[i]) <= 0:
            k -= 1
        hx[k] = sx[i]
        hy[k] = sy[i]
        k += 1
    # the last point repeats the first
    return fabs(polygon_signed_area(hx, hy, k - 1))


# ------------------------------------------------------------------- rotated boxes
cdef inline double _overlap(double a0, double a1, double b0, double b1) noexcept nogil:
    cdef double w = (a1 if a1 < b1 else b1) - (a0 if a0 > b0 else b0)
    return w if w > 0 else 0.0


ctypedef struct RBox:
    # A rotated box prepared once for many pairs: centre, sides, angle, area, half
    # diagonal, and its corners relative to the centre (counter-clockwise).
    double cx
    double cy
    double w
    double h
    double t
    double area
    double r
    double ox[4]
    double oy[4]


cdef inline void rbox_prepare(double cx, double cy, double w, double h, double t,
                              RBox* b) noexcept nogil:
    b.cx = cx
    b.cy = cy
    b.w = w
    b.h = h
    b.t = t
    b.area = w * h
    b.r = 0.5 * sqrt(w * w + h * h)
    rbox_corners(0.0, 0.0, w, h, t, b.ox, b.oy)


cdef inline double rbox_inter_prepared(const RBox* a, const RBox* b) noexcept nogil:
    cdef double bx[4]
    cdef double by[4]
    cdef double dx = b.cx - a.cx
    cdef double dy = b.cy - a.cy
    cdef double r, inter, lim, ix, iy
    cdef int k
    if not (a.area > 0 and b.area > 0):
        return 0.0
    # Circumscribed circles apart: no overlap (a quick exit; no clipping needed).
    r = a.r + b.r
    if dx * dx + dy * dy > r * r:
        return 0.0
    if dx == 0.0 and dy == 0.0 and a.w == b.w and a.h == b.h and a.t == b.t:
        return a.area  # identical: exact even for slivers (clipping rounds at ~1e-16 * size)
    if a.t == 0.0 and b.t == 0.0:
        # Both upright: the interval overlap, operation for operation as pycocotools'
        # bbIou (maskApi.c), so upright rotated boxes score as COCO's bbox does.
        ix = _overlap(a.cx - 0.5 * a.w, a.cx + 0.5 * a.w, b.cx - 0.5 * b.w, b.cx + 0.5 * b.w)
        iy = _overlap(a.cy - 0.5 * a.h, a.cy + 0.5 * a.h, b.cy - 0.5 * b.h, b.cy + 0.5 * b.h)
        return ix * iy
    # clip about a's centre, so large coordinates keep their precision
    for k in range(4):
        bx[k] = dx + b.ox[k]
        by[k] = dy + b.oy[k]
    inter = convex_intersection_area(a.ox, a.oy, 4, bx, by, 4)
    lim = a.area if a.area < b.area else b.area
    return inter if inter < lim else lim


cdef inline double rbox_iou_prepared(const RBox* a, const RBox* b, double eps) noexcept nogil:
    cdef double inter = rbox_inter_prepared(a, b)
    cdef double union = a.area + b.area - inter
    cdef double v
    if not (union > eps):
        return 0.0
    v = inter / union
    if v > 1.0:
        return 1.0
    return v if v > 0.0 else 0.0


cdef inline double rbox_iou_crowd_prepared(const RBox* a, const RBox* b, bint crowd,
                                           double eps) noexcept nogil:
    cdef double inter, v
    if not crowd:
        return rbox_iou_prepared(a, b, eps)
    inter = rbox_inter_prepared(a, b)
    if not (a.area > eps):
        return 0.0
    v = inter / a.area
    return v if v < 1.0 else 1.0


cdef inline double rbox_giou_prepared(const RBox* a, const RBox* b, double eps) noexcept nogil:
    cdef double xs[8]
    cdef double ys[8]
    cdef double inter = rbox_inter_prepared(a, b)
    cdef double union = a.area + b.area - inter
    cdef double iou = 0.0
    cdef double hull, v
    cdef double dx = b.cx - a.cx
    cdef double dy = b.cy - a.cy
    cdef int k
    if union > eps:
        iou = inter / union
        if iou > 1.0:
            iou = 1.0
    for k in range(4):
        xs[k] = a.ox[k]
        ys[k] = a.oy[k]
        xs[k + 4] = dx + b.ox[k]
        ys[k + 4] = dy + b.oy[k]
    hull = convex_hull_area(xs, ys, 8)
    if not (hull > eps):
        return iou
    if hull < union:  # rounding: the hull contains the union
        hull = union
    v = iou - (hull - union) / hull
    if v < -1.0:
        return -1.0
    return v if v < 1.0 else 1.0


cdef inline double rbox_intersection_area(double a_cx, double a_cy, double a_w, double a_h,
                                          double a_t, double b_cx, double b_cy, double b_w,
                                          double b_h, double b_t) noexcept nogil:
    cdef RBox a, b
    rbox_prepare(a_cx, a_cy, a_w, a_h, a_t, &a)
    rbox_prepare(b_cx, b_cy, b_w, b_h, b_t, &b)
    return rbox_inter_prepared(&a, &b)


cdef inline double rbox_iou(double a_cx, double a_cy, double a_w, double a_h, double a_t,
                            double b_cx, double b_cy, double b_w, double b_h, double b_t,
                            double eps) noexcept nogil:
    cdef RBox a, b
    rbox_prepare(a_cx, a_cy, a_w, a_h, a_t, &a)
    rbox_prepare(b_cx, b_cy, b_w, b_h, b_t, &b)
    return rbox_iou_prepared(&a, &b, eps)


cdef inline double rbox_iou_crowd(double a_cx, double a_cy, double a_w, double a_h,
                                  double a_t, double b_cx, double b_cy, double b_w,
                                  double b_h, double b_t, bint crowd, double eps) noexcept nogil:
    cdef RBox a, b
    rbox_prepare(a_cx, a_cy, a_w, a_h, a_t, &a)
    rbox_prepare(b_cx, b_cy, b_w, b_h, b_t, &b)
    return rbox_iou_crowd_prepared(&a, &b, crowd, eps)


cdef inline double rbox_giou(double a_cx, double a_cy, double a_w, double a_h, double a_t,
                             double b_cx, double b_cy, double b_w, double b_h, double b_t,
                             double eps) noexcept nogil:
    cdef RBox a, b
    rbox_prepare(a_cx, a_cy, a_w, a_h, a_t, &a)
    rbox_prepare(b_cx, b_cy, b_w, b_h, b_t, &b)
    return rbox_giou_prepared(&a, &b, eps)
