"""Compiled ``COCOeval.accumulate``: precision / recall / scores from match records.

``ioukit.coco._accumulate`` documents the arithmetic (pycocotools 2.0.11 cocoeval.py
``accumulate``) and sorts the records; here each category is evaluated whole by one
thread, categories in parallel. Every stored value is computed by the same IEEE
operation as in pycocotools (no fast-math, no FMA contraction in the build).

Only true-positive steps move recall and can hold a maximum of the precision envelope
(between them tp is fixed and fp grows, so precision only falls), so both are
evaluated there alone.
"""

from cython.parallel import prange
from libc.math cimport ceil
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

import numpy as np

cdef enum:
    # uniform flag of a record whose flags differ across thresholds or are true positives
    MIXED = 3


cdef struct CatScratch:
    # one category's work arrays (n = its record count)
    double* sc          # (n,) scores of the records kept at this maxDets
    int64_t* sel        # (n,) their positions in score order
    int64_t* tp_pos     # (T, n + 1) position of each true positive
    int64_t* fp_at      # (T, n + 1) false positives before it
    int64_t* nt         # (T,) true positives counted
    int64_t* fp_x       # (T,) false positives of this threshold alone
    double* env         # (n + 1,) precision at the true positives, then its envelope
    int64_t* cr         # (R,) true-positive count each recall threshold lands on
    uint8_t* block      # (A, n, T) the category's flags in score order
    uint8_t* uniform    # (A, n) a record's flag at every threshold, or MIXED


cdef inline void* _alloc(Py_ssize_t count, size_t size) noexcept nogil:
    # malloc of count items (at least one byte, so that NULL means out of memory)
    return malloc(count * size if count > 0 else 1)


cdef bint _scratch_alloc(CatScratch* s, Py_ssize_t n, Py_ssize_t n_a, Py_ssize_t n_t,
                         Py_ssize_t n_r) noexcept nogil:
    # allocate every array of s; False if one failed (free what was taken with
    # _scratch_free in any case)
    s.sc = <double*>_alloc(n, sizeof(double))
    s.sel = <int64_t*>_alloc(n, sizeof(int64_t))
    s.tp_pos = <int64_t*>_alloc(n_t * (n + 1), sizeof(int64_t))
    s.fp_at = <int64_t*>_alloc(n_t * (n + 1), sizeof(int64_t))
    s.nt = <int64_t*>_alloc(n_t, sizeof(int64_t))
    s.fp_x = <int64_t*>_alloc(n_t, sizeof(int64_t))
    s.env = <double*>_alloc(n + 1, sizeof(double))
    s.cr = <int64_t*>_alloc(n_r, sizeof(int64_t))
    s.block = <uint8_t*>_alloc(n_a * n * n_t, sizeof(uint8_t))
    s.uniform = <uint8_t*>_alloc(n_a * n, sizeof(uint8_t))
    return (s.sc != NULL and s.sel != NULL and s.tp_pos != NULL and s.fp_at != NULL
            and s.nt != NULL and s.fp_x != NULL and s.env != NULL and s.cr != NULL
            and s.block != NULL and s.uniform != NULL)


cdef void _scratch_free(CatScratch* s) noexcept nogil:
    # release what _scratch_alloc took
    free(s.sc)
    free(s.sel)
    free(s.tp_pos)
    free(s.fp_at)
    free(s.nt)
    free(s.fp_x)
    free(s.env)
    free(s.cr)
    free(s.block)
    free(s.uniform)


cdef void _fill_block(Py_ssize_t c0, Py_ssize_t n_rec, const int64_t[::1] by_rows,
                      const int64_t[::1] inv, const uint8_t[:, :, ::1] flags,
                      CatScratch* s) noexcept nogil:
    # The category's flags put once, in score order, into block [A, n, T]: the passes
    # read them in order. Rows are read in storage order (by_rows) and scattered to
    # their score position (inv) inside this small, cached block: a gather in score
    # order would miss the cache on every record. uniform[a, n] is the flag a record
    # has at every threshold (0 false positive, 2 ignored), or MIXED when they differ
    # or are true positives: most records of a large set are false positives or
    # ignored at every threshold, and the passes count those once rather than per
    # threshold.
    cdef Py_ssize_t n_a = flags.shape[1], n_t = flags.shape[2], n, a, t
    cdef int64_t row, q
    cdef uint8_t f, f0, u
    for n in range(n_rec):
        row = by_rows[c0 + n]
        q = inv[row]
        for a in range(n_a):
            f0 = flags[row, a, 0]
            u = f0 if f0 != 1 else MIXED
            for t in range(n_t):
                f = flags[row, a, t]
                s.block[(a * n_rec + q) * n_t + t] = f
                if f != f0:
                    u = MIXED
            s.uniform[a * n_rec + q] = u


