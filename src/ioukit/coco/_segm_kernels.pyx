# cython: language_level=3
"""Compiled kernels of the COCO ``segm`` and ``boundary`` IoU types (``coco._segm``).

The IoU of every (detection, GT) cell of every evaluation group (one image and
category): maskApi.c ``rleIou`` on the two masks' runs (``rle_pair_iou`` of
``ioukit/geometry/_runs.pxd``, the walk ``ioukit.rle`` uses too), so the cells equal
pycocotools' ``COCOeval.computeIoU`` with ``iouType="segm"`` to the last bit.

Group ``g`` holds detections ``dt_index[dt_off[g]:dt_off[g + 1]]`` and GTs
``gt_index[gt_off[g]:gt_off[g + 1]]``; its cells are ``out[iou_off[g]:]``, row-major
(detection, GT).
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t, uint32_t

from ioukit.geometry._runs cimport rle_pair_iou

import numpy as np

__all__ = ["grouped_iou", "crowd_cells"]


cdef inline void _group(const uint32_t* cd, const int64_t* od, const double* bbd,
                        const int64_t* ad, const uint32_t* cg, const int64_t* og,
                        const double* bbg, const int64_t* ag, const uint8_t* crowd,
                        const int64_t* dt_index, const int64_t* dt_off,
                        const int64_t* gt_index, const int64_t* gt_off,
                        const int64_t* iou_off, int mode, Py_ssize_t g,
                        double* out) noexcept nogil:
    # The cells of group g. mode 1 (boundary bands) leaves crowd GT cells at 0: the
    # caller takes the mask IoU there.
    cdef int64_t d0 = dt_off[g], nd = dt_off[g + 1] - d0
    cdef int64_t g0 = gt_off[g], ng = gt_off[g + 1] - g0
    cdef int64_t base = iou_off[g], i, j, D, G
    for i in range(nd):
        D = dt_index[d0 + i]
        for j in range(ng):
            G = gt_index[g0 + j]
            if mode == 1 and crowd[G]:
                continue
            out[base + i * ng + j] = rle_pair_iou(cd, od[D], od[D + 1], bbd + 4 * D, ad[D],
                                                  cg, og[G], og[G + 1], bbg + 4 * G, ag[G],
                                                  crowd[G] != 0)


def grouped_iou(const uint32_t[::1] cd, const int64_t[::1] od, const double[:, ::1] bbd,
                const int64_t[::1] ad, const uint32_t[::1] cg, const int64_t[::1] og,
                const double[:, ::1] bbg, const int64_t[::1] ag, const uint8_t[::1] crowd,
                const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                const int64_t[::1] iou_off, int mode, int num_threads):
    """Mask IoU (maskApi.c rleIou) of every cell of every group, (iou_off[-1],) float64.

    ``cd``/``od``, ``bbd`` (xywh), ``ad``: the detections' RLE table, boxes and areas;
    likewise ``cg``... for the GTs; ``crowd`` one flag per GT. ``mode`` 1 skips crowd
    GT cells (boundary bands). ``num_threads`` > 1 splits the groups across threads.
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1, g
    out = np.zeros(iou_off[iou_off.shape[0] - 1], np.float64)
    cdef double[::1] o = out
    if n_groups <= 0 or o.shape[0] == 0:
        return out
    if num_threads > 1:
        for g in prange(n_groups, nogil=True, num_threads=num_threads, schedule="dynamic"):
            _group(&cd[0], &od[0], &bbd[0, 0], &ad[0], &cg[0], &og[0], &bbg[0, 0], &ag[0],
                   &crowd[0], &dt_index[0], &dt_off[0], &gt_index[0], &gt_off[0],
                   &iou_off[0], mode, g, &o[0])
    else:
        with nogil:
            for g in range(n_groups):
                _group(&cd[0], &od[0], &bbd[0, 0], &ad[0], &cg[0], &og[0], &bbg[0, 0],
                       &ag[0], &crowd[0], &dt_index[0], &dt_off[0], &gt_index[0],
                       &gt_off[0], &iou_off[0], mode, g, &o[0])
    return out


def crowd_cells(const uint8_t[::1] crowd, const int64_t[::1] dt_index,
                const int64_t[::1] dt_off, const int64_t[::1] gt_index,
                const int64_t[::1] gt_off, const int64_t[::1] iou_off):
    """Whether each cell's GT is a crowd, (iou_off[-1],) bool, laid out as the IoUs."""
    out = np.zeros(iou_off[iou_off.shape[0] - 1], np.bool_)
    cdef uint8_t[::1] o = out.view(np.uint8)
    cdef Py_ssize_t g
    cdef int64_t nd, g0, ng, base, i, j
    with nogil:
        for g in range(dt_off.shape[0] - 1):
            nd = dt_off[g + 1] - dt_off[g]
            g0 = gt_off[g]
            ng = gt_off[g + 1] - g0
            base = iou_off[g]
            for i in range(nd):
                for j in range(ng):
                    o[base + i * ng + j] = crowd[gt_index[g0 + j]]
    return out
