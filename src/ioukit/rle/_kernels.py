"""Numba kernels on the flat RLE table (counts ``uint32`` + ``int64`` offsets).

Each function reproduces the matching routine of pycocotools' common/maskApi.c
(Dollar & Lin, 2015; the ppwwyyxx fork that pycocotools 2.0.11 is built from),
operation for operation where the result is a float, so the numbers agree to
the last bit. Overlaps are computed by walking the two run lists in step, never
by decoding to dense masks.
"""

from __future__ import annotations

import types

import numba
import numpy as np

from .._numba_start import light_numba_start

light_numba_start()  # before any cached kernel loads (see there)

# Below this many runs a kernel runs on one thread: waking the thread pool costs
# more than it saves (and much more on a busy machine).
PARALLEL_MIN_WORK = 2_000_000


def twins(fn):
    """Serial and parallel compilations of ``fn`` (its loops use ``numba.prange``).

    Each gets its own name, hence its own on-disk cache entry.
    """
    out = []
    for suffix, par in (("_serial", False), ("_parallel", True)):
        f = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix)
        f.__qualname__ = fn.__qualname__ + suffix
        f.__module__ = fn.__module__
        out.append(numba.njit(cache=True, parallel=par)(f))
    return tuple(out)


__all__ = [
    "encode_stack",
    "decode_into",
    "areas",
    "bboxes",
    "merge_many",
    "iou_matrix",
    "poly_to_counts",
    "boundary_counts",
]


@numba.njit(cache=True, inline="always")
def _run_step(b, p, c, k, tmp):
    # one pixel of maskApi.c rleEncode: a new run starts where the value changes
    if b != p:
        tmp[k] = c
        k += 1
        c = 0
        p = b
    return p, c + 1, k


@numba.njit(cache=True)
def _pack_runs(parts, total, n):
    # the masks' run lists, one after another, and their offsets
    counts = np.empty(total, np.uint32)
    offsets = np.empty(n + 1, np.int64)
    q = 0
    for i in range(n):
        offsets[i] = q
        counts[q : q + parts[i].size] = parts[i]
        q += parts[i].size
    offsets[n] = q
    return counts, offsets


@numba.njit(cache=True)
def _encode_stack(m3):
    # maskApi.c rleEncode over m3[i, x, y] (any strides): one pass per mask.
    n, w, h = m3.shape
    tmp = np.empty(h * w + 1, np.uint32)
    parts = []
    total = 0
    for i in range(n):
        k = 0
        p = False
        c = 0
        for x in range(w):
            for y in range(h):
                p, c, k = _run_step(m3[i, x, y] != 0, p, c, k, tmp)
        tmp[k] = c
        k += 1
        parts.append(tmp[:k].copy())
        total += k
    return _pack_runs(parts, total, n)


_HI = np.uint64(0x8080808080808080)
_LO = np.uint64(0x0101010101010101)


@numba.njit(cache=True)
def _encode_flat(flat, n, hw):
    # _encode_stack for n contiguous masks of hw uint8 pixels each, eight pixels per
    # step where they all continue the current run: a word of zero bytes continues a
    # background run, a word without a zero byte a foreground one (the has-zero-byte
    # test (v - 0x01..) & ~v & 0x80.. of Warren, Hacker's Delight, 6-1). Runs are
    # long in real masks, so most steps take the fast branch.
    tmp = np.empty(hw + 1, np.uint32)
    parts = []
    total = 0
    n_words = hw // 8
    for i in range(n):
        m = flat[i * hw : (i + 1) * hw]
        words = m[: n_words * 8].view(np.uint64)
        k = 0
        p = False
        c = 0
        for q in range(n_words):
            v = words[q]
            if p:
                if ((v - _LO) & ~v & _HI) == 0:
                    c += 8
                    continue
            elif v == 0:
                c += 8
                continue
            for y in range(q * 8, q * 8 + 8):
                p, c, k = _run_step(m[y] != 0, p, c, k, tmp)
        for y in range(n_words * 8, hw):
            p, c, k = _run_step(m[y] != 0, p, c, k, tmp)
        tmp[k] = c
        k += 1
        parts.append(tmp[:k].copy())
        total += k
    return _pack_runs(parts, total, n)


