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

import numpy as np

from ._match_kernel import match_groups_kernel

__all__ = ["FP", "TP", "IGNORED", "match_groups"]

FP, TP, IGNORED = 0, 1, 2  # the flags the kernel writes


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

    def i64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    # allocated by NumPy (huge pages at COCO sizes; see accumulate_arrays)
    out = np.empty((groups.dt_index.size, np.shape(area_rng)[0], np.size(iou_thrs)), np.uint8)
    match_groups_kernel(
        np.ascontiguousarray(ious, dtype=np.float64),
        i64(groups.iou_offsets),
        i64(groups.dt_index),
        i64(groups.dt_offsets),
        i64(groups.gt_index),
        i64(groups.gt_offsets),
        np.ascontiguousarray(gt_crowd, dtype=np.bool_),
        np.ascontiguousarray(gt_area, dtype=np.float64),
        np.ascontiguousarray(gt_matchable, dtype=np.bool_),
        np.ascontiguousarray(dt_area, dtype=np.float64),
        np.ascontiguousarray(iou_thrs, dtype=np.float64),
        np.ascontiguousarray(area_rng, dtype=np.float64).reshape(-1, 2),
        out,
    )
    return out