cdef void _recall_steps(int64_t npig, const double[::1] rec_thrs, int64_t* cr) noexcept nogil:
    # searchsorted(rc, v, 'left') with rc[n] = (#tp up to n) / npig lands on the c-th
    # true positive, c the least count with c / npig >= v: it depends on npig and v
    # only, so it is found once per (category, area) (0 stands for v <= 0: index 0).
    # c starts at ceil(v * npig) (capped at npig + 1) and is corrected in the division
    # pycocotools' rc uses.
    cdef Py_ssize_t r
    cdef double v, x
    cdef int64_t c
    for r in range(rec_thrs.shape[0]):
        v = rec_thrs[r]
        if v <= 0.0:
            cr[r] = 0
            continue
        x = ceil(v * npig)
        c = npig + 1 if x >= <double>(npig + 1) else max(<int64_t>x, 1)
        while c > 1 and <double>(c - 1) / npig >= v:
            c -= 1
        while c <= npig and <double>c / npig < v:
            c += 1
        cr[r] = c


cdef int _accumulate_category(
        Py_ssize_t k, Py_ssize_t c0, Py_ssize_t c1, const int64_t[::1] by_rows,
        const int64_t[::1] inv, const int64_t[::1] rank, const uint8_t[:, :, ::1] flags,
        const double[::1] score, const int64_t[:, ::1] num_gt, const int64_t[::1] max_dets,
        const double[::1] rec_thrs, double eps, double[:, :, :, :, :] precision,
        double[:, :, :, ::1] recall, double[:, :, :, :, :] scores,
        Py_ssize_t m_out) noexcept nogil:
    # category k (records c0:c1 of the score-ordered arrays) into the outputs' [.., k, ..];
    # with m_out >= 0, precision and scores only for maxDets index m_out, at index 0 of
    # their M axis (recall always for every maxDets); 0, or 1 when out of memory
    cdef Py_ssize_t n_a = flags.shape[1], n_t = flags.shape[2]
    cdef Py_ssize_t n_m = max_dets.shape[0], n_r = rec_thrs.shape[0]
    cdef Py_ssize_t max_n = c1 - c0, stride = max_n + 1
    cdef Py_ssize_t m, a, t, r, r2, n, nd, c, q, pos, ntt
    cdef int64_t npig, fp_common
    cdef double tpf, prv
    cdef uint8_t u, f
    cdef bint same, keep
    cdef Py_ssize_t mi
    cdef CatScratch s
    if not _scratch_alloc(&s, max_n, n_a, n_t, n_r):
        _scratch_free(&s)
        return 1
    _fill_block(c0, max_n, by_rows, inv, flags, &s)
    for m in range(n_m):
        keep = m_out < 0 or m == m_out  # precision / scores wanted at this maxDets
        mi = m if m_out < 0 else 0
        if m > 0 and (m_out < 0 or m != m_out):
            # the same records as the previous maxDets (every image keeps fewer
            # detections of this category than both limits): the same arrays follow
            same = True
            for n in range(max_n):
                if (rank[c0 + n] < max_dets[m]) != (rank[c0 + n] < max_dets[m - 1]):
                    same = False
                    break
            if same:
                for a in range(n_a):
                    for t in range(n_t):
                        recall[t, k, a, m] = recall[t, k, a, m - 1]
                        if m_out < 0:
                            for r in range(n_r):
                                precision[t, r, k, a, m] = precision[t, r, k, a, m - 1]
                                scores[t, r, k, a, m] = scores[t, r, k, a, m - 1]
                continue
        nd = 0
        for n in range(max_n):
            if rank[c0 + n] < max_dets[m]:
                s.sel[nd] = n
                s.sc[nd] = score[c0 + n]
                nd += 1
        for a in range(n_a):
            npig = num_gt[k, a]
            if npig == 0:
                continue
            _recall_steps(npig, rec_thrs, s.cr)
            # one pass for all thresholds: where each true positive falls and the
            # false-positive count there (fp_common for all thresholds + fp_x[t])
            fp_common = 0
            for t in range(n_t):
                s.nt[t] = 0
                s.fp_x[t] = 0
            for n in range(nd):
                q = s.sel[n]
                u = s.uniform[a * max_n + q]
                if u == 0:
                    fp_common += 1
                elif u == MIXED:
                    for t in range(n_t):
                        f = s.block[(a * max_n + q) * n_t + t]
                        if f == 1:
                            s.tp_pos[t * stride + s.nt[t]] = n
                            s.fp_at[t * stride + s.nt[t]] = fp_common + s.fp_x[t]
                            s.nt[t] += 1
                        elif f == 0:
                            s.fp_x[t] += 1
            for t in range(n_t):
                ntt = s.nt[t]
                for c in range(ntt):
                    # pr = tp / (fp + tp + spacing(1)) at the c-th true positive
                    tpf = <double>(c + 1)
                    s.env[c] = tpf / (<double>s.fp_at[t * stride + c] + tpf + eps)
                # rc[-1] = tp / npig
                recall[t, k, a, m] = <double>ntt / npig if nd else 0.0
                if not keep:
                    continue
                for c in range(ntt - 2, -1, -1):
                    if s.env[c + 1] > s.env[c]:
                        s.env[c] = s.env[c + 1]
                for r in range(n_r):
                    c = s.cr[r]
                    if c == 0 and nd > 0:
                        pos = 0
                        prv = s.env[0] if ntt > 0 else 0.0
                    elif c == 0 or c > ntt:
                        # past the end: pycocotools' try/except leaves the rest at 0
                        for r2 in range(r, n_r):
                            precision[t, r2, k, a, mi] = 0.0
                            scores[t, r2, k, a, mi] = 0.0
                        break
                    else:
                        pos = s.tp_pos[t * stride + c - 1]
                        prv = s.env[c - 1]
                    precision[t, r, k, a, mi] = prv
                    scores[t, r, k, a, mi] = s.sc[pos]
    _scratch_free(&s)
    return 0


