"""Compiled greedy COCO matching of every (image, category) group in one call.

``COCOeval.evaluateImg`` (pycocotools 2.0.11) rule for rule; the rules are listed in
``ioukit.coco._match``, which converts the inputs. Groups are independent: they are
dealt out to 64 chunks (strided, so that each chunk holds groups of every category
and the costly categories spread over the threads), and the chunks run in parallel,
each with its own scratch rows.

Output per kept detection, area range and IoU threshold: 0 = false positive,
1 = true positive, 2 = ignored.
"""

from cython.parallel import prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint8_t

import numpy as np

cdef enum:
    FP = 0
    TP = 1
    IGNORED = 2
    # chunks of groups run in parallel (each with its own scratch)
    N_CHUNKS = 64


cdef struct Scratch:
    # one chunk's work rows: GT visiting order and flags (max GT per group), candidate
    # detections and their areas (max detections per group)
    int64_t* order
    uint8_t* ig
    uint8_t* taken
    uint8_t* crowd
    uint8_t* matchable
    int64_t* cand
    double* cand_area


cdef inline Scratch _chunk_scratch(Py_ssize_t c, int64_t[:, ::1] order,
                                   uint8_t[:, :, ::1] gt_flags, int64_t[:, ::1] cand,
                                   double[:, ::1] cand_area) noexcept nogil:
    # chunk c's rows of the scratch arrays
    cdef Scratch s
    s.order = &order[c, 0]
    s.ig = &gt_flags[0, c, 0]
    s.taken = &gt_flags[1, c, 0]
    s.crowd = &gt_flags[2, c, 0]
    s.matchable = &gt_flags[3, c, 0]
    s.cand = &cand[c, 0]
    s.cand_area = &cand_area[c, 0]
    return s


cdef inline void _match_group(
        Py_ssize_t g, const double[::1] ious, const int64_t[::1] iou_off,
        const int64_t[::1] dt_index, const int64_t[::1] dt_off,
        const int64_t[::1] gt_index, const int64_t[::1] gt_off,
        const uint8_t[::1] gt_crowd, const double[::1] gt_area,
        const uint8_t[::1] gt_matchable, const double[::1] dt_area,
        const double[::1] iou_thrs, const double[:, ::1] area_rng,
        uint8_t[:, :, ::1] out, Scratch* s) noexcept nogil:
    # flags of group g's detections at every area range and threshold
    cdef Py_ssize_t n_t = iou_thrs.shape[0], n_a = area_rng.shape[0]
    cdef Py_ssize_t d0 = dt_off[g], nd = dt_off[g + 1] - d0
    cdef Py_ssize_t g0 = gt_off[g], ng = gt_off[g + 1] - g0
    cdef Py_ssize_t base = iou_off[g]
    cdef Py_ssize_t i, j, jj, t, a, c, k, nc, row, m
    cdef int64_t G
    cdef double thr_min, thr, v, x, da, lo, hi, best
    cdef uint8_t f
    cdef bint matched, ignored
    for j in range(ng):
        G = gt_index[g0 + j]
        s.crowd[j] = gt_crowd[G]
        s.matchable[j] = gt_matchable[G]
    thr_min = 1.0
    for t in range(n_t):
        thr_min = min(thr_min, min(iou_thrs[t], 1 - 1e-10))
    # A detection no GT reaches at the lowest threshold (any detection of a group
    # without GT) stays unmatched at every threshold, whatever is taken (and takes
    # nothing): its flags depend on its own area alone. Most detections of a dense
    # set are such; the greedy walk below visits only the others ("candidates"), in
    # score order.
    nc = 0
    for i in range(nd):
        row = base + i * ng
        v = -INFINITY
        for j in range(ng):
            x = ious[row + j]
            if not x <= v:  # larger, or NaN (which the walk can pick): a candidate
                v = INFINITY if x != x else x
        da = dt_area[dt_index[d0 + i]]
        if v >= thr_min:
            s.cand[nc] = i
            s.cand_area[nc] = da
            nc += 1
        else:
            for a in range(n_a):
                f = IGNORED if (da < area_rng[a, 0] or da > area_rng[a, 1]) else FP
                for t in range(n_t):
                    out[d0 + i, a, t] = f
    if nc == 0:
        return
    for a in range(n_a):
        lo = area_rng[a, 0]
        hi = area_rng[a, 1]
        # GT visiting order: non-ignored first, ignored last (stable)
        k = 0
        for j in range(ng):
            G = gt_index[g0 + j]
            s.ig[j] = s.crowd[j] or gt_area[G] < lo or gt_area[G] > hi
            if not s.ig[j]:
                s.order[k] = j
                k += 1
        for j in range(ng):
            if s.ig[j]:
                s.order[k] = j
                k += 1
        for t in range(n_t):
            thr = min(iou_thrs[t], 1 - 1e-10)
            for j in range(ng):
                s.taken[j] = False
            for c in range(nc):
                i = s.cand[c]
                best = thr
                m = -1
                row = base + i * ng
                for jj in range(ng):
                    j = s.order[jj]
                    if s.taken[j] and not s.crowd[j]:
                        continue
                    if m > -1 and not s.ig[m] and s.ig[j]:
                        break
                    v = ious[row + j]
                    if v < best:
                        continue
                    best = v
                    m = j
                matched = False
                ignored = False
                if m > -1:
                    s.taken[m] = True
                    ignored = s.ig[m]
                    matched = s.matchable[m]
                if not matched and (s.cand_area[c] < lo or s.cand_area[c] > hi):
                    ignored = True
                if ignored:
                    out[d0 + i, a, t] = IGNORED
                elif matched:
                    out[d0 + i, a, t] = TP
                else:
                    out[d0 + i, a, t] = FP


