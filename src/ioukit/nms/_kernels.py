"""Numba kernels behind ``ioukit.nms`` (NumPy arrays and CPU tensors).

Every kernel computes its IoU inline rather than calling ``ioukit.boxes``: the
overlap of one kept box with one candidate is evaluated inside the suppression
loop (no N x M matrix may be materialised at 100k boxes), and the arithmetic has
to follow the reference being matched operation by operation (torchvision for
hard NMS, ensemble-boxes for Soft-NMS and WBF) so that exact-threshold ties agree.
All kernels use ``error_model="numpy"``: 0/0 between two degenerate boxes gives
NaN (never suppresses), exactly as the C++ and NumPy references do.
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba_start import light_numba_start

light_numba_start()  # before any cached kernel loads (see there)

_JIT = dict(cache=True, error_model="numpy")

# Hard-NMS kernel modes.
MODE_IOU = 0
MODE_DIOU = 1

# WBF conf_type codes (ensemble-boxes' names, in its order).
CONF_AVG = 0
CONF_MAX = 1
CONF_BOX_AND_MODEL_AVG = 2
CONF_ABSENT_MODEL_AWARE_AVG = 3


@numba.njit(**_JIT)
def first_bad_row(boxes, scores, allow_inverted):  # pragma: no cover - compiled
    """(row, code) of the first invalid row, (-1, 0) if none.

    code 1: non-finite coordinate, 2: x2 < x1 or y2 < y1, 3: NaN score.
    """
    for i in range(boxes.shape[0]):
        for k in range(4):
            if not np.isfinite(boxes[i, k]):
                return i, 1
        if not allow_inverted and (boxes[i, 2] < boxes[i, 0] or boxes[i, 3] < boxes[i, 1]):
            return i, 2
        if np.isnan(scores[i]):
            return i, 3
    return -1, 0


@numba.njit(**_JIT)
def _diou_penalty(ix1, iy1, ix2, iy2, jx1, jy1, jx2, jy2, beta, eps):  # pragma: no cover
    # Zheng et al. 2020 (DIoU penalty): R = rho^2(b, b') / c^2, evaluated in float64.
    ax1 = np.float64(ix1)
    ay1 = np.float64(iy1)
    ax2 = np.float64(ix2)
    ay2 = np.float64(iy2)
    bx1 = np.float64(jx1)
    by1 = np.float64(jy1)
    bx2 = np.float64(jx2)
    by2 = np.float64(jy2)
    dx = (ax1 + ax2) * 0.5 - (bx1 + bx2) * 0.5
    dy = (ay1 + ay2) * 0.5 - (by1 + by2) * 0.5
    rho2 = dx * dx + dy * dy
    cw = max(ax2, bx2) - min(ax1, bx1)
    ch = max(ay2, by2) - min(ay1, by1)
    c2 = cw * cw + ch * ch
    r = rho2 / (c2 + eps)
    if beta == 1.0:
        return r
    return r**beta


@numba.njit(**_JIT)
def _suppresses(
    ix1, iy1, ix2, iy2, iarea, jx1, jy1, jx2, jy2, jarea, thr, zero, mode, beta, eps
):  # pragma: no cover
    # torchvision nms_kernel_impl, operation for operation (no +1, boxes' dtype,
    # float ovr compared with a double threshold).
    xx1 = max(ix1, jx1)
    yy1 = max(iy1, jy1)
    xx2 = min(ix2, jx2)
    yy2 = min(iy2, jy2)
    w = max(zero, xx2 - xx1)
    h = max(zero, yy2 - yy1)
    inter = w * h
    ovr = inter / (iarea + jarea - inter)
    if mode == MODE_IOU:
        return ovr > thr
    pen = _diou_penalty(ix1, iy1, ix2, iy2, jx1, jy1, jx2, jy2, beta, eps)
    return np.float64(ovr) - pen > thr


@numba.njit(**_JIT)
def greedy_dense(boxes, order, labels, use_labels, thr, zero, mode, beta, eps):  # pragma: no cover
    """Greedy NMS visiting every later box (torchvision's loop); used for thr < 0."""
    n = boxes.shape[0]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    supp = np.zeros(n, np.bool_)
    keep = np.empty(n, np.int64)
    nk = 0
    for r in range(n):
        i = order[r]
        if supp[i]:
            continue
        keep[nk] = i
        nk += 1
        for q in range(r + 1, n):
            j = order[q]
            if supp[j] or (use_labels and labels[j] != labels[i]):
                continue
            if _suppresses(
                boxes[i, 0],
                boxes[i, 1],
                boxes[i, 2],
                boxes[i, 3],
                areas[i],
                boxes[j, 0],
                boxes[j, 1],
                boxes[j, 2],
                boxes[j, 3],
                areas[j],
                thr,
                zero,
                mode,
                beta,
                eps,
            ):
                supp[j] = True
    return keep[:nk]


@numba.njit(**_JIT)
def _lower_bound(a, lo, hi, v):  # pragma: no cover
    # First p in [lo, hi) with a[p] >= v (a sorted ascending on that range).
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(**_JIT)
def _strip_index(boxes, xorder, labels, use_labels, hs, ws):  # pragma: no cover
    """Sparse candidate index: boxes ordered by (label, strip, x1), big boxes last.

    "Normal" boxes (height <= hs and width <= ws, twice the median sizes) are
    bucketed into horizontal strips of height hs by y1; the others ("big") form one
    segment per label. Segment k is xo[segstart[k]:segstart[k+1]], sorted by x1.
    Returns (xo, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad).
    """
    n = boxes.shape[0]
    fx1 = boxes[:, 0].astype(np.float64)
    fy1 = boxes[:, 1].astype(np.float64)
    bw = boxes[:, 2].astype(np.float64) - fx1
    bh = boxes[:, 3].astype(np.float64) - fy1
    ymin = fy1.min()
    ext = boxes[:, 3].astype(np.float64).max() - ymin
    nlab = labels.max() + 1 if use_labels else 1
    # At most ~4N (label, strip) segments, so the segment table stays O(N + C).
    hs = max(hs, ext * nlab / max(4.0 * n, 1024.0))
    if not hs > 0:
        hs = 1.0
    # Sort key: normal boxes by (label, strip); big boxes after all of them, by label.
    nstrip = np.int64(ext / hs) + 2
    nkey = nlab * nstrip + nlab
    key = np.empty(n, np.int64)
    big = np.empty(n, np.bool_)
    for i in range(n):
        lab = labels[i] if use_labels else 0
        big[i] = bh[i] > hs or bw[i] > ws
        if big[i]:
            key[i] = nlab * nstrip + lab
        else:
            key[i] = lab * nstrip + np.int64((fy1[i] - ymin) / hs)
    # Stable counting sort of the x1 order by key: (key, x1) order in O(N + keys).
    segstart = np.zeros(nkey + 1, np.int64)
    for i in range(n):
        segstart[key[i] + 1] += 1
    for k in range(nkey):
        segstart[k + 1] += segstart[k]
    fill = segstart[:-1].copy()
    xo = np.empty(n, np.int64)
    for t in range(n):
        i = xorder[t]
        xo[fill[key[i]]] = i
        fill[key[i]] += 1
    wn = 0.0
    wb = 0.0
    for i in range(n):
        if big[i]:
            wb = max(wb, bw[i])
        else:
            wn = max(wn, bw[i])
    # Pad widths by a relative 1e-9 so float64 rounding of x2 - x1 cannot drop a candidate.
    wn = wn * (1.0 + 1e-9) + 1e-300
    wb = wb * (1.0 + 1e-9) + 1e-300
    hpad = hs * (1.0 + 1e-9) + 1e-300
    return xo, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad


@numba.njit(**_JIT)
def _query(
    ranges, sx1, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad, lab, x1, y1, y2
):  # pragma: no cover
    """Fill ranges[k] = (first, end) of the index slices that may overlap the box.

    A box overlapping (x1, y1, x2, y2) in the same label starts in a strip that can
    reach [y1 - hs, y2) and has its x1 in [x1 - max width, x2); the caller scans
    each slice while sx1 < x2. Returns the number of slices.
    """
    c = 0
    fx1 = np.float64(x1)
    s_lo = np.int64(max(np.float64(y1) - hpad - ymin, 0.0) / hs)
    s_hi = min(np.int64(max(np.float64(y2) - ymin, 0.0) / hs), nstrip - 1)
    for st in range(s_lo, s_hi + 1):
        k = lab * nstrip + st
        e = segstart[k + 1]
        ranges[c, 0] = _lower_bound(sx1, segstart[k], e, fx1 - wn - abs(fx1) * 1e-15)
        ranges[c, 1] = e
        c += 1
    k = nlab * nstrip + lab
    e = segstart[k + 1]
    ranges[c, 0] = _lower_bound(sx1, segstart[k], e, fx1 - wb - abs(fx1) * 1e-15)
    ranges[c, 1] = e
    return c + 1


@numba.njit(**_JIT)
def greedy_nms(
    boxes, order, xorder, labels, use_labels, thr, zero, mode, beta, eps, hs, ws
):  # pragma: no cover
    """Greedy NMS with torchvision's arithmetic and a sparse candidate search (thr >= 0).

    boxes: (N, 4) float32/float64; order: (N,) int64 indices by decreasing score;
    xorder: indices by x1; labels: (N,) int64 dense class ids 0..C-1 (ignored unless
    use_labels); zero: 0 in boxes' dtype (keeps max(0, w) in that dtype); hs, ws: the
    "normal" size limits (twice the median height / width). Returns kept indices in
    score order.

    For thr >= 0 a pair can only suppress when the two boxes overlap with positive
    area, so a kept box needs only the boxes it overlaps. "Normal" boxes (width and
    height at most twice the median) are bucketed into horizontal strips of height
    H (by y1) and sorted by (label, strip, x1): a query visits the few strips that
    can reach it and, in each, the x1 range [x1 - max_w, x2). The remaining "big"
    boxes are sorted by (label, x1) and scanned over [x1 - their max_w, x2). Memory
    is O(N); the visit order never matters because each (kept, later) pair is
    decided by the same predicate as torchvision's loop.
    """
    n = boxes.shape[0]
    xo, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad = _strip_index(
        boxes, xorder, labels, use_labels, hs, ws
    )
    sx1 = np.empty(n, boxes.dtype)
    sy1 = np.empty(n, boxes.dtype)
    sx2 = np.empty(n, boxes.dtype)
    sy2 = np.empty(n, boxes.dtype)
    sarea = np.empty(n, boxes.dtype)
    pos = np.empty(n, np.int64)
    for p in range(n):
        i = xo[p]
        sx1[p] = boxes[i, 0]
        sy1[p] = boxes[i, 1]
        sx2[p] = boxes[i, 2]
        sy2[p] = boxes[i, 3]
        # torchvision: areas = (x2 - x1) * (y2 - y1), no +1, in the boxes' dtype.
        sarea[p] = (sx2[p] - sx1[p]) * (sy2[p] - sy1[p])
        pos[i] = p
    ranges = np.empty((nstrip + 1, 2), np.int64)
    srank = np.empty(n, np.int64)
    for r in range(n):
        srank[pos[order[r]]] = r
    supp = np.zeros(n, np.bool_)
    keep = np.empty(n, np.int64)
    nk = 0
    for r in range(n):
        p0 = pos[order[r]]
        if supp[p0]:
            continue
        keep[nk] = order[r]
        nk += 1
        ix1 = sx1[p0]
        iy1 = sy1[p0]
        ix2 = sx2[p0]
        iy2 = sy2[p0]
        iarea = sarea[p0]
        lab = labels[order[r]] if use_labels else 0
        nr = _query(ranges, sx1, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad, lab, ix1, iy1, iy2)
        for k in range(nr):
            q = ranges[k, 0]
            end = ranges[k, 1]
            while q < end and sx1[q] < ix2:
                if srank[q] > r and not supp[q]:
                    if _suppresses(
                        ix1,
                        iy1,
                        ix2,
                        iy2,
                        iarea,
                        sx1[q],
                        sy1[q],
                        sx2[q],
                        sy2[q],
                        sarea[q],
                        thr,
                        zero,
                        mode,
                        beta,
                        eps,
                    ):
                        supp[q] = True
                q += 1
    return keep[:nk]


@numba.njit(**_JIT)
def offsets_exact(boxes, offs):  # pragma: no cover
    """True when boxes + offs[:, None] is exact in boxes' dtype for every element.

    Knuth's TwoSum gives the rounding error of a + b exactly; zero everywhere means
    the shifted boxes give the same IoU arithmetic as the original ones.
    """
    for i in range(boxes.shape[0]):
        b = offs[i]
        for k in range(4):
            a = boxes[i, k]
            s = a + b
            bb = s - a
            err = (a - (s - bb)) + (b - bb)
            if err != 0 or not np.isfinite(s):
                return False
    return True


@numba.njit(**_JIT)
def _soft_decay(
    ox1, oy1, ox2, oy2, oarea, jx1, jy1, jx2, jy2, jarea, nt, sigma, method
):  # pragma: no cover
    # The reference's IoU (it names the y extent "w"; IEEE products commute, so
    # inter is bit-identical), then the weight. Returns 1.0 when nothing changes.
    w = max(0.0, min(oy2, jy2) - max(oy1, jy1))
    h = max(0.0, min(ox2, jx2) - max(ox1, jx1))
    inter = w * h
    ovr = inter / (oarea + jarea - inter)
    if method == 1:
        # Bodla et al. 2017, linear rescoring, with ensemble-boxes' strict ">".
        return 1.0 - ovr if ovr > nt else 1.0
    # Bodla et al. 2017, gaussian rescoring: exp(-iou^2 / sigma), no threshold.
    return np.exp(-(ovr * ovr) / sigma)


@numba.njit(**_JIT)
def _block_max(scores, bv, bi, blk, bsize, first, n):  # pragma: no cover
    # Leftmost maximum of scores[p] over p >= first in block blk, NaNs ignored (the
    # caller skips the argmax while any NaN is pending, as the reference does).
    best = -1
    bestv = -np.inf
    for p in range(max(blk * bsize, first), min((blk + 1) * bsize, n)):
        v = scores[p]
        if not np.isnan(v) and (best == -1 or v > bestv):
            best = p
            bestv = v
    bv[blk] = bestv
    bi[blk] = best


@numba.njit(**_JIT)
def _decay_at(scores, pj, wgt, bv, bi, bsize, i, n):  # pragma: no cover
    """scores[pj] *= wgt as the reference does it; returns 1 if it just became NaN."""
    was_nan = np.isnan(scores[pj])
    scores[pj] = wgt * scores[pj]
    blk = pj // bsize
    v = scores[pj]
    if bi[blk] == pj:
        _block_max(scores, bv, bi, blk, bsize, i + 1, n)
    elif not np.isnan(v) and (bi[blk] == -1 or v > bv[blk] or (v == bv[blk] and pj < bi[blk])):
        # A negative score grows toward 0 when decayed: it may become the maximum.
        bv[blk] = v
        bi[blk] = pj
    return 1 if (np.isnan(scores[pj]) and not was_nan) else 0


@numba.njit(**_JIT)
def soft_nms(boxes, scores, nt, sigma, thresh, method, xorder, hs, ws):  # pragma: no cover
    """Soft-NMS exactly as ensemble-boxes' ``cpu_soft_nms_float``.

    boxes: (N, 4) float64 (ensemble-boxes concatenates an index column, which makes
    its IoU float64 whatever the input); scores: (N,) float32/float64, decayed in
    place in that dtype. method 1: linear, 2: gaussian. Returns the original indices
    of boxes whose final score is > thresh, in processing order, and those scores.

    The reference visits every (processed, later) pair. A pair whose boxes do not
    overlap has IoU exactly 0 and weight exactly 1 (exp(-0) or the linear branch
    not taken), and multiplying by 1.0 changes no bit, so only overlapping pairs
    are visited here: candidates come from the strip index, as in greedy_nms
    (xorder: indices by x1; hs, ws: twice the median height and width).
    A zero-area box still visits everything (0 / 0 is NaN in the reference).
    The per-step argmax runs over block maxima (see below).
    """
    n = boxes.shape[0]
    x1 = boxes[:, 0].copy()
    y1 = boxes[:, 1].copy()
    x2 = boxes[:, 2].copy()
    y2 = boxes[:, 3].copy()
    areas = (x2 - x1) * (y2 - y1)
    lab0 = np.zeros(1, np.int64)
    xo, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad = _strip_index(
        boxes, xorder, lab0, False, hs, ws
    )
    # Candidate data in index order, so the window scans read memory sequentially.
    sx1 = x1[xo]
    sy1 = y1[xo]
    sx2 = x2[xo]
    sy2 = y2[xo]
    sarea = areas[xo]
    ranges = np.empty((nstrip + 1, 2), np.int64)
    perm = np.arange(n)  # position -> original index (the reference's index column)
    oq = np.empty(n, np.int64)  # original index -> index slot
    for q in range(n):
        oq[xo[q]] = q
    qwhere = xo.copy()  # index slot -> position (position p starts as original p)
    # Block maxima (leftmost wins ties) replace the reference's O(N) argmax per
    # step by O(N / B) over blocks; a block is re-scanned only when its own
    # maximum changes.
    bsize = 64
    nb = (n + bsize - 1) // bsize
    bv = np.empty(nb)
    bi = np.empty(nb, np.int64)
    for blk in range(nb):
        _block_max(scores, bv, bi, blk, bsize, 0, n)
    n_nan = 0  # NaN scores at positions > i (a 0/0 IoU leaves them)
    for i in range(n):
        if bi[i // bsize] == i:
            _block_max(scores, bv, bi, i // bsize, bsize, i + 1, n)
        if np.isnan(scores[i]):
            n_nan -= 1
        # Reference: maxpos = np.argmax(scores[i+1:]) (first maximum), swapped in only
        # when strictly larger, so an equal score already in place stays first.
        # A NaN makes np.max NaN, and "x < NaN" never swaps.
        if i != n - 1 and n_nan == 0:
            mp = -1
            ms = -np.inf
            for blk in range((i + 1) // bsize, nb):
                if bi[blk] != -1 and (mp == -1 or bv[blk] > ms):
                    mp = bi[blk]
                    ms = bv[blk]
            if scores[i] < scores[mp]:
                scores[i], scores[mp] = scores[mp], scores[i]
                a = perm[i]
                perm[i] = perm[mp]
                perm[mp] = a
                qwhere[oq[perm[i]]] = i
                qwhere[oq[perm[mp]]] = mp
                _block_max(scores, bv, bi, mp // bsize, bsize, i + 1, n)
        o = perm[i]
        if areas[o] == 0.0:
            for pj in range(i + 1, n):
                j = perm[pj]
                wgt = _soft_decay(
                    x1[o],
                    y1[o],
                    x2[o],
                    y2[o],
                    areas[o],
                    x1[j],
                    y1[j],
                    x2[j],
                    y2[j],
                    areas[j],
                    nt,
                    sigma,
                    method,
                )
                n_nan += _decay_at(scores, pj, wgt, bv, bi, bsize, i, n)
            continue
        nr = _query(
            ranges, sx1, segstart, nstrip, nlab, hs, ymin, wn, wb, hpad, 0, x1[o], y1[o], y2[o]
        )
        ox1 = x1[o]
        oy1 = y1[o]
        ox2 = x2[o]
        oy2 = y2[o]
        oarea = areas[o]
        for k in range(nr):
            q = ranges[k, 0]
            end = ranges[k, 1]
            while q < end and sx1[q] < ox2:
                pj = qwhere[q]
                # No overlap in y or x: IoU exactly 0 and weight exactly 1 (skip).
                if pj > i and sy1[q] < oy2 and sy2[q] > oy1 and sx2[q] > ox1:
                    wgt = _soft_decay(
                        ox1,
                        oy1,
                        ox2,
                        oy2,
                        oarea,
                        sx1[q],
                        sy1[q],
                        sx2[q],
                        sy2[q],
                        sarea[q],
                        nt,
                        sigma,
                        method,
                    )
                    if wgt != 1.0:
                        n_nan += _decay_at(scores, pj, wgt, bv, bi, bsize, i, n)
                q += 1
    m = 0
    for i in range(n):
        if scores[i] > thresh:
            m += 1
    keep = np.empty(m, np.int64)
    out = np.empty(m, scores.dtype)
    m = 0
    for i in range(n):
        if scores[i] > thresh:
            keep[m] = perm[i]
            out[m] = scores[i]
            m += 1
    return keep, out


@numba.njit(**_JIT)
def _box_iou64(x1, y1, x2, y2, areas, i, j):  # pragma: no cover
    w = max(0.0, min(x2[i], x2[j]) - max(x1[i], x1[j]))
    h = max(0.0, min(y2[i], y2[j]) - max(y1[i], y1[j]))
    inter = w * h
    return inter / (areas[i] + areas[j] - inter)


@numba.njit(parallel=True, **_JIT)
def matrix_nms_boxes(boxes, labels, kernel, sigma, eps):  # pragma: no cover
    """Matrix-NMS decay factors for boxes already sorted by decreasing score.

    Two parallel passes over same-label pairs (i < j): O(N) memory instead of the
    N x N matrices of the reference, and every j is independent in each pass.
    kernel 0: gaussian, 1: linear. Returns decay (N,).
    """
    n = boxes.shape[0]
    x1 = boxes[:, 0].copy()
    y1 = boxes[:, 1].copy()
    x2 = boxes[:, 2].copy()
    y2 = boxes[:, 3].copy()
    areas = (x2 - x1) * (y2 - y1)
    comp = np.zeros(n, np.float64)
    decay = np.ones(n, np.float64)
    # comp_j: the largest IoU of j with any higher-scored box of its class.
    for j in numba.prange(n):
        c = 0.0
        for i in range(j):
            if labels[i] == labels[j]:
                iou = _box_iou64(x1, y1, x2, y2, areas, i, j)
                if iou > c:
                    c = iou
        comp[j] = c
    for j in numba.prange(n):
        d = 1.0
        for i in range(j):
            if labels[i] == labels[j]:
                iou = _box_iou64(x1, y1, x2, y2, areas, i, j)
                v = _matrix_decay(iou, comp[i], kernel, sigma, eps)
                if v < d:
                    d = v
        decay[j] = d
    return decay


@numba.njit(**_JIT)
def _matrix_decay(iou, comp, kernel, sigma, eps):  # pragma: no cover
    if kernel == 0:
        # SOLOv2 (Wang et al. 2020) Matrix-NMS decay, gaussian:
        # exp(-sigma iou^2) / exp(-sigma comp^2).
        return np.exp(-sigma * (iou * iou)) / np.exp(-sigma * (comp * comp))
    # SOLOv2 Matrix-NMS decay, linear: (1 - iou) / (1 - comp), denominator floored at eps.
    return (1.0 - iou) / max(1.0 - comp, eps)


@numba.njit(**_JIT)
def wbf(
    coords, score, wcol, model, offsets, nmodels, weights, wsum, wmax, iou_thr, conf, overflow
):  # pragma: no cover
    """Weighted boxes fusion, ensemble-boxes' ``weighted_boxes_fusion`` step for step.

    Inputs are the prefiltered boxes grouped by label (group g is rows
    offsets[g]:offsets[g+1]) and within a group in ensemble-boxes' processing order.
    coords (M, 4) float64, score/wcol (M,) float64 (score already times the model
    weight), model (M,) int64. Returns per fused box: group, coords (float64 holding
    the reference's float32 values), rescaled score.
    """
    m = coords.shape[0]
    ng = offsets.shape[0] - 1
    out_g = np.empty(m, np.int64)
    out_b = np.empty((m, 4), np.float64)
    out_s = np.empty(m, np.float64)
    no = 0
    for g in range(ng):
        s0 = offsets[g]
        s1 = offsets[g + 1]
        cap = s1 - s0
        wb = np.empty((cap, 4), np.float64)  # cluster box as the reference stores it
        wb_s = np.empty(cap, np.float64)
        wb_w = np.empty(cap, np.float64)
        acc = np.zeros((cap, 4), np.float32)  # get_weighted_box's float32 'box[4:]'
        conf_acc = np.zeros(cap, np.float64)
        w_acc = np.zeros(cap, np.float64)
        cmax = np.zeros(cap, np.float64)
        cnt = np.zeros(cap, np.int64)
        present = np.zeros((cap, nmodels), np.bool_)
        nc = 0
        for r in range(s0, s1):
            bx1 = coords[r, 0]
            by1 = coords[r, 1]
            bx2 = coords[r, 2]
            by2 = coords[r, 3]
            barea = (bx2 - bx1) * (by2 - by1)
            # find_matching_box_fast: np.argmax over IoUs (first max; a NaN wins at
            # once, as in NumPy), match only when best IoU > iou_thr.
            best = -1
            bestv = -np.inf
            for c in range(nc):
                xa = max(wb[c, 0], bx1)
                ya = max(wb[c, 1], by1)
                xb = min(wb[c, 2], bx2)
                yb = min(wb[c, 3], by2)
                inter = max(xb - xa, 0.0) * max(yb - ya, 0.0)
                carea = (wb[c, 2] - wb[c, 0]) * (wb[c, 3] - wb[c, 1])
                iou = inter / (carea + barea - inter)
                if np.isnan(iou):
                    best = c
                    bestv = iou
                    break
                if best == -1 or iou > bestv:
                    best = c
                    bestv = iou
            if best != -1 and not (bestv <= iou_thr):
                c = best
            else:
                c = nc
                nc += 1
                wb[c, 0] = bx1
                wb[c, 1] = by1
                wb[c, 2] = bx2
                wb[c, 3] = by2
                wb_s[c] = score[r]
                wb_w[c] = wcol[r]
            # Running state of get_weighted_box (it re-sums from scratch each time,
            # in the same order, so a running sum gives the same bits).
            for k in range(4):
                acc[c, k] = np.float32(np.float64(acc[c, k]) + score[r] * coords[r, k])
            conf_acc[c] += score[r]
            w_acc[c] += wcol[r]
            if cnt[c] == 0 or score[r] > cmax[c]:
                cmax[c] = score[r]
            cnt[c] += 1
            present[c, model[r]] = True
            if cnt[c] > 1:
                for k in range(4):
                    wb[c, k] = np.float64(np.float32(np.float64(acc[c, k]) / conf_acc[c]))
                if conf == CONF_MAX:
                    wb_s[c] = np.float64(np.float32(cmax[c]))
                else:
                    wb_s[c] = np.float64(np.float32(conf_acc[c] / cnt[c]))
                wb_w[c] = np.float64(np.float32(w_acc[c]))
        for c in range(nc):
            s = wb_s[c]
            k = cnt[c]
            if conf == CONF_BOX_AND_MODEL_AVG:
                s = s * k / wb_w[c]
                uw = 0.0
                for t in range(nmodels):
                    if present[c, t]:
                        uw += weights[t]
                s = s * uw / wsum
            elif conf == CONF_ABSENT_MODEL_AWARE_AVG:
                aw = 0.0
                for t in range(nmodels):
                    if not present[c, t]:
                        aw += weights[t]
                s = s * k / (wb_w[c] + aw)
            elif conf == CONF_MAX:
                s = s / wmax
            elif not overflow:
                s = s * min(nmodels, k) / wsum
            else:
                s = s * k / wsum
            out_g[no] = g
            for q in range(4):
                out_b[no, q] = wb[c, q]
            out_s[no] = s
            no += 1
    return out_g[:no], out_b[:no], out_s[:no]
