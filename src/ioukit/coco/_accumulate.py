"""Precision / recall / score arrays from match records (``COCOeval.accumulate``).

For each category the detections are put in the order pycocotools builds by
concatenating images (in ``imgIds`` order, each image's detections best first) and
then merge-sorting by ``-score``: a stable sort on ``(-score, image, rank in image)``.
Along that order (pycocotools cocoeval.py ``accumulate``):

- ``rc = tp / npig`` and ``pr = tp / (tp + fp + spacing(1))`` with cumulative counts,
  ignored detections keeping their place in the sequence;
- ``pr`` is made non-increasing from the right (the envelope of the PR curve);
- at each recall threshold ``r``, ``i = searchsorted(rc, r, 'left')`` picks
  ``pr[i]`` and ``score[i]``; from the first ``i`` past the end on, 0 (the original
  ``try/except`` stops there);
- recall is ``rc[-1]`` (0 without detections); -1 everywhere for a category and area
  range without non-ignored GT.
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba_start import light_numba_start
from ._order import counting_order, score_desc_order

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["accumulate_arrays", "summarize_stats", "summary_lines"]


@numba.njit(cache=True, nogil=True)
def _accumulate_category(
    k,
    c0,
    c1,
    by_rows,
    inv,
    rank,
    flags,
    score,
    num_gt,
    max_dets,
    rec_thrs,
    eps,
    precision,
    recall,
    scores,
):
    # Only true-positive steps move recall and can hold a maximum of the precision
    # envelope (between them tp is fixed and fp grows, so precision only falls), so
    # both are evaluated there alone, with the same float operations as pycocotools.
    n_a = flags.shape[1]
    n_t = flags.shape[2]
    n_m = max_dets.size
    n_r = rec_thrs.size
    max_n = c1 - c0
    sc = np.empty(max_n)
    sel = np.empty(max_n, dtype=np.int64)
    tp_pos = np.empty((n_t, max_n + 1), dtype=np.int64)
    fp_at = np.empty((n_t, max_n + 1), dtype=np.int64)
    nt = np.empty(n_t, dtype=np.int64)
    fp_x = np.empty(n_t, dtype=np.int64)
    env = np.empty(max_n + 1)
    cr = np.empty(n_r, dtype=np.int64)
    # The category's flags put once, in score order, into [A, n, T]: the passes below
    # read them in order. Rows are read in storage order (by_rows) and scattered to
    # their score position (inv) inside this small, cached block: a gather in score
    # order would miss the cache on every record. uniform[a, n] is the flag a record
    # has at every threshold (0 false positive, 2 ignored), or 3 when they differ or
    # are true positives: most records of a large set are false positives or ignored
    # at every threshold, and the passes count those once rather than per threshold.
    block = np.empty((n_a, max_n, n_t), dtype=np.uint8)
    uniform = np.empty((n_a, max_n), dtype=np.uint8)
    for n in range(max_n):
        row = by_rows[c0 + n]
        q = inv[row]
        for a in range(n_a):
            f0 = flags[row, a, 0]
            u = f0 if f0 != 1 else 3
            for t in range(n_t):
                f = flags[row, a, t]
                block[a, q, t] = f
                if f != f0:
                    u = 3
            uniform[a, q] = u
    for m in range(n_m):
        if m > 0:
            # the same records as the previous maxDets (every image keeps fewer
            # detections of this category than both limits): the same arrays follow
            same = True
            for n in range(max_n):
                if (rank[c0 + n] < max_dets[m]) != (rank[c0 + n] < max_dets[m - 1]):
                    same = False
                    break
            if same:
                for a in range(n_a):
                    for t in range(n_t):
                        recall[t, k, a, m] = recall[t, k, a, m - 1]
                        for r in range(n_r):
                            precision[t, r, k, a, m] = precision[t, r, k, a, m - 1]
                            scores[t, r, k, a, m] = scores[t, r, k, a, m - 1]
                continue
        nd = 0
        for n in range(max_n):
            if rank[c0 + n] < max_dets[m]:
                sel[nd] = n
                sc[nd] = score[c0 + n]
                nd += 1
        for a in range(n_a):
            npig = num_gt[k, a]
            if npig == 0:
                continue
            # searchsorted(rc, v, 'left') with rc[n] = (#tp up to n) / npig lands on the
            # c-th true positive, c the least count with c / npig >= v: it depends on
            # npig and v only, so it is found once here (0 stands for v <= 0: index 0)
            for r in range(n_r):
                v = rec_thrs[r]
                if v <= 0.0:
                    cr[r] = 0
                    continue
                c = min(max(int(np.ceil(v * npig)), 1), npig + 1)
                while c > 1 and float(c - 1) / npig >= v:
                    c -= 1
                while c <= npig and float(c) / npig < v:
                    c += 1
                cr[r] = c
            # one pass for all thresholds: where each true positive falls and the
            # false-positive count there (fp_common for all thresholds + fp_x[t])
            fp_common = 0
            for t in range(n_t):
                nt[t] = 0
                fp_x[t] = 0
            for n in range(nd):
                q = sel[n]
                u = uniform[a, q]
                if u == 0:
                    fp_common += 1
                elif u == 3:
                    for t in range(n_t):
                        f = block[a, q, t]
                        if f == 1:
                            tp_pos[t, nt[t]] = n
                            fp_at[t, nt[t]] = fp_common + fp_x[t]
                            nt[t] += 1
                        elif f == 0:
                            fp_x[t] += 1
            for t in range(n_t):
                ntt = nt[t]
                for c in range(ntt):
                    # pr = tp / (fp + tp + spacing(1)) at the c-th true positive
                    tpf = float(c + 1)
                    env[c] = tpf / (float(fp_at[t, c]) + tpf + eps)
                # rc[-1] = tp / npig
                recall[t, k, a, m] = float(ntt) / npig if nd else 0.0
                for c in range(ntt - 2, -1, -1):
                    if env[c + 1] > env[c]:
                        env[c] = env[c + 1]
                for r in range(n_r):
                    c = cr[r]
                    if c == 0 and nd > 0:
                        pos = 0
                        prv = env[0] if ntt > 0 else 0.0
                    elif c == 0 or c > ntt:
                        # past the end: pycocotools' try/except leaves the rest at 0
                        for r2 in range(r, n_r):
                            precision[t, r2, k, a, m] = 0.0
                            scores[t, r2, k, a, m] = 0.0
                        break
                    else:
                        pos = tp_pos[t, c - 1]
                        prv = env[c - 1]
                    precision[t, r, k, a, m] = prv
                    scores[t, r, k, a, m] = sc[pos]


@numba.njit(cache=True, nogil=True, parallel=True)
def _accumulate_kernel(
    cat, score_in, rank_in, flags, num_gt, max_dets, rec_thrs, eps, n_thr, precision, recall, scores
):
    # precision, recall, scores: the outputs, filled with -1 by the caller
    n_k = num_gt.shape[0]
    # Record order: best score first (radix sort), then by category (counting sort),
    # both stable, so within a category the records' (image, rank) order breaks ties
    # as pycocotools' merge sort of the concatenated images does. by_rows keeps each
    # category's records in storage order; perm has them in score order.
    by_rows, cat_off = counting_order(cat, n_k, np.arange(cat.size))
    perm, _ = counting_order(cat, n_k, score_desc_order(score_in))
    # position of every record in its category's score order; scores and ranks in it
    inv = np.empty(perm.size, dtype=np.int64)
    score = np.empty(perm.size)
    rank = np.empty(perm.size, dtype=np.int64)
    for k in numba.prange(n_k):
        for n in range(cat_off[k], cat_off[k + 1]):
            inv[perm[n]] = n - cat_off[k]
            score[n] = score_in[perm[n]]
            rank[n] = rank_in[perm[n]]
    # categories are independent; dealt out round-robin by size so that the threads'
    # static prange blocks get similar work
    # (sizes by a loop, not np.diff: that would pull numba.np.arraymath in when the
    # cached kernel loads, ~9 ms of a fresh process's first evaluation)
    neg_size = np.empty(n_k, dtype=np.int64)
    for k in range(n_k):
        neg_size[k] = cat_off[k] - cat_off[k + 1]
    by_size = np.argsort(neg_size, kind="mergesort")
    cat_order = np.empty(n_k, dtype=np.int64)
    j = 0
    for i in range(n_thr):
        for q in range(i, n_k, n_thr):
            cat_order[j] = by_size[q]
            j += 1
    for j in numba.prange(n_k):
        k = cat_order[j]
        _accumulate_category(
            k,
            cat_off[k],
            cat_off[k + 1],
            by_rows,
            inv,
            rank,
            flags,
            score,
            num_gt,
            max_dets,
            rec_thrs,
            eps,
            precision,
            recall,
            scores,
        )
    return precision, recall, scores


def accumulate_arrays(
    cat: np.ndarray,
    score: np.ndarray,
    image_id: np.ndarray,
    rank: np.ndarray,
    flags: np.ndarray,
    num_gt: np.ndarray,
    max_dets: np.ndarray,
    rec_thrs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """precision [T,R,K,A,M], recall [T,K,A,M], scores [T,R,K,A,M] from match records.

    Parameters
    ----------
    cat : int (N,) category index in [0, K); score : float64 (N,); image_id : int64 (N,)
        (within a category, records ordered by image, then rank)
    rank : int (N,) position of the detection in its image and category (best first)
    flags : uint8 (N, A, T): 0 false positive, 1 true positive, 2 ignored
    num_gt : int64 (K, A) non-ignored GT; max_dets : int (M,); rec_thrs : float64 (R,)

    Example
    -------
    >>> p, r, s = accumulate_arrays(np.array([0]), np.array([0.9]), np.array([1]),
    ...     np.array([0]), np.ones((1, 1, 1), np.uint8), np.array([[2]]), np.array([100]),
    ...     np.array([0.0, 0.5, 1.0]))
    >>> p[0, :, 0, 0, 0].tolist(), float(r[0, 0, 0, 0])  # 1 / (1 + spacing(1)) < 1
    ([0.9999999999999998, 0.9999999999999998, 0.0], 0.5)
    """
    n_t, n_k, n_a = flags.shape[2], num_gt.shape[0], flags.shape[1]
    n_r, n_m = np.size(rec_thrs), np.size(max_dets)
    # The outputs come from NumPy, not from inside the kernel: NumPy backs arrays of
    # 4 MB and more with transparent huge pages, so the two 8 MB arrays fault in as a
    # few 2 MB pages instead of ~4000 4 kB ones (~10 ms of a COCO-sized accumulate).
    precision = np.full((n_t, n_r, n_k, n_a, n_m), -1.0)
    recall = np.full((n_t, n_k, n_a, n_m), -1.0)
    scores = np.full((n_t, n_r, n_k, n_a, n_m), -1.0)
    return _accumulate_kernel(
        np.ascontiguousarray(cat, dtype=np.int64),
        np.ascontiguousarray(score, dtype=np.float64),
        np.ascontiguousarray(rank, dtype=np.int64),
        np.ascontiguousarray(flags),
        np.ascontiguousarray(num_gt, dtype=np.int64),
        np.asarray(max_dets, dtype=np.int64),
        np.ascontiguousarray(rec_thrs, dtype=np.float64),
        float(np.spacing(1)),
        max(numba.get_num_threads(), 1),
        precision,
        recall,
        scores,
    )


_SUMMARY_ROWS = (
    # (ap, iouThr, areaRng label, maxDets position or None for the literal 100)
    (1, None, "all", None),
    (1, 0.5, "all", 2),
    (1, 0.75, "all", 2),
    (1, None, "small", 2),
    (1, None, "medium", 2),
    (1, None, "large", 2),
    (0, None, "all", 0),
    (0, None, "all", 1),
    (0, None, "all", 2),
    (0, None, "small", 2),
    (0, None, "medium", 2),
    (0, None, "large", 2),
)


def _summary_max_dets(max_dets: list[int], pos: int | None, fix_summary: bool) -> int:
    if pos is None:
        # cocoeval.py summarize: stats[0] = _summarize(1) uses the default maxDets=100
        return max_dets[-1] if fix_summary else 100
    # pycocotools indexes maxDets[2] and raises IndexError with fewer than 3
    return max_dets[min(pos, len(max_dets) - 1)]


def summarize_stats(
    precision, recall, params, fix_summary: bool = False
) -> tuple[np.ndarray, list]:
    """The 12 numbers of ``COCOeval.summarize`` and the values printed in each line.

    >>> from ioukit.coco._params import Params
    >>> p = Params()
    >>> st, rows = summarize_stats(-np.ones((10, 101, 1, 4, 3)), -np.ones((10, 1, 4, 3)), p)
    >>> st.tolist() == [-1.0] * 12
    True
    """
    stats = np.zeros((12,))
    rows = []
    iou_thrs = np.asarray(params.iouThrs)
    for i, (ap, iou_thr, area_lbl, pos) in enumerate(_SUMMARY_ROWS):
        max_dets = _summary_max_dets(list(params.maxDets), pos, fix_summary)
        aind = [j for j, lbl in enumerate(params.areaRngLbl) if lbl == area_lbl]
        mind = [j for j, md in enumerate(params.maxDets) if md == max_dets]
        # cocoeval.py summarize._summarize, same indexing so np.mean sums in the same order
        if ap == 1:
            s = precision
            if iou_thr is not None:
                t = np.where(iou_thr == iou_thrs)[0]
                s = s[t]
            s = s[:, :, :, aind, mind]
        else:
            s = recall
            if iou_thr is not None:
                t = np.where(iou_thr == iou_thrs)[0]
                s = s[t]
            s = s[:, :, aind, mind]
        if len(s[s > -1]) == 0:
            mean_s = -1
        else:
            mean_s = np.mean(s[s > -1])
        stats[i] = mean_s
        rows.append((ap, iou_thr, area_lbl, max_dets, mean_s))
    return stats, rows


def summary_lines(rows: list, iou_thrs: np.ndarray) -> list[str]:
    """Format rows from :func:`summarize_stats` exactly as pycocotools prints them.

    >>> summary_lines([(1, None, "all", 100, 0.5)], np.array([0.5, 0.95]))[0]
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500'
    """
    i_str = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
    out = []
    for ap, iou_thr, area_lbl, max_dets, mean_s in rows:
        title = "Average Precision" if ap == 1 else "Average Recall"
        typ = "(AP)" if ap == 1 else "(AR)"
        iou_str = (
            f"{iou_thrs[0]:0.2f}:{iou_thrs[-1]:0.2f}" if iou_thr is None else f"{iou_thr:0.2f}"
        )
        out.append(i_str.format(title, typ, iou_str, area_lbl, max_dets, mean_s))
    return out
