# cython: language_level=3
"""Run-length walk primitives shared by the kernels that read COCO RLE counts.

An RLE is ``counts[s:e]`` of a flat ``uint32`` counts table (``rle._table`` and the
JSON loader ``io._jsonseg`` both store counts as ``uint32`` with ``int64`` offsets):
alternating background / foreground run lengths over the mask's pixels in
column-major order (``h`` pixels per column, ``w`` columns), background first.

Inline C functions over raw pointers, ``cimport``-ed by ``ioukit.rle._kernels``,
``ioukit.coco._segm`` and ``ioukit.io._jsonseg``, so the walks live once. Each follows
pycocotools' ``common/maskApi.c`` (2.0.11) so results are bit-identical. Call them
with ``&counts[0]`` of a ``const uint32_t[::1]`` memoryview (``s == e`` reads nothing).
"""

from libc.stdint cimport int64_t, uint32_t

from ioukit.geometry._primitives cimport box_iou_coco


cdef inline int64_t rle_area_one(const uint32_t* counts, int64_t s,
                                 int64_t e) noexcept nogil:
    """maskApi.c rleArea: the sum of the odd-indexed (foreground) counts of counts[s:e]."""
    cdef int64_t a = 0
    cdef int64_t j
    for j in range(s + 1, e, 2):
        a += counts[j]
    return a


cdef inline void _rle_advance(int64_t* x, int64_t* y, int64_t c,
                              int64_t h) noexcept nogil:
    # Move the position (column x, row y) on by c pixels, column-major, h rows per
    # column: a division only for a step of two columns or more. h <= 0 leaves the
    # position as it is (no division by zero; such a mask has no pixels).
    cdef int64_t q
    y[0] += c
    if y[0] >= h and h > 0:
        if y[0] < 2 * h:
            x[0] += 1
            y[0] -= h
        else:
            q = y[0] // h
            x[0] += q
            y[0] -= q * h


cdef inline void rle_bbox_one(const uint32_t* counts, int64_t s, int64_t e, int64_t h,
                              int64_t w, double* out) noexcept nogil:
    """maskApi.c rleToBbox (2.0.11) of counts[s:e] into out[0:4] = [x, y, w, h].

    A foreground run spanning columns fills the box's height (rows 0 .. h - 1), as the
    C code does. An odd trailing count is ignored (the C code rounds m down to even).
    """
    cdef int64_t m = ((e - s) // 2) * 2
    cdef int64_t xs, ys, xe, ye, x, y, x_end, y_end, cnt, j
    out[0] = 0.0
    out[1] = 0.0
    out[2] = 0.0
    out[3] = 0.0
    if m <= 0:
        return
    xs = w
    ys = h
    xe = 0
    ye = 0
    # The run start as (column, row), tracked incrementally: a division only for runs
    # of a column or more, not two per run as the C code does.
    x = 0
    y = 0
    for j in range(m):
        cnt = counts[s + j]
        if j % 2 == 0 or cnt == 0:
            _rle_advance(&x, &y, cnt, h)
            continue
        x_end = x
        y_end = y
        _rle_advance(&x_end, &y_end, cnt - 1, h)
        if x < xs:
            xs = x
        if x_end > xe:
            xe = x_end
        if x < x_end:
            ys = 0
            ye = h - 1
        else:
            if y < ys:
                ys = y
            if y_end > ye:
                ye = y_end
        x = x_end
        y = y_end
        _rle_advance(&x, &y, 1, h)
    # maskApi.c stores uint arithmetic: with no foreground xe - xs + 1 wraps.
    out[0] = <double>xs
    out[1] = <double>ys
    out[2] = <double><uint32_t>(xe - xs + 1)
    out[3] = <double><uint32_t>(ye - ys + 1)


cdef inline int64_t rle_intersection(const uint32_t* counts_a, int64_t sa_, int64_t ea_,
                                     const uint32_t* counts_b, int64_t sb_,
                                     int64_t eb_) noexcept nogil:
    """|a & b| in pixels of two RLEs of one image size (counts_a[sa_:ea_], counts_b[sb_:eb_]).

    Merges the two masks' foreground intervals [start, end) (odd runs, positions
    accumulated on the fly); stops when either mask has no interval left, stepping over
    whole foreground runs rather than every run boundary as maskApi.c rleIou does (the
    count is the same integer).
    """
    cdef int64_t ia = sa_ + 1
    cdef int64_t ib = sb_ + 1
    cdef int64_t sa, ea, sb, eb, lo, hi
    cdef int64_t inter = 0
    if ia >= ea_ or ib >= eb_:
        return 0
    sa = counts_a[sa_]
    ea = sa + counts_a[ia]
    sb = counts_b[sb_]
    eb = sb + counts_b[ib]
    while True:
        lo = sa if sa > sb else sb
        hi = ea if ea < eb else eb
        if hi > lo:
            inter += hi - lo
        if ea <= eb:
            if ia + 2 >= ea_:
                break
            sa = ea + counts_a[ia + 1]
            ea = sa + counts_a[ia + 2]
            ia += 2
        else:
            if ib + 2 >= eb_:
                break
            sb = eb + counts_b[ib + 1]
            eb = sb + counts_b[ib + 2]
            ib += 2
    return inter


cdef inline double rle_pair_iou(const uint32_t* counts_d, int64_t sd, int64_t ed,
                                const double* bb_d, int64_t area_d,
                                const uint32_t* counts_g, int64_t sg, int64_t eg,
                                const double* bb_g, int64_t area_g,
                                bint crowd) noexcept nogil:
    """maskApi.c rleIou for one (detection, GT) pair with their xywh boxes and areas.

    As in the C code, bbIou filters: only pairs whose boxes overlap are walked. A crowd
    GT divides by the detection's area; otherwise by the union, which is exactly
    |d| + |g| - |d & g| (both masks' counts cover the same h * w pixels; the loaders
    check it). Disjoint masks give 0.
    """
    cdef int64_t inter, uni
    if not box_iou_coco(bb_d[0], bb_d[1], bb_d[2], bb_d[3],
                        bb_g[0], bb_g[1], bb_g[2], bb_g[3], crowd) > 0:
        return 0.0
    inter = rle_intersection(counts_d, sd, ed, counts_g, sg, eg)
    if inter == 0:
        return 0.0
    uni = area_d if crowd else area_d + area_g - inter
    return <double>inter / <double>uni
