"""Compiled bbox IoU of the COCO engine, all (image, category) groups in one call.

For each group ``g``, the ``D_g x G_g`` matrix between its detections and its GT
(pycocotools ``COCOeval.computeIoU`` -> ``maskUtils.iou`` -> ``maskApi.c`` ``bbIou``),
stored row-major at ``out[iou_off[g]:iou_off[g + 1]]`` (see ``ioukit.coco._geometry``).
The pair arithmetic is ``box_iou_coco`` of ``ioukit.geometry._primitives``, the one copy
of ``bbIou``; groups run in parallel (each is written whole by one thread).
"""

from cython.parallel import prange
from libc.stdint cimport int64_t, uint8_t

import numpy as np

from ioukit._threads import PARALLEL_MIN_ITEMS, get_num_threads

from ioukit.geometry._primitives cimport box_iou_coco


def bbox_grouped_iou(const double[:, ::1] dt_box, const double[:, ::1] gt_box,
                     const int64_t[::1] dt_index, const int64_t[::1] dt_off,
                     const int64_t[::1] gt_index, const int64_t[::1] gt_off,
                     const int64_t[::1] iou_off, const uint8_t[::1] crowd):
    """IoU of every group's (detection, GT) pairs of xywh boxes, one flat float64 buffer.

    ``dt_index[dt_off[g]:dt_off[g + 1]]`` and ``gt_index[gt_off[g]:gt_off[g + 1]]`` are
    group ``g``'s rows of ``dt_box`` / ``gt_box``; ``crowd`` flags GT rows (a crowd GT
    scores intersection over the detection's area).

    >>> import numpy as np
    >>> one = np.array([0, 1])
    >>> bbox_grouped_iou(np.array([[0., 0., 10., 10.]]), np.array([[0., 0., 10., 5.]]),
    ...                  np.array([0]), one, np.array([0]), one, one,
    ...                  np.zeros(1, np.uint8)).tolist()
    [0.5]
    """
    cdef Py_ssize_t n_groups = dt_off.shape[0] - 1
    out = np.zeros(iou_off[n_groups] if n_groups >= 0 else 0, dtype=np.float64)
    cdef double[::1] o = out
    cdef Py_ssize_t g, i, j, d0, nd, g0, ng, base
    cdef int64_t D, G
    cdef double gx, gy, gw, gh
    cdef bint iscrowd
    cdef int nt = get_num_threads() if out.shape[0] >= PARALLEL_MIN_ITEMS else 1
    with nogil:
        for g in prange(n_groups, schedule="static", num_threads=nt):
            d0 = dt_off[g]
            nd = dt_off[g + 1] - d0
            g0 = gt_off[g]
            ng = gt_off[g + 1] - g0
            base = iou_off[g]
            # GT outer: each GT box is read once per group
            for j in range(ng):
                G = gt_index[g0 + j]
                gx = gt_box[G, 0]
                gy = gt_box[G, 1]
                gw = gt_box[G, 2]
                gh = gt_box[G, 3]
                iscrowd = crowd[G]
                for i in range(nd):
                    D = dt_index[d0 + i]
                    o[base + i * ng + j] = box_iou_coco(
                        dt_box[D, 0], dt_box[D, 1], dt_box[D, 2], dt_box[D, 3],
                        gx, gy, gw, gh, iscrowd)
    return out
