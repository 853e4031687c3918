"""Greedy COCO matching for every (image, category) group in one compiled pass.

Reproduces ``COCOeval.evaluateImg`` (pycocotools 2.0.11) rule for rule:

- a GT is ignored when it is a crowd (``ignore`` is overwritten by ``iscrowd``) or its
  ``area`` lies outside ``[lo, hi]`` (both ends inclusive);
- GT are visited non-ignored first, ignored last (a stable sort on the ignore flag);
- detections are visited best score first; each takes the GT with the highest IoU
  ``>= min(t, 1 - 1e-10)``, later GT winning ties; a matched non-crowd GT is taken;
  once a detection holds a regular GT it stops at the first ignored one;
- a detection matched to an ignored GT is ignored; an unmatched detection whose area
  lies outside the range is ignored;
- the match is recorded as the GT's id, so a GT with id 0 leaves its detection
  "unmatched" (counted as a false positive) unless ``fix_zero_id``.

Output per kept detection, area range and IoU threshold: 0 = false positive,
1 = true positive, 2 = ignored.
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba_start import light_numba_start

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["FP", "TP", "IGNORED", "match_groups"]

FP, TP, IGNORED = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def _match_group(
    g,
    ious,
    iou_off,
    dt_index,
    dt_off,
    gt_index,
    gt_off,
    gt_crowd,
    gt_area,
    gt_matchable,
    dt_area,
    iou_thrs,
    area_rng,
    out,
    order,
    ig,
    taken,
    crowd,
    matchable,
    cand,
    cand_area,
):
    n_t = iou_thrs.size
    n_a = area_rng.shape[0]
    d0 = dt_off[g]
    nd = dt_off[g + 1] - d0
    g0 = gt_off[g]
    ng = gt_off[g + 1] - g0
    base = iou_off[g]
    for j in range(ng):
        G = gt_index[g0 + j]
        crowd[j] = gt_crowd[G]
        matchable[j] = gt_matchable[G]
    thr_min = 1.0
    for t in range(n_t):
        thr_min = min(thr_min, min(iou_thrs[t], 1 - 1e-10))
    # A detection no GT reaches at the lowest threshold (any detection of a group
    # without GT) stays unmatched at every threshold, whatever is taken (and takes
    # nothing): its flags depend on its own area alone. Most detections of a dense
    # set are such; the greedy walk below visits only the others ("candidates"), in
    # score order.
    nc = 0
    for i in range(nd):
        row = base + i * ng
        v = -np.inf
        for j in range(ng):
            x = ious[row + j]
            if not x <= v:  # larger, or NaN (which the walk can pick): a candidate
                v = np.inf if x != x else x
        da = dt_area[dt_index[d0 + i]]
        if v >= thr_min:
            cand[nc] = i
            cand_area[nc] = da
            nc += 1
        else:
            for a in range(n_a):
                f = 2 if (da < area_rng[a, 0] or da > area_rng[a, 1]) else 0
                for t in range(n_t):
                    out[d0 + i, a, t] = f
    if nc == 0:
        return
    for a in range(n_a):
        lo = area_rng[a, 0]
        hi = area_rng[a, 1]
        k = 0
        for j in range(ng):
            G = gt_index[g0 + j]
            ig[j] = crowd[j] or gt_area[G] < lo or gt_area[G] > hi
            if not ig[j]:
                order[k] = j
                k += 1
        for j in range(ng):
            if ig[j]:
                order[k] = j
                k += 1
        for t in range(n_t):
            thr = min(iou_thrs[t], 1 - 1e-10)
            for j in range(ng):
                taken[j] = False
            for c in range(nc):
                i = cand[c]
                best = thr
                m = -1
                row = base + i * ng
                for jj in range(ng):
                    j = order[jj]
                    if taken[j] and not crowd[j]:
                        continue
                    if m > -1 and not ig[m] and ig[j]:
                        break
                    v = ious[row + j]
                    if v < best:
                        continue
                    best = v
                    m = j
                matched = False
                ignored = False
                if m > -1:
                    taken[m] = True
                    ignored = ig[m]
                    matched = matchable[m]
                if not matched and (cand_area[c] < lo or cand_area[c] > hi):
                    ignored = True
                if ignored:
                    out[d0 + i, a, t] = 2
                elif matched:
                    out[d0 + i, a, t] = 1
                else:
                    out[d0 + i, a, t] = 0


@numba.njit(cache=True, nogil=True, parallel=True)
def _match_kernel(
    ious,
    iou_off,
    dt_index,
    dt_off,
    gt_index,
    gt_off,
    gt_crowd,
    gt_area,
    gt_matchable,
    dt_area,
    iou_thrs,
    area_rng,
    out,
):
    # out: (Nd, A, T) uint8, every entry written here
    max_g = 0
    max_d = 0
    for g in range(dt_off.size - 1):
        max_g = max(max_g, gt_off[g + 1] - gt_off[g])
        max_d = max(max_d, dt_off[g + 1] - dt_off[g])
    n_groups = dt_off.size - 1
    # groups are independent: chunks of them, each with its own scratch, run on threads
    n_chunks = min(n_groups, 64)
    for c in numba.prange(n_chunks):
        order = np.empty(max_g, dtype=np.int64)
        ig = np.empty(max_g, dtype=np.bool_)
        taken = np.empty(max_g, dtype=np.bool_)
        crowd = np.empty(max_g, dtype=np.bool_)
        matchable = np.empty(max_g, dtype=np.bool_)
        cand = np.empty(max_d, dtype=np.int64)
        cand_area = np.empty(max_d, dtype=np.float64)
        for g in range(c, n_groups, n_chunks):  # strided: balances costly categories
            _match_group(
                g,
                ious,
                iou_off,
                dt_index,
                dt_off,
                gt_index,
                gt_off,
                gt_crowd,
                gt_area,
                gt_matchable,
                dt_area,
                iou_thrs,
                area_rng,
                out,
                order,
                ig,
                taken,
                crowd,
                matchable,
                cand,
                cand_area,
            )
    return out


def match_groups(
    ious: np.ndarray,
    groups,
    gt_crowd: np.ndarray,
    gt_area: np.ndarray,
    gt_matchable: np.ndarray,
    dt_area: np.ndarray,
    iou_thrs: np.ndarray,
    area_rng: np.ndarray,
) -> np.ndarray:
    """Match every group; returns uint8 flags (Nd, A, T) aligned with ``groups.dt_index``.

    ``gt_matchable`` is False for GT whose match pycocotools loses (id 0).

    Example
    -------
    >>> from ioukit.coco._geometry import Groups
    >>> g = Groups(np.array([0, 1]), np.array([0, 2]), np.array([0]), np.array([0, 1]),
    ...            np.array([0, 2]), np.array([False]))
    >>> # two detections on one GT with IoU 0.8 and 0.6: the first wins at t=0.5
    >>> f = match_groups(np.array([0.8, 0.6]), g, np.array([False]), np.array([10.0]),
    ...                  np.array([True]), np.array([10.0, 10.0]), np.array([0.5]),
    ...                  np.array([[0.0, 1e10]]))
    >>> f[:, 0, 0].tolist()
    [1, 0]
    """
    return _match_kernel(
        np.ascontiguousarray(ious, dtype=np.float64),
        groups.iou_offsets,
        groups.dt_index,
        groups.dt_offsets,
        groups.gt_index,
        groups.gt_offsets,
        np.ascontiguousarray(gt_crowd, dtype=np.bool_),
        np.ascontiguousarray(gt_area, dtype=np.float64),
        np.ascontiguousarray(gt_matchable, dtype=np.bool_),
        np.ascontiguousarray(dt_area, dtype=np.float64),
        np.ascontiguousarray(iou_thrs, dtype=np.float64),
        np.ascontiguousarray(area_rng, dtype=np.float64),
        # allocated by NumPy (huge pages at COCO sizes; see accumulate_arrays)
        np.empty((groups.dt_index.size, np.shape(area_rng)[0], np.size(iou_thrs)), np.uint8),
    )
