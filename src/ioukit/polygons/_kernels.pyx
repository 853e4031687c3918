"""Compiled kernels behind ``ioukit.polygons``: exact polygon intersection areas.

A polygon is a set of rings (exterior and holes, or several parts) packed as
``xy`` [V, 2] float64 vertices, ``ring_start`` [R + 1] (ring r is
``xy[ring_start[r]:ring_start[r + 1]]``, not closed) and ``poly_ring`` [N + 1] (polygon
i owns rings ``poly_ring[i]:poly_ring[i + 1]``). The region is the even-odd interior of
its rings. :func:`normalize_orientation` turns every ring so that the region lies on its
left (outer rings counter-clockwise, holes clockwise); the area code assumes that.

Intersection area, Green's theorem: ``area(A & B)`` is the integral of ``x dy`` around
the boundary of ``A & B``, which is made of the parts of A's edges inside B, the parts
of B's edges inside A, and the boundary pieces A and B share where both run the same
way (a piece shared in opposite directions separates A from B and counts for neither).
Each edge is split at its crossings with the other polygon's edges; every piece lies
wholly inside, outside or on the other boundary, which its midpoint decides (even-odd
ray crossing, or the collinear overlaps found while splitting). A piece from p to q adds
``(p.x * q.y - q.x * p.y) / 2`` (the trapezoid form of ``x dy``, closed-curve
equivalent). Coordinates are taken relative to a corner of A's bounding box so the
products do not lose digits far from the origin.
"""

from cython.parallel cimport prange
from libc.math cimport ceil, floor
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

import numpy as np

from ioukit._threads import PARALLEL_MIN_ITEMS, get_num_threads


cdef struct Poly:
    const double* xy        # vertices of all rings, [V, 2] row-major
    const int64_t* rs       # ring_start
    int64_t r0, r1          # this polygon's rings: r0 .. r1 - 1
    double dx, dy           # translation applied to every vertex (periodic copies)
    double x0, y0, x1, y1   # bounding box, translation included


cdef struct Scratch:
    double* ts              # split parameters of one edge
    double* lo              # collinear overlaps of that edge: [lo, hi] and direction
    double* hi
    int* same


cdef inline double _vx(Poly P, int64_t v) noexcept nogil:
    return P.xy[2 * v] + P.dx


cdef inline double _vy(Poly P, int64_t v) noexcept nogil:
    return P.xy[2 * v + 1] + P.dy


cdef inline int64_t _next(Poly P, int64_t r, int64_t v) noexcept nogil:
    # the vertex after v on ring r (rings are stored open; the last joins the first)
    return v + 1 if v + 1 < P.rs[r + 1] else P.rs[r]


cdef int64_t _n_edges(Poly P) noexcept nogil:
    return P.rs[P.r1] - P.rs[P.r0]


cdef bint _inside(Poly P, double mx, double my) noexcept nogil:
    # Even-odd ray crossing over every ring (a half-open rule on y, so a vertex on the
    # ray is counted once).
    cdef bint inside = False
    cdef int64_t r, v, w
    cdef double ax, ay, bx, by, xint
    for r in range(P.r0, P.r1):
        for v in range(P.rs[r], P.rs[r + 1]):
            w = _next(P, r, v)
            ax = _vx(P, v); ay = _vy(P, v); bx = _vx(P, w); by = _vy(P, w)
            if (ay > my) != (by > my):
                xint = ax + (my - ay) * (bx - ax) / (by - ay)
                if mx < xint:
                    inside = not inside
    return inside


cdef inline void _insert(double* ts, int* n, double t) noexcept nogil:
    # keep ts sorted (few entries per edge: insertion is the fastest sort here)
    cdef int k = n[0]
    while k > 0 and ts[k - 1] > t:
        ts[k] = ts[k - 1]
        k -= 1
    ts[k] = t
    n[0] += 1


