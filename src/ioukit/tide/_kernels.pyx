"""Compiled TIDE kernels: per-image matching and error classification, and tidecv's AP.

``classify_images``: tidecv 1.0.1 ``quantify.py`` ``TIDEExample._run`` and
``TIDERun._eval_image`` over every image at once. One group per image; its detections
are best score first (stable) and already cut to ``max_dets``; its GT in file order,
crowd GT being tidecv's ignore regions. The IoU block of the group is the COCO IoU
plug-in's (crowd columns: intersection over the detection's area).

``class_ap``: tidecv ``ap.py`` ``APDataObject.get_ap`` for every class of one sorted
list of data points (precision made monotone from the right, sampled at recall
``r / 100`` with ``searchsorted(side="left")``, summed left to right, ``/ 101 * 100``).
"""

from cython.parallel import prange
from libc.stdint cimport int8_t, int64_t, uint8_t

from ioukit._threads import PARALLEL_MIN_ITEMS, get_num_threads

# error codes (ioukit.tide.evaluate._ERRORS is the same order as tidecv's _error_types)
cdef enum:
    E_CLS = 0
    E_LOC = 1
    E_BOTH = 2
    E_DUPE = 3
    E_BKG = 4


cdef inline int64_t _argmax_first(const double[::1] ious, int64_t row, int64_t G,
                                  const uint8_t[::1] crowd, const int64_t[::1] gidx,
                                  int64_t g0,
                                  const int64_t[::1] gcat, const uint8_t[::1] used,
                                  int64_t cat, int mode, double *val) noexcept nogil:
    # numpy argmax (first maximum) over the non-crowd columns of one detection's row,
    # each value masked to 0 as tidecv's matrices are: mode 0 all, 1 same class,
    # 2 other class, 3 same class and used, 4 same class and not used
    cdef int64_t j, r, best = -1
    cdef double v, bv = 0.0
    cdef bint keep
    for j in range(G):
        r = gidx[g0 + j]
        if crowd[r]:
            continue
        v = ious[row + j]
        if mode == 1:
            keep = gcat[r] == cat
        elif mode == 2:
            keep = gcat[r] != cat
        elif mode == 3:
            keep = gcat[r] == cat and used[r] != 0
        elif mode == 4:
            keep = gcat[r] == cat and used[r] == 0
        else:
            keep = True
        if not keep:
            v = 0.0
        if best < 0 or v > bv:
            best = j
            bv = v
    val[0] = bv
    return best


cdef void _one_image(int64_t g, const double[::1] ious, const int64_t[::1] iou_off,
                     const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                     const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                     const int64_t[::1] dcat, const double[::1] dscore,
                     const int64_t[::1] gcat, const uint8_t[::1] crowd,
                     double pos, double bg,
                     int8_t[::1] status, int8_t[::1] err, int64_t[::1] target,
                     int64_t[::1] matched, uint8_t[::1] used, uint8_t[::1] usable,
                     int64_t[::1] best, double[::1] best_score) noexcept nogil:
    cdef int64_t d0 = dt_off[g], d1 = dt_off[g + 1]
    cdef int64_t g0 = gt_off[g], g1 = gt_off[g + 1]
    cdef int64_t G = g1 - g0, n_reg = 0, i, j, r, row, t, cat
    cdef double v
    for j in range(G):
        if not crowd[gt_index[g0 + j]]:
            n_reg += 1
    # matching (TIDEExample._run): best score first, the unused same-class GT of highest
    # IoU (first on ties), a TP when that IoU >= pos
    for i in range(d0, d1):
        status[i] = 0
        err[i] = -1
        target[i] = -1
        matched[i] = -1
        if n_reg == 0:
            continue
        row = iou_off[g] + (i - d0) * G
        cat = dcat[dt_index[i]]
        j = _argmax_first(ious, row, G, crowd, gt_index, g0, gcat, used, cat, 4, &v)
        if v >= pos:
            r = gt_index[g0 + j]
            status[i] = 1
            matched[i] = r
            used[r] = 1
    # ignore regions: an unmatched detection inside a same-class crowd region (crowd IoU
    # strictly above pos) is left out of the AP (tidecv's used = None)
    for i in range(d0, d1):
        if status[i] == 1:
            continue
        row = iou_off[g] + (i - d0) * G
        cat = dcat[dt_index[i]]
        for j in range(G):
            r = gt_index[g0 + j]
            if crowd[r] and gcat[r] == cat and ious[row + j] > pos:
                status[i] = -1
                break
    # errors of every detection that is not a TP (TIDERun._eval_image), in score order
    for i in range(d0, d1):
        if status[i] == 1:
            continue
        if n_reg == 0:
            err[i] = E_BKG
            continue
        row = iou_off[g] + (i - d0) * G
        cat = dcat[dt_index[i]]
        j = _argmax_first(ious, row, G, crowd, gt_index, g0, gcat, used, cat, 1, &v)
        if bg <= v and v <= pos:
            err[i] = E_LOC
        else:
            j = _argmax_first(ious, row, G, crowd, gt_index, g0, gcat, used, cat, 2, &v)
            if v >= pos:
                err[i] = E_CLS
            else:
                _argmax_first(ious, row, G, crowd, gt_index, g0, gcat, used, cat, 3, &v)
                if v >= pos:
                    err[i] = E_DUPE
                else:
                    _argmax_first(ious, row, G, crowd, gt_index, g0, gcat, used, cat, 0,
                                  &v)
                    err[i] = E_BKG if v <= bg else E_BOTH
                continue
        # Cls / Loc: BestGTMatch, the first highest-scoring error on an unused GT fixes it
        t = gt_index[g0 + j]
        target[i] = t
        if not used[t]:
            usable[t] = 1
            if best_score[t] < dscore[dt_index[i]]:
                best_score[t] = dscore[dt_index[i]]
                best[t] = i


