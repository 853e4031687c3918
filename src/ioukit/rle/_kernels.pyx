# cython: language_level=3
"""Compiled kernels on the flat RLE table (counts ``uint32`` + ``int64`` offsets).

Each function reproduces the matching routine of pycocotools' common/maskApi.c
(Dollar & Lin, 2015; the ppwwyyxx fork that pycocotools 2.0.11 is built from),
operation for operation where the result is a float, so the numbers agree to
the last bit. Overlaps are computed by walking the two run lists in step, never
by decoding to dense masks; the walks (rleArea, rleToBbox, the pair intersection
and rleIou) live in ``ioukit/geometry/_runs.pxd``, shared with the COCO ``segm``
kernel and the JSON loader.

Also here: the polygon rasteriser (maskApi.c rleFrPoly) and the table kernels of
:mod:`ioukit.rle._table` (rasterise-and-merge per annotation, gathers), and the
boundary bands of Boundary IoU (Cheng et al., CVPR 2021).

Outputs are NumPy arrays allocated here (or C buffers copied into one at the end
when their size is known only after the walk). Loops that ``prange`` run on one
thread below ``PARALLEL_MIN_WORK``: waking the thread pool costs more than it saves.
"""

from cython.parallel cimport prange
from libc.math cimport ceil, floor
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from ioukit.geometry._primitives cimport box_iou_coco
from ioukit.geometry._runs cimport (
    _rle_advance,
    rle_area_one,
    rle_bbox_one,
    rle_pair_iou,
)

import numpy as np

# PARALLEL_MIN_WORK: below this many runs a kernel runs on one thread (waking the
# thread pool costs more than it saves). One value for every kernel, kept in
# ioukit._threads; re-exported here for rle._codec and rle._table.
from ioukit._threads import PARALLEL_MIN_WORK, get_num_threads

__all__ = [
    "PARALLEL_MIN_WORK",
    "encode_stack",
    "decode_into",
    "areas",
    "bboxes",
    "merge_many",
    "iou_matrix",
    "box_iou_matrix",
    "poly_to_counts",
    "poly_to_counts_reference",
    "boundary_counts",
    "polys_to_slots",
    "compact",
    "interleave",
    "gather_u32",
    "gather_f64",
]


def _threads(bint big):
    # Threads for a prange loop: OpenMP's count for big inputs, else one.
    return get_num_threads() if big else 1


# ------------------------------------------------------------ growable C buffer
cdef struct U32Vec:
    uint32_t* data
    int64_t size
    int64_t cap


cdef int _vec_append(U32Vec* v, const uint32_t* src, int64_t k) noexcept nogil:
    # Append src[0:k], doubling the capacity as needed; -1 when out of memory.
    cdef int64_t cap = v.cap
    cdef uint32_t* p
    if v.size + k > cap:
        if cap < 1024:
            cap = 1024
        while cap < v.size + k:
            cap *= 2
        p = <uint32_t*>realloc(v.data, cap * sizeof(uint32_t))
        if p == NULL:
            return -1
        v.data = p
        v.cap = cap
    if k > 0:
        memcpy(v.data + v.size, src, k * sizeof(uint32_t))
    v.size += k
    return 0


cdef object _vec_to_array(U32Vec* v):
    # The vector's contents as a new uint32 array; frees the vector.
    out = np.empty(v.size, np.uint32)
    cdef uint32_t[::1] o = out
    if v.size > 0:
        memcpy(&o[0], v.data, v.size * sizeof(uint32_t))
    free(v.data)
    v.data = NULL
    return out


# ----------------------------------------------------------------------- encode
# Eight pixels at a time: a word of zero bytes continues a background run, a word
# without a zero byte a foreground one (the has-zero-byte test (v - 0x01..) & ~v &
# 0x80.. of Warren, Hacker's Delight, 6-1).
cdef uint64_t _HI = 0x8080808080808080ULL
cdef uint64_t _LO = 0x0101010101010101ULL


cdef inline int64_t _encode_flat_one(const uint8_t* m, int64_t hw,
                                     uint32_t* tmp) noexcept nogil:
    # maskApi.c rleEncode of hw contiguous one-byte pixels into tmp; returns the run
    # count. Runs are long in real masks, so most words take the fast branch.
    cdef int64_t k = 0, c = 0, q, y
    cdef int64_t n_words = hw // 8
    cdef bint p = False, b
    cdef uint64_t v
    for q in range(n_words):
        memcpy(&v, m + q * 8, 8)
        if p:
            if ((v - _LO) & ~v & _HI) == 0:
                c += 8
                continue
        elif v == 0:
            c += 8
            continue
        for y in range(q * 8, q * 8 + 8):
            b = m[y] != 0
            if b != p:  # a new run starts where the value changes
                tmp[k] = <uint32_t>c
                k += 1
                c = 0
                p = b
            c += 1
    for y in range(n_words * 8, hw):
        b = m[y] != 0
        if b != p:
            tmp[k] = <uint32_t>c
            k += 1
            c = 0
            p = b
        c += 1
    tmp[k] = <uint32_t>c
    return k + 1


cdef inline int64_t _encode_strided_one(const uint8_t[:, :, :] m3, Py_ssize_t i,
                                        uint32_t* tmp) noexcept nogil:
    # maskApi.c rleEncode of mask m3[i] (w, h), any strides; returns the run count.
    cdef int64_t k = 0, c = 0
    cdef Py_ssize_t x, y
    cdef bint p = False, b
    for x in range(m3.shape[1]):
        for y in range(m3.shape[2]):
            b = m3[i, x, y] != 0
            if b != p:
                tmp[k] = <uint32_t>c
                k += 1
                c = 0
                p = b
            c += 1
    tmp[k] = <uint32_t>c
    return k + 1


