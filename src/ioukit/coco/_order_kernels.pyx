"""Compiled record orderings of the COCO engine (see ``ioukit.coco._order``).

pycocotools orders detections with stable sorts (``np.argsort(-scores,
kind="mergesort")`` per image and category in ``evaluateImg``, the same on each
category's concatenated images in ``accumulate``). These kernels give the same
permutations without comparison sorts where the key is a small integer:

- :func:`counting_order`: stable counting sort of indices by an integer key;
- :func:`score_desc_order`: stable LSD radix sort of all records by descending score;
- :func:`group_detections`: counting sorts by (category, image), then each bucket
  sorted by descending score on its own (buckets in parallel), truncated.

Scores are finite (the loaders reject anything else); on them ``>`` is the total order
NumPy's sort uses, with ``-0.0 == 0.0``. Any stable sort by that order yields the one
permutation NumPy's does, so an insertion sort or a merge sort of our own are exact.
"""

from cython.parallel import prange
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

from ioukit._threads import PARALLEL_MIN_ITEMS, get_num_threads

cdef enum:
    # digits of the radix sort: four 16-bit passes measured faster than six 11-bit ones
    RADIX_BITS = 16
    RADIX = 1 << RADIX_BITS
    # buckets up to this size are insertion-sorted (fewer moves than a merge sort's copies)
    INSERTION_MAX = 48
    # a merge sort's runs up to this size are insertion-sorted too
    MERGE_LEAF = 16


# -------------------------------------------------------------- counting sort
cdef void _counting_order(const int64_t[::1] key, Py_ssize_t n_keys, const int64_t[::1] src,
                          int64_t[::1] out, int64_t[::1] off) noexcept nogil:
    # stable order of src by key[src] into out; off[b]:off[b + 1] is bucket b
    cdef Py_ssize_t i, j, b, n = src.shape[0]
    cdef int64_t s
    for j in range(n_keys + 1):
        off[j] = 0
    for i in range(n):
        off[key[src[i]] + 1] += 1
    for j in range(n_keys):
        off[j + 1] += off[j]
    # out[off[b] ...] filled in src order: off is used as the bucket cursor, then
    # shifted back (off[b] ends at the old off[b + 1])
    for i in range(n):
        s = src[i]
        b = key[s]
        out[off[b]] = s
        off[b] += 1
    for j in range(n_keys, 0, -1):
        off[j] = off[j - 1]
    off[0] = 0


def counting_order(const int64_t[::1] key, Py_ssize_t n_keys, const int64_t[::1] src):
    """Stable order of ``src`` (indices) by ``key[src]`` in ``[0, n_keys)``; and offsets.

    Returns ``(out, off)``: int64 arrays, ``out[off[b]:off[b + 1]]`` the indices with key
    ``b`` in their ``src`` order.

    >>> import numpy as np
    >>> out, off = counting_order(np.array([1, 0, 1]), 2, np.array([2, 1, 0]))
    >>> out.tolist(), off.tolist()
    ([1, 2, 0], [0, 1, 3])
    """
    out = np.empty(src.shape[0], dtype=np.int64)
    off = np.empty(n_keys + 1, dtype=np.int64)
    cdef int64_t[::1] out_v = out, off_v = off
    with nogil:
        _counting_order(key, n_keys, src, out_v, off_v)
    return out, off


# ------------------------------------------------------------ bucket score sort
cdef inline void _insertion_sort_desc(int64_t* a, Py_ssize_t n,
                                      const double* score) noexcept nogil:
    # a[0:n] by descending score[a[i]], stable: only strictly lower scores move up
    cdef Py_ssize_t i, j
    cdef int64_t v
    cdef double sv
    for i in range(1, n):
        v = a[i]
        sv = score[v]
        j = i - 1
        while j >= 0 and score[a[j]] < sv:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


cdef void _merge_sort_desc(int64_t* a, int64_t* tmp, Py_ssize_t n,
                           const double* score) noexcept nogil:
    # a[0:n] by descending score, stable (top-down; tmp holds at least n // 2 items)
    cdef Py_ssize_t h, i, j, o
    if n <= MERGE_LEAF:
        _insertion_sort_desc(a, n, score)
        return
    h = n // 2
    _merge_sort_desc(a, tmp, h, score)
    _merge_sort_desc(a + h, tmp, n - h, score)
    if not score[a[h]] > score[a[h - 1]]:
        return  # the halves are already in order
    # merge the left half (copied out) with the right one in place; a tie takes the
    # left item first (stability); the write position never passes the right cursor
    memcpy(tmp, a, h * sizeof(int64_t))
    i = 0
    j = h
    o = 0
    while i < h and j < n:
        if score[a[j]] > score[tmp[i]]:
            a[o] = a[j]
            j += 1
        else:
            a[o] = tmp[i]
            i += 1
        o += 1
    while i < h:
        a[o] = tmp[i]
        i += 1
        o += 1