def classify_images(const double[::1] ious, const int64_t[::1] iou_off,
                    const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                    const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                    const int64_t[::1] dcat, const double[::1] dscore,
                    const int64_t[::1] gcat, const uint8_t[::1] crowd,
                    double pos, double bg,
                    int8_t[::1] status, int8_t[::1] err, int64_t[::1] target,
                    int64_t[::1] matched, uint8_t[::1] used, uint8_t[::1] usable,
                    int64_t[::1] best, double[::1] best_score):
    """Match, ignore and classify every image's detections (one group per image).

    Outputs per detection position ``i`` (in ``dt_index`` order): ``status`` 1 TP, 0 FP,
    -1 ignored; ``err`` -1 (TP) or the error code (0 Cls, 1 Loc, 2 Both, 3 Dupe, 4 Bkg);
    ``target`` the GT row a Cls / Loc error points at; ``matched`` the GT row of a TP.
    Per GT row (zero / -1 / -1.0 on entry): ``used`` matched, ``usable`` the unused
    target of a Cls / Loc error, ``best`` the position whose fix it takes.

    >>> import numpy as np
    >>> i64 = lambda *v: np.array(v, dtype=np.int64)
    >>> st, er = np.zeros(2, np.int8), np.zeros(2, np.int8)
    >>> tg, mt = np.zeros(2, np.int64), np.zeros(2, np.int64)
    >>> classify_images(np.array([0.9, 0.3]), i64(0, 2), i64(0, 1), i64(0, 2), i64(0),
    ...                 i64(0, 1), i64(0, 0), np.array([0.9, 0.8]), i64(0),
    ...                 np.zeros(1, np.uint8), 0.5, 0.1, st, er, tg, mt, np.zeros(1, np.uint8),
    ...                 np.zeros(1, np.uint8), i64(-1), np.full(1, -1.0))
    >>> st.tolist(), er.tolist()  # a TP, then a box on the taken GT at IoU 0.3: Loc
    ([1, 0], [-1, 1])
    """
    cdef int64_t g, n_groups = dt_off.shape[0] - 1
    cdef int nt = get_num_threads() if ious.shape[0] >= PARALLEL_MIN_ITEMS else 1
    with nogil:
        for g in prange(n_groups, schedule="guided", num_threads=max(nt, 1)):
            _one_image(g, ious, iou_off, dt_index, dt_off, gt_index, gt_off, dcat, dscore,
                       gcat, crowd, pos, bg, status, err, target, matched, used, usable,
                       best, best_score)


def class_ap(const uint8_t[::1] tp, const int64_t[::1] offsets,
             const int64_t[::1] n_gt, double[::1] out):
    """tidecv's AP (0-100) of each class: ``tp[offsets[c]:offsets[c + 1]]`` are class
    ``c``'s data points in tidecv's order (TP 1 / FP 0), ``n_gt[c]`` its GT count.

    >>> import numpy as np
    >>> out = np.zeros(1)
    >>> class_ap(np.array([1, 0, 1], np.uint8), np.array([0, 3]), np.array([2]), out)
    >>> # precision 1 at recall <= 0.5 (51 samples), 2/3 above (50): (51 + 100/3) / 101
    >>> round(float(out[0]), 6)
    83.49835
    """
    cdef int64_t c, k, n, i, tp_n, r
    cdef double s, x, recall, ngt
    cdef double prec
    cdef int64_t n_cls = offsets.shape[0] - 1
    cdef double[::1] p
    cdef double[::1] rec
    import numpy as np
    n = 0
    for c in range(n_cls):
        if offsets[c + 1] - offsets[c] > n:
            n = offsets[c + 1] - offsets[c]
    p = np.empty(max(n, 1))
    rec = np.empty(max(n, 1))
    with nogil:
        for c in range(n_cls):
            out[c] = 0.0
            if n_gt[c] == 0:
                continue
            ngt = <double>n_gt[c]
            n = offsets[c + 1] - offsets[c]
            tp_n = 0
            for k in range(n):
                tp_n += tp[offsets[c] + k]
                p[k] = <double>tp_n / <double>(k + 1)
                rec[k] = <double>tp_n / ngt
            k = n - 1
            while k > 0:
                if p[k] > p[k - 1]:
                    p[k - 1] = p[k]
                k -= 1
            s = 0.0
            i = 0
            for r in range(101):
                x = <double>r / 100.0
                while i < n and rec[i] < x:
                    i += 1
                if i < n:
                    s = s + p[i]
            out[c] = s / 101.0 * 100.0