cdef double _edges_inside(Poly A, Poly B, double ox, double oy, bint count_shared,
                          Scratch s) noexcept nogil:
    # Sum of (p.x q.y - q.x p.y) over the pieces of A's edges that lie inside B (and, when
    # count_shared, on B's boundary running the same way), relative to the origin (ox, oy).
    cdef double total = 0.0
    cdef int64_t r, v, w, rb, vb, wb
    cdef int nt, nov, j, k
    cdef double px, py, qx, qy, ex, ey, rx, ry, ux, uy, fx, fy
    cdef double o1, o2, o3, o4, L, tr, tu, t0, t1, tm, ax, ay, bx, by, mx, my
    cdef bint shared, same
    cdef double bx0 = B.x0 - ox, by0 = B.y0 - oy, bx1 = B.x1 - ox, by1 = B.y1 - oy
    for r in range(A.r0, A.r1):
        for v in range(A.rs[r], A.rs[r + 1]):
            w = _next(A, r, v)
            px = _vx(A, v) - ox; py = _vy(A, v) - oy
            qx = _vx(A, w) - ox; qy = _vy(A, w) - oy
            ex = qx - px; ey = qy - py
            L = ex * ex + ey * ey
            if L == 0.0:
                continue
            # an edge outside B's bounding box has no piece inside B
            if (px < bx0 and qx < bx0) or (px > bx1 and qx > bx1) or \
               (py < by0 and qy < by0) or (py > by1 and qy > by1):
                continue
            nt = 0
            nov = 0
            _insert(s.ts, &nt, 0.0)
            _insert(s.ts, &nt, 1.0)
            for rb in range(B.r0, B.r1):
                for vb in range(B.rs[rb], B.rs[rb + 1]):
                    wb = _next(B, rb, vb)
                    rx = _vx(B, vb) - ox; ry = _vy(B, vb) - oy
                    ux = _vx(B, wb) - ox; uy = _vy(B, wb) - oy
                    # bounding-box reject of the two segments
                    if (rx < px and rx < qx and ux < px and ux < qx) or \
                       (rx > px and rx > qx and ux > px and ux > qx) or \
                       (ry < py and ry < qy and uy < py and uy < qy) or \
                       (ry > py and ry > qy and uy > py and uy > qy):
                        continue
                    o1 = ex * (ry - py) - ey * (rx - px)
                    o2 = ex * (uy - py) - ey * (ux - px)
                    if o1 == 0.0 and o2 == 0.0:
                        # collinear: the overlap [lo, hi] of the two segments on this edge
                        tr = ((rx - px) * ex + (ry - py) * ey) / L
                        tu = ((ux - px) * ex + (uy - py) * ey) / L
                        t0 = tr if tr < tu else tu
                        t1 = tu if tr < tu else tr
                        if t0 < 0.0:
                            t0 = 0.0
                        if t1 > 1.0:
                            t1 = 1.0
                        if t1 > t0:
                            s.lo[nov] = t0
                            s.hi[nov] = t1
                            s.same[nov] = tu > tr
                            nov += 1
                            if t0 > 0.0:
                                _insert(s.ts, &nt, t0)
                            if t1 < 1.0:
                                _insert(s.ts, &nt, t1)
                        continue
                    if o1 == 0.0:
                        # B's vertex r lies on the line of this edge
                        tr = ((rx - px) * ex + (ry - py) * ey) / L
                        if 0.0 < tr < 1.0:
                            _insert(s.ts, &nt, tr)
                        continue
                    if o2 == 0.0:
                        tu = ((ux - px) * ex + (uy - py) * ey) / L
                        if 0.0 < tu < 1.0:
                            _insert(s.ts, &nt, tu)
                        continue
                    if (o1 > 0.0) == (o2 > 0.0):
                        continue
                    fx = ux - rx; fy = uy - ry
                    o3 = fx * (py - ry) - fy * (px - rx)
                    o4 = fx * (qy - ry) - fy * (qx - rx)
                    if (o3 > 0.0 and o4 < 0.0) or (o3 < 0.0 and o4 > 0.0):
                        _insert(s.ts, &nt, o3 / (o3 - o4))
            for j in range(nt - 1):
                t0 = s.ts[j]
                t1 = s.ts[j + 1]
                if t1 <= t0:
                    continue
                tm = 0.5 * (t0 + t1)
                shared = False
                same = False
                for k in range(nov):
                    if s.lo[k] <= tm <= s.hi[k]:
                        shared = True
                        same = s.same[k]
                        break
                if shared:
                    if not (count_shared and same):
                        continue
                else:
                    mx = px + tm * ex
                    my = py + tm * ey
                    if mx < bx0 or mx > bx1 or my < by0 or my > by1 \
                            or not _inside(B, mx + ox, my + oy):
                        continue
                ax = px + t0 * ex; ay = py + t0 * ey
                bx = px + t1 * ex if t1 < 1.0 else qx
                by = py + t1 * ey if t1 < 1.0 else qy
                if t0 == 0.0:
                    ax = px; ay = py
                total += ax * by - bx * ay
    return total


