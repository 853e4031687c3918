"""Compiled kernel behind ``ioukit.semantic``: pair counts of label maps, one pass.

Each pixel adds one to cell (row, col) of a (C + 2) x (C + 1) table: row = the target
label, col = the predicted label. Three extra cells say where the odd pixels went:

* row C: target == ignore_index (counted, never scored);
* row C + 1: target outside [0, C) and not ignored (the caller raises);
* col C: prediction outside [0, C) (a "void" prediction: a miss for its target row).

Pixels are counted into four interleaved uint32 tables (pixel i into table i % 4), so
that runs of equal labels, the common case in label maps, do not chain every
increment on the previous one through memory; each chunk of at most 2^20 pixels is
then added into the int64 output, so no uint32 cell can overflow and no count is ever
held in floating point. Work is split by image (a batch) or by chunk (one large image
or volume) with ``prange``; each thread owns its partial table.
"""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

import numpy as np

__all__ = ["confusion_counts", "CHUNK"]

# Pixels counted into the uint32 sub-tables before they are flushed into int64 (a cell
# holds at most CHUNK < 2^32 pixels).
cdef enum:
    CHUNK_PIXELS = 1 << 20
CHUNK = CHUNK_PIXELS

ctypedef fused target_t:
    uint8_t
    int32_t
    int64_t

ctypedef fused pred_t:
    uint8_t
    int32_t
    int64_t


cdef inline int64_t _cell(target_t t, pred_t p, int64_t C, int64_t ignore,
                          bint has_ignore) noexcept nogil:
    # The flat cell index of one pixel; negative values wrap to huge unsigned ones.
    cdef uint64_t r = <uint64_t>(<int64_t>t)
    cdef uint64_t c = <uint64_t>(<int64_t>p)
    if r >= <uint64_t>C:
        r = C + 1
    if has_ignore and <int64_t>t == ignore:
        r = C
    if c > <uint64_t>C:
        c = C
    return <int64_t>(r * (C + 1) + c)


cdef inline void _count_chunk(const target_t* t, const pred_t* p, int64_t n, int64_t C,
                              int64_t ignore, bint has_ignore, uint32_t* h,
                              int64_t K) noexcept nogil:
    # n <= CHUNK pixels into the four sub-tables h[0:K], h[K:2K], h[2K:3K], h[3K:4K].
    cdef int64_t i = 0
    cdef int64_t n4 = n - (n % 4)
    while i < n4:
        h[_cell(t[i], p[i], C, ignore, has_ignore)] += 1
        h[K + _cell(t[i + 1], p[i + 1], C, ignore, has_ignore)] += 1
        h[2 * K + _cell(t[i + 2], p[i + 2], C, ignore, has_ignore)] += 1
        h[3 * K + _cell(t[i + 3], p[i + 3], C, ignore, has_ignore)] += 1
        i += 4
    while i < n:
        h[_cell(t[i], p[i], C, ignore, has_ignore)] += 1
        i += 1


cdef inline void _flush(uint32_t* h, int64_t* out, int64_t K) noexcept nogil:
    # Add the four sub-tables into out (int64) and zero them.
    cdef int64_t k
    for k in range(K):
        out[k] += <int64_t>h[k] + h[K + k] + h[2 * K + k] + h[3 * K + k]
    memset(h, 0, 4 * K * sizeof(uint32_t))


cdef inline void _count_range(const target_t* t, const pred_t* p, int64_t n, int64_t C,
                              int64_t ignore, bint has_ignore, uint32_t* h, int64_t K,
                              int64_t* out) noexcept nogil:
    # n pixels (any number) into out, chunk by chunk.
    cdef int64_t s = 0, m
    while s < n:
        m = n - s
        if m > CHUNK_PIXELS:
            m = CHUNK_PIXELS
        _count_chunk(t + s, p + s, m, C, ignore, has_ignore, h, K)
        _flush(h, out, K)
        s += m


def confusion_counts(const target_t[::1] target, const pred_t[::1] pred,
                     int64_t n_images, int64_t num_classes, object ignore_index,
                     int num_threads, int64_t[:, ::1] out):
    """Add the pair counts of ``n_images`` equal-sized label maps into ``out``.

    ``target`` and ``pred`` hold the maps one after the other (flat, C order);
    ``out`` is int64 ``[n_images, (C + 2) * (C + 1)]`` (see the module docstring for
    the layout). ``num_threads`` is the most threads to use (1: the calling thread).
    """
    cdef int64_t C = num_classes
    cdef int64_t K = (C + 2) * (C + 1)
    cdef int64_t total = target.shape[0]
    if pred.shape[0] != total:
        raise ValueError(f"target has {total} pixels and pred {pred.shape[0]}")
    if n_images < 0 or (n_images > 0 and total % n_images != 0):
        raise ValueError(f"{total} pixels do not split into {n_images} equal images")
    if out.shape[0] != n_images or out.shape[1] != K:
        raise ValueError(f"out must be [{n_images}, {K}]; got [{out.shape[0]}, {out.shape[1]}]")
    if n_images == 0 or total == 0:
        return
    cdef bint has_ignore = ignore_index is not None
    cdef int64_t ignore = ignore_index if has_ignore else 0
    cdef int64_t P = total // n_images
    cdef int nt = num_threads if num_threads > 1 else 1
    cdef int64_t i, j, n_chunks, lo, hi, k
    cdef int tid
    cdef uint32_t* h
    cdef int64_t* part
    cdef const target_t* tp = &target[0]
    cdef const pred_t* pp = &pred[0]
    # every thread's sub-tables (and partial sums), allocated before the parallel region
    cdef uint32_t* hbuf = <uint32_t*>calloc(nt * 4 * K, sizeof(uint32_t))
    cdef int64_t* pbuf = NULL
    if hbuf == NULL:
        raise MemoryError()
    if nt == 1:
        with nogil:
            for i in range(n_images):
                _count_range(tp + i * P, pp + i * P, P, C, ignore, has_ignore, hbuf, K,
                             &out[i, 0])
    elif n_images >= nt:
        # a batch: one image per work item, written only by the thread that counts it
        with nogil:
            for i in prange(n_images, schedule="dynamic", num_threads=nt):
                h = hbuf + threadid() * 4 * K
                _count_range(tp + i * P, pp + i * P, P, C, ignore, has_ignore, h, K,
                             &out[i, 0])
    else:
        # a few large maps: chunks of one map, per-thread partial tables, then a sum
        pbuf = <int64_t*>calloc(nt * K, sizeof(int64_t))
        if pbuf == NULL:
            free(hbuf)
            raise MemoryError()
        n_chunks = (P + CHUNK_PIXELS - 1) // CHUNK_PIXELS
        with nogil:
            for j in range(n_images):
                for i in prange(n_chunks, schedule="dynamic", num_threads=nt):
                    tid = threadid()
                    h = hbuf + tid * 4 * K
                    part = pbuf + tid * K
                    lo = i * CHUNK_PIXELS
                    hi = lo + CHUNK_PIXELS
                    if hi > P:
                        hi = P
                    _count_chunk(tp + j * P + lo, pp + j * P + lo, hi - lo, C, ignore,
                                 has_ignore, h, K)
                    _flush(h, part, K)
                for i in range(nt):
                    for k in range(K):
                        out[j, k] += pbuf[i * K + k]
                        pbuf[i * K + k] = 0
        free(pbuf)
    free(hbuf)