def encode_stack(m3):
    """maskApi.c rleEncode: ``m3`` is (n, w, h), i.e. each mask's pixels column-major.

    Returns counts (C,) uint32 and offsets (n + 1,) int64. Nonzero is foreground.
    A C-contiguous one-byte ``m3`` (pycocotools' Fortran-ordered (h, w, n) input,
    transposed) is read eight pixels at a time; anything else pixel by pixel.
    """
    if m3.dtype.itemsize != 1:
        m3 = m3 != 0  # NaN counts as foreground, -0.0 as background, as in C
    if m3.dtype != np.uint8:
        m3 = m3.view(np.uint8)
    cdef Py_ssize_t n = m3.shape[0]
    cdef int64_t hw = <int64_t>m3.shape[1] * m3.shape[2]
    cdef bint flat = m3.flags.c_contiguous
    cdef const uint8_t[::1] mf
    cdef const uint8_t[:, :, :] ms
    if flat:
        mf = m3.reshape(-1)
    else:
        ms = m3
    offsets = np.empty(n + 1, np.int64)
    cdef int64_t[::1] off = offsets
    cdef uint32_t* tmp = <uint32_t*>malloc((hw + 1) * sizeof(uint32_t))
    cdef U32Vec vec
    cdef Py_ssize_t i
    cdef int64_t k
    cdef int bad = 0
    if tmp == NULL:
        raise MemoryError()
    vec.data = NULL
    vec.size = 0
    vec.cap = 0
    with nogil:
        for i in range(n):
            off[i] = vec.size
            if flat:
                k = _encode_flat_one(&mf[0] + i * hw, hw, tmp)
            else:
                k = _encode_strided_one(ms, i, tmp)
            if _vec_append(&vec, tmp, k) != 0:
                bad = 1
                break
        off[n] = vec.size
    free(tmp)
    if bad:
        free(vec.data)
        raise MemoryError()
    return _vec_to_array(&vec), offsets


# ----------------------------------------------------------------------- decode
def decode_into(const uint32_t[::1] counts, const int64_t[::1] offsets, uint8_t[:, ::1] out):
    """maskApi.c rleDecode into ``out`` (n, h*w) uint8, column-major per row.

    ``out`` must be zero-filled (``np.zeros``): only the foreground runs are written,
    so the pages of a large background are never touched (calloc'd memory).
    """
    cdef Py_ssize_t n = offsets.shape[0] - 1
    cdef int64_t hw = out.shape[1]
    cdef Py_ssize_t i
    cdef int64_t j, p, c
    with nogil:
        for i in range(n):
            p = 0
            for j in range(offsets[i], offsets[i + 1]):
                c = counts[j]
                if c > hw - p:  # never past the row (the loaders check the sums)
                    c = hw - p
                if (j - offsets[i]) % 2 == 1 and c > 0:
                    memset(&out[i, 0] + p, 1, c)
                p += c


# ------------------------------------------------------------------ area, bbox
def areas(counts, offsets):
    """maskApi.c rleArea: sum of the odd-indexed (foreground) counts, (n,) int64."""
    cdef const uint32_t[::1] c = np.ascontiguousarray(counts, np.uint32)
    cdef const int64_t[::1] off = np.ascontiguousarray(offsets, np.int64)
    cdef Py_ssize_t n = off.shape[0] - 1
    out = np.zeros(n, np.int64)
    cdef int64_t[::1] o = out
    cdef const uint32_t* pc = &c[0]
    cdef int nt = _threads(c.shape[0] >= PARALLEL_MIN_WORK)
    cdef Py_ssize_t i
    if n <= 0:
        return out
    if nt > 1:
        for i in prange(n, nogil=True, num_threads=nt):
            o[i] = rle_area_one(pc, off[i], off[i + 1])
    else:
        with nogil:
            for i in range(n):
                o[i] = rle_area_one(pc, off[i], off[i + 1])
    return out


def bboxes(counts, offsets, heights, widths):
    """maskApi.c rleToBbox for every RLE: (n, 4) float64 ``[x, y, w, h]``."""
    cdef const uint32_t[::1] c = np.ascontiguousarray(counts, np.uint32)
    cdef const int64_t[::1] off = np.ascontiguousarray(offsets, np.int64)
    cdef const int64_t[::1] hh = np.ascontiguousarray(heights, np.int64)
    cdef const int64_t[::1] ww = np.ascontiguousarray(widths, np.int64)
    cdef Py_ssize_t n = off.shape[0] - 1
    out = np.zeros((max(n, 0), 4), np.float64)
    cdef double[:, ::1] o = out
    cdef const uint32_t* pc = &c[0]
    cdef int nt = _threads(c.shape[0] >= PARALLEL_MIN_WORK)
    cdef Py_ssize_t i
    if n <= 0:
        return out
    if nt > 1:
        for i in prange(n, nogil=True, num_threads=nt):
            rle_bbox_one(pc, off[i], off[i + 1], hh[i], ww[i], &o[i, 0])
    else:
        with nogil:
            for i in range(n):
                rle_bbox_one(pc, off[i], off[i + 1], hh[i], ww[i], &o[i, 0])
    return out


# ------------------------------------------------------------------------ merge
cdef int64_t _merge_two(const uint32_t* a, int64_t na, const uint32_t* b, int64_t nb,
                        bint intersect, uint32_t* out) noexcept nogil:
    # maskApi.c rleMerge inner loop for one pair; returns the number of counts written
    # (at most na + nb). An empty list reads as one zero run.
    cdef int64_t ca = a[0] if na > 0 else 0
    cdef int64_t cb = b[0] if nb > 0 else 0
    cdef int64_t cc = 0, ct = 1, c, m = 0, ia = 1, ib = 1
    cdef int v = 0, va = 0, vb = 0, vp
    while ct > 0:
        c = ca if ca < cb else cb
        cc += c
        ct = 0
        ca -= c
        if ca == 0 and ia < na:
            ca = a[ia]
            ia += 1
            va = 1 - va
        ct += ca
        cb -= c
        if cb == 0 and ib < nb:
            cb = b[ib]
            ib += 1
            vb = 1 - vb
        ct += cb
        vp = v
        if intersect:
            v = va & vb
        else:
            v = va | vb
        if v != vp or ct == 0:
            out[m] = <uint32_t>cc
            m += 1
            cc = 0
    return m


cdef bint _canonical(const uint32_t* counts, const int64_t* offsets,
                     Py_ssize_t n) noexcept nogil:
    # Whether every RLE is in rleEncode's form: no zero run after the first count.
    cdef Py_ssize_t i
    cdef int64_t j
    for i in range(n):
        for j in range(offsets[i] + 1, offsets[i + 1]):
            if counts[j] == 0:
                return False
    return True


