"""Compiled greedy matching of every (image, category) group in one call: two rules.

Both rules walk the groups of ``ioukit.matching.Groups`` (within a group, detections
best score first, ties in input order) and differ in what a detection may take.

**The COCO rule** (``match_coco_kernel``) is ``COCOeval.evaluateImg`` of pycocotools
2.0.11, rule for rule, generalised by per-row flags so that LVIS (``lvis`` 0.5.3
``LVISEval.evaluate_img``) is the same code with other flags:

- a GT is ignored when its ``gt_ignore`` flag is set (COCO: ``iscrowd``; LVIS: the
  GT's ``ignore`` field) or its ``area`` lies outside ``[lo, hi]`` (both inclusive);
- GT are visited non-ignored first, ignored last (a stable sort on the ignore flag);
- each detection takes the GT with the highest IoU ``>= min(t, 1 - 1e-10)``, later GT
  winning ties; a matched GT is taken unless ``gt_reusable`` (COCO: crowd regions;
  LVIS: never); once a detection holds a regular GT it stops at the first ignored one;
- a detection matched to an ignored GT is ignored; an unmatched detection is ignored
  when its area lies outside the range or its ``dt_ignore_unmatched`` flag is set
  (LVIS: its category is not exhaustively annotated in its image; COCO: never);
- the match counts only where ``gt_matchable`` (pycocotools and lvis record the match
  as the GT's id, so a GT with id 0 leaves its detection "unmatched").

Groups are dealt out to 64 chunks (strided, so that each chunk holds groups of every
category and the costly categories spread over the threads) that run in parallel,
each with its own scratch rows. Optionally, at one area range, the kernel also writes
match records: per detection and threshold the matched GT row and its IoU, and per
detection its best-IoU GT in the group.

**The VOC rule** (``match_voc_kernel``) is the one of the Pascal VOC devkit
(``VOCevaldet.m``) and of py-faster-rcnn / Detectron ``voc_eval``:

- a detection's candidate is its best-IoU GT among ALL GT of the group (difficult and
  already taken ones included), the first one when several share the maximum
  (``np.argmax``; the devkit's strict ``ov > ovmax`` scan);
- it passes when ``iou > t`` (py-faster-rcnn, Detectron) or ``iou >= t`` (the MATLAB
  devkit's ``ovmax >= minoverlap``), per IoU threshold ``t``;
- passing on a difficult GT: ignored, and the GT is NOT marked (several detections may
  hit one difficult GT); on an untaken GT: true positive, and the GT is marked taken;
  on a taken GT: false positive (even when another free GT overlaps enough);
- not passing, or no GT in the group: false positive.

VOC outputs per detection position (aligned with ``dt_index``): the flag and matched
GT row per threshold (the candidate for TP and ignored, -1 for FP), and the
threshold-independent candidate GT row and its IoU (-1 and 0 without GT).

Flags: 0 false positive, 1 true positive, 2 ignored.
"""

from cython.parallel import prange
from libc.math cimport INFINITY, NAN
from libc.stdint cimport int64_t, uint8_t

import numpy as np

from ioukit._threads import PARALLEL_MIN_ITEMS, get_num_threads

cdef enum:
    FP = 0
    TP = 1
    IGNORED = 2
    # COCO rule: chunks of groups run in parallel (each with its own scratch)
    N_CHUNKS = 64


# ------------------------------------------------------------------ VOC rule
cdef inline void _match_group_voc(
        Py_ssize_t g, const double[::1] ious, const int64_t[::1] iou_off,
        const int64_t[::1] dt_off, const int64_t[::1] gt_index, const int64_t[::1] gt_off,
        const uint8_t[::1] gt_difficult, const double[::1] thrs, bint inclusive,
        uint8_t[:, ::1] flags, int64_t[:, ::1] gt_match, int64_t[::1] best_gt,
        double[::1] best_iou, uint8_t[:, ::1] taken) noexcept nogil:
    # group g, detections in order; `taken` rows are the group's GT positions
    cdef Py_ssize_t d0 = dt_off[g], nd = dt_off[g + 1] - d0
    cdef Py_ssize_t g0 = gt_off[g], ng = gt_off[g + 1] - g0
    cdef Py_ssize_t base = iou_off[g], n_t = thrs.shape[0]
    cdef Py_ssize_t i, j, jbest, k, t
    cdef int64_t G
    cdef double v, ovmax
    cdef bint passes
    for i in range(nd):
        k = d0 + i
        ovmax = -INFINITY  # py-faster-rcnn's start: no GT never passes
        jbest = -1
        for j in range(ng):
            v = ious[base + i * ng + j]
            if v > ovmax:  # strict: the first maximal GT
                ovmax = v
                jbest = j
        G = gt_index[g0 + jbest] if jbest >= 0 else -1
        best_gt[k] = G
        best_iou[k] = ovmax if jbest >= 0 else 0.0
        for t in range(n_t):
            passes = jbest >= 0 and (ovmax >= thrs[t] if inclusive else ovmax > thrs[t])
            if not passes:
                flags[k, t] = FP
                gt_match[k, t] = -1
            elif gt_difficult[G]:
                flags[k, t] = IGNORED
                gt_match[k, t] = G
            elif taken[g0 + jbest, t]:
                flags[k, t] = FP
                gt_match[k, t] = -1
            else:
                flags[k, t] = TP
                gt_match[k, t] = G
                taken[g0 + jbest, t] = 1


