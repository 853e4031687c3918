"""The group layout shared by the matchers: (image, category) groups as flat offsets.

A matcher works group by group, where a group is the detections and GT of one image and
one category. The layout is flat so one compiled call handles every group:

- ``dt_index[dt_offsets[g]:dt_offsets[g + 1]]``: group ``g``'s detection rows, best
  score first (a stable sort, so tied scores keep their input order);
- ``gt_index[gt_offsets[g]:gt_offsets[g + 1]]``: group ``g``'s GT rows, in input order;
- ``iou_offsets[g]``: where group ``g``'s row-major ``D_g x G_g`` IoU block starts in
  a flat float64 buffer (``iou_offsets[g + 1] - iou_offsets[g] == D_g * G_g``).

The COCO engine (``ioukit.coco``, re-exported as ``ioukit.coco.Groups``) and the LVIS
and VOC protocols all use this one class; the COCO engine builds it with its own
counting sorts (``ioukit.coco._order``), keeping ``maxDets[-1]`` detections per group.
"""

from __future__ import annotations

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError, ShapeMismatchError

__all__ = ["Groups", "build_groups"]


@lightclass
class Groups:
    """Index of the (image, category) groups being matched.

    Attributes
    ----------
    dt_index : int64 (Nd,)   detection rows, group by group, best score first
    dt_offsets : int64 (n_groups + 1,)
    gt_index : int64 (Ng,)   GT rows, group by group, in input order
    gt_offsets : int64 (n_groups + 1,)
    iou_offsets : int64 (n_groups + 1,)  start of each D_g x G_g block in the IoU buffer
    gt_iscrowd : bool (G_all,) or None  crowd flag of every GT row: the IoU plug-ins
        score crowd GT as intersection over the detection's area (COCO; None or all
        False elsewhere)

    Example
    -------
    >>> g = build_groups(np.array([0, 0, 1]), np.array([1, 0]), 2,
    ...                  dt_score=np.array([0.2, 0.9, 0.5]))
    >>> g.n_groups, g.dt_index.tolist(), g.gt_index.tolist(), g.iou_offsets.tolist()
    (2, [1, 0, 2], [1, 0], [0, 2, 3])
    """

    dt_index: np.ndarray
    dt_offsets: np.ndarray
    gt_index: np.ndarray
    gt_offsets: np.ndarray
    iou_offsets: np.ndarray
    gt_iscrowd: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.dt_offsets) - 1


def _group_ids(name: str, ids: np.ndarray, n_groups: int) -> np.ndarray:
    # validated int64 group ids; -1 leaves a row out of every group
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ShapeMismatchError(f"build_groups: {name} must be 1-D, got shape {ids.shape}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise InvalidParameterError(f"build_groups: {name} must hold integers, got {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    bad = np.flatnonzero((ids < -1) | (ids >= n_groups))
    if bad.size:
        raise InvalidParameterError(
            f"build_groups: {name}[{bad[0]}] = {ids[bad[0]]} is not a group id in "
            f"[0, {n_groups}) (or -1 to leave the row out)"
        )
    return ids


def _offsets(ids: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(ids[ids >= 0], minlength=n_groups)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def build_groups(
    dt_group: np.ndarray,
    gt_group: np.ndarray,
    n_groups: int,
    *,
    dt_score: np.ndarray | None = None,
    gt_iscrowd: np.ndarray | None = None,
) -> Groups:
    """The :class:`Groups` layout from one group id per detection and per GT row.

    Parameters
    ----------
    dt_group, gt_group : int (Nd,), (Ng,)
        Group id of every row in ``[0, n_groups)``; ``-1`` leaves a row out.
    n_groups : int
    dt_score : float (Nd,), optional
        Detections are ordered by descending score inside each group, ties in input
        order (a stable sort, as the VOC devkit's MATLAB ``sort`` and pycocotools'
        ``mergesort``). Without scores, input order.
    gt_iscrowd : bool (Ng,), optional
        Stored as is (the COCO rule needs it).

    Example
    -------
    >>> g = build_groups(np.array([1, -1, 1]), np.array([1, 1, 0]), 2,
    ...                  dt_score=np.array([0.5, 0.7, 0.5]))
    >>> g.dt_index.tolist(), g.dt_offsets.tolist(), g.gt_offsets.tolist()
    ([0, 2], [0, 0, 2], [0, 1, 3])
    """
    if n_groups < 0:
        raise InvalidParameterError(f"build_groups: n_groups must be >= 0, got {n_groups}")
    dg = _group_ids("dt_group", dt_group, n_groups)
    gg = _group_ids("gt_group", gt_group, n_groups)
    if dt_score is None:
        dt_order = np.argsort(dg, kind="stable")
    else:
        score = np.asarray(dt_score, dtype=np.float64)
        if score.shape != dg.shape:
            raise ShapeMismatchError(
                f"build_groups: dt_score has shape {score.shape}, dt_group {dg.shape}"
            )
        if np.isnan(score).any():
            raise InvalidParameterError(
                f"build_groups: dt_score[{int(np.flatnonzero(np.isnan(score))[0])}] is NaN"
            )
        # lexsort is stable: group first, then descending score, ties in input order
        dt_order = np.lexsort((-score, dg))
    dt_order = dt_order[dg[dt_order] >= 0]
    gt_order = np.argsort(gg, kind="stable")
    gt_order = gt_order[gg[gt_order] >= 0]
    dt_off, gt_off = _offsets(dg, n_groups), _offsets(gg, n_groups)
    sizes = np.diff(dt_off) * np.diff(gt_off)
    iou_off = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    crowd = None if gt_iscrowd is None else np.asarray(gt_iscrowd, dtype=bool)
    return Groups(
        dt_order.astype(np.int64), dt_off, gt_order.astype(np.int64), gt_off, iou_off, crowd
    )
