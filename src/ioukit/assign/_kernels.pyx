"""Compiled kernel behind ``ioukit.assign.max_iou_assign`` (NumPy arrays, CPU).

torchvision's ``Matcher`` (``torchvision/models/detection/_utils.py``) step for step, on
an IoU matrix [M, N] computed by ``ioukit.boxes``' dense kernel (``box_iou_tv`` of
``geometry/_primitives.pxd``: the arithmetic of ``torchvision.ops.box_iou``):

1. per anchor the best GT (the first GT on ties, as ``Tensor.max(dim=0)``) and its IoU;
2. thresholds: ``iou < neg`` -> -1, ``neg <= iou < pos`` -> -2 (compared in the IoU's
   dtype, as torch compares a float tensor with a Python float);
3. low-quality matches: every anchor whose IoU with some GT equals that GT's best IoU
   (ties included, and a best IoU of 0 included, as torchvision does) gets back its
   best GT of step 1.

Padded GT rows (``gt_valid == 0``) take no part. An image without a valid GT gives -1.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

from ioukit.geometry._primitives cimport real


cdef void _match_image(const real[:, ::1] iou, const uint8_t[::1] valid, real* best,
                       int64_t* arg, int64_t[::1] out, real pos, real neg,
                       bint low_quality) noexcept nogil:
    cdef Py_ssize_t m = iou.shape[0], n = iou.shape[1], g, j
    cdef const real* row
    cdef real v, b, mx
    cdef bint better, any_valid = False
    for j in range(n):
        best[j] = -INFINITY
        arg[j] = -1
    for g in range(m):
        if not valid[g]:
            continue
        any_valid = True
        row = &iou[g, 0]
        # branch-free selects: with random boxes "v > best" is unpredictable, and a
        # mispredicted branch costs more than the comparison
        for j in range(n):
            v = row[j]
            b = best[j]
            better = v > b  # strict: the first GT keeps a tie (Tensor.max(dim=0))
            best[j] = v if better else b
            arg[j] = g if better else arg[j]
    if not any_valid:
        for j in range(n):
            out[j] = -1
        return
    for j in range(n):
        v = best[j]
        out[j] = -1 if v < neg else (-2 if v < pos else arg[j])
    if not low_quality:
        return
    for g in range(m):
        if not valid[g]:
            continue
        row = &iou[g, 0]
        mx = -INFINITY
        for j in range(n):
            v = row[j]
            mx = v if v > mx else mx
        for j in range(n):
            if row[j] == mx:
                out[j] = arg[j]


def max_iou_match(const real[:, :, ::1] iou, const uint8_t[:, ::1] gt_valid,
                  int64_t[:, ::1] out, double pos_threshold, double neg_threshold,
                  bint low_quality):
    """Assign anchors to GTs per image from ``iou`` [B, M, N], into ``out`` [B, N].

    ``gt_valid`` [B, M] (0 = padding row).
    """
    cdef Py_ssize_t b = iou.shape[0], m = iou.shape[1], n = iou.shape[2], k
    if gt_valid.shape[0] != b or gt_valid.shape[1] != m or out.shape[0] != b \
            or out.shape[1] != n:
        raise ValueError("max_iou_match: shapes of iou, gt_valid and out do not match")
    if n == 0 or b == 0:
        return
    cdef real* best = <real*>malloc(n * sizeof(real))
    cdef int64_t* arg = <int64_t*>malloc(n * sizeof(int64_t))
    cdef real pos = <real>pos_threshold, neg = <real>neg_threshold
    try:
        if best == NULL or arg == NULL:
            raise MemoryError()
        with nogil:
            for k in range(b):
                _match_image(iou[k], gt_valid[k], best, arg, out[k], pos, neg, low_quality)
    finally:
        free(best)
        free(arg)
