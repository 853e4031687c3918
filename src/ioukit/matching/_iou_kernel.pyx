"""Compiled box IoU of every (image, category) group in one call.

For each group ``g``, the ``D_g x G_g`` IoU matrix between its detections and its GT,
stored row-major at ``out[iou_off[g]:iou_off[g + 1]]`` (the layout of
``ioukit.matching.Groups``). Boxes are xyxy. The pair arithmetic comes from
``ioukit.geometry._primitives``, the one copy of each formula:

- ``legacy`` (``box_iou_legacy``): the Pascal VOC devkit / py-faster-rcnn "+1 pixel"
  rule, ``iw = min(x2) - max(x1) + 1`` (likewise ``ih``), IoU 0 unless both are
  positive, else ``iw * ih / ((area_d + area_g) - iw * ih)`` with pixel-inclusive areas;
- continuous (``box_iou_tv`` with eps 0): torchvision's ``inter / (area_d + area_g -
  inter)``, 0 when the union is not positive.

The detection is always the first box of the pair (the references' operand order).
Groups run in parallel, each written whole by one thread.
"""

from cython.parallel import prange
from libc.stdint cimport int64_t

import numpy as np

from ioukit.geometry._primitives cimport box_area_tv, box_iou_legacy, box_iou_tv


cdef inline void _group_iou(Py_ssize_t g, const double[:, ::1] dt_box,
                            const double[:, ::1] gt_box, const int64_t[::1] dt_index,
                            const int64_t[::1] dt_off, const int64_t[::1] gt_index,
                            const int64_t[::1] gt_off, const int64_t[::1] iou_off,
                            bint legacy, double[::1] o) noexcept nogil:
    # group g's D x G block, row-major (detection rows)
    cdef Py_ssize_t d0 = dt_off[g], nd = dt_off[g + 1] - d0
    cdef Py_ssize_t g0 = gt_off[g], ng = gt_off[g + 1] - g0
    cdef Py_ssize_t base = iou_off[g], i, j
    cdef int64_t D, G
    cdef double dx1, dy1, dx2, dy2, da
    for i in range(nd):
        D = dt_index[d0 + i]
        dx1 = dt_box[D, 0]
        dy1 = dt_box[D, 1]
        dx2 = dt_box[D, 2]
        dy2 = dt_box[D, 3]
        da = box_area_tv(dx1, dy1, dx2, dy2)
        for j in range(ng):
            G = gt_index[g0 + j]
            if legacy:
                o[base + i * ng + j] = box_iou_legacy(
                    dx1, dy1, dx2, dy2, gt_box[G, 0], gt_box[G, 1], gt_box[G, 2], gt_box[G, 3])
            else:
                o[base + i * ng + j] = box_iou_tv(
                    dx1, dy1, dx2, dy2, da, gt_box[G, 0], gt_box[G, 1], gt_box[G, 2],
                    gt_box[G, 3],
                    box_area_tv(gt_box[G, 0], gt_box[G, 1], gt_box[G, 2], gt_box[G, 3]), 0.0)


def grouped_box_iou_kernel(const double[:, ::1] dt_box, const double[:, ::1] gt_box,
                           const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                           const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                           const int64_t[::1] iou_off, bint legacy, int num_threads):
    """IoU of every group's (detection, GT) pairs of xyxy boxes, one flat float64 buffer.

    ``legacy``: the "+1 pixel" VOC rule; otherwise continuous coordinates (0 when the
    union is not positive). ``num_threads``: OpenMP threads over groups.

    >>> import numpy as np
    >>> one = np.array([0, 1])
    >>> grouped_box_iou_kernel(np.array([[1., 1., 10., 5.]]), np.array([[1., 1., 10., 10.]]),
    ...                        np.array([0]), one, np.array([0]), one, one, True, 1).tolist()
    [0.5]
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1
    out = np.zeros(iou_off[n_groups] if n_groups >= 0 else 0, dtype=np.float64)
    cdef double[::1] o = out
    cdef Py_ssize_t g
    with nogil:
        for g in prange(n_groups, schedule="guided", num_threads=max(num_threads, 1)):
            _group_iou(g, dt_box, gt_box, dt_index, dt_off, gt_index, gt_off, iou_off,
                       legacy, o)
    return out
