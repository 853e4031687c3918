"""Compiled statistics of the KITTI object evaluation (kitti-object-eval-python semantics).

Transcribes ``compute_statistics_jit`` of kitti-object-eval-python ``eval.py`` (the
OpenPCDet / mmdet3d copy; the C++ devkit's ``computeStatistics`` is the same loop) for
all frames at once. Frame ``f`` holds detections ``dt_off[f]:dt_off[f+1]`` and ground
truth ``gt_off[f]:gt_off[f+1]``; its overlap block ``[n_dt, n_gt]`` (row-major) starts
at ``ov_off[f]``, its DontCare block ``[n_dt, n_dc]`` (intersection over the
detection's area) at ``dc_off[f]``. Flags: ``ignored_gt`` / ``ignored_dt`` -1 (other
class: skipped), 0 (evaluated), 1 (ignored: neighbouring class or outside the
difficulty).
"""

from libc.stdint cimport int64_t, int8_t

__all__ = ["tp_scores", "statistics"]

DEF NO_DETECTION = -10000000.0


cdef int _frame(const double[::1] ov, int64_t o0, int64_t ndt, int64_t ngt,
                const int8_t[::1] ign_gt, int64_t g0, const int8_t[::1] ign_dt, int64_t d0,
                const double[::1] score, const double[::1] dcov, int64_t c0, int64_t ndc,
                double min_overlap, double thresh, bint compute_fp, bint use_dc,
                unsigned char* assigned, int64_t* counts, double* tp_out) noexcept nogil:
    """One frame's compute_statistics_jit: counts[0..2] += tp, fp, fn; TP scores out."""
    cdef int64_t i, j, det_idx, ntp = 0, tp = 0, fp = 0, fn = 0, nstuff = 0
    cdef double valid, max_overlap, overlap, s
    cdef bint assigned_ignored
    for j in range(ndt):
        assigned[j] = 0
    for i in range(ngt):
        if ign_gt[g0 + i] == -1:
            continue
        det_idx = -1
        valid = NO_DETECTION
        max_overlap = 0
        assigned_ignored = False
        for j in range(ndt):
            if ign_dt[d0 + j] == -1 or assigned[j]:
                continue
            s = score[d0 + j]
            if compute_fp and s < thresh:
                continue
            overlap = ov[o0 + j * ngt + i]
            if not compute_fp:
                if overlap > min_overlap and s > valid:
                    det_idx = j
                    valid = s
            elif (overlap > min_overlap and (overlap > max_overlap or assigned_ignored)
                  and ign_dt[d0 + j] == 0):
                max_overlap = overlap
                det_idx = j
                valid = 1
                assigned_ignored = False
            elif overlap > min_overlap and valid == NO_DETECTION and ign_dt[d0 + j] == 1:
                det_idx = j
                valid = 1
                assigned_ignored = True
        if valid == NO_DETECTION and ign_gt[g0 + i] == 0:
            fn += 1
        elif valid != NO_DETECTION and (ign_gt[g0 + i] == 1 or ign_dt[d0 + det_idx] == 1):
            assigned[det_idx] = 1
        elif valid != NO_DETECTION:
            tp += 1
            if tp_out != NULL:
                tp_out[ntp] = score[d0 + det_idx]
            ntp += 1
            assigned[det_idx] = 1
    if compute_fp:
        for j in range(ndt):
            if not (assigned[j] or ign_dt[d0 + j] != 0 or score[d0 + j] < thresh):
                fp += 1
        if use_dc:
            for i in range(ndc):
                for j in range(ndt):
                    if assigned[j] or ign_dt[d0 + j] != 0 or score[d0 + j] < thresh:
                        continue
                    if dcov[c0 + j * ndc + i] > min_overlap:
                        assigned[j] = 1
                        nstuff += 1
        fp -= nstuff
    counts[0] += tp
    counts[1] += fp
    counts[2] += fn
    return <int>ntp


def tp_scores(const double[::1] ov, const int64_t[::1] ov_off, const int64_t[::1] dt_off,
              const int64_t[::1] gt_off, const int8_t[::1] ign_gt, const int8_t[::1] ign_dt,
              const double[::1] score, double min_overlap):
    """Scores of the true positives of the first pass (compute_fp=False, thresh=0)."""
    import numpy as np
    cdef Py_ssize_t nf = dt_off.shape[0] - 1, f
    cdef int64_t ndt_max = 1, n = 0, k
    for f in range(nf):
        ndt_max = max(ndt_max, dt_off[f + 1] - dt_off[f])
    cdef unsigned char[::1] assigned = bytearray(ndt_max)
    out = np.zeros(max(gt_off[nf], 1), dtype=np.float64)
    cdef double[::1] o = out
    cdef int64_t counts[3]
    counts[0] = 0; counts[1] = 0; counts[2] = 0
    cdef const double[::1] nodc = np.zeros(1)
    with nogil:
        for f in range(nf):
            k = _frame(ov, ov_off[f], dt_off[f + 1] - dt_off[f], gt_off[f + 1] - gt_off[f],
                       ign_gt, gt_off[f], ign_dt, dt_off[f], score, nodc, 0, 0,
                       min_overlap, 0.0, False, False, &assigned[0], counts, &o[n])
            n += k
    return out[:n].copy()


def statistics(const double[::1] ov, const int64_t[::1] ov_off, const int64_t[::1] dt_off,
               const int64_t[::1] gt_off, const int8_t[::1] ign_gt, const int8_t[::1] ign_dt,
               const double[::1] score, const double[::1] dcov, const int64_t[::1] dc_off,
               const int64_t[::1] dc_num, double min_overlap, const double[::1] thresholds,
               bint use_dc):
    """(T, 3) int64 tp, fp, fn summed over frames at each score threshold (compute_fp)."""
    import numpy as np
    cdef Py_ssize_t nf = dt_off.shape[0] - 1, nt = thresholds.shape[0], f, t
    cdef int64_t ndt_max = 1
    for f in range(nf):
        ndt_max = max(ndt_max, dt_off[f + 1] - dt_off[f])
    cdef unsigned char[::1] assigned = bytearray(ndt_max)
    out = np.zeros((nt, 3), dtype=np.int64)
    cdef int64_t[:, ::1] o = out
    with nogil:
        for t in range(nt):
            for f in range(nf):
                _frame(ov, ov_off[f], dt_off[f + 1] - dt_off[f], gt_off[f + 1] - gt_off[f],
                       ign_gt, gt_off[f], ign_dt, dt_off[f], score, dcov, dc_off[f],
                       dc_num[f], min_overlap, thresholds[t], True, use_dc, &assigned[0],
                       &o[t, 0], NULL)
    return out
