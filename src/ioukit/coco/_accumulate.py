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

from typing import Any

import numpy as np

from .._threads import PARALLEL_MIN_ITEMS, get_num_threads
from ._accumulate_kernel import accumulate_kernel
from ._order import counting_order, score_desc_order

__all__ = ["accumulate_arrays", "summarize_stats", "summary_lines"]


def _category_order(cat_off: np.ndarray, n_thr: int) -> np.ndarray:
    """Categories dealt out round-robin by size (largest first), ``n_thr`` ways.

    The kernel's parallel loop gives each thread one static block of this order, so
    every thread gets a similar share of large and small categories.

    >>> _category_order(np.array([0, 1, 11, 14, 20]), 2).tolist()
    [1, 2, 3, 0]
    """
    by_size = np.argsort(cat_off[:-1] - cat_off[1:], kind="stable")
    return np.concatenate([by_size[i::n_thr] for i in range(n_thr)]).astype(np.int64)


def accumulate_arrays(
    cat: np.ndarray,
    score: np.ndarray,
    image_id: np.ndarray,
    rank: np.ndarray,
    flags: np.ndarray,
    num_gt: np.ndarray,
    max_dets: np.ndarray,
    rec_thrs: np.ndarray,
    m_out: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """precision [T,R,K,A,M], recall [T,K,A,M], scores [T,R,K,A,M] from match records.

    ``m_out``: precision and scores for that maxDets index only ([T,R,K,A,1]; recall
    still has every maxDets). What the printed summary reads, in a third of the memory:
    the two full arrays are 16 MB on COCO, and a fresh process pays ~1 ms per 4 MB to
    fault them in.

    precision and scores are views of category-major storage (``[K, A, M, T, R]`` in
    memory): the same shape and values as pycocotools' arrays, not C-contiguous
    (``np.ascontiguousarray`` gives a C-ordered copy).

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
    # Stored category-major ([K, A, M, T, R] in memory) and returned as the
    # [T, R, K, A, M] views pycocotools' layout names: the kernel writes each category's
    # curves as contiguous runs instead of one cache line per value (~10 ms of a
    # COCO-sized accumulate); every element reads the same in either layout.
    # precision and scores share one allocation: at 4 MB and more NumPy asks for huge
    # pages, and on this VM a fresh 4 kB page costs ~3 us to fault in (two 2.6 MB
    # arrays: ~4 ms; one 5.2 MB buffer: ~1.5 ms).
    n_mo = n_m if m_out is None else 1
    both = np.full((2, n_k, n_a, n_mo, n_t, n_r), -1.0)
    precision = both[0].transpose(3, 4, 0, 1, 2)
    scores = both[1].transpose(3, 4, 0, 1, 2)
    recall = np.full((n_t, n_k, n_a, n_m), -1.0)
    cat = np.ascontiguousarray(cat, dtype=np.int64)
    # Record order: best score first (radix sort), then by category (counting sort),
    # both stable, so within a category the records' (image, rank) order breaks ties
    # as pycocotools' merge sort of the concatenated images does. by_rows keeps each
    # category's records in storage order; perm has them in score order.
    by_rows, cat_off = counting_order(cat, n_k, np.arange(cat.size))
    perm, _ = counting_order(cat, n_k, score_desc_order(score))
    n_thr = max(get_num_threads(), 1) if cat.size >= PARALLEL_MIN_ITEMS else 1
    accumulate_kernel(
        cat_off,
        by_rows,
        perm,
        _category_order(cat_off, n_thr),
        np.ascontiguousarray(score, dtype=np.float64),
        np.ascontiguousarray(rank, dtype=np.int64),
        np.ascontiguousarray(flags, dtype=np.uint8),
        np.ascontiguousarray(num_gt, dtype=np.int64),
        np.ascontiguousarray(max_dets, dtype=np.int64).reshape(-1),
        np.ascontiguousarray(rec_thrs, dtype=np.float64).reshape(-1),
        float(np.spacing(1)),
        n_thr,
        precision,
        recall,
        scores,
        -1 if m_out is None else int(m_out),
    )
    return precision, recall, scores


def accumulate_state(state: Any, max_dets: Any = None, m_out: int | None = None) -> tuple:
    """:func:`accumulate_arrays` over an ``EvalState``'s match records.

    ``max_dets``: the maxDets to accumulate at (default: the state's ``params.maxDets``).
    """
    p = state.params
    return accumulate_arrays(
        state.dt_category,
        state.dt_score,
        state.dt_image_id,
        state.dt_rank,
        state.dt_flags,
        state.num_gt,
        np.asarray(p.maxDets if max_dets is None else max_dets, dtype=np.int64),
        np.asarray(p.recThrs, dtype=np.float64),
        m_out=m_out,
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


def summary_max_dets_index(params: Any, fix_summary: bool = False) -> int | None:
    """The one maxDets index every AP line of the summary reads, or None when they read
    several or none (then the summary needs the full precision array).

    >>> from ioukit.coco._params import Params
    >>> summary_max_dets_index(Params()), summary_max_dets_index(Params(maxDets=[1, 10]))
    (2, None)
    """
    md = list(params.maxDets)
    wanted = set()
    for ap, _, _, pos in _SUMMARY_ROWS:
        if ap == 1:
            value = _summary_max_dets(md, pos, fix_summary)
            wanted.add(tuple(j for j, v in enumerate(md) if v == value))
    if len(wanted) == 1:
        (mind,) = wanted
        if len(mind) == 1:
            return mind[0]
    return None


def summarize_stats(
    precision, recall, params, fix_summary: bool = False, precision_m: int | None = None
) -> tuple[np.ndarray, list]:
    """The 12 numbers of ``COCOeval.summarize`` and the values printed in each line.

    ``precision_m``: ``precision`` holds only that maxDets index (its M axis has length
    1; see :func:`accumulate_arrays`' ``m_out``).

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
        # cocoeval.py summarize._summarize: the same elements in the same (C) order, so
        # np.mean sums them in the same order. One area range and one maxDets (always,
        # unless a label or a limit repeats) select a view instead of a fancy-indexed copy.
        one = len(aind) == 1 and len(mind) == 1
        if ap == 1:
            s = precision
            if iou_thr is not None:
                t = np.where(iou_thr == iou_thrs)[0]
                s = s[t]
            if precision_m is not None:  # the one maxDets index, stored at position 0
                if mind != [precision_m]:
                    raise ValueError(f"summary line {i} reads maxDets {mind}, not {precision_m}")
                mind = [0]
            s = s[:, :, :, aind[0], mind[0]] if one else s[:, :, :, aind, mind]
        else:
            s = recall
            if iou_thr is not None:
                t = np.where(iou_thr == iou_thrs)[0]
                s = s[t]
            s = s[:, :, aind[0], mind[0]] if one else s[:, :, aind, mind]
        valid = s[s > -1]
        mean_s = -1 if len(valid) == 0 else np.mean(valid)
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
