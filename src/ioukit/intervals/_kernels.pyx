"""Compiled kernels behind ``ioukit.intervals`` (NumPy arrays and CPU tensors).

Every overlap is ``interval_iou`` of ``ioukit/geometry/_primitives.pxd`` (the one interval
arithmetic): inter = clamp(min(e) - max(s), 0), union = len_a + len_b - inter, 0 where the
union is at most ``eps``. Both operand orders round alike (the sum commutes), so the
IoU of (i, j) and of (j, i) are the same bits.

Suppression never builds the N x N matrix: intervals are sorted by (label, start) once,
and a kept interval visits only those whose start lies in [s - maxlen, e] of its label
(the only ones that can overlap it; every other pair has IoU exactly 0, which neither
suppresses at a threshold >= 0 nor decays a score: exp(-0) = 1 and a linear decay needs
IoU > threshold >= 0).
"""

from cython.parallel cimport prange
from libc.math cimport exp
from libc.stdint cimport int64_t

from ioukit.geometry._primitives cimport interval_iou, real

import numpy as np

# Soft-NMS rescoring methods.
cpdef enum:
    SOFT_LINEAR = 1
    SOFT_GAUSSIAN = 2


def pairwise_iou(const real[:, :, ::1] a, const real[:, :, ::1] b, real[:, :, ::1] out,
                 double eps, int nthreads):
    """out[k, i, j] = IoU(a[k, i], b[k, j]); a (K, N, 2), b (K, M, 2), out (K, N, M)."""
    cdef Py_ssize_t nk = a.shape[0], n = a.shape[1], m = b.shape[1]
    cdef Py_ssize_t row, k, i, j
    cdef real e = <real>eps
    for row in prange(nk * n, nogil=True, num_threads=max(nthreads, 1), schedule="static"):
        k = row // n
        i = row - k * n
        for j in range(m):
            out[k, i, j] = interval_iou(a[k, i, 0], a[k, i, 1], b[k, j, 0], b[k, j, 1], e)


# --------------------------------------------------------------- candidate windows
cdef struct Window:
    Py_ssize_t lo
    Py_ssize_t hi