cdef bint _scratch_alloc(Scratch* s, int64_t nb) noexcept nogil:
    s.ts = <double*> malloc((3 * nb + 4) * sizeof(double))
    s.lo = <double*> malloc((nb + 1) * sizeof(double))
    s.hi = <double*> malloc((nb + 1) * sizeof(double))
    s.same = <int*> malloc((nb + 1) * sizeof(int))
    return s.ts != NULL and s.lo != NULL and s.hi != NULL and s.same != NULL


cdef void _scratch_free(Scratch* s) noexcept nogil:
    free(s.ts); free(s.lo); free(s.hi); free(s.same)


cdef double _inter(Poly A, Poly B) noexcept nogil:
    # Exact area of A & B (both oriented with the region on the left); -1 if out of memory.
    cdef int64_t na = _n_edges(A), nb = _n_edges(B)
    cdef Scratch sa, sb
    cdef double ox, oy, total
    if na == 0 or nb == 0:
        return 0.0
    if not (_scratch_alloc(&sb, nb) and _scratch_alloc(&sa, na)):
        _scratch_free(&sb); _scratch_free(&sa)
        return -1.0
    ox = _vx(A, A.rs[A.r0]); oy = _vy(A, A.rs[A.r0])
    total = _edges_inside(A, B, ox, oy, True, sb) + _edges_inside(B, A, ox, oy, False, sa)
    _scratch_free(&sb); _scratch_free(&sa)
    total = 0.5 * total
    # rounding may leave a tiny negative area for touching polygons
    return total if total > 0.0 else 0.0


cdef inline bint _disjoint(const double[:, ::1] ba, Py_ssize_t i, const double[:, ::1] bb,
                           Py_ssize_t j, double dx, double dy) noexcept nogil:
    # bounding boxes (xmin, ymin, xmax, ymax) that at most touch: no common area
    return (ba[i, 2] <= bb[j, 0] + dx or bb[j, 2] + dx <= ba[i, 0]
            or ba[i, 3] <= bb[j, 1] + dy or bb[j, 3] + dy <= ba[i, 1])


cdef double _pair(const double* xa, const int64_t* rsa, const int64_t[::1] pra,
                  const double[:, ::1] ba, Py_ssize_t i,
                  const double* xb, const int64_t* rsb, const int64_t[::1] prb,
                  const double[:, ::1] bb, Py_ssize_t j,
                  double px, double py) noexcept nogil:
    # area(A_i & B_j); on the torus of periods (px, py) (0: not periodic) the sum over the
    # translated copies of B_j whose bounding box overlaps A_i's.
    cdef Poly A, B
    cdef double total = 0.0, got
    cdef int64_t kx, ky, kx0 = 0, kx1 = 0, ky0 = 0, ky1 = 0
    A.xy = xa; A.rs = rsa; A.r0 = pra[i]; A.r1 = pra[i + 1]; A.dx = 0.0; A.dy = 0.0
    A.x0 = ba[i, 0]; A.y0 = ba[i, 1]; A.x1 = ba[i, 2]; A.y1 = ba[i, 3]
    B.xy = xb; B.rs = rsb; B.r0 = prb[j]; B.r1 = prb[j + 1]
    if px > 0.0:
        kx0 = <int64_t> floor((ba[i, 0] - bb[j, 2]) / px)
        kx1 = <int64_t> ceil((ba[i, 2] - bb[j, 0]) / px)
    if py > 0.0:
        ky0 = <int64_t> floor((ba[i, 1] - bb[j, 3]) / py)
        ky1 = <int64_t> ceil((ba[i, 3] - bb[j, 1]) / py)
    for kx in range(kx0, kx1 + 1):
        for ky in range(ky0, ky1 + 1):
            B.dx = kx * px
            B.dy = ky * py
            B.x0 = bb[j, 0] + B.dx; B.y0 = bb[j, 1] + B.dy
            B.x1 = bb[j, 2] + B.dx; B.y1 = bb[j, 3] + B.dy
            if _disjoint(ba, i, bb, j, B.dx, B.dy):
                continue
            got = _inter(A, B)
            if got < 0.0:
                return -1.0
            total += got
    return total


def _threads(Py_ssize_t work) -> int:
    return get_num_threads() if work >= PARALLEL_MIN_ITEMS else 1