cdef int64_t _merge_pairs(const uint32_t* src, const int64_t* off, Py_ssize_t k,
                          bint intersect, uint32_t* dst, int64_t* dst_off) noexcept nogil:
    # One level of the merge tree: RLE 2i and 2i + 1 of src into RLE i of dst (an odd
    # last one is copied); returns the number of RLEs in dst.
    cdef Py_ssize_t p, r = 0
    cdef int64_t q = 0
    for p in range(0, k - 1, 2):
        dst_off[r] = q
        q += _merge_two(src + off[p], off[p + 1] - off[p], src + off[p + 1],
                        off[p + 2] - off[p + 1], intersect, dst + q)
        r += 1
    if k % 2 == 1:
        dst_off[r] = q
        memcpy(dst + q, src + off[k - 1], (off[k] - off[k - 1]) * sizeof(uint32_t))
        q += off[k] - off[k - 1]
        r += 1
    dst_off[r] = q
    return r


def merge_many(const uint32_t[::1] counts, const int64_t[::1] offsets, bint intersect):
    """maskApi.c rleMerge over all RLEs of the table (same size checked by the caller).

    The C code merges left to right, walking the growing result once per RLE. When
    every RLE is in rleEncode's form (no zero run after the first count), the merges
    run as a balanced tree instead (pairs, then pairs of pairs): a union or an
    intersection of canonical RLEs is the canonical RLE of the pixel set, whatever
    the order, so the bytes are the same, with log2(n) passes over the runs.
    """
    cdef Py_ssize_t n = offsets.shape[0] - 1, k
    cdef int64_t o0 = offsets[0], total = offsets[n] - offsets[0]
    cdef const uint32_t* pc = &counts[0]
    # A merge has at most as many counts as its two inputs together: two buffers of
    # the table's size (plus one) hold every intermediate result.
    buf = np.empty((2, total + 2), np.uint32)
    offs = np.empty((2, n + 1), np.int64)
    cdef uint32_t[:, ::1] b = buf
    cdef int64_t[:, ::1] ob = offs
    cdef uint32_t* cur = &b[0, 0]
    cdef uint32_t* nxt = &b[1, 0]
    cdef int64_t* cur_off = &ob[0, 0]
    cdef int64_t* nxt_off = &ob[1, 0]
    cdef uint32_t* t
    cdef int64_t* to
    cdef int64_t m = offsets[1] - offsets[0]
    cdef Py_ssize_t i
    with nogil:
        if n > 2 and _canonical(pc, &offsets[0], n):
            if total > 0:
                memcpy(cur, pc + o0, total * sizeof(uint32_t))
            for i in range(n + 1):
                cur_off[i] = offsets[i] - o0
            k = n
            while k > 1:
                k = _merge_pairs(cur, cur_off, k, intersect, nxt, nxt_off)
                t = cur
                cur = nxt
                nxt = t
                to = cur_off
                cur_off = nxt_off
                nxt_off = to
            m = cur_off[1]
        else:
            # maskApi.c's order: left to right.
            if m > 0:
                memcpy(cur, pc + o0, m * sizeof(uint32_t))
            for i in range(1, n):
                m = _merge_two(cur, m, pc + offsets[i], offsets[i + 1] - offsets[i],
                               intersect, nxt)
                t = cur
                cur = nxt
                nxt = t
    return buf[0 if cur == &b[0, 0] else 1, :m].copy()


# -------------------------------------------------------------------------- iou
def iou_matrix(counts_d, off_d, bb_d, area_d, counts_g, off_g, bb_g, area_g, crowd):
    """maskApi.c rleIou: (m, n) float64, ``[d, g]`` as pycocotools' ``iou``.

    ``bb_*`` are the (k, 4) rleToBbox boxes, ``area_*`` the rleArea areas and
    ``crowd`` one flag per GT (crowd: intersection over the detection's area).
    """
    cdef const uint32_t[::1] cd = np.ascontiguousarray(counts_d, np.uint32)
    cdef const int64_t[::1] od = np.ascontiguousarray(off_d, np.int64)
    cdef const double[:, ::1] bd = np.ascontiguousarray(bb_d, np.float64).reshape(-1, 4)
    cdef const int64_t[::1] ad = np.ascontiguousarray(area_d, np.int64)
    cdef const uint32_t[::1] cg = np.ascontiguousarray(counts_g, np.uint32)
    cdef const int64_t[::1] og = np.ascontiguousarray(off_g, np.int64)
    cdef const double[:, ::1] bg = np.ascontiguousarray(bb_g, np.float64).reshape(-1, 4)
    cdef const int64_t[::1] ag = np.ascontiguousarray(area_g, np.int64)
    cdef const uint8_t[::1] cr = np.ascontiguousarray(crowd).astype(np.uint8, copy=False)
    cdef Py_ssize_t m = od.shape[0] - 1, n = og.shape[0] - 1
    out = np.zeros((m, n), np.float64)
    cdef double[:, ::1] o = out
    if m <= 0 or n <= 0:
        return out
    # Most pairs are rejected by their boxes: the pair count measures the work.
    cdef int nt = _threads(m * n >= 250_000)
    cdef Py_ssize_t d
    if nt > 1:
        for d in prange(m, nogil=True, num_threads=nt, schedule="dynamic"):
            _iou_row(&cd[0], &od[0], &bd[0, 0], &ad[0], &cg[0], &og[0], &bg[0, 0], &ag[0],
                     &cr[0], d, n, &o[d, 0])
    else:
        with nogil:
            for d in range(m):
                _iou_row(&cd[0], &od[0], &bd[0, 0], &ad[0], &cg[0], &og[0], &bg[0, 0], &ag[0],
                         &cr[0], d, n, &o[d, 0])
    return out


cdef inline void _iou_row(const uint32_t* cd, const int64_t* od, const double* bd,
                          const int64_t* ad, const uint32_t* cg, const int64_t* og,
                          const double* bg, const int64_t* ag, const uint8_t* crowd,
                          Py_ssize_t d, Py_ssize_t n, double* out) noexcept nogil:
    # Row d of the IoU matrix: detection d against the n GTs (boxes: 4 doubles a row).
    cdef Py_ssize_t g
    for g in range(n):
        out[g] = rle_pair_iou(cd, od[d], od[d + 1], bd + 4 * d, ad[d],
                              cg, og[g], og[g + 1], bg + 4 * g, ag[g], crowd[g] != 0)


