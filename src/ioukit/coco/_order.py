"""Record orderings of the COCO engine, as compiled counting sorts.

pycocotools orders detections twice, and both orders must be reproduced exactly:

- ``COCOeval.evaluateImg``: per (category, image) group, best score first, ties in
  file order (``np.argsort(-scores, kind="mergesort")``), truncated to ``maxDets[-1]``;
- ``COCOeval.accumulate``: per category, the images' kept detections concatenated in
  ``imgIds`` order and merge-sorted by ``-score`` (ties keep that concatenation).

Both are stable sorts on a small-integer key and on ``-score``. Here the integer keys
go through counting sorts (linear, no comparison). For the first order each (category,
image) bucket is then score-sorted on its own, buckets in parallel: insertion sort for
the short buckets (a few detections per image and category), a stable merge sort for
long ones (:func:`group_detections`). For the second, where one category can hold a
quarter of all records, a stable LSD radix sort of all scores comes first and a
counting pass on the category second (:func:`score_desc_order`, used by the accumulate
kernel). Scores are finite (the loaders reject anything else), so ``>`` on them is the
same total order NumPy uses.

The kernels are compiled (``ioukit.coco._order_kernels``); this module converts the
inputs.
"""

from __future__ import annotations

import numpy as np

from ._order_kernels import counting_order as _counting_order
from ._order_kernels import group_detections as _group_detections
from ._order_kernels import score_desc_order as _score_desc_order
from ._order_kernels import score_sort_bucket

__all__ = ["group_detections", "counting_order", "score_sort_bucket", "score_desc_order"]


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def counting_order(key: np.ndarray, n_keys: int, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of ``src`` (indices) by ``key[src]`` in ``[0, n_keys)``; and offsets.

    >>> out, off = counting_order(np.array([1, 0, 1]), 2, np.array([0, 1, 2]))
    >>> out.tolist(), off.tolist()
    ([1, 0, 2], [0, 1, 3])
    """
    return _counting_order(_i64(key), int(n_keys), _i64(src))


def score_desc_order(score: np.ndarray) -> np.ndarray:
    """Stable order of all records by descending ``score`` (an LSD radix sort).

    Equal to ``np.argsort(-score, kind="stable")`` for finite scores (see the kernel,
    ``ioukit.coco._order_kernels.score_desc_order``).

    >>> score_desc_order(np.array([0.5, 0.9, 0.5])).tolist()
    [1, 0, 2]
    """
    return _score_desc_order(np.ascontiguousarray(score, dtype=np.float64))


def group_detections(
    k: np.ndarray, img: np.ndarray, score: np.ndarray, n_k: int, n_img: int, max_det: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group detections by (category, image), best score first, keep ``max_det`` each.

    Parameters
    ----------
    k : int (N,)      category index in ``[0, n_k)``
    img : int (N,)    image index in ``[0, n_img)``
    score : float (N,) finite
    max_det : int     detections kept per group (``maxDets[-1]``)

    Returns
    -------
    kept : int64 (Nk,)      positions into the inputs, group by group, best first
    rank : int64 (Nk,)      position of each kept detection within its group
    kept_off : int64 (G + 1,) group g's detections are ``kept[kept_off[g]:kept_off[g+1]]``
    grp_k, grp_img : int64 (G,)  the group keys, ordered by (category, image)

    Example
    -------
    >>> kept, rank, off, gk, gi = group_detections(
    ...     np.array([1, 0, 1, 1]), np.array([0, 0, 0, 0]),
    ...     np.array([0.5, 0.9, 0.7, 0.5]), n_k=2, n_img=1, max_det=2)
    >>> kept.tolist(), rank.tolist(), off.tolist(), gk.tolist()
    ([1, 2, 0], [0, 0, 1], [0, 1, 3], [0, 1])
    """
    return _group_detections(
        _i64(k),
        _i64(img),
        np.ascontiguousarray(score, dtype=np.float64),
        int(n_k),
        int(n_img),
        int(max_det),
    )