def match_voc_kernel(const double[::1] ious, const int64_t[::1] iou_off,
                     const int64_t[::1] dt_off, const int64_t[::1] gt_index,
                     const int64_t[::1] gt_off, const uint8_t[::1] gt_difficult,
                     const double[::1] thrs, bint inclusive, uint8_t[:, ::1] flags,
                     int64_t[:, ::1] gt_match, int64_t[::1] best_gt, double[::1] best_iou,
                     uint8_t[:, ::1] taken, int num_threads):
    """VOC greedy matching of every group, written into the caller's arrays.

    ``gt_difficult`` is indexed by GT row; ``taken`` (len(gt_index), T) must be zero;
    ``flags`` / ``gt_match`` are (len(dt_index), T), ``best_gt`` / ``best_iou``
    (len(dt_index),). Flags: 0 false positive, 1 true positive, 2 ignored.

    >>> import numpy as np
    >>> f = np.zeros((2, 1), np.uint8); m = np.zeros((2, 1), np.int64)
    >>> b = np.zeros(2, np.int64); v = np.zeros(2)
    >>> match_voc_kernel(np.array([0.8, 0.7]), np.array([0, 2]), np.array([0, 2]),
    ...                  np.array([0]), np.array([0, 1]), np.zeros(1, np.uint8),
    ...                  np.array([0.5]), False, f, m, b, v, np.zeros((1, 1), np.uint8), 1)
    >>> f.ravel().tolist(), m.ravel().tolist(), b.tolist()
    ([1, 0], [0, -1], [0, 0])
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1
    cdef Py_ssize_t g
    with nogil:
        for g in prange(n_groups, schedule="guided", num_threads=max(num_threads, 1)):
            _match_group_voc(g, ious, iou_off, dt_off, gt_index, gt_off, gt_difficult,
                             thrs, inclusive, flags, gt_match, best_gt, best_iou, taken)


# ----------------------------------------------------------------- COCO rule
cdef struct Scratch:
    # one chunk's work rows: GT visiting order and flags (max GT per group), candidate
    # detections, their areas and ignore-if-unmatched flags (max detections per group)
    int64_t* order
    uint8_t* ig
    uint8_t* taken
    uint8_t* reuse
    uint8_t* matchable
    uint8_t* base_ig
    int64_t* cand
    double* cand_area
    uint8_t* cand_unm


cdef struct Records:
    # optional outputs (at one area range): per detection position and threshold the
    # matched GT row (-1) and its IoU (NaN); per detection its best GT and IoU
    int64_t* gt
    double* iou
    int64_t* best_gt
    double* best_iou


cdef inline Scratch _chunk_scratch(Py_ssize_t c, int64_t[:, ::1] order,
                                   uint8_t[:, :, ::1] gt_flags, int64_t[:, ::1] cand,
                                   double[:, ::1] cand_area,
                                   uint8_t[:, ::1] cand_unm) noexcept nogil:
    # chunk c's rows of the scratch arrays
    cdef Scratch s
    s.order = &order[c, 0]
    s.ig = &gt_flags[0, c, 0]
    s.taken = &gt_flags[1, c, 0]
    s.reuse = &gt_flags[2, c, 0]
    s.matchable = &gt_flags[3, c, 0]
    s.base_ig = &gt_flags[4, c, 0]
    s.cand = &cand[c, 0]
    s.cand_area = &cand_area[c, 0]
    s.cand_unm = &cand_unm[c, 0]
    return s


cdef inline void _unmatched_records(Records* r, Py_ssize_t k, Py_ssize_t n_t) noexcept nogil:
    # detection position k matched nothing at any threshold
    cdef Py_ssize_t t
    for t in range(n_t):
        r.gt[k * n_t + t] = -1
        r.iou[k * n_t + t] = NAN


cdef inline void _match_group_coco(
        Py_ssize_t g, const double[::1] ious, const int64_t[::1] iou_off,
        const int64_t[::1] dt_index, const int64_t[::1] dt_off,
        const int64_t[::1] gt_index, const int64_t[::1] gt_off,
        const uint8_t[::1] gt_ignore, const uint8_t[::1] gt_reusable,
        const double[::1] gt_area, const uint8_t[::1] gt_matchable,
        const double[::1] dt_area, const uint8_t[::1] dt_unm, bint has_unm,
        const double[::1] iou_thrs, const double[:, ::1] area_rng,
        uint8_t[:, :, ::1] out, Scratch* s, Records* r, Py_ssize_t rec_a) noexcept nogil:
    # flags of group g's detections at every area range and threshold (+ records at
    # area range rec_a >= 0). has_unm and rec_a are constants at each call site, so
    # that the compiler can specialise the plain COCO case (no flags, no records).
    cdef Py_ssize_t n_t = iou_thrs.shape[0], n_a = area_rng.shape[0]
    cdef Py_ssize_t d0 = dt_off[g], nd = dt_off[g + 1] - d0
    cdef Py_ssize_t g0 = gt_off[g], ng = gt_off[g + 1] - g0
    cdef Py_ssize_t base = iou_off[g]
    cdef Py_ssize_t i, j, jj, t, a, c, k, nc, row, m, jb
    cdef int64_t G, D
    cdef double thr_min, thr, v, x, da, lo, hi, best, vb
    cdef uint8_t f, unm
    cdef bint matched, ignored
    cdef bint keep = rec_a >= 0
    for j in range(ng):
        G = gt_index[g0 + j]
        s.base_ig[j] = gt_ignore[G]
        s.reuse[j] = gt_reusable[G]
        s.matchable[j] = gt_matchable[G]
    thr_min = 1.0
    for t in range(n_t):
        thr_min = min(thr_min, min(iou_thrs[t], 1 - 1e-10))
    # A detection no GT reaches at the lowest threshold (any detection of a group
    # without GT) stays unmatched at every threshold, whatever is taken (and takes
    # nothing): its flags depend on its own area and flag alone. Most detections of a
    # dense set are such; the greedy walk below visits only the others ("candidates"),
    # in score order.
    nc = 0
    for i in range(nd):
        row = base + i * ng
        v = -INFINITY
        if keep:
            jb = -1
            vb = -INFINITY
            for j in range(ng):
                x = ious[row + j]
                if not x <= v:  # larger, or NaN (which the walk can pick): a candidate
                    v = INFINITY if x != x else x
                if x > vb:  # the first maximal GT
                    vb = x
                    jb = j
            r.best_gt[d0 + i] = gt_index[g0 + jb] if jb >= 0 else -1
            r.best_iou[d0 + i] = vb if jb >= 0 else 0.0
        else:
            for j in range(ng):
                x = ious[row + j]
                if not x <= v:  # larger, or NaN (which the walk can pick): a candidate
                    v = INFINITY if x != x else x
        D = dt_index[d0 + i]
        da = dt_area[D]
        unm = dt_unm[D] if has_unm else 0
        if v >= thr_min:
            s.cand[nc] = i
            s.cand_area[nc] = da
            s.cand_unm[nc] = unm
            nc += 1
        else:
            for a in range(n_a):
                f = IGNORED if (unm or da < area_rng[a, 0] or da > area_rng[a, 1]) else FP
                for t in range(n_t):
                    out[d0 + i, a, t] = f
            if keep:
                _unmatched_records(r, d0 + i, n_t)
    if nc == 0:
        return
    for a in range(n_a):
        lo = area_rng[a, 0]
        hi = area_rng[a, 1]
        # GT visiting order: non-ignored first, ignored last (stable)
        k = 0
        for j in range(ng):
            G = gt_index[g0 + j]
            s.ig[j] = s.base_ig[j] or gt_area[G] < lo or gt_area[G] > hi
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
                    if s.taken[j] and not s.reuse[j]:
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
                if not matched and (s.cand_unm[c] or s.cand_area[c] < lo
                                    or s.cand_area[c] > hi):
                    ignored = True
                if ignored:
                    out[d0 + i, a, t] = IGNORED
                elif matched:
                    out[d0 + i, a, t] = TP
                else:
                    out[d0 + i, a, t] = FP
                if a == rec_a:
                    r.gt[(d0 + i) * n_t + t] = gt_index[g0 + m] if m > -1 else -1
                    r.iou[(d0 + i) * n_t + t] = best if m > -1 else NAN


def match_coco_kernel(const double[::1] ious, const int64_t[::1] iou_off,
                      const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                      const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                      const uint8_t[::1] gt_ignore, const uint8_t[::1] gt_reusable,
                      const double[::1] gt_area, const uint8_t[::1] gt_matchable,
                      const double[::1] dt_area, const uint8_t[::1] dt_ignore_unmatched,
                      const double[::1] iou_thrs, const double[:, ::1] area_rng,
                      uint8_t[:, :, ::1] out, Py_ssize_t rec_area=-1,
                      int64_t[:, ::1] rec_gt=None, double[:, ::1] rec_iou=None,
                      int64_t[::1] best_gt=None, double[::1] best_iou=None):
    """Fill ``out`` (Nd, A, T) uint8 with every group's match flags, COCO rule.

    The kernel of :func:`ioukit.matching.match_coco` (which documents it). GT arrays
    (``gt_ignore``, ``gt_reusable``, ``gt_area``, ``gt_matchable``) are indexed by GT
    row, ``dt_area`` and ``dt_ignore_unmatched`` (empty: none set) by detection row;
    every entry of ``out`` is written. With ``rec_area >= 0`` the records at that area
    range are written too: ``rec_gt`` / ``rec_iou`` (Nd, T), ``best_gt`` /
    ``best_iou`` (Nd,), positions aligned with ``dt_index``.

    >>> import numpy as np
    >>> out = np.zeros((2, 1, 1), np.uint8)
    >>> z, one = np.zeros(1, np.uint8), np.ones(1, np.uint8)
    >>> match_coco_kernel(np.array([0.8, 0.6]), np.array([0, 2]), np.array([0, 1]),
    ...                   np.array([0, 2]), np.array([0]), np.array([0, 1]), z, z,
    ...                   np.array([10.0]), one, np.array([10.0, 10.0]),
    ...                   np.zeros(0, np.uint8), np.array([0.5]), np.array([[0.0, 1e10]]),
    ...                   out)
    >>> out.ravel().tolist()  # the first detection takes the GT
    [1, 0]
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1, n_t = iou_thrs.shape[0]
    cdef Py_ssize_t g, c, q, max_g = 0, max_d = 0, n_chunks
    cdef Py_ssize_t nd = dt_index.shape[0]
    cdef bint has_unm = dt_ignore_unmatched.shape[0] > 0
    cdef Records r
    r.gt = NULL
    r.iou = NULL
    r.best_gt = NULL
    r.best_iou = NULL
    if rec_area >= 0:
        if (rec_gt is None or rec_iou is None or best_gt is None or best_iou is None
                or rec_gt.shape[0] != nd or rec_iou.shape[0] != nd
                or best_gt.shape[0] != nd or best_iou.shape[0] != nd
                or (nd and (rec_gt.shape[1] != n_t or rec_iou.shape[1] != n_t))):
            raise ValueError("match_coco_kernel: record arrays missing or of the wrong shape")
        if rec_area >= area_rng.shape[0]:
            raise ValueError("match_coco_kernel: rec_area is not an area range index")
        if nd:
            r.gt = &rec_gt[0, 0]
            r.iou = &rec_iou[0, 0]
            r.best_gt = &best_gt[0]
            r.best_iou = &best_iou[0]
    for g in range(n_groups):
        max_g = max(max_g, gt_off[g + 1] - gt_off[g])
        max_d = max(max_d, dt_off[g + 1] - dt_off[g])
    n_chunks = min(n_groups, N_CHUNKS)
    if n_chunks <= 0:
        return
    cdef int nt = get_num_threads() if ious.shape[0] >= PARALLEL_MIN_ITEMS else 1
    # each chunk's scratch rows (NumPy-allocated; a chunk runs on one thread at a time)
    cdef int64_t[:, ::1] order = np.empty((n_chunks, max_g), dtype=np.int64)
    cdef uint8_t[:, :, ::1] gt_flags = np.empty((5, n_chunks, max_g), dtype=np.uint8)
    cdef int64_t[:, ::1] cand = np.empty((n_chunks, max_d), dtype=np.int64)
    cdef double[:, ::1] cand_area = np.empty((n_chunks, max_d), dtype=np.float64)
    cdef uint8_t[:, ::1] cand_unm = np.empty((n_chunks, max_d), dtype=np.uint8)
    cdef Scratch s
    with nogil:
        for c in prange(n_chunks, schedule="static", num_threads=nt):
            s = _chunk_scratch(c, order, gt_flags, cand, cand_area, cand_unm)  # private
            # groups c, c + n_chunks, ... (strided: balances costly categories); the
            # count is a division of positive numbers (C's and Python's agree)
            for q in range((n_groups - c + n_chunks - 1) // n_chunks):
                if rec_area < 0 and not has_unm:  # COCO without records
                    _match_group_coco(c + q * n_chunks, ious, iou_off, dt_index, dt_off,
                                      gt_index, gt_off, gt_ignore, gt_reusable, gt_area,
                                      gt_matchable, dt_area, dt_ignore_unmatched, False,
                                      iou_thrs, area_rng, out, &s, &r, -1)
                else:
                    _match_group_coco(c + q * n_chunks, ious, iou_off, dt_index, dt_off,
                                      gt_index, gt_off, gt_ignore, gt_reusable, gt_area,
                                      gt_matchable, dt_area, dt_ignore_unmatched, has_unm,
                                      iou_thrs, area_rng, out, &s, &r, rec_area)