def accumulate_kernel(const int64_t[::1] cat_off, const int64_t[::1] by_rows,
                      const int64_t[::1] perm, const int64_t[::1] cat_order,
                      const double[::1] score_in, const int64_t[::1] rank_in,
                      const uint8_t[:, :, ::1] flags, const int64_t[:, ::1] num_gt,
                      const int64_t[::1] max_dets, const double[::1] rec_thrs, double eps,
                      int n_thr, double[:, :, :, :, :] precision,
                      double[:, :, :, ::1] recall, double[:, :, :, :, :] scores,
                      Py_ssize_t m_out=-1):
    """Fill ``precision``, ``recall``, ``scores`` (pre-filled with -1) category by category.

    ``m_out >= 0``: precision and scores only for maxDets index ``m_out`` (their M axis
    has length 1); recall for every maxDets as always.

    The kernel of :func:`ioukit.coco._accumulate.accumulate_arrays` (which documents
    it). ``perm[cat_off[k]:cat_off[k + 1]]`` are category ``k``'s records in score
    order, ``by_rows[...]`` the same records in storage order; ``cat_order`` deals the
    categories to ``n_thr`` threads (static blocks of a parallel loop).
    """
    cdef Py_ssize_t n_k = num_gt.shape[0], n = perm.shape[0], kk, j, i
    cdef int64_t k
    cdef int failed = 0
    # position of every record in its category's score order; scores and ranks in it
    cdef int64_t[::1] inv = np.empty(n, dtype=np.int64)
    cdef double[::1] score = np.empty(n, dtype=np.float64)
    cdef int64_t[::1] rank = np.empty(n, dtype=np.int64)
    if n_thr < 1:
        n_thr = 1
    with nogil:
        for kk in prange(n_k, schedule="static", num_threads=n_thr):
            for i in range(cat_off[kk], cat_off[kk + 1]):
                inv[perm[i]] = i - cat_off[kk]
                score[i] = score_in[perm[i]]
                rank[i] = rank_in[perm[i]]
        for j in prange(n_k, schedule="static", num_threads=n_thr):
            k = cat_order[j]
            failed += _accumulate_category(
                k, cat_off[k], cat_off[k + 1], by_rows, inv, rank, flags, score, num_gt,
                max_dets, rec_thrs, eps, precision, recall, scores, m_out)
    if failed:
        raise MemoryError("accumulate: out of memory for a category's work arrays")
