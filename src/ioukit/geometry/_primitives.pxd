# cython: language_level=3
"""The one overlap arithmetic of ioukit's compiled kernels.

Inline C functions, ``cimport``-ed by every kernel that needs them (boxes, nms, coco,
rle, io): a formula lives here once, named for the convention it follows, so two
callers cannot drift apart. Each is written operation for operation as its reference
computes it, so results stay bit-identical (the build disables fast-math and FMA
contraction). ``real`` is float or double; the arithmetic runs in that type.

Conventions
-----------
* ``tv``: torchvision.ops (``_box_inter_union``, ``nms``): xyxy, continuous
  coordinates, width = x2 - x1, intersection clamped at 0.
* ``coco``: pycocotools ``maskApi.c`` ``bbIou``: xywh boxes; no overlap gives 0 without
  a division; a crowd GT scores intersection over the detection's own area.
* ``legacy``: the Pascal VOC devkit / Detectron "+1 pixel" rule: integer pixel
  coordinates, width = x2 - x1 + 1.
* intervals: ``(start, end)`` on a line, length = end - start.
"""

ctypedef fused real:
    float
    double


cdef inline real _min(real a, real b) noexcept nogil:
    return a if a < b else b


cdef inline real _max(real a, real b) noexcept nogil:
    return a if a > b else b


# ------------------------------------------------------------------ 1-D overlap
cdef inline real overlap_1d(real a0, real a1, real b0, real b1) noexcept nogil:
    """Length of [a0, a1] n [b0, b1], 0 when they are disjoint (torchvision's clamp(min=0))."""
    cdef real w = _min(a1, b1) - _max(a0, b0)
    return w if w > 0 else 0


cdef inline real interval_iou(real a0, real a1, real b0, real b1, real eps) noexcept nogil:
    """IoU of two intervals; 0 when the union is at most ``eps``."""
    cdef real inter = overlap_1d(a0, a1, b0, b1)
    cdef real union = (a1 - a0) + (b1 - b0) - inter
    return inter / union if union > eps else 0


# ------------------------------------------------------- torchvision convention
cdef inline real box_area_tv(real x1, real y1, real x2, real y2) noexcept nogil:
    """torchvision ``box_area``: (x2 - x1) * (y2 - y1)."""
    return (x2 - x1) * (y2 - y1)


cdef inline real box_inter_tv(real ax1, real ay1, real ax2, real ay2,
                              real bx1, real by1, real bx2, real by2) noexcept nogil:
    """torchvision ``_box_inter_union``'s intersection: clamp(w, 0) * clamp(h, 0)."""
    return overlap_1d(ax1, ax2, bx1, bx2) * overlap_1d(ay1, ay2, by1, by2)


cdef inline real box_iou_tv(real ax1, real ay1, real ax2, real ay2, real area_a,
                            real bx1, real by1, real bx2, real by2, real area_b,
                            real eps) noexcept nogil:
    """IoU with precomputed areas: inter / (area_a + area_b - inter); 0 when union <= eps."""
    cdef real inter = box_inter_tv(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
    cdef real union = area_a + area_b - inter
    return inter / union if union > eps else 0


cdef inline real box_iou_tv_nms(real ax1, real ay1, real ax2, real ay2, real area_a,
                                real bx1, real by1, real bx2, real by2,
                                real area_b) noexcept nogil:
    """torchvision ``nms_kernel``'s ``ovr``: inter / (area_a + area_b - inter), unguarded
    (a zero union gives NaN, which never exceeds a threshold, as in torchvision)."""
    cdef real inter = box_inter_tv(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
    return inter / (area_a + area_b - inter)


cdef inline real box_ioa_tv(real ax1, real ay1, real ax2, real ay2, real area_a,
                            real bx1, real by1, real bx2, real by2, real eps) noexcept nogil:
    """Intersection over the first box's area; 0 when that area is at most ``eps``."""
    cdef real inter = box_inter_tv(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
    return inter / area_a if area_a > eps else 0


# ----------------------------------------------------------- pycocotools convention
cdef inline double box_iou_coco(double dx, double dy, double dw, double dh,
                                double gx, double gy, double gw, double gh,
                                bint iscrowd) noexcept nogil:
    """pycocotools ``bbIou`` for one (detection, GT) pair of xywh boxes, operation for
    operation: 0 (no division) when they do not overlap; a crowd GT divides by the
    detection's area instead of the union."""
    cdef double da = dw * dh
    cdef double w = _min(dw + dx, gw + gx) - _max(dx, gx)
    cdef double h, inter, u
    if w <= 0:
        return 0
    h = _min(dh + dy, gh + gy) - _max(dy, gy)
    if h <= 0:
        return 0
    inter = w * h
    u = da if iscrowd else da + gw * gh - inter
    return inter / u


# ------------------------------------------------------ legacy "+1 pixel" convention
cdef inline real box_area_legacy(real x1, real y1, real x2, real y2) noexcept nogil:
    """Pixel-inclusive area: (x2 - x1 + 1) * (y2 - y1 + 1) (VOC devkit, Detectron v1)."""
    return (x2 - x1 + 1) * (y2 - y1 + 1)


cdef inline real box_iou_legacy(real ax1, real ay1, real ax2, real ay2,
                                real bx1, real by1, real bx2, real by2) noexcept nogil:
    """VOC devkit ``VOCevaldet``: iw = min(x2) - max(x1) + 1 (and ih); 0 unless both are
    positive; IoU = iw * ih / (area_a + area_b - iw * ih) with pixel-inclusive areas."""
    cdef real iw = _min(ax2, bx2) - _max(ax1, bx1) + 1
    cdef real ih = _min(ay2, by2) - _max(ay1, by1) + 1
    cdef real inter
    if iw <= 0 or ih <= 0:
        return 0
    inter = iw * ih
    return inter / (box_area_legacy(ax1, ay1, ax2, ay2) + box_area_legacy(bx1, by1, bx2, by2)
                    - inter)


# ------------------------------------------------------ DIoU distance penalty
cdef inline double diou_penalty(double ax1, double ay1, double ax2, double ay2,
                                double bx1, double by1, double bx2, double by2,
                                double eps) noexcept nogil:
    """Zheng et al. 2020 (DIoU) penalty rho^2 / c^2 in float64: rho the distance of the
    two box centres, c the diagonal of their smallest enclosing box (xyxy). ``eps`` is a
    threshold, as everywhere in ioukit (never added): 0 when c^2 <= eps, so that it
    equals ``ioukit.boxes.diou``'s penalty (``_terms.diou_penalty``) bit for bit."""
    cdef double dx = (ax1 + ax2) * 0.5 - (bx1 + bx2) * 0.5
    cdef double dy = (ay1 + ay2) * 0.5 - (by1 + by2) * 0.5
    cdef double cw = _max(ax2, bx2) - _min(ax1, bx1)
    cdef double ch = _max(ay2, by2) - _min(ay1, by1)
    cdef double c2 = cw * cw + ch * ch
    return (dx * dx + dy * dy) / c2 if c2 > eps else 0