def match_groups_kernel(const double[::1] ious, const int64_t[::1] iou_off,
                        const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                        const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                        const uint8_t[::1] gt_crowd, const double[::1] gt_area,
                        const uint8_t[::1] gt_matchable, const double[::1] dt_area,
                        const double[::1] iou_thrs, const double[:, ::1] area_rng,
                        uint8_t[:, :, ::1] out):
    """Fill ``out`` (Nd, A, T) uint8 with every group's match flags.

    The kernel of :func:`ioukit.coco._match.match_groups` (which documents it). GT
    arrays (``gt_crowd``, ``gt_area``, ``gt_matchable``) are indexed by GT row,
    ``dt_area`` by detection row; every entry of ``out`` is written.
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1
    cdef Py_ssize_t g, c, q, max_g = 0, max_d = 0, n_chunks
    for g in range(n_groups):
        max_g = max(max_g, gt_off[g + 1] - gt_off[g])
        max_d = max(max_d, dt_off[g + 1] - dt_off[g])
    n_chunks = min(n_groups, N_CHUNKS)
    if n_chunks <= 0:
        return
    # each chunk's scratch rows (NumPy-allocated; a chunk runs on one thread at a time)
    cdef int64_t[:, ::1] order = np.empty((n_chunks, max_g), dtype=np.int64)
    cdef uint8_t[:, :, ::1] gt_flags = np.empty((4, n_chunks, max_g), dtype=np.uint8)
    cdef int64_t[:, ::1] cand = np.empty((n_chunks, max_d), dtype=np.int64)
    cdef double[:, ::1] cand_area = np.empty((n_chunks, max_d), dtype=np.float64)
    cdef Scratch s
    with nogil:
        for c in prange(n_chunks, schedule="static"):
            s = _chunk_scratch(c, order, gt_flags, cand, cand_area)  # thread-private
            # groups c, c + n_chunks, ... (strided: balances costly categories); the
            # count is a division of positive numbers (C's and Python's agree)
            for q in range((n_groups - c + n_chunks - 1) // n_chunks):
                _match_group(c + q * n_chunks, ious, iou_off, dt_index, dt_off, gt_index,
                             gt_off, gt_crowd, gt_area, gt_matchable, dt_area, iou_thrs,
                             area_rng, out, &s)