cdef inline Py_ssize_t _lower(const double[::1] s, Py_ssize_t lo, Py_ssize_t hi,
                              double x) noexcept nogil:
    # first position in [lo, hi) with s[pos] >= x (s sorted ascending)
    cdef Py_ssize_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if s[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline Py_ssize_t _upper(const double[::1] s, Py_ssize_t lo, Py_ssize_t hi,
                              double x) noexcept nogil:
    # first position in [lo, hi) with s[pos] > x
    cdef Py_ssize_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if s[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline Window _window(const double[::1] ss, const int64_t[::1] seg_lo,
                           const int64_t[::1] seg_hi, const double[::1] maxlen,
                           int64_t lab, double s, double e, bint everything) noexcept nogil:
    # positions (in (label, start) order) of the intervals of label ``lab`` that may
    # overlap [s, e]: start in [s - maxlen - margin, e + margin]; the margin (a few ulps
    # of the magnitudes) only adds candidates, whose IoU is then computed exactly
    cdef Window w
    cdef double mag, margin
    w.lo = seg_lo[lab]
    w.hi = seg_hi[lab]
    if everything:
        return w
    mag = (s if s > 0 else -s) + (e if e > 0 else -e) + maxlen[lab]
    margin = mag * 4.440892098500626e-16
    w.hi = _upper(ss, w.lo, w.hi, e + margin)
    w.lo = _lower(ss, w.lo, w.hi, s - maxlen[lab] - margin)
    return w


def _layout(double[:, ::1] iv, int64_t[::1] labels, int64_t n_labels):
    # (label, start) order, per-label [lo, hi) position ranges and longest interval
    n = iv.shape[0]
    lab = np.asarray(labels)
    starts = np.asarray(iv)[:, 0]
    pos_order = np.lexsort((starts, lab)).astype(np.int64)
    counts = np.bincount(lab, minlength=n_labels)
    seg_hi = np.cumsum(counts).astype(np.int64)
    seg_lo = (seg_hi - counts).astype(np.int64)
    lengths = np.asarray(iv)[:, 1] - starts
    maxlen = np.zeros(n_labels, np.float64)
    if n:
        np.maximum.at(maxlen, lab, lengths)
    where = np.empty(n, np.int64)
    where[pos_order] = np.arange(n, dtype=np.int64)
    return (np.ascontiguousarray(starts[pos_order]), pos_order, where, seg_lo, seg_hi,
            maxlen)


# ------------------------------------------------------------------------ hard NMS
def greedy_nms(const double[:, ::1] iv, const int64_t[::1] order, const int64_t[::1] labels,
               int64_t n_labels, double thr):
    """Greedy NMS: visit ``order`` (best first); keep an interval unless a kept one of its
    label has IoU > thr with it. Returns the kept indices in visiting order."""
    cdef Py_ssize_t n = iv.shape[0]
    ss_, pos_order_, _, seg_lo_, seg_hi_, maxlen_ = _layout(np.asarray(iv), labels, n_labels)
    cdef const double[::1] ss = ss_
    cdef const int64_t[::1] pos_order = pos_order_
    cdef const int64_t[::1] seg_lo = seg_lo_
    cdef const int64_t[::1] seg_hi = seg_hi_
    cdef const double[::1] maxlen = maxlen_
    cdef int64_t[::1] rank = np.empty(n, np.int64)
    cdef unsigned char[::1] gone = np.zeros(n, np.uint8)
    cdef int64_t[::1] keep = np.empty(n, np.int64)
    cdef Py_ssize_t r, i, p, j, nk = 0
    cdef Window w
    cdef bint everything = thr < 0  # even disjoint intervals (IoU 0) suppress
    with nogil:
        for r in range(n):
            rank[order[r]] = r
        for r in range(n):
            i = order[r]
            if gone[i]:
                continue
            keep[nk] = i
            nk += 1
            w = _window(ss, seg_lo, seg_hi, maxlen, labels[i], iv[i, 0], iv[i, 1], everything)
            for p in range(w.lo, w.hi):
                j = pos_order[p]
                if gone[j] or rank[j] <= r:
                    continue
                if interval_iou(iv[i, 0], iv[i, 1], iv[j, 0], iv[j, 1], 0.0) > thr:
                    gone[j] = 1
    return np.asarray(keep[:nk]).copy()


# ------------------------------------------------------------------------ Soft-NMS
def soft_nms(const double[:, ::1] iv, double[::1] scores, const int64_t[::1] order,
             const int64_t[::1] labels, int64_t n_labels, double nt, double sigma,
             double score_threshold, int method):
    """Soft-NMS (Bodla et al. 2017): repeatedly take the highest remaining score (ties: the
    earlier in ``order``), and decay the other remaining intervals of its label:
    Gaussian ``s * exp(-iou^2 / sigma)``, linear ``s * (1 - iou)`` where iou > nt.
    ``scores`` (float64) is decayed in place. Returns (kept indices in selection order,
    their scores at selection); an interval is kept when that score is > score_threshold.

    Scores only decrease, so an interval at or below the threshold can never be kept nor
    decay a kept one (everything it would decay scores at most as high): it leaves the pool.
    """
    cdef Py_ssize_t n = iv.shape[0]
    ss_, pos_order_, _, seg_lo_, seg_hi_, maxlen_ = _layout(np.asarray(iv), labels, n_labels)
    cdef const double[::1] ss = ss_
    cdef const int64_t[::1] pos_order = pos_order_
    cdef const int64_t[::1] seg_lo = seg_lo_
    cdef const int64_t[::1] seg_hi = seg_hi_
    cdef const double[::1] maxlen = maxlen_
    cdef int64_t[::1] alive = np.empty(n, np.int64)  # pool, in ``order`` order
    cdef int64_t[::1] rank = np.empty(n, np.int64)
    cdef unsigned char[::1] done = np.zeros(n, np.uint8)
    cdef int64_t[::1] keep = np.empty(n, np.int64)
    cdef double[::1] kept_score = np.empty(n, np.float64)
    cdef Py_ssize_t na = 0, q, best_q, i, j, p, nk = 0, r
    cdef double best = 0, iou
    cdef Window w
    with nogil:
        for r in range(n):
            rank[order[r]] = r
            if scores[order[r]] > score_threshold:
                alive[na] = order[r]
                na += 1
            else:
                done[order[r]] = 1
        while na > 0:
            # the pool's best score, first in ``order`` on ties; drop the hopeless
            best_q = -1
            r = 0
            for q in range(na):
                j = alive[q]
                if done[j]:
                    continue
                if scores[j] <= score_threshold:
                    done[j] = 1
                    continue
                alive[r] = j
                if best_q < 0 or scores[j] > best:
                    best = scores[j]
                    best_q = r
                r += 1
            na = r
            if best_q < 0:
                break
            i = alive[best_q]
            done[i] = 1
            keep[nk] = i
            kept_score[nk] = scores[i]
            nk += 1
            w = _window(ss, seg_lo, seg_hi, maxlen, labels[i], iv[i, 0], iv[i, 1], False)
            for p in range(w.lo, w.hi):
                j = pos_order[p]
                if done[j]:
                    continue
                iou = interval_iou(iv[i, 0], iv[i, 1], iv[j, 0], iv[j, 1], 0.0)
                if method == SOFT_GAUSSIAN:
                    if iou > 0:
                        scores[j] = scores[j] * exp(-(iou * iou) / sigma)
                elif iou > nt:
                    scores[j] = scores[j] * (1.0 - iou)
    return np.asarray(keep[:nk]).copy(), np.asarray(kept_score[:nk]).copy()


# ------------------------------------------------------------------- possession
def true_runs(const unsigned char[::1] mask):
    """[start, stop) position pairs of the runs of True in ``mask``: (K, 2) int64."""
    cdef Py_ssize_t n = mask.shape[0], i, k = 0
    cdef int64_t[:, ::1] out = np.empty(((n + 1) // 2, 2), np.int64)
    cdef bint inside = False
    with nogil:
        for i in range(n):
            if mask[i] and not inside:
                out[k, 0] = i
                inside = True
            elif not mask[i] and inside:
                out[k, 1] = i
                k += 1
                inside = False
        if inside:
            out[k, 1] = n
            k += 1
    return np.asarray(out[:k]).copy()