def box_iou_matrix(dt, gt, crowd):
    """maskApi.c bbIou: (m, n) float64 IoU of xywh boxes ``dt`` (m, 4) and ``gt`` (n, 4).

    A crowd GT (``crowd[j]`` true) scores intersection over the detection's area.
    """
    cdef const double[:, ::1] d = np.ascontiguousarray(dt, np.float64).reshape(-1, 4)
    cdef const double[:, ::1] g = np.ascontiguousarray(gt, np.float64).reshape(-1, 4)
    cdef const uint8_t[::1] cr = np.ascontiguousarray(crowd).astype(np.uint8, copy=False)
    cdef Py_ssize_t m = d.shape[0], n = g.shape[0], i, j
    out = np.zeros((m, n), np.float64)
    cdef double[:, ::1] o = out
    with nogil:
        for i in range(m):
            for j in range(n):
                o[i, j] = box_iou_coco(d[i, 0], d[i, 1], d[i, 2], d[i, 3],
                                       g[j, 0], g[j, 1], g[j, 2], g[j, 3], cr[j] != 0)
    return out


# ---------------------------------------------------------------- polygon -> RLE
cdef inline int64_t _c_int(double x) noexcept nogil:
    # C's (int) cast of a double truncates toward zero.
    return <int64_t>x


cdef inline int64_t _pymod(int64_t a, int64_t b) noexcept nogil:
    # Python's a % b (b > 0): the result takes b's sign; C's % truncates toward zero.
    cdef int64_t r = a % b
    return r + b if r < 0 else r


cdef inline int64_t _iabs(int64_t a) noexcept nogil:
    return -a if a < 0 else a


cdef inline int64_t _crossing(int64_t pu, int64_t pv, int64_t cu, int64_t cv, int64_t h,
                              int64_t w, int64_t* xs_out, int64_t* ys_out,
                              int64_t m) noexcept nogil:
    # maskApi.c rleFrPoly, "get points along y-boundary and downsample", for one step.
    # floor and ceil of non-negative values as integer truncation (no libm call: the
    # portable build has no SSE4.1 rounding instruction); same values.
    cdef double xd, yd
    cdef int64_t yi
    if cu == pu:
        return m
    xd = <double>(cu if cu < pu else cu - 1)
    xd = (xd + 0.5) / 5.0 - 0.5
    if xd < 0 or xd > w - 1 or <double>(<int64_t>xd) != xd:  # C: floor(xd) != xd
        return m
    yd = <double>(cv if cv < pv else pv)
    yd = (yd + 0.5) / 5.0 - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = <double>h
    yi = <int64_t>yd
    if <double>yi < yd:  # C: ceil(yd)
        yi += 1
    xs_out[m] = <int64_t>xd
    ys_out[m] = yi
    return m + 1


cdef inline int64_t _u_at(int64_t xs, double s, int64_t dy, bint flip,
                          int64_t d) noexcept nogil:
    # The upsampled x of step d of a y-major edge.
    cdef int64_t t = dy - d if flip else d
    return _c_int(xs + s * t + 0.5)


cdef inline bint _reached(int64_t xs, double s, int64_t dy, bint flip, int64_t d,
                          int64_t target, bint rising) noexcept nogil:
    # Whether step d's u has reached target: u >= target (rising) or u <= target.
    cdef int64_t u = _u_at(xs, s, dy, flip, d)
    return u >= target if rising else u <= target


cdef int64_t _first_step(int64_t xs, double s, int64_t dy, bint flip, int64_t target,
                         bint rising, int64_t lo) noexcept nogil:
    # Smallest step d in [lo, dy] whose u has reached target (dy if none). Along the
    # edge u moves monotonically towards its end, so "reached" is false, then true, in
    # d: start from the straight line's answer and step to the exact first d (the
    # exact u, so the same d as a bisection over [1, dy], for lo at most that d).
    cdef double t = (target - 0.5 - xs) / s
    cdef double de = dy - t if flip else t
    cdef int64_t d
    if not de > lo:
        d = lo
    elif de >= dy:
        d = dy
    else:
        d = <int64_t>de
    while d > lo and _reached(xs, s, dy, flip, d - 1, target, rising):
        d -= 1
    while d < dy and not _reached(xs, s, dy, flip, d, target, rising):
        d += 1
    return d


cdef inline int64_t _y_major_crossing(int64_t xs, int64_t ys, double s, int64_t dy,
                                      bint flip, int64_t d, int64_t h, int64_t w,
                                      int64_t* cx, int64_t* cy, int64_t m) noexcept nogil:
    # _crossing for step d of a y-major edge (from step d - 1).
    cdef int64_t t = dy - d if flip else d
    cdef int64_t tp = dy - (d - 1) if flip else d - 1
    return _crossing(_c_int(xs + s * tp + 0.5), tp + ys, _c_int(xs + s * t + 0.5), t + ys,
                     h, w, cx, cy, m)


