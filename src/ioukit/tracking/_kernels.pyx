"""Compiled per-frame loops behind ``ioukit.tracking`` (CLEAR, HOTA, Identity, preprocessing).

A sequence is laid out flat: rows of ground truth (and of tracker output) sorted by frame,
``gt_off[f]:gt_off[f + 1]`` the rows of frame ``f``, and the frame's similarity block (IoU,
``n_gt x n_tr``, row-major) at ``sim[sim_off[f]:sim_off[f + 1]]``. Ids are contiguous
(0 .. G-1, 0 .. T-1).

Every loop follows TrackEval (trackeval/metrics/clear.py, hota.py, identity.py,
datasets/mot_challenge_2d_box.py) operation by operation, with the same float64 order of
additions, and the per-frame assignments are solved by ``_lsap``, a port of SciPy's
``linear_sum_assignment`` (scipy/optimize/rectangular_lsap/rectangular_lsap.cpp: Crouse's
shortest augmenting path, same scan order and tie rule), so tied optima resolve to the
same pairs as TrackEval's calls to SciPy. Sequences are evaluated one thread each.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, strtod
from libc.string cimport memset

import numpy as np

# np.finfo(float).eps: TrackEval's tolerance in every threshold comparison
cdef double EPS = 2.220446049250313e-16


# ------------------------------------------------------------------ assignment
cdef struct Lsap:
    Py_ssize_t cap_dim, cap_cells
    double *tcost
    double *u
    double *v
    double *spc
    Py_ssize_t *path
    Py_ssize_t *col4row
    Py_ssize_t *row4col
    Py_ssize_t *remaining
    Py_ssize_t *row_to_col
    char *sr
    char *sc


cdef int lsap_init(Lsap *w, Py_ssize_t dim, Py_ssize_t cells) noexcept nogil:
    dim = dim if dim > 1 else 1
    cells = cells if cells > 1 else 1
    w.cap_dim = dim
    w.cap_cells = cells
    w.tcost = <double *> malloc(cells * sizeof(double))
    w.u = <double *> malloc(dim * sizeof(double))
    w.v = <double *> malloc(dim * sizeof(double))
    w.spc = <double *> malloc(dim * sizeof(double))
    w.path = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    w.col4row = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    w.row4col = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    w.remaining = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    w.row_to_col = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    w.sr = <char *> malloc(dim)
    w.sc = <char *> malloc(dim)
    if (w.tcost == NULL or w.u == NULL or w.v == NULL or w.spc == NULL or w.path == NULL
            or w.col4row == NULL or w.row4col == NULL or w.remaining == NULL
            or w.row_to_col == NULL or w.sr == NULL or w.sc == NULL):
        return -1
    return 0


cdef void lsap_free(Lsap *w) noexcept nogil:
    free(w.tcost); free(w.u); free(w.v); free(w.spc); free(w.path); free(w.col4row)
    free(w.row4col); free(w.remaining); free(w.row_to_col); free(w.sr); free(w.sc)


cdef Py_ssize_t _augmenting_path(Py_ssize_t nr, Py_ssize_t nc, const double *cost, Lsap *w,
                                 Py_ssize_t i, double *p_min) noexcept nogil:
    # rectangular_lsap.cpp: augmenting_path (remaining filled in reverse order, ties prefer
    # a free column)
    cdef double min_val = 0, lowest, r
    cdef Py_ssize_t num_remaining = nc, it, j, index, sink = -1
    for it in range(nc):
        w.remaining[it] = nc - it - 1
        w.spc[it] = INFINITY
    memset(w.sr, 0, nr)
    memset(w.sc, 0, nc)
    while sink == -1:
        index = -1
        lowest = INFINITY
        w.sr[i] = 1
        for it in range(num_remaining):
            j = w.remaining[it]
            r = min_val + cost[i * nc + j] - w.u[i] - w.v[j]
            if r < w.spc[j]:
                w.path[j] = i
                w.spc[j] = r
            if w.spc[j] < lowest or (w.spc[j] == lowest and w.row4col[j] == -1):
                lowest = w.spc[j]
                index = it
        min_val = lowest
        if min_val == INFINITY:
            return -1
        j = w.remaining[index]
        if w.row4col[j] == -1:
            sink = j
        else:
            i = w.row4col[j]
        w.sc[j] = 1
        num_remaining -= 1
        w.remaining[index] = w.remaining[num_remaining]
    p_min[0] = min_val
    return sink


cdef Py_ssize_t lsap(const double *cost, Py_ssize_t nr, Py_ssize_t nc, Lsap *w,
                     Py_ssize_t *rows, Py_ssize_t *cols) noexcept nogil:
    """Minimum-cost assignment of a row-major ``nr x nc`` matrix; pairs sorted by row.

    Returns the number of pairs (min(nr, nc)), or -1 when infeasible.
    """
    cdef Py_ssize_t n_r = nr, n_c = nc, i, j, cur, sink, k
    cdef const double *c = cost
    cdef double min_val
    cdef bint transpose = nc < nr
    if nr == 0 or nc == 0:
        return 0
    if transpose:  # tall matrices are solved transposed, as SciPy does
        for i in range(nr):
            for j in range(nc):
                w.tcost[j * nr + i] = cost[i * nc + j]
        n_r = nc
        n_c = nr
        c = w.tcost
    for i in range(n_r):
        w.u[i] = 0
        w.col4row[i] = -1
    for j in range(n_c):
        w.v[j] = 0
        w.path[j] = -1
        w.row4col[j] = -1
    for cur in range(n_r):
        sink = _augmenting_path(n_r, n_c, c, w, cur, &min_val)
        if sink < 0:
            return -1
        w.u[cur] += min_val
        for i in range(n_r):
            if w.sr[i] and i != cur:
                w.u[i] += min_val - w.spc[w.col4row[i]]
        for j in range(n_c):
            if w.sc[j]:
                w.v[j] -= min_val - w.spc[j]
        j = sink
        while True:
            i = w.path[j]
            w.row4col[j] = i
            k = w.col4row[i]
            w.col4row[i] = j
            j = k
            if i == cur:
                break
    if transpose:
        for i in range(nr):
            w.row_to_col[i] = -1
        for i in range(n_r):
            w.row_to_col[w.col4row[i]] = i
        k = 0
        for i in range(nr):
            if w.row_to_col[i] >= 0:
                rows[k] = i
                cols[k] = w.row_to_col[i]
                k += 1
        return k
    for i in range(n_r):
        rows[i] = i
        cols[i] = w.col4row[i]
    return n_r


def linear_sum_assignment(const double[:, ::1] cost):
    """SciPy-compatible minimum-cost assignment (the port the metrics use), for tests."""
    cdef Py_ssize_t nr = cost.shape[0], nc = cost.shape[1], n
    cdef Lsap w
    cdef Py_ssize_t dim = nr if nr > nc else nc
    rows_a = np.empty(dim, dtype=np.intp)
    cols_a = np.empty(dim, dtype=np.intp)
    cdef Py_ssize_t[::1] rows = rows_a, cols = cols_a
    if lsap_init(&w, dim, nr * nc) != 0:
        lsap_free(&w)
        raise MemoryError
    with nogil:
        n = lsap(&cost[0, 0] if nr * nc > 0 else NULL, nr, nc, &w, &rows[0], &cols[0])
    lsap_free(&w)
    if n < 0:
        raise ValueError("cost matrix is infeasible")
    return rows_a[:n], cols_a[:n]


# ------------------------------------------------------------------ similarity
def iou_blocks(const double[:, ::1] gt, const int64_t[::1] gt_off, const double[:, ::1] tr,
               const int64_t[::1] tr_off, const int64_t[::1] sim_off, double[::1] out):
    """Per-frame IoU blocks of xyxy boxes, TrackEval's ``_calculate_box_ious`` arithmetic.

    Zero-area boxes and zero unions give 0 (its ``<= eps`` guards).
    """
    cdef Py_ssize_t f, i, j, g0, g1, t0, t1, nt, base
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    cdef double a1, a2, iw, ih, inter, union
    with nogil:
        for f in range(n_frames):
            g0 = gt_off[f]; g1 = gt_off[f + 1]; t0 = tr_off[f]; t1 = tr_off[f + 1]
            nt = t1 - t0
            base = sim_off[f]
            for i in range(g0, g1):
                a1 = (gt[i, 2] - gt[i, 0]) * (gt[i, 3] - gt[i, 1])
                for j in range(t0, t1):
                    a2 = (tr[j, 2] - tr[j, 0]) * (tr[j, 3] - tr[j, 1])
                    iw = min(gt[i, 2], tr[j, 2]) - max(gt[i, 0], tr[j, 0])
                    ih = min(gt[i, 3], tr[j, 3]) - max(gt[i, 1], tr[j, 1])
                    inter = max(iw, 0.0) * max(ih, 0.0)
                    union = a1 + a2 - inter
                    if a1 <= EPS or a2 <= EPS or union <= EPS:
                        out[base + (i - g0) * nt + (j - t0)] = 0.0
                    else:
                        out[base + (i - g0) * nt + (j - t0)] = inter / union


cdef Py_ssize_t _max_block(const int64_t[::1] gt_off, const int64_t[::1] tr_off,
                           Py_ssize_t *cells) noexcept nogil:
    cdef Py_ssize_t f, ng, nt, dim = 1
    cells[0] = 1
    for f in range(gt_off.shape[0] - 1):
        ng = gt_off[f + 1] - gt_off[f]
        nt = tr_off[f + 1] - tr_off[f]
        if ng > dim:
            dim = ng
        if nt > dim:
            dim = nt
        if ng * nt > cells[0]:
            cells[0] = ng * nt
    return dim


# ------------------------------------------------------------------ preprocessing
def distractor_matches(const double[::1] sim, const int64_t[::1] gt_off,
                       const int64_t[::1] tr_off, const int64_t[::1] sim_off,
                       const unsigned char[::1] gt_distractor, unsigned char[::1] remove_tr):
    """MOTChallenge preprocessing: tracker rows matched (IoU >= 0.5) to a distractor GT row.

    mot_challenge_2d_box.py ``get_preprocessed_seq_data``: per frame, an assignment over
    every GT row on the IoU set to 0 below 0.5 - eps; a matched tracker row whose GT is of a
    distractor class is flagged in ``remove_tr``.
    """
    cdef Py_ssize_t f, i, k, ng, nt, n, cells, dim
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    cdef double s, thr = 0.5 - EPS
    cdef Lsap w
    cdef double *cost
    cdef Py_ssize_t *rows
    cdef Py_ssize_t *cols
    dim = _max_block(gt_off, tr_off, &cells)
    if lsap_init(&w, dim, cells) != 0:
        lsap_free(&w)
        raise MemoryError
    cost = <double *> malloc(cells * sizeof(double))
    rows = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cols = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    with nogil:
        for f in range(n_frames):
            ng = gt_off[f + 1] - gt_off[f]
            nt = tr_off[f + 1] - tr_off[f]
            if ng == 0 or nt == 0:
                continue
            for i in range(ng * nt):
                s = sim[sim_off[f] + i]
                cost[i] = -(s if s >= thr else 0.0)
            n = lsap(cost, ng, nt, &w, rows, cols)
            for k in range(n):
                if -cost[rows[k] * nt + cols[k]] > EPS and gt_distractor[gt_off[f] + rows[k]]:
                    remove_tr[tr_off[f] + cols[k]] = 1
    free(cost); free(rows); free(cols)
    lsap_free(&w)


# ------------------------------------------------------------------ CLEAR
def clear_counts(const double[::1] sim, const int64_t[::1] gt_off, const int64_t[::1] tr_off,
                 const int64_t[::1] sim_off, const int64_t[::1] gt_id,
                 const int64_t[::1] tr_id, Py_ssize_t num_gt_ids, double threshold):
    """CLEAR MOT counts of one sequence (trackeval/metrics/clear.py ``eval_sequence``).

    Returns (TP, FN, FP, IDSW, MOTP_sum, gt_id_count, gt_matched_count, gt_frag_count).
    """
    cdef Py_ssize_t f, i, j, k, ng, nt, n, g, t, cells, dim, n_prev = 0, n_cur
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    cdef int64_t tp = 0, fn = 0, fp = 0, idsw = 0
    cdef double s, score, thr = threshold - EPS, motp_sum = 0, frame_sum
    cdef Lsap w
    count_a = np.zeros(num_gt_ids, dtype=np.int64)
    matched_a = np.zeros(num_gt_ids, dtype=np.int64)
    frag_a = np.zeros(num_gt_ids, dtype=np.int64)
    prev_a = np.full(num_gt_ids, -1, dtype=np.int64)  # last tracker id, any earlier frame
    prev_ts_a = np.full(num_gt_ids, -1, dtype=np.int64)  # tracker id in the previous frame
    cdef int64_t[::1] count = count_a, matched = matched_a, frag = frag_a
    cdef int64_t[::1] prev = prev_a, prev_ts = prev_ts_a
    dim = _max_block(gt_off, tr_off, &cells)
    if lsap_init(&w, dim, cells) != 0:
        lsap_free(&w)
        raise MemoryError
    cdef double *cost = <double *> malloc(cells * sizeof(double))
    cdef Py_ssize_t *rows = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cdef Py_ssize_t *cols = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cdef Py_ssize_t *keep = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cdef char *fresh = <char *> malloc(dim)
    cdef int64_t *prev_list = <int64_t *> malloc((num_gt_ids + 1) * sizeof(int64_t))
    with nogil:
        for f in range(n_frames):
            ng = gt_off[f + 1] - gt_off[f]
            nt = tr_off[f + 1] - tr_off[f]
            if ng == 0:
                fp += nt
                continue
            if nt == 0:
                fn += ng
                for i in range(gt_off[f], gt_off[f + 1]):
                    count[gt_id[i]] += 1
                continue
            # 1000 for continuing the previous frame's pair, then the IoU (MOTP)
            for i in range(ng):
                g = gt_id[gt_off[f] + i]
                for j in range(nt):
                    s = sim[sim_off[f] + i * nt + j]
                    score = (1000.0 if tr_id[tr_off[f] + j] == prev_ts[g] else 0.0) + s
                    if s < thr:
                        score = 0.0
                    cost[i * nt + j] = -score
            n = lsap(cost, ng, nt, &w, rows, cols)
            n_cur = 0
            for k in range(n):
                if -cost[rows[k] * nt + cols[k]] > EPS:
                    rows[n_cur] = rows[k]
                    cols[n_cur] = cols[k]
                    n_cur += 1
            frame_sum = 0
            for k in range(n_cur):
                g = gt_id[gt_off[f] + rows[k]]
                t = tr_id[tr_off[f] + cols[k]]
                if prev[g] != -1 and prev[g] != t:
                    idsw += 1
                fresh[k] = prev_ts[g] == -1
                frame_sum = frame_sum + sim[sim_off[f] + rows[k] * nt + cols[k]]
            for i in range(gt_off[f], gt_off[f + 1]):
                count[gt_id[i]] += 1
            for k in range(n_prev):
                prev_ts[prev_list[k]] = -1
            for k in range(n_cur):
                g = gt_id[gt_off[f] + rows[k]]
                t = tr_id[tr_off[f] + cols[k]]
                matched[g] += 1
                prev[g] = t
                prev_ts[g] = t
                prev_list[k] = g
                frag[g] += fresh[k]
            n_prev = n_cur
            tp += n_cur
            fn += ng - n_cur
            fp += nt - n_cur
            if n_cur > 0:
                motp_sum = motp_sum + frame_sum
    free(cost); free(rows); free(cols); free(keep); free(fresh); free(prev_list)
    lsap_free(&w)
    return tp, fn, fp, idsw, motp_sum, count_a, matched_a, frag_a


# ------------------------------------------------------------------ Identity
def identity_counts(const double[::1] sim, const int64_t[::1] gt_off,
                    const int64_t[::1] tr_off, const int64_t[::1] sim_off,
                    const int64_t[::1] gt_id, const int64_t[::1] tr_id, double[:, ::1] potential,
                    double threshold):
    """Frames in which each (GT id, tracker id) pair overlaps at IoU >= threshold (no eps).

    trackeval/metrics/identity.py: ``potential_matches_count``, accumulated in place.
    """
    cdef Py_ssize_t f, i, j, ng, nt
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    with nogil:
        for f in range(n_frames):
            ng = gt_off[f + 1] - gt_off[f]
            nt = tr_off[f + 1] - tr_off[f]
            for i in range(ng):
                for j in range(nt):
                    if sim[sim_off[f] + i * nt + j] >= threshold:
                        potential[gt_id[gt_off[f] + i], tr_id[tr_off[f] + j]] += 1


# ------------------------------------------------------------------ HOTA
def hota_alignment(const double[::1] sim, const int64_t[::1] gt_off,
                   const int64_t[::1] tr_off, const int64_t[::1] sim_off,
                   const int64_t[::1] gt_id, const int64_t[::1] tr_id, double[:, ::1] potential,
                   double[::1] gt_count, double[::1] tr_count):
    """HOTA's first pass (trackeval/metrics/hota.py): per-frame normalised similarity summed
    per id pair (``potential_matches_count``) and detections per id, accumulated in place."""
    cdef Py_ssize_t f, i, j, ng, nt, base, cells, dim
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    cdef double s, denom
    dim = _max_block(gt_off, tr_off, &cells)
    cdef double *rsum = <double *> malloc(dim * sizeof(double))
    cdef double *csum = <double *> malloc(dim * sizeof(double))
    with nogil:
        for f in range(n_frames):
            ng = gt_off[f + 1] - gt_off[f]
            nt = tr_off[f + 1] - tr_off[f]
            base = sim_off[f]
            for j in range(nt):
                csum[j] = 0
            for i in range(ng):
                rsum[i] = 0
                for j in range(nt):
                    s = sim[base + i * nt + j]
                    rsum[i] = rsum[i] + s
                    csum[j] = csum[j] + s
            for i in range(ng):
                for j in range(nt):
                    s = sim[base + i * nt + j]
                    denom = csum[j] + rsum[i] - s
                    if denom > EPS:
                        potential[gt_id[gt_off[f] + i], tr_id[tr_off[f] + j]] += s / denom
            for i in range(gt_off[f], gt_off[f + 1]):
                gt_count[gt_id[i]] += 1
            for j in range(tr_off[f], tr_off[f + 1]):
                tr_count[tr_id[j]] += 1
    free(rsum); free(csum)


def hota_matches(const double[::1] sim, const int64_t[::1] gt_off, const int64_t[::1] tr_off,
                 const int64_t[::1] sim_off, const int64_t[::1] gt_id,
                 const int64_t[::1] tr_id, const double[:, ::1] alignment,
                 const double[::1] alpha_thr, double[::1] tp, double[::1] fn, double[::1] fp,
                 double[::1] loc, int64_t[::1] m_gt, int64_t[::1] m_tr, int64_t[::1] m_k):
    """HOTA's second pass: one assignment per frame maximising alignment x IoU, then per
    alpha the pairs with IoU >= alpha - eps (``alpha_thr``) are TP.

    Each matched pair is written to (m_gt, m_tr, m_k), ``m_k`` the number of alphas it
    passes (a prefix, the alphas increase). Returns the number of pairs written.
    """
    cdef Py_ssize_t f, i, j, k, a, ng, nt, n, cells, dim, n_out = 0, kk
    cdef Py_ssize_t n_frames = gt_off.shape[0] - 1
    cdef Py_ssize_t n_alpha = alpha_thr.shape[0]
    cdef double s
    cdef Lsap w
    dim = _max_block(gt_off, tr_off, &cells)
    if lsap_init(&w, dim, cells) != 0:
        lsap_free(&w)
        raise MemoryError
    cdef double *cost = <double *> malloc(cells * sizeof(double))
    cdef Py_ssize_t *rows = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cdef Py_ssize_t *cols = <Py_ssize_t *> malloc(dim * sizeof(Py_ssize_t))
    cdef double *frame_loc = <double *> malloc(n_alpha * sizeof(double))
    cdef int64_t *frame_tp = <int64_t *> malloc(n_alpha * sizeof(int64_t))
    with nogil:
        for f in range(n_frames):
            ng = gt_off[f + 1] - gt_off[f]
            nt = tr_off[f + 1] - tr_off[f]
            if ng == 0:
                for a in range(n_alpha):
                    fp[a] += nt
                continue
            if nt == 0:
                for a in range(n_alpha):
                    fn[a] += ng
                continue
            for i in range(ng):
                for j in range(nt):
                    cost[i * nt + j] = -(alignment[gt_id[gt_off[f] + i], tr_id[tr_off[f] + j]]
                                         * sim[sim_off[f] + i * nt + j])
            n = lsap(cost, ng, nt, &w, rows, cols)
            for a in range(n_alpha):
                frame_loc[a] = 0
                frame_tp[a] = 0
            for k in range(n):
                s = sim[sim_off[f] + rows[k] * nt + cols[k]]
                kk = 0
                for a in range(n_alpha):
                    if s >= alpha_thr[a]:
                        frame_loc[a] = frame_loc[a] + s
                        frame_tp[a] += 1
                        kk = a + 1
                if kk > 0:
                    m_gt[n_out] = gt_id[gt_off[f] + rows[k]]
                    m_tr[n_out] = tr_id[tr_off[f] + cols[k]]
                    m_k[n_out] = kk
                    n_out += 1
            for a in range(n_alpha):
                tp[a] += frame_tp[a]
                fn[a] += ng - frame_tp[a]
                fp[a] += nt - frame_tp[a]
                if frame_tp[a] > 0:
                    loc[a] = loc[a] + frame_loc[a]
    free(cost); free(rows); free(cols); free(frame_loc); free(frame_tp)
    lsap_free(&w)
    return n_out


# ------------------------------------------------------------------ association
def greedy_pairs(const double[:, ::1] iou, const int64_t[::1] order, double threshold):
    """Greedy assignment: pairs visited in ``order`` (flat indices, best IoU first), each
    taken when both sides are free and its IoU >= threshold. Returns (rows, cols)."""
    cdef Py_ssize_t nr = iou.shape[0], nc = iou.shape[1], k, r, c, n = 0
    rows_a = np.empty(min(nr, nc), dtype=np.intp)
    cols_a = np.empty(min(nr, nc), dtype=np.intp)
    cdef Py_ssize_t[::1] rows = rows_a, cols = cols_a
    row_used_a = np.zeros(nr, dtype=np.uint8)
    col_used_a = np.zeros(nc, dtype=np.uint8)
    cdef unsigned char[::1] row_used = row_used_a, col_used = col_used_a
    with nogil:
        for k in range(order.shape[0]):
            r = order[k] // nc
            c = order[k] - r * nc
            if iou[r, c] < threshold:
                break
            if row_used[r] or col_used[c]:
                continue
            row_used[r] = 1
            col_used[c] = 1
            rows[n] = r
            cols[n] = c
            n += 1
    return rows_a[:n], cols_a[:n]


# ------------------------------------------------------------------ text files
cdef inline bint _blank(char c) noexcept nogil:
    return c == b' ' or c == b'\t'


cdef inline bint _eol(char c) noexcept nogil:
    return c == b'\n' or c == b'\r' or c == 0


# exact powers of ten (10^22 is the largest a double holds exactly)
cdef double _POW10[23]
for _i in range(23):
    _POW10[_i] = 10.0 ** _i


cdef inline double _fast_decimal(const char *p, char **end) noexcept nogil:
    """[-]digits[.digits] with at most 15 significant digits and no exponent: the mantissa
    and 10^k are exact doubles, so one division rounds exactly as strtod (Clinger's fast
    path). Anything else sets ``end`` to NULL (the caller uses strtod)."""
    cdef bint neg = False
    cdef int64_t m = 0
    cdef int digits = 0, frac = 0
    cdef const char *q = p
    if q[0] == c'-':
        neg = True
        q += 1
    elif q[0] == c'+':
        q += 1
    if not (c'0' <= q[0] <= c'9' or (q[0] == c'.' and c'0' <= q[1] <= c'9')):
        end[0] = NULL
        return 0
    while c'0' <= q[0] <= c'9':
        m = m * 10 + (q[0] - 48)
        digits += 1
        q += 1
    if q[0] == c'.':
        q += 1
        while c'0' <= q[0] <= c'9':
            m = m * 10 + (q[0] - 48)
            digits += 1
            frac += 1
            q += 1
    if digits > 15 or frac > 22 or q[0] == c'e' or q[0] == c'E':
        end[0] = NULL
        return 0
    end[0] = <char *> q
    cdef double v = <double> m / _POW10[frac]
    return -v if neg else v


cdef Py_ssize_t _parse_line(const char *p, double *out, Py_ssize_t k_max,
                            const char **end_of_line) noexcept nogil:
    """Numbers of one line (comma and/or blank separated) into ``out``; their count, or
    -1 when a field is not a number. A trailing delimiter is allowed."""
    cdef Py_ssize_t k = 0
    cdef char *end
    cdef double v
    while True:
        while _blank(p[0]):
            p += 1
        if _eol(p[0]):
            break
        if p[0] == b',':
            if k == 0:
                return -1
            p += 1
            while _blank(p[0]):
                p += 1
            if _eol(p[0]):  # trailing comma
                break
            if p[0] == b',':
                return -1  # empty field
        v = _fast_decimal(p, &end)
        if end == NULL:
            v = strtod(p, &end)
            if end == p:
                return -1
        if k < k_max:
            out[k] = v
        k += 1
        p = end
        if not (_blank(p[0]) or _eol(p[0]) or p[0] == b','):
            return -1
    while not (p[0] == b'\n' or p[0] == 0):
        p += 1
    end_of_line[0] = p
    return k


def parse_table(bytes text):
    """MOTChallenge text -> ((N, K) float64 array, 0) or (None, bad line number, 1-based).

    Every non-empty line must hold the same number of fields K as the first one.
    """
    cdef const char *s = text
    cdef const char *p = s
    cdef const char *eol
    cdef Py_ssize_t n = len(text), i, rows = 1, k, k0 = -1, r = 0, line = 0
    cdef double first[64]
    for i in range(n):
        if s[i] == b'\n':
            rows += 1
    # the first non-empty line sets K
    while p[0] != 0:
        line += 1
        k = _parse_line(p, first, 64, &eol)
        if k < 0 or k > 64:
            return None, line
        if k > 0:
            k0 = k
            break
        p = eol + 1 if eol[0] == b'\n' else eol
    if k0 < 0:
        return np.zeros((0, 0)), 0
    out_a = np.empty((rows, k0), dtype=np.float64)
    cdef double[:, ::1] out = out_a
    cdef Py_ssize_t bad = 0
    with nogil:
        while True:
            k = _parse_line(p, &out[r, 0], k0, &eol)
            if k < 0 or (k > 0 and k != k0):
                bad = line
                break
            if k > 0:
                r += 1
            if eol[0] == 0:
                break
            p = eol + 1
            line += 1
            if p[0] == 0:
                break
    if bad:
        return None, bad
    return out_a[:r], 0