def pairwise_intersection(const double[:, ::1] xa, const int64_t[::1] rsa,
                          const int64_t[::1] pra, const double[:, ::1] ba,
                          const double[:, ::1] xb, const int64_t[::1] rsb,
                          const int64_t[::1] prb, const double[:, ::1] bb,
                          double px, double py):
    """[N, M] intersection areas of the packed polygons A_i and B_j."""
    cdef Py_ssize_t n = ba.shape[0], m = bb.shape[0], i, j
    out_arr = np.zeros((n, m), np.float64)
    cdef double[:, ::1] out = out_arr
    cdef const double* pxa = &xa[0, 0] if xa.shape[0] else NULL
    cdef const double* pxb = &xb[0, 0] if xb.shape[0] else NULL
    cdef int nt = _threads(n * m)
    cdef bint oom = False
    if pxa == NULL or pxb == NULL:
        return out_arr
    for i in prange(n, nogil=True, num_threads=nt, schedule="dynamic"):
        for j in range(m):
            if px == 0.0 and py == 0.0 and _disjoint(ba, i, bb, j, 0.0, 0.0):
                continue
            out[i, j] = _pair(pxa, &rsa[0], pra, ba, i, pxb, &rsb[0], prb, bb, j, px, py)
            if out[i, j] < 0.0:
                oom = True
    if oom:
        raise MemoryError("ioukit.polygons: out of memory for an edge buffer")
    return out_arr


def aligned_intersection(const double[:, ::1] xa, const int64_t[::1] rsa,
                         const int64_t[::1] pra, const double[:, ::1] ba,
                         const double[:, ::1] xb, const int64_t[::1] rsb,
                         const int64_t[::1] prb, const double[:, ::1] bb,
                         double px, double py):
    """[N] intersection areas of the pairs (A_i, B_i)."""
    cdef Py_ssize_t n = ba.shape[0], i
    out_arr = np.zeros(n, np.float64)
    cdef double[::1] out = out_arr
    cdef const double* pxa = &xa[0, 0] if xa.shape[0] else NULL
    cdef const double* pxb = &xb[0, 0] if xb.shape[0] else NULL
    cdef int nt = _threads(n)
    cdef bint oom = False
    if pxa == NULL or pxb == NULL:
        return out_arr
    for i in prange(n, nogil=True, num_threads=nt, schedule="dynamic"):
        out[i] = _pair(pxa, &rsa[0], pra, ba, i, pxb, &rsb[0], prb, bb, i, px, py)
        if out[i] < 0.0:
            oom = True
    if oom:
        raise MemoryError("ioukit.polygons: out of memory for an edge buffer")
    return out_arr


# ------------------------------------------------------------------ orientation
cdef double _ring_area2(const double* xy, int64_t s, int64_t e) noexcept nogil:
    # twice the signed (shoelace) area of the ring xy[s:e], relative to its first vertex
    cdef double a = 0.0, x0 = xy[2 * s], y0 = xy[2 * s + 1]
    cdef int64_t v, w
    for v in range(s, e):
        w = v + 1 if v + 1 < e else s
        a += (xy[2 * v] - x0) * (xy[2 * w + 1] - y0) - (xy[2 * w] - x0) * (xy[2 * v + 1] - y0)
    return a


cdef bint _on_ring(const double* xy, int64_t s, int64_t e, double mx, double my) noexcept nogil:
    # whether (mx, my) lies exactly on an edge of the ring xy[s:e]
    cdef int64_t v, w
    cdef double ax, ay, bx, by
    for v in range(s, e):
        w = v + 1 if v + 1 < e else s
        ax = xy[2 * v]; ay = xy[2 * v + 1]; bx = xy[2 * w]; by = xy[2 * w + 1]
        if (bx - ax) * (my - ay) - (by - ay) * (mx - ax) == 0.0 \
                and (ax - mx) * (bx - mx) <= 0.0 and (ay - my) * (by - my) <= 0.0:
            return True
    return False


