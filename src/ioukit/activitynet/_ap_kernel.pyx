"""All-point AP of many ranked curves at once (the official ``interpolated_prec_rec``).

For every label c (rows ``order[starts[c]:starts[c + 1]]`` of ``tp``, best rank first) and tIoU
threshold t: cumulative tp / fp counts, ``recall = tp / npos``, ``precision = tp /
(tp + fp)`` (each row is a TP or an FP, as in the official code), then VOC2010+'s
all-point area: sentinels (0, 0) and (1, 0), the precision envelope from the right, and
the sum of the recall steps times the envelope (the same terms as
``ioukit.metrics.average_precision(.., "all_point")``; summed from the right instead of
NumPy's pairwise sum, which changes the result by rounding only).
"""

from libc.stdint cimport int64_t

import numpy as np


def all_point_ap(const unsigned char[:, ::1] tp, const int64_t[::1] order,
                 const int64_t[::1] starts, const double[::1] npos):
    """tp (N, T) 0/1; ``order`` the rows in (label, rank) order, label c at positions
    ``starts[c]:starts[c + 1]``; npos (K,) -> ap (T, K)."""
    cdef Py_ssize_t k_all = npos.shape[0], n_t = tp.shape[1]
    cdef double[:, ::1] ap = np.zeros((n_t, k_all))
    cdef double[::1] prec = np.empty(tp.shape[0] + 1)
    cdef double[::1] rec = np.empty(tp.shape[0] + 1)
    cdef Py_ssize_t c, t, i, lo, hi, m
    cdef double tps, fps, env, area, prev
    with nogil:
        for c in range(k_all):
            lo = starts[c]
            hi = starts[c + 1]
            m = hi - lo
            if m == 0:
                continue  # no predictions: AP 0
            for t in range(n_t):
                tps = 0
                fps = 0
                for i in range(m):
                    if tp[order[lo + i], t]:
                        tps = tps + 1
                    else:
                        fps = fps + 1
                    rec[i] = tps / npos[c]
                    prec[i] = tps / (tps + fps)
                # from the right: the last step (to the sentinel recall 1) has precision 0
                env = 0
                area = 0
                for i in range(m - 1, -1, -1):
                    if prec[i] > env:
                        env = prec[i]
                    prev = rec[i - 1] if i > 0 else 0
                    if rec[i] != prev:
                        area = area + (rec[i] - prev) * env
                ap[t, c] = area
    return np.asarray(ap)