cdef void _score_sort_bucket(int64_t* order, Py_ssize_t s0, Py_ssize_t s1,
                             const double* score) noexcept nogil:
    # order[s0:s1] by descending score, stable
    cdef Py_ssize_t n = s1 - s0
    cdef int64_t* tmp
    if n < 2:
        return
    if n <= INSERTION_MAX:
        _insertion_sort_desc(order + s0, n, score)
        return
    tmp = <int64_t*>malloc((n // 2 + 1) * sizeof(int64_t))
    if tmp == NULL:  # out of memory: the insertion sort needs no buffer (same order)
        _insertion_sort_desc(order + s0, n, score)
        return
    _merge_sort_desc(order + s0, tmp, n, score)
    free(tmp)


def score_sort_bucket(int64_t[::1] order, Py_ssize_t s0, Py_ssize_t s1,
                      const double[::1] score):
    """Sort ``order[s0:s1]`` in place by descending ``score[order]``, stable.

    >>> import numpy as np
    >>> o = np.array([0, 1, 2, 3]); score_sort_bucket(o, 1, 4, np.array([9., 1., 2., 2.]))
    >>> o.tolist()
    [0, 2, 3, 1]
    """
    if not 0 <= s0 <= s1 <= order.shape[0]:
        raise IndexError(f"score_sort_bucket: bad range [{s0}, {s1}) of {order.shape[0]}")
    if s1 - s0 < 2:
        return
    with nogil:
        _score_sort_bucket(&order[0], s0, s1, &score[0])


# ------------------------------------------------------ (category, image) groups
cdef inline bint _group_begins(const int64_t[::1] k, const int64_t[::1] img,
                               const int64_t[::1] order, Py_ssize_t i) noexcept nogil:
    # whether order[i] starts a new (k, img) run
    return (i == 0 or k[order[i]] != k[order[i - 1]]
            or img[order[i]] != img[order[i - 1]])


cdef Py_ssize_t _count_groups(const int64_t[::1] k, const int64_t[::1] img,
                              const int64_t[::1] order) noexcept nogil:
    # number of (k, img) runs along order
    cdef Py_ssize_t i, g = 0
    for i in range(order.shape[0]):
        if _group_begins(k, img, order, i):
            g += 1
    return g


cdef void _group_starts(const int64_t[::1] k, const int64_t[::1] img,
                        const int64_t[::1] order, int64_t[::1] start) noexcept nogil:
    # start[g] = first position of run g; start[n_groups] = len(order)
    cdef Py_ssize_t i, g = 0
    for i in range(order.shape[0]):
        if _group_begins(k, img, order, i):
            start[g] = i
            g += 1
    start[g] = order.shape[0]


def group_detections(const int64_t[::1] k, const int64_t[::1] img, const double[::1] score,
                     Py_ssize_t n_k, Py_ssize_t n_img, Py_ssize_t max_det):
    """Group detections by (category, image), best score first, keep ``max_det`` each.

    The kernel of :func:`ioukit.coco._order.group_detections` (which documents it);
    returns ``(kept, rank, kept_off, grp_k, grp_img)``, int64 arrays.
    """
    cdef Py_ssize_t n = k.shape[0], n_groups, g, r, s0, o0
    cdef int nt = get_num_threads() if n >= PARALLEL_MIN_ITEMS else 1
    by_img = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] src = np.arange(n, dtype=np.int64)
    cdef int64_t[::1] by_img_v = by_img, order_v = order
    cdef int64_t[::1] off_img = np.empty(n_img + 1, dtype=np.int64)
    cdef int64_t[::1] off_k = np.empty(n_k + 1, dtype=np.int64)
    # (category, image) buckets: image pass, then category pass (both stable)
    with nogil:
        _counting_order(img, n_img, src, by_img_v, off_img)
        _counting_order(k, n_k, by_img_v, order_v, off_k)
        n_groups = _count_groups(k, img, order_v)
    cdef int64_t[::1] start = np.empty(n_groups + 1, dtype=np.int64)
    with nogil:
        _group_starts(k, img, order_v, start)
        # each bucket by descending score on its own (buckets are independent)
        for g in prange(n_groups, schedule="static", num_threads=nt):
            _score_sort_bucket(&order_v[0], start[g], start[g + 1], &score[0])
    # truncation to max_det per bucket
    kept_off = np.empty(n_groups + 1, dtype=np.int64)
    grp_k = np.empty(n_groups, dtype=np.int64)
    grp_img = np.empty(n_groups, dtype=np.int64)
    cdef int64_t[::1] kept_off_v = kept_off, grp_k_v = grp_k, grp_img_v = grp_img
    with nogil:
        kept_off_v[0] = 0
        for g in range(n_groups):
            kept_off_v[g + 1] = kept_off_v[g] + min(start[g + 1] - start[g], max_det)
            grp_k_v[g] = k[order_v[start[g]]]
            grp_img_v[g] = img[order_v[start[g]]]
    kept = np.empty(kept_off_v[n_groups], dtype=np.int64)
    rank = np.empty(kept_off_v[n_groups], dtype=np.int64)
    cdef int64_t[::1] kept_v = kept, rank_v = rank
    with nogil:
        for g in prange(n_groups, schedule="static", num_threads=nt):
            s0 = start[g]
            o0 = kept_off_v[g]
            for r in range(kept_off_v[g + 1] - o0):
                kept_v[o0 + r] = order_v[s0 + r]
                rank_v[o0 + r] = r
    return kept, rank, kept_off, grp_k, grp_img


# ------------------------------------------------------------- radix sort of scores
cdef inline uint64_t _desc_key(double v) noexcept nogil:
    # a 64-bit key whose unsigned order is the descending order of finite scores:
    # IEEE bits made monotonic (negatives flipped, positives' sign bit set), then
    # inverted; -0.0 takes 0.0's key (they compare equal in NumPy's sort)
    cdef uint64_t b = 0, top = (<uint64_t>1) << 63, asc
    if v != 0.0:
        memcpy(&b, &v, sizeof(double))
    asc = ~b if b & top else b | top
    return ~asc


def score_desc_order(const double[::1] score):
    """Stable order of all records by descending ``score`` (an LSD radix sort).

    Each finite float64 becomes a 64-bit key whose unsigned order is the descending
    order of the scores (``-0.0`` and ``0.0`` share one key, as they compare equal in
    NumPy's sort); four stable 16-bit counting passes sort the keys, skipping any pass
    whose digit is the same for every record. Linear time, so a category holding a
    quarter of a large set's records costs no more than its share.

    >>> import numpy as np
    >>> score_desc_order(np.array([0.5, 0.9, -0.0, 0.5, 0.0])).tolist()
    [1, 0, 3, 2, 4]
    """
    cdef Py_ssize_t n = score.shape[0], i, d, p
    cdef int64_t j
    cdef uint64_t shift, mask = RADIX - 1
    order = np.arange(n, dtype=np.int64)
    if n == 0:
        return order
    cdef int64_t[::1] order_v = order, other_v = np.empty(n, dtype=np.int64)
    cdef uint64_t[::1] key = np.empty(n, dtype=np.uint64)
    cdef int64_t[::1] cnt = np.empty(RADIX + 1, dtype=np.int64)
    # each pass reads src and writes dst, then they swap
    cdef int64_t* src = &order_v[0]
    cdef int64_t* dst = &other_v[0]
    cdef int64_t* tmp
    with nogil:
        for i in range(n):
            key[i] = _desc_key(score[i])
        for p in range((64 + RADIX_BITS - 1) // RADIX_BITS):
            shift = RADIX_BITS * p
            for d in range(RADIX + 1):
                cnt[d] = 0
            for i in range(n):
                cnt[((key[i] >> shift) & mask) + 1] += 1
            if cnt[((key[0] >> shift) & mask) + 1] == n:
                continue  # every record has this digit: the pass would not move anything
            for d in range(RADIX):
                cnt[d + 1] += cnt[d]
            for i in range(n):
                j = src[i]
                d = (key[j] >> shift) & mask
                dst[cnt[d]] = j
                cnt[d] += 1
            tmp = src
            src = dst
            dst = tmp
        if src != &order_v[0]:
            memcpy(&order_v[0], src, n * sizeof(int64_t))
    return order