def normalize_orientation(double[:, ::1] xy, const int64_t[::1] rs,
                          const int64_t[::1] pr, double[::1] area):
    """Turn every ring so its polygon's region lies on its left; ``area[i]`` = area of i.

    A ring's nesting depth is the number of the polygon's other rings that contain a
    point of it (the midpoint of its first edge that lies on no other ring): even depth
    (an outer ring) turns counter-clockwise, odd (a hole) clockwise. The polygon's area
    is then the sum of its rings' signed areas.
    """
    cdef Py_ssize_t n = pr.shape[0] - 1, i
    cdef int64_t r, q, v, w, s, e, depth, tmp_i
    cdef double a2, mx, my, t, total
    cdef bint found, on
    cdef Poly P
    cdef double* p = &xy[0, 0] if xy.shape[0] else NULL
    if p == NULL:
        return
    P.xy = p; P.rs = &rs[0]; P.dx = 0.0; P.dy = 0.0
    with nogil:
        for i in range(n):
            total = 0.0
            for r in range(pr[i], pr[i + 1]):
                s = rs[r]; e = rs[r + 1]
                depth = 0
                found = False
                for v in range(s, e):
                    w = v + 1 if v + 1 < e else s
                    mx = 0.5 * (p[2 * v] + p[2 * w]); my = 0.5 * (p[2 * v + 1] + p[2 * w + 1])
                    on = False
                    for q in range(pr[i], pr[i + 1]):
                        if q != r and _on_ring(p, rs[q], rs[q + 1], mx, my):
                            on = True
                            break
                    if not on:
                        found = True
                        break
                if found:
                    for q in range(pr[i], pr[i + 1]):
                        if q != r:
                            P.r0 = q; P.r1 = q + 1
                            if _inside(P, mx, my):
                                depth += 1
                a2 = _ring_area2(p, s, e)
                if (a2 < 0.0) != (depth % 2 == 1):
                    # reverse the ring in place
                    v = s; w = e - 1
                    while v < w:
                        t = p[2 * v]; p[2 * v] = p[2 * w]; p[2 * w] = t
                        t = p[2 * v + 1]; p[2 * v + 1] = p[2 * w + 1]; p[2 * w + 1] = t
                        v += 1; w -= 1
                    a2 = -a2
                total += 0.5 * a2
            area[i] = total if total > 0.0 else 0.0


# ------------------------------------------------------------------ rasterisation
def rasterize(const double[:, ::1] xy, const int64_t[::1] rs, const int64_t[::1] pr,
              const double[:, ::1] bbox, Py_ssize_t height, Py_ssize_t width,
              double x0, double y0, double sx, double sy, double px, double py):
    """[N, height, width] uint8: pixel (r, c) is 1 when its centre
    ``(x0 + (c + 0.5) sx, y0 + (r + 0.5) sy)``, or a copy of it translated by a multiple of
    the period ``(px, py)`` (0: not periodic), lies in the polygon (even-odd, half-open)."""
    cdef Py_ssize_t n = pr.shape[0] - 1, i, row, c, c0, c1
    out_arr = np.zeros((n, height, width), np.uint8)
    cdef unsigned char[:, :, ::1] out = out_arr
    cdef const double* p = &xy[0, 0] if xy.shape[0] else NULL
    cdef int64_t nv = xy.shape[0], r, v, w, kx, ky, kx0, kx1, ky0, ky1
    cdef double* xs
    cdef int nx, k
    cdef double yc, yy, ay, by, ax, bx
    if p == NULL or n == 0:
        return out_arr
    xs = <double*> malloc((nv + 1) * sizeof(double))
    if xs == NULL:
        raise MemoryError("ioukit.polygons.rasterize: out of memory")
    with nogil:
        for i in range(n):
            kx0 = kx1 = ky0 = ky1 = 0
            if px > 0.0:
                kx0 = <int64_t> floor((bbox[i, 0] - (x0 + width * sx)) / px)
                kx1 = <int64_t> ceil((bbox[i, 2] - x0) / px)
            if py > 0.0:
                ky0 = <int64_t> floor((bbox[i, 1] - (y0 + height * sy)) / py)
                ky1 = <int64_t> ceil((bbox[i, 3] - y0) / py)
            for row in range(height):
                yc = y0 + (row + 0.5) * sy
                for ky in range(ky0, ky1 + 1):
                    yy = yc + ky * py
                    if yy < bbox[i, 1] or yy > bbox[i, 3]:
                        continue
                    nx = 0
                    for r in range(pr[i], pr[i + 1]):
                        for v in range(rs[r], rs[r + 1]):
                            w = v + 1 if v + 1 < rs[r + 1] else rs[r]
                            ay = p[2 * v + 1]; by = p[2 * w + 1]
                            if (ay > yy) != (by > yy):
                                ax = p[2 * v]; bx = p[2 * w]
                                _insert(xs, &nx, ax + (yy - ay) * (bx - ax) / (by - ay))
                    k = 0
                    while k + 1 < nx:
                        for kx in range(kx0, kx1 + 1):
                            # centres with xs[k] <= x + kx px < xs[k + 1]
                            c0 = <Py_ssize_t> ceil((xs[k] - kx * px - x0) / sx - 0.5)
                            c1 = <Py_ssize_t> ceil((xs[k + 1] - kx * px - x0) / sx - 0.5)
                            if c0 < 0:
                                c0 = 0
                            if c1 > width:
                                c1 = width
                            for c in range(c0, c1):
                                out[i, row, c] = 1
                        k += 2
        free(xs)
    return out_arr