def encode_stack(m3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """maskApi.c rleEncode: ``m3`` is (n, w, h), i.e. each mask's pixels column-major.

    Returns counts (C,) uint32 and offsets (n + 1,) int64. Nonzero is foreground.
    A C-contiguous one-byte ``m3`` (pycocotools' Fortran-ordered (h, w, n) input,
    transposed) is read eight pixels at a time; anything else pixel by pixel.
    """
    if m3.dtype == np.bool_:
        m3 = m3.view(np.uint8)
    n, w, h = m3.shape
    if m3.dtype.itemsize == 1 and m3.flags.c_contiguous and n * w * h > 0:
        return _encode_flat(m3.reshape(-1).view(np.uint8), n, w * h)
    return _encode_stack(m3)


@numba.njit(cache=True)
def decode_into(counts, offsets, out):
    """maskApi.c rleDecode into ``out`` (n, h*w) uint8, column-major per row."""
    n = offsets.size - 1
    for i in range(n):
        p = 0
        v = 0
        for j in range(offsets[i], offsets[i + 1]):
            c = counts[j]
            if v:
                out[i, p : p + c] = 1
            else:
                out[i, p : p + c] = 0
            p += c
            v = 1 - v


def _areas_impl(counts, offsets):
    """maskApi.c rleArea: sum of the odd-indexed (foreground) counts."""
    n = offsets.size - 1
    out = np.zeros(n, np.int64)
    for i in numba.prange(n):
        a = 0
        for j in range(offsets[i] + 1, offsets[i + 1], 2):
            a += counts[j]
        out[i] = a
    return out


@numba.njit(cache=True, inline="always")
def _advance(x, y, c, h):
    y += c
    if y >= h:
        if y < 2 * h:
            return x + 1, y - h
        q = y // h
        return x + q, y - q * h
    return x, y


@numba.njit(cache=True)
def _bbox_one(counts, s, e, h, w, out):
    # maskApi.c rleToBbox (2.0.11): a foreground run spanning columns fills the height.
    m = ((e - s) // 2) * 2
    out[0] = 0.0
    out[1] = 0.0
    out[2] = 0.0
    out[3] = 0.0
    if m == 0:
        return
    xs = w
    ys = h
    xe = 0
    ye = 0
    # Track the run start as (column, row) incrementally: a division only for runs
    # of a column or more, not two per run as the C code does.
    x = np.int64(0)
    y = np.int64(0)
    for j in range(m):
        cnt = np.int64(counts[s + j])
        if j % 2 == 0 or cnt == 0:
            x, y = _advance(x, y, cnt, h)
            continue
        x_start = x
        y_start = y
        x_end, y_end = _advance(x, y, cnt - 1, h)
        xs = min(xs, x_start)
        xe = max(xe, x_end)
        if x_start < x_end:
            ys = 0
            ye = h - 1
        else:
            ys = min(ys, y_start)
            ye = max(ye, y_end)
        x, y = _advance(x_end, y_end, 1, h)
    # maskApi.c stores uint arithmetic: with no foreground xe - xs + 1 wraps.
    out[0] = xs
    out[1] = ys
    out[2] = np.float64(np.uint32((xe - xs + 1) & 0xFFFFFFFF))
    out[3] = np.float64(np.uint32((ye - ys + 1) & 0xFFFFFFFF))


def _bboxes_impl(counts, offsets, heights, widths):
    """maskApi.c rleToBbox for every RLE: (n, 4) float64 ``[x, y, w, h]``."""
    n = offsets.size - 1
    out = np.zeros((n, 4), np.float64)
    for i in numba.prange(n):
        _bbox_one(counts, offsets[i], offsets[i + 1], heights[i], widths[i], out[i])
    return out


@numba.njit(cache=True)
def _merge_two(a, b, intersect, out):
    # maskApi.c rleMerge inner loop, for one pair; returns the number of counts.
    ca = np.int64(a[0])
    cb = np.int64(b[0])
    v = 0
    va = 0
    vb = 0
    m = 0
    ia = 1
    ib = 1
    cc = np.int64(0)
    ct = 1
    while ct > 0:
        c = min(ca, cb)
        cc += c
        ct = 0
        ca -= c
        if ca == 0 and ia < a.size:
            ca = np.int64(a[ia])
            ia += 1
            va = 1 - va
        ct += ca
        cb -= c
        if cb == 0 and ib < b.size:
            cb = np.int64(b[ib])
            ib += 1
            vb = 1 - vb
        ct += cb
        vp = v
        if intersect:
            v = va & vb
        else:
            v = va | vb
        if v != vp or ct == 0:
            out[m] = cc
            m += 1
            cc = 0
    return m


@numba.njit(cache=True)
def merge_many(counts, offsets, intersect):
    """maskApi.c rleMerge over all RLEs of the table (same size checked by the caller)."""
    n = offsets.size - 1
    cur = counts[offsets[0] : offsets[1]].copy()
    if n == 1:
        return cur
    for i in range(1, n):
        b = counts[offsets[i] : offsets[i + 1]]
        out = np.empty(cur.size + b.size + 1, np.uint32)
        m = _merge_two(cur, b, intersect, out)
        cur = out[:m].copy()
    return cur


@numba.njit(cache=True, inline="always")
def _intersection(counts_d, sd, ed, counts_g, sg, eg):
    # |d & g| by merging the two masks' foreground intervals [start, end) (odd runs,
    # positions accumulated on the fly). Stops when either mask has no interval left,
    # and steps over whole foreground runs rather than over every run boundary of both
    # masks, as maskApi.c rleIou's walk does.
    ia = sd + 1
    ib = sg + 1
    if ia >= ed or ib >= eg:
        return np.int64(0)
    sa = np.int64(counts_d[sd])
    ea = sa + np.int64(counts_d[ia])
    sb = np.int64(counts_g[sg])
    eb = sb + np.int64(counts_g[ib])
    inter = np.int64(0)
    while True:
        lo = max(sa, sb)
        hi = min(ea, eb)
        if hi > lo:
            inter += hi - lo
        if ea <= eb:
            if ia + 2 >= ed:
                break
            sa = ea + np.int64(counts_d[ia + 1])
            ea = sa + np.int64(counts_d[ia + 2])
            ia += 2
        else:
            if ib + 2 >= eg:
                break
            sb = eb + np.int64(counts_g[ib + 1])
            eb = sb + np.int64(counts_g[ib + 2])
            ib += 2
    return inter


@numba.njit(cache=True)
def _pair_iou(counts_d, sd, ed, bd, ad, counts_g, sg, eg, bg, ag, crowd):
    # maskApi.c bbIou acts as a filter: only box-overlapping pairs are walked.
    w = min(bd[2] + bd[0], bg[2] + bg[0]) - max(bd[0], bg[0])
    if w <= 0:
        return 0.0
    h = min(bd[3] + bd[1], bg[3] + bg[1]) - max(bd[1], bg[1])
    if h <= 0:
        return 0.0
    inter = _intersection(counts_d, sd, ed, counts_g, sg, eg)
    # maskApi.c rleIou: u = 1 when disjoint; for crowd GT the union is the detection
    # area; otherwise the walked union, which is exactly |d| + |g| - |d & g| (the
    # counts of both masks cover h * w pixels: the loaders check it)
    if inter == 0:
        return 0.0
    uni = ad if crowd else ad + ag - inter
    return np.float64(inter) / np.float64(uni)


def _iou_matrix_impl(counts_d, off_d, bb_d, area_d, counts_g, off_g, bb_g, area_g, crowd):
    """maskApi.c rleIou: (m, n) float64, ``[d, g]`` as pycocotools' ``iou``."""
    m = off_d.size - 1
    n = off_g.size - 1
    out = np.zeros((m, n), np.float64)
    for d in numba.prange(m):
        for g in range(n):
            out[d, g] = _pair_iou(
                counts_d,
                off_d[d],
                off_d[d + 1],
                bb_d[d],
                area_d[d],
                counts_g,
                off_g[g],
                off_g[g + 1],
                bb_g[g],
                area_g[g],
                crowd[g] != 0,
            )
    return out


_areas_ser, _areas_par = twins(_areas_impl)
_bboxes_ser, _bboxes_par = twins(_bboxes_impl)
_iou_matrix_ser, _iou_matrix_par = twins(_iou_matrix_impl)


def areas(counts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """maskApi.c rleArea: sum of the odd-indexed (foreground) counts, (n,) int64."""
    f = _areas_par if counts.size >= PARALLEL_MIN_WORK else _areas_ser
    return f(counts, offsets)


def bboxes(counts, offsets, heights, widths) -> np.ndarray:
    """maskApi.c rleToBbox for every RLE: (n, 4) float64 ``[x, y, w, h]``."""
    f = _bboxes_par if counts.size >= PARALLEL_MIN_WORK else _bboxes_ser
    return f(counts, offsets, heights, widths)


def iou_matrix(counts_d, off_d, bb_d, area_d, counts_g, off_g, bb_g, area_g, crowd) -> np.ndarray:
    """maskApi.c rleIou: (m, n) float64, ``[d, g]`` as pycocotools' ``iou``."""
    # Most pairs are rejected by their boxes: the pair count measures the work.
    pairs = (off_d.size - 1) * (off_g.size - 1)
    f = _iou_matrix_par if pairs >= 250_000 else _iou_matrix_ser
    return f(counts_d, off_d, bb_d, area_d, counts_g, off_g, bb_g, area_g, crowd)


@numba.njit(cache=True)
def _c_int(x):
    # C's (int) cast of a double truncates toward zero.
    return np.int64(x)


@numba.njit(cache=True, inline="always")
def _crossing(pu, pv, cu, cv, h, w, xs_out, ys_out, m):
    # maskApi.c rleFrPoly, "get points along y-boundary and downsample", for one step.
    if cu == pu:
        return m
    xd = np.float64(cu if cu < pu else cu - 1)
    xd = (xd + 0.5) / 5.0 - 0.5
    if np.floor(xd) != xd or xd < 0 or xd > w - 1:
        return m
    yd = np.float64(cv if cv < pv else pv)
    yd = (yd + 0.5) / 5.0 - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = np.float64(h)
    yd = np.ceil(yd)
    xs_out[m] = np.int64(xd)
    ys_out[m] = np.int64(yd)
    return m + 1


@numba.njit(cache=True, inline="always")
def _u_at(xs, s, dy, flip, d):
    t = dy - d if flip else d
    return _c_int(xs + s * t + 0.5)


@numba.njit(cache=True)
def _first_step(xs, s, dy, flip, target, rising):
    # Smallest step d in [1, dy] with u(d) >= target (rising) or <= target (falling).
    lo = 1
    hi = dy
    while lo < hi:
        mid = (lo + hi) // 2
        u = _u_at(xs, s, dy, flip, mid)
        if (u >= target) if rising else (u <= target):
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True, inline="always")
def _y_major_crossing(xs, ys, s, dy, flip, d, h, w, cx, cy, m):
    t = dy - d if flip else d
    tp = dy - (d - 1) if flip else d - 1
    return _crossing(
        _c_int(xs + s * tp + 0.5), tp + ys, _c_int(xs + s * t + 0.5), t + ys, h, w, cx, cy, m
    )


@numba.njit(cache=True)
def poly_to_counts(xy, h, w):
    """maskApi.c rleFrPoly: polygon ``xy`` (2k,) float64 -> counts (uint32).

    The C code upsamples the boundary by 5, traces it point by point and keeps the
    points where it crosses a pixel-centre column (x = 5k + 2.5 upsampled). This
    kernel produces the same point sequence without storing it, and on edges that
    advance one column per step it evaluates only the steps that can cross
    (every fifth), with the same float64 expressions, so the pixels are identical.
    """
    k = xy.size // 2
    x = np.empty(k + 1, np.int64)
    y = np.empty(k + 1, np.int64)
    for j in range(k):
        x[j] = _c_int(5.0 * xy[j * 2 + 0] + 0.5)
        y[j] = _c_int(5.0 * xy[j * 2 + 1] + 0.5)
    x[k] = x[0]
    y[k] = y[0]
    # Crossings per edge: one at its start, then at most one per 5 upsampled columns
    # (C's truncation toward zero can widen a steep edge's column range by 2).
    cap = 2
    for j in range(k):
        cap += (abs(x[j + 1] - x[j]) + 2) // 5 + 3
    cx = np.empty(cap, np.int64)
    cy = np.empty(cap, np.int64)
    m = 0
    have_prev = False
    pu = np.int64(0)
    pv = np.int64(0)
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
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
            s = np.float64(ye - ys) / dx if dx != 0 else 0.0
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
                first = (xs + dx - 2) % 5
            else:
                first = (3 - xs) % 5
            if first == 0:
                first = 5
            for d in range(first, dx + 1, 5):
                t = dx - d if flip else d
                tp = dx - (d - 1) if flip else d - 1
                m = _crossing(
                    tp + xs,
                    _c_int(ys + s * tp + 0.5),
                    t + xs,
                    _c_int(ys + s * t + 0.5),
                    h,
                    w,
                    cx,
                    cy,
                    m,
                )
            tl = 0 if flip else dx
            pu = tl + xs
            pv = _c_int(ys + s * tl + 0.5)
        else:
            s = np.float64(xe - xs) / dy
            t0 = dy if flip else 0
            cu = _c_int(xs + s * t0 + 0.5)
            if have_prev:
                m = _crossing(pu, pv, cu, t0 + ys, h, w, cx, cy, m)
            have_prev = True
            # |s| < 1: u moves by at most one per step and monotonically, so each
            # pixel-centre column U is entered at exactly one step, found by bisection.
            tl = 0 if flip else dy
            u_end = _c_int(xs + s * tl + 0.5)
            if u_end > cu:
                first_u = cu + 1 + (3 - (cu + 1)) % 5
                for U in range(first_u, u_end + 1, 5):
                    d = _first_step(xs, s, dy, flip, U, True)
                    m = _y_major_crossing(xs, ys, s, dy, flip, d, h, w, cx, cy, m)
            elif u_end < cu:
                first_u = cu - 1 - (cu - 1 - 2) % 5
                for U in range(first_u, u_end - 1, -5):
                    d = _first_step(xs, s, dy, flip, U, False)
                    m = _y_major_crossing(xs, ys, s, dy, flip, d, h, w, cx, cy, m)
            pu = u_end
            pv = tl + ys
    return _crossings_to_counts(cx, cy, m, h, w)


@numba.njit(cache=True)
def _sort_positions(cx, cy, m, h, a):
    # Sorted x*h + y of the crossings: bucket by column (few rows each), then insertion sort.
    if m == 0:
        return
    x0 = cx[0]
    x1 = cx[0]
    for j in range(m):
        x0 = min(x0, cx[j])
        x1 = max(x1, cx[j])
    start = np.zeros(x1 - x0 + 2, np.int64)
    for j in range(m):
        start[cx[j] - x0 + 1] += 1
    for c in range(1, start.size):
        start[c] += start[c - 1]
    fill = start[:-1].copy()
    for j in range(m):
        c = cx[j] - x0
        a[fill[c]] = cx[j] * h + cy[j]
        fill[c] += 1
    for c in range(start.size - 1):
        for i in range(start[c] + 1, start[c + 1]):
            v = a[i]
            k = i - 1
            while k >= start[c] and a[k] > v:
                a[k + 1] = a[k]
                k -= 1
            a[k + 1] = v


@numba.njit(cache=True)
def _crossings_to_counts(cx, cy, m, h, w):
    # maskApi.c rleFrPoly, "compute rle encoding given y-boundary points".
    a = np.empty(m + 1, np.int64)
    _sort_positions(cx, cy, m, h, a)
    a[m] = h * w
    p = np.int64(0)
    for j in range(m + 1):
        t = a[j]
        a[j] -= p
        p = t
    b = np.empty(m + 1, np.uint32)
    nb = 1
    b[0] = a[0]
    j = 1
    kk = m + 1
    while j < kk:
        if a[j] > 0:
            b[nb] = a[j]
            nb += 1
            j += 1
        else:
            j += 1
            if j < kk:
                b[nb - 1] += a[j]
                j += 1
    return b[:nb].copy()


@numba.njit(cache=True)
def poly_to_counts_reference(xy, h, w):
    """maskApi.c rleFrPoly, ported line by line (the oracle for :func:`poly_to_counts`).

    The boundary is upsampled by 5, traced with integer steps, and its crossings
    of pixel-centre columns are downsampled to run starts, exactly as in C.
    """
    k = xy.size // 2
    scale = 5.0
    x = np.empty(k + 1, np.int64)
    y = np.empty(k + 1, np.int64)
    for j in range(k):
        x[j] = _c_int(scale * xy[j * 2 + 0] + 0.5)
    x[k] = x[0]
    for j in range(k):
        y[j] = _c_int(scale * xy[j * 2 + 1] + 0.5)
    y[k] = y[0]
    m = 0
    for j in range(k):
        m += max(abs(x[j] - x[j + 1]), abs(y[j] - y[j + 1])) + 1
    u = np.empty(m, np.int64)
    v = np.empty(m, np.int64)
    m = 0
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            t = xs
            xs = xe
            xe = t
            t = ys
            ys = ye
            ye = t
        if dx >= dy:
            s = np.float64(ye - ys) / dx if dx != 0 else 0.0
            for d in range(dx + 1):
                t = dx - d if flip else d
                u[m] = t + xs
                v[m] = _c_int(ys + s * t + 0.5)
                m += 1
        else:
            s = np.float64(xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v[m] = t + ys
                u[m] = _c_int(xs + s * t + 0.5)
                m += 1
    kk = m
    xa = np.empty(kk, np.int64)
    ya = np.empty(kk, np.int64)
    m = 0
    for j in range(1, kk):
        if u[j] != u[j - 1]:
            xd = np.float64(u[j] if u[j] < u[j - 1] else u[j] - 1)
            xd = (xd + 0.5) / scale - 0.5
            if np.floor(xd) != xd or xd < 0 or xd > w - 1:
                continue
            yd = np.float64(v[j] if v[j] < v[j - 1] else v[j - 1])
            yd = (yd + 0.5) / scale - 0.5
            if yd < 0:
                yd = 0.0
            elif yd > h:
                yd = np.float64(h)
            yd = np.ceil(yd)
            xa[m] = np.int64(xd)
            ya[m] = np.int64(yd)
            m += 1
    a = np.empty(m + 1, np.int64)
    for j in range(m):
        a[j] = xa[j] * h + ya[j]
    a[m] = h * w
    a.sort()
    p = np.int64(0)
    for j in range(m + 1):
        t = a[j]
        a[j] -= p
        p = t
    b = np.empty(m + 1, np.uint32)
    nb = 0
    j = 0
    b[nb] = a[j]
    nb += 1
    j += 1
    kk = m + 1
    while j < kk:
        if a[j] > 0:
            b[nb] = a[j]
            nb += 1
            j += 1
        else:
            j += 1
            if j < kk:
                b[nb - 1] += a[j]
                j += 1
    return b[:nb].copy()


@numba.njit(cache=True)
def _boundary_one(counts, s, e, h, w, d):
    # The mask's box: outside it everything is background, so eroding the crop with
    # a zero border equals eroding the image with a zero border.
    bb = np.zeros(4, np.float64)
    _bbox_one(counts, s, e, h, w, bb)
    area = 0
    for j in range(s + 1, e, 2):
        area += counts[j]
    if area == 0:
        return np.array([np.int64(h) * w], np.uint32)
    x0 = np.int64(bb[0])
    y0 = np.int64(bb[1])
    nx = np.int64(bb[2])
    ny = np.int64(bb[3])
    blk = np.zeros((nx, ny), np.uint8)
    x = np.int64(0)
    y = np.int64(0)
    for j in range(s, e):
        c = np.int64(counts[j])
        if (j - s) % 2 == 1:
            # Fill the run column by column inside the crop.
            left = c
            cx = x
            cy = y
            while left > 0:
                take = min(left, h - cy)
                lo = max(cy, y0)
                hi = min(cy + take, y0 + ny)
                if cx >= x0 and cx < x0 + nx:
                    for t in range(lo, hi):
                        blk[cx - x0, t - y0] = 1
                left -= take
                cy += take
                if cy == h:
                    cy = 0
                    cx += 1
        x, y = _advance(x, y, c, h)
    # Erosion by a (2d+1)^2 square = vertical then horizontal (2d+1) segment; the
    # border is background (Cheng et al. 2021 pad with zeros before eroding).
    ver = np.zeros((nx, ny), np.uint8)
    for xi in range(nx):
        yy = 0
        while yy < ny:
            if blk[xi, yy] == 0:
                yy += 1
                continue
            y_end = yy
            while y_end < ny and blk[xi, y_end] != 0:
                y_end += 1
            for t in range(yy + d, y_end - d):
                ver[xi, t] = 1
            yy = y_end
    ero = np.zeros((nx, ny), np.uint8)
    for yy in range(ny):
        xi = 0
        while xi < nx:
            if ver[xi, yy] == 0:
                xi += 1
                continue
            x_end = xi
            while x_end < nx and ver[x_end, yy] != 0:
                x_end += 1
            for t in range(xi + d, x_end - d):
                ero[t, yy] = 1
            xi = x_end
    # rleEncode of band = mask & ~eroded, in image coordinates (column-major).
    runs = np.empty(2 * nx * (ny + 1) + 2, np.uint32)
    m = 0
    prev_end = np.int64(0)  # linear index after the last foreground run
    fg_open = False
    for xi in range(nx):
        base = (x0 + xi) * np.int64(h) + y0
        yy = 0
        while yy < ny:
            if blk[xi, yy] == 0 or ero[xi, yy] != 0:
                yy += 1
                continue
            y_end = yy
            while y_end < ny and blk[xi, y_end] != 0 and ero[xi, y_end] == 0:
                y_end += 1
            start = base + yy
            if fg_open and start == prev_end:
                runs[m - 1] += y_end - yy  # continues across a column boundary
            else:
                runs[m] = start - prev_end
                runs[m + 1] = y_end - yy
                m += 2
                fg_open = True
            prev_end = base + y_end
            yy = y_end
    rem = np.int64(h) * w - prev_end
    # rleEncode ends with the last run: no empty background run after the mask.
    if rem > 0 or m == 0:
        runs[m] = rem
        m += 1
    return runs[:m].copy()


@numba.njit(cache=True)
def boundary_counts(counts, offsets, heights, widths, dil):
    """Boundary band of every mask (Cheng et al., CVPR 2021, Sec. 3): RLE counts.

    The band holds the mask pixels within chessboard distance ``dil[i]`` of the
    background, the outside of the image counting as background. Returns a flat
    counts table (uint32) and offsets (int64).
    """
    n = offsets.size - 1
    parts = []
    total = 0
    for i in range(n):
        r = _boundary_one(counts, offsets[i], offsets[i + 1], heights[i], widths[i], dil[i])
        parts.append(r)
        total += r.size
    out = np.empty(total, np.uint32)
    off = np.empty(n + 1, np.int64)
    p = 0
    for i in range(n):
        off[i] = p
        r = parts[i]
        out[p : p + r.size] = r
        p += r.size
    off[n] = p
    return out, off