cdef int64_t _poly_crossings(const int64_t* x, const int64_t* y, int64_t k, int64_t h,
                             int64_t w, int64_t* cx, int64_t* cy) noexcept nogil:
    # The crossings of pixel-centre columns of the closed upsampled polygon x, y
    # (k + 1 points, the last the first); returns their number.
    cdef int64_t m = 0, j, xs, xe, ys, ye, dx, dy, t, t0, tl, tp, cu, cv, d, first
    cdef int64_t pu = 0, pv = 0, u_end, first_u, uu, uend, dlo, dhi, dend
    cdef bint have_prev = False, flip
    cdef double s
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = _iabs(xe - xs)
        dy = _iabs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            t = xs
            xs = xe
            xe = t
            t = ys
            ys = ye
            ye = t
        if dx >= dy:
            # C divides 0/0 for a repeated vertex; that point never crosses a column.
            s = <double>(ye - ys) / dx if dx != 0 else 0.0
            # d = 0 continues from the previous edge's last point.
            t0 = dx if flip else 0
            cu = t0 + xs
            cv = _c_int(ys + s * t0 + 0.5)
            if have_prev:
                m = _crossing(pu, pv, cu, cv, h, w, cx, cy, m)
            have_prev = True
            # Inside the edge u moves by one per step; only u = 5k+3 (rising) or
            # u = 5k+2 (falling) passes a pixel centre.
            if flip:
                first = _pymod(xs + dx - 2, 5)
            else:
                first = _pymod(3 - xs, 5)
            if first == 0:
                first = 5
            d = first
            # Only steps whose u lies in [0, 5w + 5] can give a crossing that _crossing
            # keeps (pixel-centre columns 0 .. w - 1): skip the rest, so the work is
            # bounded by the image width, not by the coordinates (same pixels).
            if flip:
                dlo = xs + dx - (5 * w + 5)
                dhi = xs + dx
            else:
                dlo = -xs
                dhi = 5 * w + 5 - xs
            if dlo > d:
                d += ((dlo - d + 4) // 5) * 5
            dend = dx if dhi > dx else dhi
            while d <= dend:
                t = dx - d if flip else d
                tp = dx - (d - 1) if flip else d - 1
                m = _crossing(tp + xs, _c_int(ys + s * tp + 0.5),
                              t + xs, _c_int(ys + s * t + 0.5), h, w, cx, cy, m)
                d += 5
            tl = 0 if flip else dx
            pu = tl + xs
            pv = _c_int(ys + s * tl + 0.5)
        else:
            s = <double>(xe - xs) / dy
            t0 = dy if flip else 0
            cu = _c_int(xs + s * t0 + 0.5)
            if have_prev:
                m = _crossing(pu, pv, cu, t0 + ys, h, w, cx, cy, m)
            have_prev = True
            # |s| < 1: u moves by at most one per step and monotonically, so each
            # pixel-centre column U is entered at exactly one step, the first whose u
            # reaches U (later columns are entered later: the search starts there).
            tl = 0 if flip else dy
            u_end = _c_int(xs + s * tl + 0.5)
            d = 1
            # columns outside [0, 5w + 5] give no kept crossing (as above): skipped
            if u_end > cu:
                first_u = cu + 1 + _pymod(3 - (cu + 1), 5)
                uu = first_u
                if uu < 0:
                    uu += ((4 - uu) // 5) * 5
                uend = u_end if u_end < 5 * w + 5 else 5 * w + 5
                while uu <= uend:
                    d = _first_step(xs, s, dy, flip, uu, True, d)
                    m = _y_major_crossing(xs, ys, s, dy, flip, d, h, w, cx, cy, m)
                    uu += 5
            elif u_end < cu:
                first_u = cu - 1 - _pymod(cu - 1 - 2, 5)
                uu = first_u
                if uu > 5 * w + 5:
                    uu -= ((uu - (5 * w + 5) + 4) // 5) * 5
                uend = u_end if u_end > 0 else 0
                while uu >= uend:
                    d = _first_step(xs, s, dy, flip, uu, False, d)
                    m = _y_major_crossing(xs, ys, s, dy, flip, d, h, w, cx, cy, m)
                    uu -= 5
            pu = u_end
            pv = tl + ys
    return m


cdef int _sort_positions(const int64_t* cx, const int64_t* cy, int64_t m, int64_t h,
                         int64_t* a) noexcept nogil:
    # a[0:m] = sorted x*h + y of the crossings: bucket by column (few rows each), then
    # insertion sort. -1 when out of memory.
    cdef int64_t x0, x1, j, c, i, kk, v, nb
    cdef int64_t* start
    cdef int64_t* fill
    if m == 0:
        return 0
    x0 = cx[0]
    x1 = cx[0]
    for j in range(m):
        if cx[j] < x0:
            x0 = cx[j]
        if cx[j] > x1:
            x1 = cx[j]
    nb = x1 - x0 + 2
    start = <int64_t*>calloc(2 * nb, sizeof(int64_t))
    if start == NULL:
        return -1
    fill = start + nb
    for j in range(m):
        start[cx[j] - x0 + 1] += 1
    for c in range(1, nb):
        start[c] += start[c - 1]
    memcpy(fill, start, (nb - 1) * sizeof(int64_t))
    for j in range(m):
        c = cx[j] - x0
        a[fill[c]] = cx[j] * h + cy[j]
        fill[c] += 1
    for c in range(nb - 1):
        for i in range(start[c] + 1, start[c + 1]):
            v = a[i]
            kk = i - 1
            while kk >= start[c] and a[kk] > v:
                a[kk + 1] = a[kk]
                kk -= 1
            a[kk + 1] = v
    free(start)
    return 0


cdef int64_t _positions_to_counts(int64_t* a, int64_t m, int64_t h, int64_t w,
                                  uint32_t* b) noexcept nogil:
    # maskApi.c rleFrPoly, "compute rle encoding given y-boundary points": sorted run
    # starts a[0:m] (a has room for m + 1) into counts b; returns their number.
    cdef int64_t p = 0, t, j, nb, kk
    a[m] = h * w
    for j in range(m + 1):
        t = a[j]
        a[j] -= p
        p = t
    nb = 1
    b[0] = <uint32_t>a[0]
    j = 1
    kk = m + 1
    while j < kk:
        if a[j] > 0:
            b[nb] = <uint32_t>a[j]
            nb += 1
            j += 1
        else:
            j += 1
            if j < kk:
                b[nb - 1] += <uint32_t>a[j]
                j += 1
    return nb


cdef inline int64_t _poly_bound(const double* xy, int64_t k, int64_t w) noexcept nogil:
    # Room poly_to_counts needs for a polygon of k points: one crossing at each edge
    # start, then at most one per 5 upsampled columns (C's truncation toward zero can
    # widen a steep edge's column range by 2), plus the ends. _poly_crossings walks
    # only the columns [0, 5w + 5] of an edge: at most w + 2 steps of 5.
    cdef int64_t b = 3, j, jn, x0, x1, per
    for j in range(k):
        jn = j + 1 if j + 1 < k else 0
        x0 = _c_int(5.0 * xy[2 * j] + 0.5)
        x1 = _c_int(5.0 * xy[2 * jn] + 0.5)
        per = (_iabs(x1 - x0) + 2) // 5
        b += (per if per < w + 2 else w + 2) + 3
    return b


cdef int64_t _poly_counts(const double* xy, int64_t k, int64_t h, int64_t w,
                          uint32_t* out) noexcept nogil:
    # maskApi.c rleFrPoly of the polygon xy[0:2k] into out (room for _poly_bound);
    # returns the number of counts, -1 when out of memory.
    cdef int64_t j, cap, m, nb
    cdef int64_t* x
    cdef int64_t* y
    cdef int64_t* cx
    cdef int64_t* cy
    cdef int64_t* a
    cap = _poly_bound(xy, k, w)
    x = <int64_t*>malloc((2 * (k + 1) + 3 * cap + 1) * sizeof(int64_t))
    if x == NULL:
        return -1
    y = x + (k + 1)
    cx = y + (k + 1)
    cy = cx + cap
    a = cy + cap
    for j in range(k):
        x[j] = _c_int(5.0 * xy[j * 2 + 0] + 0.5)
        y[j] = _c_int(5.0 * xy[j * 2 + 1] + 0.5)
    if k > 0:
        x[k] = x[0]
        y[k] = y[0]
    m = _poly_crossings(x, y, k, h, w, cx, cy)
    if _sort_positions(cx, cy, m, h, a) != 0:
        free(x)
        return -1
    nb = _positions_to_counts(a, m, h, w, out)
    free(x)
    return nb


def poly_to_counts(xy, int64_t h, int64_t w):
    """maskApi.c rleFrPoly: polygon ``xy`` (2k,) float64 -> counts (uint32).

    The C code upsamples the boundary by 5, traces it point by point and keeps the
    points where it crosses a pixel-centre column (x = 5k + 2.5 upsampled). This
    kernel produces the same point sequence without storing it, and on edges that
    advance one column per step it evaluates only the steps that can cross
    (every fifth), with the same float64 expressions, so the pixels are identical.
    """
    cdef const double[::1] p = np.ascontiguousarray(xy, np.float64).reshape(-1)
    cdef int64_t k = p.shape[0] // 2
    out = np.empty(_poly_bound(&p[0], k, w), np.uint32)
    cdef uint32_t[::1] o = out
    cdef int64_t nb
    with nogil:
        nb = _poly_counts(&p[0], k, h, w, &o[0])
    if nb < 0:
        raise MemoryError()
    return out[:nb].copy()


def poly_to_counts_reference(xy, int64_t h, int64_t w):
    """maskApi.c rleFrPoly, ported line by line (the oracle for :func:`poly_to_counts`).

    The boundary is upsampled by 5, traced with integer steps, and its crossings
    of pixel-centre columns are downsampled to run starts, exactly as in C.
    """
    cdef const double[::1] p = np.ascontiguousarray(xy, np.float64).reshape(-1)
    cdef int64_t k = p.shape[0] // 2
    cdef double scale = 5.0
    cdef int64_t[::1] x = np.empty(k + 1, np.int64)
    cdef int64_t[::1] y = np.empty(k + 1, np.int64)
    cdef int64_t j, m, xs, xe, ys, ye, dx, dy, t, d, kk
    cdef bint flip
    cdef double s, xd, yd
    for j in range(k):
        x[j] = _c_int(scale * p[j * 2 + 0] + 0.5)
    x[k] = x[0]
    for j in range(k):
        y[j] = _c_int(scale * p[j * 2 + 1] + 0.5)
    y[k] = y[0]
    m = 0
    for j in range(k):
        m += max(_iabs(x[j] - x[j + 1]), _iabs(y[j] - y[j + 1])) + 1
    cdef int64_t[::1] u = np.empty(m, np.int64)
    cdef int64_t[::1] v = np.empty(m, np.int64)
    m = 0
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = _iabs(xe - xs)
        dy = _iabs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            t = xs
            xs = xe
            xe = t
            t = ys
            ys = ye
            ye = t
        if dx >= dy:
            s = <double>(ye - ys) / dx if dx != 0 else 0.0
            for d in range(dx + 1):
                t = dx - d if flip else d
                u[m] = t + xs
                v[m] = _c_int(ys + s * t + 0.5)
                m += 1
        else:
            s = <double>(xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v[m] = t + ys
                u[m] = _c_int(xs + s * t + 0.5)
                m += 1
    kk = m
    cdef int64_t[::1] xa = np.empty(kk, np.int64)
    cdef int64_t[::1] ya = np.empty(kk, np.int64)
    m = 0
    for j in range(1, kk):
        if u[j] != u[j - 1]:
            xd = <double>(u[j] if u[j] < u[j - 1] else u[j] - 1)
            xd = (xd + 0.5) / scale - 0.5
            if floor(xd) != xd or xd < 0 or xd > w - 1:
                continue
            yd = <double>(v[j] if v[j] < v[j - 1] else v[j - 1])
            yd = (yd + 0.5) / scale - 0.5
            if yd < 0:
                yd = 0.0
            elif yd > h:
                yd = <double>h
            yd = ceil(yd)
            xa[m] = <int64_t>xd
            ya[m] = <int64_t>yd
            m += 1
    a_arr = np.empty(m + 1, np.int64)
    cdef int64_t[::1] a = a_arr
    for j in range(m):
        a[j] = xa[j] * h + ya[j]
    a[m] = h * w
    a_arr.sort()
    b_arr = np.empty(m + 1, np.uint32)
    cdef uint32_t[::1] b = b_arr
    # The C code's tail: run starts to run lengths (a[m] = h * w stays the largest).
    cdef int64_t nb = _positions_to_counts(&a[0], m, h, w, &b[0])
    return b_arr[:nb].copy()


# ------------------------------------------------- rle._table: polygons -> table
def ann_bounds(const double[::1] xy, const int64_t[::1] poly_off, const int64_t[::1] ann_off,
               const int64_t[::1] widths):
    """Slot offsets (n + 1,) int64: room for each annotation's merged polygon counts.

    A polygon has at most one run boundary per pixel column its (x5 upsampled) edges
    pass, plus the ends; a union of polygons at most their counts together.
    """
    cdef Py_ssize_t n = ann_off.shape[0] - 1
    out = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] o = out
    cdef Py_ssize_t i
    cdef int64_t p, tot
    with nogil:
        for i in range(n):
            tot = 1
            for p in range(ann_off[i], ann_off[i + 1]):
                tot += _poly_bound(&xy[0] + poly_off[p], (poly_off[p + 1] - poly_off[p]) // 2,
                                   widths[i])
                tot += 1
            o[i + 1] = o[i] + tot
    return out


cdef int64_t _ann_counts(const double* xy, const int64_t* poly_off, int64_t p0, int64_t p1,
                         int64_t h, int64_t w, uint32_t* slot, int64_t cap) noexcept nogil:
    # maskApi.c rleFrPoly per polygon, then rleMerge (union): COCO.annToRLE, into slot
    # (room for cap counts); returns the number of counts, -1 when out of memory.
    cdef int64_t nb, mb, p
    cdef uint32_t* tmp
    nb = _poly_counts(xy + poly_off[p0], (poly_off[p0 + 1] - poly_off[p0]) // 2, h, w, slot)
    if nb < 0 or p1 - p0 == 1:
        return nb
    tmp = <uint32_t*>malloc(2 * cap * sizeof(uint32_t))
    if tmp == NULL:
        return -1
    for p in range(p0 + 1, p1):
        mb = _poly_counts(xy + poly_off[p], (poly_off[p + 1] - poly_off[p]) // 2, h, w, tmp)
        if mb < 0:
            nb = -1
            break
        nb = _merge_two(slot, nb, tmp, mb, False, tmp + cap)
        memcpy(slot, tmp + cap, nb * sizeof(uint32_t))
    free(tmp)
    return nb


def polys_to_slots(xy, poly_off, ann_off, heights, widths, bint big):
    """Rasterise and merge each annotation's polygons (``COCO.annToRLE``) into slots.

    Annotation ``i``'s counts are ``buf[bound_off[i]:bound_off[i] + n_out[i]]``;
    returns ``(buf, bound_off, n_out)``. ``big``: split the annotations across threads.
    """
    cdef const double[::1] pxy = np.ascontiguousarray(xy, np.float64)
    cdef const int64_t[::1] po = np.ascontiguousarray(poly_off, np.int64)
    cdef const int64_t[::1] ao = np.ascontiguousarray(ann_off, np.int64)
    cdef const int64_t[::1] hh = np.ascontiguousarray(heights, np.int64)
    cdef const int64_t[::1] ww = np.ascontiguousarray(widths, np.int64)
    bound_off = ann_bounds(pxy, po, ao, ww)
    cdef const int64_t[::1] bo = bound_off
    cdef Py_ssize_t n = ao.shape[0] - 1
    buf = np.empty(bo[n], np.uint32)
    n_out = np.zeros(n, np.int64)
    cdef uint32_t[::1] b = buf
    cdef int64_t[::1] no = n_out
    cdef int nt = _threads(big)
    cdef Py_ssize_t i
    if n <= 0:
        return buf, bound_off, n_out
    # Each annotation writes only inside its own bounded slot of buf.
    if nt > 1:
        for i in prange(n, nogil=True, num_threads=nt, schedule="dynamic"):
            no[i] = _ann_counts(&pxy[0], &po[0], ao[i], ao[i + 1], hh[i], ww[i],
                                &b[0] + bo[i], bo[i + 1] - bo[i])
    else:
        with nogil:
            for i in range(n):
                no[i] = _ann_counts(&pxy[0], &po[0], ao[i], ao[i + 1], hh[i], ww[i],
                                    &b[0] + bo[i], bo[i + 1] - bo[i])
    if (n_out < 0).any():
        raise MemoryError()
    return buf, bound_off, n_out


def compact(const uint32_t[::1] buf, const int64_t[::1] bound_off, const int64_t[::1] n_out):
    """The slots of :func:`polys_to_slots` packed: ``(counts, offsets)``."""
    cdef Py_ssize_t n = n_out.shape[0], i
    off = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] o = off
    for i in range(n):
        o[i + 1] = o[i] + n_out[i]
    counts = np.empty(o[n], np.uint32)
    cdef uint32_t[::1] c = counts
    with nogil:
        for i in range(n):
            if n_out[i] > 0:
                memcpy(&c[0] + o[i], &buf[0] + bound_off[i], n_out[i] * sizeof(uint32_t))
    return counts, off


def interleave(const uint32_t[::1] src_a, const int64_t[::1] start_a,
               const int64_t[::1] len_a, const int64_t[::1] rows_a,
               const uint32_t[::1] src_b, const int64_t[::1] start_b,
               const int64_t[::1] len_b, const int64_t[::1] rows_b,
               const int64_t[::1] off):
    """One counts array in row order from two sources: row ``rows_a[k]`` takes
    ``src_a[start_a[k]:start_a[k] + len_a[k]]`` (likewise b); ``off`` the row offsets."""
    out = np.empty(off[off.shape[0] - 1], np.uint32)
    cdef uint32_t[::1] o = out
    cdef Py_ssize_t k
    with nogil:
        for k in range(rows_a.shape[0]):
            if len_a[k] > 0:
                memcpy(&o[0] + off[rows_a[k]], &src_a[0] + start_a[k],
                       len_a[k] * sizeof(uint32_t))
        for k in range(rows_b.shape[0]):
            if len_b[k] > 0:
                memcpy(&o[0] + off[rows_b[k]], &src_b[0] + start_b[k],
                       len_b[k] * sizeof(uint32_t))
    return out


def gather_u32(const uint32_t[::1] src, const int64_t[::1] offsets, const int64_t[::1] order,
               const int64_t[::1] new_off):
    """Rows ``order`` of a flat uint32 table (``src``, ``offsets``), packed at ``new_off``."""
    out = np.empty(new_off[new_off.shape[0] - 1], np.uint32)
    cdef uint32_t[::1] o = out
    cdef Py_ssize_t k
    cdef int64_t i, ln
    with nogil:
        for k in range(order.shape[0]):
            i = order[k]
            ln = offsets[i + 1] - offsets[i]
            if ln > 0:
                memcpy(&o[0] + new_off[k], &src[0] + offsets[i], ln * sizeof(uint32_t))
    return out


def gather_f64(const double[::1] src, const int64_t[::1] offsets, const int64_t[::1] order,
               const int64_t[::1] new_off):
    """Rows ``order`` of a flat float64 table (``src``, ``offsets``), packed at ``new_off``."""
    out = np.empty(new_off[new_off.shape[0] - 1], np.float64)
    cdef double[::1] o = out
    cdef Py_ssize_t k
    cdef int64_t i, ln
    with nogil:
        for k in range(order.shape[0]):
            i = order[k]
            ln = offsets[i + 1] - offsets[i]
            if ln > 0:
                memcpy(&o[0] + new_off[k], &src[0] + offsets[i], ln * sizeof(double))
    return out


# ------------------------------------------------------------- boundary bands
cdef void _erode_segments(const uint8_t* src, uint8_t* dst, int64_t n_lines,
                          int64_t line_len, int64_t stride_line, int64_t stride_px,
                          int64_t d) noexcept nogil:
    # Erosion by a (2d+1) segment along each line, zero outside: of every foreground
    # segment [a, b) keep [a + d, b - d).
    cdef int64_t li, yy, y_end, t
    for li in range(n_lines):
        yy = 0
        while yy < line_len:
            if src[li * stride_line + yy * stride_px] == 0:
                yy += 1
                continue
            y_end = yy
            while y_end < line_len and src[li * stride_line + y_end * stride_px] != 0:
                y_end += 1
            for t in range(yy + d, y_end - d):
                dst[li * stride_line + t * stride_px] = 1
            yy = y_end


cdef int _boundary_one(const uint32_t* counts, int64_t s, int64_t e, int64_t h, int64_t w,
                       int64_t d, U32Vec* vec) noexcept nogil:
    # The band of one mask appended to vec as RLE counts; -1 when out of memory.
    cdef double bb[4]
    cdef int64_t area, x0, y0, nx, ny, x, y, j, c, left, cx, cy, take, lo, hi, t
    cdef int64_t xi, yy, y_end, m, prev_end, base, start, rem
    cdef bint fg_open
    cdef uint32_t one
    cdef uint8_t* blk
    cdef uint8_t* ver
    cdef uint8_t* ero
    cdef uint32_t* runs
    cdef int rc
    area = rle_area_one(counts, s, e)
    if area == 0:
        one = <uint32_t>(h * w)
        return _vec_append(vec, &one, 1)
    # The mask's box: outside it everything is background, so eroding the crop with
    # a zero border equals eroding the image with a zero border.
    rle_bbox_one(counts, s, e, h, w, bb)
    x0 = <int64_t>bb[0]
    y0 = <int64_t>bb[1]
    nx = <int64_t>bb[2]
    ny = <int64_t>bb[3]
    blk = <uint8_t*>calloc(3 * nx * ny, 1)
    runs = <uint32_t*>malloc((2 * nx * (ny + 1) + 2) * sizeof(uint32_t))
    if blk == NULL or runs == NULL:
        free(blk)
        free(runs)
        return -1
    ver = blk + nx * ny
    ero = ver + nx * ny
    # The crop blk[xi * ny + yi], filled run by run, column by column.
    x = 0
    y = 0
    for j in range(s, e):
        c = counts[j]
        if (j - s) % 2 == 1:
            left = c
            cx = x
            cy = y
            while left > 0:
                take = left if left < h - cy else h - cy
                lo = cy if cy > y0 else y0
                hi = cy + take if cy + take < y0 + ny else y0 + ny
                if cx >= x0 and cx < x0 + nx:
                    for t in range(lo, hi):
                        blk[(cx - x0) * ny + t - y0] = 1
                left -= take
                cy += take
                if cy == h:
                    cy = 0
                    cx += 1
        _rle_advance(&x, &y, c, h)
    # Erosion by a (2d+1)^2 square = vertical then horizontal (2d+1) segment; the
    # border is background (Cheng et al. 2021 pad with zeros before eroding).
    _erode_segments(blk, ver, nx, ny, ny, 1, d)
    _erode_segments(ver, ero, ny, nx, 1, ny, d)
    # rleEncode of band = mask & ~eroded, in image coordinates (column-major).
    m = 0
    prev_end = 0  # linear index after the last foreground run
    fg_open = False
    for xi in range(nx):
        base = (x0 + xi) * h + y0
        yy = 0
        while yy < ny:
            if blk[xi * ny + yy] == 0 or ero[xi * ny + yy] != 0:
                yy += 1
                continue
            y_end = yy
            while y_end < ny and blk[xi * ny + y_end] != 0 and ero[xi * ny + y_end] == 0:
                y_end += 1
            start = base + yy
            if fg_open and start == prev_end:
                runs[m - 1] += <uint32_t>(y_end - yy)  # continues across a column boundary
            else:
                runs[m] = <uint32_t>(start - prev_end)
                runs[m + 1] = <uint32_t>(y_end - yy)
                m += 2
                fg_open = True
            prev_end = base + y_end
            yy = y_end
    rem = h * w - prev_end
    # rleEncode ends with the last run: no empty background run after the mask.
    if rem > 0 or m == 0:
        runs[m] = <uint32_t>rem
        m += 1
    rc = _vec_append(vec, runs, m)
    free(blk)
    free(runs)
    return rc


def boundary_counts(counts, offsets, heights, widths, dil):
    """Boundary band of every mask (Cheng et al., CVPR 2021, Sec. 3): RLE counts.

    The band holds the mask pixels within chessboard distance ``dil[i]`` of the
    background, the outside of the image counting as background. Returns a flat
    counts table (uint32) and offsets (int64).
    """
    cdef const uint32_t[::1] c = np.ascontiguousarray(counts, np.uint32)
    cdef const int64_t[::1] off = np.ascontiguousarray(offsets, np.int64)
    cdef const int64_t[::1] hh = np.ascontiguousarray(heights, np.int64)
    cdef const int64_t[::1] ww = np.ascontiguousarray(widths, np.int64)
    cdef const int64_t[::1] dd = np.ascontiguousarray(dil, np.int64)
    cdef Py_ssize_t n = off.shape[0] - 1, i
    out_off = np.empty(n + 1, np.int64)
    cdef int64_t[::1] oo = out_off
    cdef U32Vec vec
    cdef int bad = 0
    vec.data = NULL
    vec.size = 0
    vec.cap = 0
    with nogil:
        for i in range(n):
            oo[i] = vec.size
            if _boundary_one(&c[0], off[i], off[i + 1], hh[i], ww[i], dd[i], &vec) != 0:
                bad = 1
                break
        oo[n] = vec.size
    if bad:
        free(vec.data)
        raise MemoryError()
    return _vec_to_array(&vec), out_off
