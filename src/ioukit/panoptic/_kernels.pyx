"""Compiled kernels behind ``ioukit.panoptic``: one image's PQ matching, ordered sums.

One call per image (``ImageBatch.eval_rgb`` / ``eval_ids``) does, without the GIL,
what panopticapi's ``pq_compute_single_core`` does for that image
(panopticapi/evaluation.py, ``pq_compute_single_core``):

1. count the (gt segment, predicted segment) pixel co-occurrences. panopticapi sorts
   a combined ``gt_id * 2**24 + pred_id`` label with ``np.unique``; here each pixel's
   segment id is mapped to a dense index (binary search in the image's sorted ids,
   cached across runs of equal pixels) and counted in one pass into a small
   ``(G + 2) x (P + 1)`` table: row 0 is VOID (id 0), rows 1..G the GT segments in
   id order, row G + 1 GT pixels whose id is not in the JSON; column 0 is VOID;
2. match: a pair of the same category, the GT not crowd, is a TP when
   ``intersection / (pred_area + gt_area - intersection - void_of_pred) > 0.5``
   (double arithmetic in panopticapi's order);
3. unmatched GT is an FN (crowd is not); an unmatched prediction is an FP unless more
   than half of it lies on VOID plus the category's crowd region (the crowd segment
   of that category that comes last in the JSON, as panopticapi's dict keeps it).

Results go to per-segment slots (status and TP IoU) of arrays shared by all images;
threads write disjoint slots. The per-category IoU sums are then taken in
panopticapi's order (image by image, each image's TPs in GT id order) by
``ordered_iou_sums``, so every number is bit-identical.
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp

from ioukit.panoptic._pngkernel cimport Buffer, Png, decode_png, read_file

import numpy as np

#: status codes of the per-segment outputs, for the Python side
STATUS = {"tp": ST_TP, "fn": ST_FN, "fp": ST_FP, "crowd": ST_CROWD,
          "swallowed": ST_SWALLOWED, "unknown": ST_UNKNOWN}
#: per-image error codes
ERRORS = {"pred_id_not_in_json": ERR_PRED_ID_NOT_IN_JSON,
          "pred_not_in_png": ERR_PRED_NOT_IN_PNG,
          "gt_matched_twice": ERR_GT_MATCHED_TWICE, "no_memory": ERR_NO_MEMORY}

# Per-segment status codes (gt_status / pr_status); Python copies in STATUS below.
cdef enum:
    ST_TP = 0
    ST_FN = 1        # GT only
    ST_FP = 1        # predictions only
    ST_CROWD = 2     # GT: crowd (never matched, never an FN)
    ST_SWALLOWED = 2  # predictions: unmatched but > 0.5 on VOID + crowd
    ST_UNKNOWN = 3   # GT with a category not in the categories list (panopticapi ignores it)

# Per-image error codes (err_code); err_value holds the offending id.
cdef enum:
    ERR_NONE = 0
    ERR_PRED_ID_NOT_IN_JSON = 1   # a pixel id of the prediction PNG has no segment
    ERR_PRED_NOT_IN_PNG = 2       # a predicted segment has no pixel
    ERR_GT_MATCHED_TWICE = 3      # only possible with JSON areas below the pixel counts
    ERR_NO_MEMORY = 4


cdef inline Py_ssize_t _find(const int64_t* ids, Py_ssize_t n, int64_t key) noexcept nogil:
    # Index of key in the sorted ids[0:n], or -1.
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if ids[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and ids[lo] == key:
        return lo
    return -1


cdef inline int64_t _rgb_id(const uint8_t* c) noexcept nogil:
    # panopticapi's rgb2id: R + 256 * G + 256 * 256 * B
    return <int64_t>c[0] | (<int64_t>c[1] << 8) | (<int64_t>c[2] << 16)


cdef inline Py_ssize_t _gt_row(const int64_t* ids, Py_ssize_t n, int64_t key) noexcept nogil:
    # Table row of a GT pixel id: 0 VOID, 1..n a segment, n + 1 an id not in the JSON.
    cdef Py_ssize_t k
    if key == 0:
        return 0
    k = _find(ids, n, key)
    return k + 1 if k >= 0 else n + 1


cdef inline Py_ssize_t _pr_col(const int64_t* ids, Py_ssize_t n, int64_t key) noexcept nogil:
    # Table column of a predicted pixel id: 0 VOID, 1..n a segment, -1 unknown.
    cdef Py_ssize_t k
    if key == 0:
        return 0
    k = _find(ids, n, key)
    return k + 1 if k >= 0 else -1


cdef class ImageBatch:
    """Segment arrays of a whole evaluation; ``eval_*`` fills image ``i``'s slots.

    GT segments of image i are slots ``gt_off[i]:gt_off[i + 1]`` (sorted by id), with
    category index (-1: unknown), crowd flag, JSON area and JSON position; the same for
    predictions without crowd and area. Outputs: pixel counts, status, TP IoU per slot;
    err_code / err_value per image.
    """

    cdef const int64_t[::1] gt_off, gt_ids, gt_pos, pr_off, pr_ids
    cdef const int32_t[::1] gt_cat, pr_cat
    cdef const uint8_t[::1] gt_crowd
    cdef const double[::1] gt_area
    cdef int64_t[::1] gt_pixels, pr_pixels, err_value
    cdef int8_t[::1] gt_status, pr_status, err_code
    cdef double[::1] gt_iou
    cdef bint area_from_pixels

    def __init__(self, gt_off, gt_ids, gt_cat, gt_crowd, gt_area, gt_pos,
                 pr_off, pr_ids, pr_cat, bint area_from_pixels,
                 gt_pixels, gt_status, gt_iou, pr_pixels, pr_status, err_code, err_value):
        self.gt_off = gt_off
        self.gt_ids = gt_ids
        self.gt_cat = gt_cat
        self.gt_crowd = gt_crowd
        self.gt_area = gt_area
        self.gt_pos = gt_pos
        self.pr_off = pr_off
        self.pr_ids = pr_ids
        self.pr_cat = pr_cat
        self.area_from_pixels = area_from_pixels
        self.gt_pixels = gt_pixels
        self.gt_status = gt_status
        self.gt_iou = gt_iou
        self.pr_pixels = pr_pixels
        self.pr_status = pr_status
        self.err_code = err_code
        self.err_value = err_value

    def eval_rgb(self, Py_ssize_t i, const uint8_t[::1] gt, Py_ssize_t gt_stride,
                 Py_ssize_t gt_start, Py_ssize_t gt_channels,
                 const uint8_t[::1] pr, Py_ssize_t pr_stride, Py_ssize_t pr_start,
                 Py_ssize_t pr_channels, Py_ssize_t height, Py_ssize_t width):
        """Image i from two RGB(A) byte buffers: pixel (y, x) of gt starts at byte
        ``gt_start + y * gt_stride + x * gt_channels`` (id = R + 256 G + 65536 B)."""
        cdef int64_t* table
        cdef Py_ssize_t G = self.gt_off[i + 1] - self.gt_off[i]
        cdef Py_ssize_t P = self.pr_off[i + 1] - self.pr_off[i]
        with nogil:
            table = self._begin(i, G, P)
            if table != NULL:
                self._count_rgb(table, G, P, i, &gt[gt_start], gt_stride, gt_channels,
                                &pr[pr_start], pr_stride, pr_channels, height, width,
                                NULL, NULL)
                self._finish(table, G, P, i)

    def eval_ids(self, Py_ssize_t i, const int64_t[:, ::1] gt, const int64_t[:, ::1] pr):
        """Image i from two id maps of the same shape."""
        cdef int64_t* table
        cdef Py_ssize_t G = self.gt_off[i + 1] - self.gt_off[i]
        cdef Py_ssize_t P = self.pr_off[i + 1] - self.pr_off[i]
        with nogil:
            table = self._begin(i, G, P)
            if table != NULL:
                self._count_ids(table, G, P, i, gt, pr)
                self._finish(table, G, P, i)

    def eval_files(self, bytes gt_paths, const int64_t[::1] gt_at, bytes pr_paths,
                   const int64_t[::1] pr_at, int8_t[::1] fallback, int num_threads):
        """Every image from its two PNG files (NUL-terminated paths at ``*_at[i]``),
        read and decoded by ``_pngkernel`` without the GIL, images split over threads.

        ``fallback[i]`` is set to 1 where the built-in reader cannot take a file (not
        an 8-bit RGB/RGBA PNG, unreadable, corrupt) or the sizes differ: the caller
        evaluates those images through Python (Pillow), which reports real errors.
        """
        cdef const char* gp = gt_paths
        cdef const char* pp = pr_paths
        cdef Py_ssize_t n = gt_at.shape[0], i, G, P
        cdef Buffer* bufs
        cdef Png* infos
        cdef int64_t* table
        cdef bint ok
        with nogil, parallel(num_threads=num_threads):
            # per thread: file bytes, GT pixels, predicted pixels, a zero row, the GT's
            # and the prediction's equal-row flags; 2 headers
            bufs = <Buffer*>calloc(6, sizeof(Buffer))
            infos = <Png*>calloc(2, sizeof(Png))
            for i in prange(n, schedule="dynamic", chunksize=1):
                if bufs == NULL or infos == NULL:
                    fallback[i] = 1
                    continue
                ok = (read_file(gp + gt_at[i], &bufs[0]) == 0
                      and decode_png(&bufs[0], &bufs[1], &bufs[3], &bufs[4], &infos[0]) == 0
                      and read_file(pp + pr_at[i], &bufs[0]) == 0
                      and decode_png(&bufs[0], &bufs[2], &bufs[3], &bufs[5], &infos[1]) == 0
                      and infos[0].width == infos[1].width
                      and infos[0].height == infos[1].height)
                if not ok:
                    fallback[i] = 1
                    continue
                G = self.gt_off[i + 1] - self.gt_off[i]
                P = self.pr_off[i + 1] - self.pr_off[i]
                table = self._begin(i, G, P)
                if table != NULL:
                    self._count_rgb(table, G, P, i, bufs[1].data + 1, infos[0].stride,
                                    infos[0].channels, bufs[2].data + 1, infos[1].stride,
                                    infos[1].channels, infos[0].height, infos[0].width,
                                    bufs[4].data, bufs[5].data)
                    self._finish(table, G, P, i)
            if bufs != NULL:
                free(bufs[0].data)
                free(bufs[1].data)
                free(bufs[2].data)
                free(bufs[3].data)
                free(bufs[4].data)
                free(bufs[5].data)
            free(bufs)
            free(infos)

    cdef int64_t* _begin(self, Py_ssize_t i, Py_ssize_t G, Py_ssize_t P) noexcept nogil:
        self.err_code[i] = ERR_NONE
        cdef int64_t* table = <int64_t*>calloc((G + 2) * (P + 1), sizeof(int64_t))
        if table == NULL:
            self.err_code[i] = ERR_NO_MEMORY
        return table

    cdef void _count_rgb(self, int64_t* table, Py_ssize_t G, Py_ssize_t P, Py_ssize_t i,
                         const uint8_t* gt, Py_ssize_t gs, Py_ssize_t gc,
                         const uint8_t* pr, Py_ssize_t ps, Py_ssize_t pc,
                         Py_ssize_t height, Py_ssize_t width, const uint8_t* gsame,
                         const uint8_t* psame) noexcept nogil:
        # Panoptic images are flat regions: pixels are counted by runs of equal (gt, pred)
        # ids, and a row equal to the one above (both images) adds that row's runs again.
        # gsame / psame: NULL (rows compared here), or the decoder's equal-row flags, whose
        # rows are not written: the last row not flagged holds their pixels.
        cdef const int64_t* gids = NULL
        cdef const int64_t* pids = NULL
        cdef Py_ssize_t y, x, x2, row = 0, col = 0, W = P + 1, nruns = 0, r
        cdef int64_t g, p, last_g = 0, last_p = 0
        cdef const uint8_t* a = gt
        cdef const uint8_t* b = pr
        cdef bint g_same, p_same
        cdef Py_ssize_t* cells = <Py_ssize_t*>malloc((width + 1) * sizeof(Py_ssize_t))
        cdef int64_t* counts = <int64_t*>malloc((width + 1) * sizeof(int64_t))
        if cells == NULL or counts == NULL:
            self.err_code[i] = ERR_NO_MEMORY
            free(cells)
            free(counts)
            return
        if G:
            gids = &self.gt_ids[self.gt_off[i]]
        if P:
            pids = &self.pr_ids[self.pr_off[i]]
        for y in range(height):
            if gsame != NULL:
                g_same = y > 0 and gsame[y]
                p_same = y > 0 and psame[y]
                if not g_same:
                    a = gt + y * gs
                if not p_same:
                    b = pr + y * ps
            else:
                a = gt + y * gs
                b = pr + y * ps
                g_same = p_same = (y > 0 and memcmp(a, a - gs, width * gc) == 0
                                   and memcmp(b, b - ps, width * pc) == 0)
            if g_same and p_same:
                for r in range(nruns):
                    table[cells[r]] += counts[r]
                continue
            nruns = 0
            x = 0
            while x < width:
                g = _rgb_id(a + x * gc)
                p = _rgb_id(b + x * pc)
                x2 = x + 1
                while x2 < width and _rgb_id(a + x2 * gc) == g and _rgb_id(b + x2 * pc) == p:
                    x2 += 1
                if g != last_g:
                    last_g = g
                    row = _gt_row(gids, G, g)
                if p != last_p:
                    last_p = p
                    col = _pr_col(pids, P, p)
                    if col < 0:
                        self.err_code[i] = ERR_PRED_ID_NOT_IN_JSON
                        self.err_value[i] = p
                        break
                cells[nruns] = row * W + col
                counts[nruns] = x2 - x
                table[cells[nruns]] += x2 - x
                nruns += 1
                x = x2
            if self.err_code[i] != ERR_NONE:
                break
        free(cells)
        free(counts)

    cdef void _count_ids(self, int64_t* table, Py_ssize_t G, Py_ssize_t P, Py_ssize_t i,
                         const int64_t[:, ::1] gt, const int64_t[:, ::1] pr) noexcept nogil:
        cdef const int64_t* gids = NULL
        cdef const int64_t* pids = NULL
        cdef Py_ssize_t y, x, x2, row = 0, col = 0, W = P + 1, width = gt.shape[1]
        cdef int64_t g, p, last_g = 0, last_p = 0
        cdef const int64_t* a
        cdef const int64_t* b
        if G:
            gids = &self.gt_ids[self.gt_off[i]]
        if P:
            pids = &self.pr_ids[self.pr_off[i]]
        for y in range(gt.shape[0]):
            a = &gt[y, 0]
            b = &pr[y, 0]
            x = 0
            while x < width:
                g = a[x]
                p = b[x]
                x2 = x + 1
                while x2 < width and a[x2] == g and b[x2] == p:
                    x2 += 1
                if g != last_g:
                    last_g = g
                    row = _gt_row(gids, G, g)
                if p != last_p:
                    last_p = p
                    col = _pr_col(pids, P, p)
                    if col < 0:
                        self.err_code[i] = ERR_PRED_ID_NOT_IN_JSON
                        self.err_value[i] = p
                        return
                table[row * W + col] += x2 - x
                x = x2

    cdef void _finish(self, int64_t* table, Py_ssize_t G, Py_ssize_t P,
                      Py_ssize_t i) noexcept nogil:
        # panopticapi/evaluation.py, pq_compute_single_core, after the np.unique counts.
        cdef Py_ssize_t g0 = self.gt_off[i], p0 = self.pr_off[i], W = P + 1
        cdef Py_ssize_t g, p, r, crowd
        cdef int64_t s, inter, best_pos
        cdef int32_t c
        cdef double union, iou, gt_area
        if self.err_code[i] != ERR_NONE:
            free(table)
            return
        # pixel counts: a predicted segment's area is its pixel count (column sum)
        for p in range(P):
            s = 0
            for r in range(G + 2):
                s += table[r * W + p + 1]
            self.pr_pixels[p0 + p] = s
            self.pr_status[p0 + p] = ST_FP
            if s == 0 and self.err_code[i] == ERR_NONE:
                self.err_code[i] = ERR_PRED_NOT_IN_PNG
                self.err_value[i] = self.pr_ids[p0 + p]
        for g in range(G):
            s = 0
            for p in range(W):
                s += table[(g + 1) * W + p]
            self.gt_pixels[g0 + g] = s
            self.gt_iou[g0 + g] = 0.0
            if self.gt_cat[g0 + g] < 0:
                self.gt_status[g0 + g] = ST_UNKNOWN
            elif self.gt_crowd[g0 + g]:
                self.gt_status[g0 + g] = ST_CROWD
            else:
                self.gt_status[g0 + g] = ST_FN
        if self.err_code[i] != ERR_NONE:
            free(table)
            return
        # TPs, in np.unique's order of (gt id, pred id)
        for g in range(G):
            if self.gt_crowd[g0 + g] or self.gt_cat[g0 + g] < 0:
                continue
            if self.area_from_pixels:
                gt_area = <double>self.gt_pixels[g0 + g]
            else:
                gt_area = self.gt_area[g0 + g]
            for p in range(P):
                inter = table[(g + 1) * W + p + 1]
                if inter == 0 or self.gt_cat[g0 + g] != self.pr_cat[p0 + p]:
                    continue
                # pred_area + gt_area - intersection - VOID part of the prediction
                union = <double>self.pr_pixels[p0 + p] + gt_area
                union = union - <double>inter
                union = union - <double>table[p + 1]
                iou = <double>inter / union
                if iou > 0.5:
                    if self.gt_status[g0 + g] == ST_TP:
                        self.err_code[i] = ERR_GT_MATCHED_TWICE
                        self.err_value[i] = self.gt_ids[g0 + g]
                        free(table)
                        return
                    self.gt_status[g0 + g] = ST_TP
                    self.gt_iou[g0 + g] = iou
                    self.pr_status[p0 + p] = ST_TP
        # FPs: unmatched predictions not mostly on VOID + their category's crowd region
        for p in range(P):
            if self.pr_status[p0 + p] == ST_TP:
                continue
            c = self.pr_cat[p0 + p]
            crowd = -1
            best_pos = -1
            for g in range(G):
                if (self.gt_crowd[g0 + g] and self.gt_cat[g0 + g] == c
                        and self.gt_pos[g0 + g] > best_pos):
                    best_pos = self.gt_pos[g0 + g]
                    crowd = g
            inter = table[p + 1]
            if crowd >= 0:
                inter = inter + table[(crowd + 1) * W + p + 1]
            if <double>inter / <double>self.pr_pixels[p0 + p] > 0.5:
                self.pr_status[p0 + p] = ST_SWALLOWED
        free(table)


def ordered_iou_sums(const int32_t[::1] cat, const int8_t[::1] status,
                     const double[::1] iou, const int64_t[::1] bounds, Py_ssize_t n_cat):
    """Per-category sums of ``iou`` over TP slots, as panopticapi adds them.

    Slots ``bounds[j]:bounds[j + 1]`` are one worker's images (panopticapi's
    ``np.array_split`` of the image list over its processes): each worker sums its TPs
    in slot order from 0.0, then the workers' sums are added in worker order.

    >>> import numpy as np
    >>> s = ordered_iou_sums(np.array([0, 1, 0], np.int32), np.array([0, 0, 0], np.int8),
    ...                      np.array([0.6, 0.7, 0.8]), np.array([0, 3], np.int64), 2)
    >>> s.tolist() == [0.6 + 0.8, 0.7]
    True
    """
    out = np.zeros(n_cat, np.float64)
    part_arr = np.zeros(n_cat, np.float64)
    cdef double[::1] total = out
    cdef double[::1] part = part_arr
    cdef Py_ssize_t j, k, s
    with nogil:
        for j in range(bounds.shape[0] - 1):
            for k in range(n_cat):
                part[k] = 0.0
            for s in range(bounds[j], bounds[j + 1]):
                if status[s] == ST_TP and cat[s] >= 0:
                    part[cat[s]] += iou[s]
            for k in range(n_cat):
                total[k] = total[k] + part[k]
    return out
