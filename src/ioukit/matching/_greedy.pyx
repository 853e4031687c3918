"""Compiled greedy matching, VOC rule, of every (image, category) group in one call.

The rule of the Pascal VOC devkit (``VOCevaldet.m``) and of py-faster-rcnn / Detectron
``voc_eval``, applied group by group (the groups of ``ioukit.matching.Groups``; within
a group, detections best score first, ties in input order):

- a detection's candidate is its best-IoU GT among ALL GT of the group (difficult and
  already taken ones included), the first one when several share the maximum
  (``np.argmax``; the devkit's strict ``ov > ovmax`` scan);
- it passes when ``iou > t`` (py-faster-rcnn, Detectron) or ``iou >= t`` (the MATLAB
  devkit's ``ovmax >= minoverlap``), per IoU threshold ``t``;
- passing on a difficult GT: ignored, and the GT is NOT marked (several detections may
  hit one difficult GT); on an untaken GT: true positive, and the GT is marked taken;
  on a taken GT: false positive (even when another free GT overlaps enough);
- not passing, or no GT in the group: false positive.

Outputs per detection position (aligned with ``dt_index``): the flag and matched GT
row per threshold (the candidate for TP and ignored, -1 for FP), and the
threshold-independent candidate GT row and its IoU (-1 and 0 without GT).
"""

from cython.parallel import prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint8_t

cdef enum:
    FP = 0
    TP = 1
    IGNORED = 2


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
