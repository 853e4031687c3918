"""Record orderings of the COCO engine, as compiled counting sorts.

pycocotools orders detections twice, and both orders must be reproduced exactly:

- ``COCOeval.evaluateImg``: per (category, image) group, best score first, ties in
  file order (``np.argsort(-scores, kind="mergesort")``), truncated to ``maxDets[-1]``;
- ``COCOeval.accumulate``: per category, the images' kept detections concatenated in
  ``imgIds`` order and merge-sorted by ``-score`` (ties keep that concatenation).

Both are stable sorts on a small-integer key and on ``-score``. Here the integer keys
go through counting sorts (linear, no comparison). For the first order each (category,
image) bucket is then score-sorted on its own, buckets in parallel: insertion sort for
the short buckets (a few detections per image and category), merge sort (stable) for
long ones (:func:`group_detections`). For the second, where one category can hold a
quarter of all records, a stable LSD radix sort of all scores comes first and a
counting pass on the category second (:func:`score_desc_order`, used by the accumulate
kernel). Scores are finite (the loaders reject anything else), so ``>`` on them is the
same total order NumPy uses.
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba_start import light_numba_start

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["group_detections", "counting_order", "score_sort_bucket", "score_desc_order"]

# digits of the radix sort: four 16-bit passes measured faster than six 11-bit ones
_RADIX_BITS = 16
_RADIX = 1 << _RADIX_BITS
# buckets up to this size are insertion-sorted (fewer moves than a merge sort's copies)
_INSERTION_MAX = 48


@numba.njit(cache=True, nogil=True)
def counting_order(key, n_keys, src):
    """Stable order of ``src`` (indices) by ``key[src]`` in ``[0, n_keys)``; and offsets."""
    off = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(src.size):
        off[key[src[i]] + 1] += 1
    for j in range(n_keys):
        off[j + 1] += off[j]
    pos = off[:-1].copy()
    out = np.empty(src.size, dtype=np.int64)
    for i in range(src.size):
        s = src[i]
        b = key[s]
        out[pos[b]] = s
        pos[b] += 1
    return out, off


@numba.njit(cache=True, nogil=True)
def score_sort_bucket(order, s0, s1, score):
    """Sort ``order[s0:s1]`` by descending ``score``, stable (ties keep their order)."""
    n = s1 - s0
    if n < 2:
        return
    if n <= _INSERTION_MAX:
        for i in range(s0 + 1, s1):
            v = order[i]
            sv = score[v]
            j = i - 1
            while j >= s0 and score[order[j]] < sv:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = v
        return
    idx = order[s0:s1].copy()
    neg = np.empty(n)
    for i in range(n):
        neg[i] = -score[idx[i]]
    o = np.argsort(neg, kind="mergesort")
    for i in range(n):
        order[s0 + i] = idx[o[i]]


@numba.njit(cache=True, nogil=True, parallel=True)
def _group_detections_kernel(k, img, score, n_k, n_img, max_det):
    n = k.size
    # (category, image) buckets: image pass, then category pass (both stable)
    by_img, _ = counting_order(img, n_img, np.arange(n))
    order, _ = counting_order(k, n_k, by_img)
    # bucket starts
    n_groups = 0
    for i in range(n):
        if i == 0 or k[order[i]] != k[order[i - 1]] or img[order[i]] != img[order[i - 1]]:
            n_groups += 1
    start = np.empty(n_groups + 1, dtype=np.int64)
    g = 0
    for i in range(n):
        if i == 0 or k[order[i]] != k[order[i - 1]] or img[order[i]] != img[order[i - 1]]:
            start[g] = i
            g += 1
    start[n_groups] = n
    for g in numba.prange(n_groups):
        score_sort_bucket(order, start[g], start[g + 1], score)
    # truncation to max_det per bucket
    kept_off = np.empty(n_groups + 1, dtype=np.int64)
    kept_off[0] = 0
    grp_k = np.empty(n_groups, dtype=np.int64)
    grp_img = np.empty(n_groups, dtype=np.int64)
    for g in range(n_groups):
        kept_off[g + 1] = kept_off[g] + min(start[g + 1] - start[g], max_det)
        grp_k[g] = k[order[start[g]]]
        grp_img[g] = img[order[start[g]]]
    kept = np.empty(kept_off[n_groups], dtype=np.int64)
    rank = np.empty(kept_off[n_groups], dtype=np.int64)
    for g in numba.prange(n_groups):
        s0 = start[g]
        o0 = kept_off[g]
        for r in range(kept_off[g + 1] - o0):
            kept[o0 + r] = order[s0 + r]
            rank[o0 + r] = r
    return kept, rank, kept_off, grp_k, grp_img


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
    return _group_detections_kernel(
        np.ascontiguousarray(k, dtype=np.int64),
        np.ascontiguousarray(img, dtype=np.int64),
        np.ascontiguousarray(score, dtype=np.float64),
        int(n_k),
        int(n_img),
        int(max_det),
    )


@numba.njit(cache=True, nogil=True)
def score_desc_order(score):
    """Stable order of all records by descending ``score`` (an LSD radix sort).

    Each finite float64 becomes a 64-bit key whose unsigned order is the descending
    order of the scores (``-0.0`` and ``0.0`` share one key, as they compare equal
    in NumPy's sort); four stable 16-bit counting passes sort the keys, skipping
    any pass whose digit is the same for every record. Linear time, so a category
    holding a quarter of a large set's records costs no more than its share.
    """
    n = score.size
    key = np.empty(n, dtype=np.uint64)
    top = np.uint64(1) << np.uint64(63)
    for i in range(n):
        v = score[i]
        b = np.uint64(0) if v == 0.0 else score[i : i + 1].view(np.uint64)[0]
        asc = ~b if b & top else b | top
        key[i] = ~asc
    order = np.arange(n)
    tmp = np.empty(n, dtype=np.int64)
    cnt = np.empty(_RADIX + 1, dtype=np.int64)
    mask = np.uint64(_RADIX - 1)
    for p in range((64 + _RADIX_BITS - 1) // _RADIX_BITS):
        shift = np.uint64(_RADIX_BITS * p)
        cnt[:] = 0
        for i in range(n):
            cnt[np.int64((key[i] >> shift) & mask) + 1] += 1
        if n == 0 or cnt[np.int64((key[0] >> shift) & mask) + 1] == n:
            continue  # every record has this digit: the pass would not move anything
        for d in range(_RADIX):
            cnt[d + 1] += cnt[d]
        for i in range(n):
            j = order[i]
            d = np.int64((key[j] >> shift) & mask)
            tmp[cnt[d]] = j
            cnt[d] += 1
        order, tmp = tmp, order
    return order
