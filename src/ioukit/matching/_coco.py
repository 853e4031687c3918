"""The COCO greedy rule over groups, and LVIS as the same rule with other flags.

Compiled in ``ioukit.matching._greedy`` (``match_coco_kernel``); its module docstring
lists the rule step by step. Sources: pycocotools 2.0.11 ``cocoeval.py``
``COCOeval.evaluateImg`` (lines 240-306); lvis 0.5.3 ``lvis/eval.py``
``LVISEval.evaluate_img`` (lines 193-291), which is the same loop without crowd regions
and with not-exhaustive categories.

What the two protocols set:

============================  ===========================  ==============================
flag                          COCO                         LVIS
============================  ===========================  ==============================
``gt_ignore``                 ``iscrowd``                  the GT's ``ignore`` field
``gt_reusable``               ``iscrowd``                  never
``dt_ignore_unmatched``       never                        category not exhaustive in
                                                           the detection's image
============================  ===========================  ==============================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError
from ._greedy import match_coco_kernel
from ._groups import Groups
from ._records import MatchRecords
from ._voc import iou_thresholds

__all__ = ["match_coco", "match_lvis", "ALL_AREAS"]

# pycocotools' "all" area range
ALL_AREAS = np.array([[0.0, 1e10]])

_NO_FLAGS = np.zeros(0, np.uint8)


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _u8(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.uint8) if a.dtype == np.bool_ else a.astype(np.uint8)


def _rows(name: str, a: np.ndarray | None, n: int, default: np.ndarray | None) -> np.ndarray:
    # a per-row flag array, validated against the rows the groups use
    if a is None:
        a = default if default is not None else np.zeros(n, bool)
    a = np.asarray(a)
    if a.ndim != 1 or a.shape[0] < n:
        raise ShapeMismatchError(f"match_coco: {name} has shape {a.shape}, need ({n},) or more")
    return a


def match_coco(
    ious: np.ndarray,
    groups: Groups,
    gt_area: np.ndarray,
    dt_area: np.ndarray,
    iou_threshold: float | Sequence[float] | np.ndarray = 0.5,
    area_ranges: np.ndarray | Sequence[Sequence[float]] = ALL_AREAS,
    *,
    gt_ignore: np.ndarray | None = None,
    gt_reusable: np.ndarray | None = None,
    gt_matchable: np.ndarray | None = None,
    dt_ignore_unmatched: np.ndarray | None = None,
    record_area: int | None = None,
) -> tuple[np.ndarray, MatchRecords | None]:
    """Greedy COCO matching of every group -> flags (Nd, A, T) and optional records.

    Within a group, detections are taken in ``groups.dt_index`` order (best score
    first); each takes the free GT of highest IoU ``>= min(t, 1 - 1e-10)`` (later GT
    win ties), regular GT before ignored ones. See ``ioukit.matching._greedy`` for the
    rule in full and the module docstring for the COCO / LVIS flags.

    Parameters
    ----------
    ious : float64 flat buffer in the Groups layout
    groups : Groups
    gt_area, dt_area : float (Ng_all,), (Nd_all,)  by row; decide the area ranges
    iou_threshold : float or (T,) thresholds in [0, 1]
    area_ranges : (A, 2) ``[lo, hi]`` pairs, both ends inclusive (default: all)
    gt_ignore : bool (Ng_all,), optional
        Ignored GT (default: ``groups.gt_iscrowd``, i.e. COCO crowd regions, or none).
    gt_reusable : bool (Ng_all,), optional
        GT that stay free once matched (default: the same as ``gt_ignore``, COCO's
        crowd regions). LVIS: all False.
    gt_matchable : bool (Ng_all,), optional
        False for GT whose match does not count (pycocotools / lvis: GT id 0); default
        all True.
    dt_ignore_unmatched : bool (Nd_all,), optional
        Detections ignored when they match nothing (LVIS: not-exhaustive category).
    record_area : int, optional
        Area range index at which to also return :class:`MatchRecords` (the matched
        GT row and IoU per detection and threshold, the best-IoU GT per detection).

    Returns
    -------
    flags : uint8 (Nd, A, T)   0 FP, 1 TP, 2 ignored; rows aligned with ``groups.dt_index``
    records : MatchRecords or None

    Example
    -------
    Two detections on one GT (IoU 0.8 and 0.6), and the same on a crowd region, which
    may be matched again:

    >>> from ioukit.matching import build_groups
    >>> g = build_groups(np.array([0, 0, 1, 1]), np.array([0, 1]), 2,
    ...                  dt_score=np.array([0.9, 0.8, 0.9, 0.8]),
    ...                  gt_iscrowd=np.array([False, True]))
    >>> flags, rec = match_coco(np.array([0.8, 0.6, 0.8, 0.6]), g, np.array([50., 50.]),
    ...                         np.full(4, 50.), 0.5, record_area=0)
    >>> flags[:, 0, 0].tolist(), rec.gt_row[:, 0].tolist(), rec.iou[:, 0].tolist()
    ([1, 0, 2, 2], [0, -1, 1, 1], [0.8, nan, 0.8, 0.6])
    """
    thr = iou_thresholds(iou_threshold, "match_coco")
    rng = np.ascontiguousarray(area_ranges, dtype=np.float64)
    if rng.ndim != 2 or rng.shape[1] != 2 or rng.shape[0] == 0:
        raise InvalidParameterError(
            f"match_coco: area_ranges must be (A, 2) [lo, hi] pairs, got shape {rng.shape}"
        )
    ious = np.ascontiguousarray(ious, dtype=np.float64)
    if ious.shape != (int(groups.iou_offsets[-1]),):
        raise ShapeMismatchError(
            f"match_coco: ious has shape {ious.shape}, the groups need ({groups.iou_offsets[-1]},)"
        )
    n_gt = int(groups.gt_index.max()) + 1 if groups.gt_index.size else 0
    n_dt = int(groups.dt_index.max()) + 1 if groups.dt_index.size else 0
    ig = _rows("gt_ignore", gt_ignore, n_gt, groups.gt_iscrowd)
    reuse = _rows("gt_reusable", gt_reusable, n_gt, ig)
    matchable = _rows("gt_matchable", gt_matchable, n_gt, np.ones(n_gt, bool))
    gt_area = _rows("gt_area", gt_area, n_gt, None)
    dt_area = _rows("dt_area", dt_area, n_dt, None)
    unm = _NO_FLAGS
    if dt_ignore_unmatched is not None:
        unm = _u8(_rows("dt_ignore_unmatched", dt_ignore_unmatched, n_dt, None))
    if record_area is not None and not 0 <= record_area < rng.shape[0]:
        raise InvalidParameterError(
            f"match_coco: record_area={record_area} is not an area range index "
            f"in [0, {rng.shape[0]})"
        )
    return _match_coco(
        ious,
        groups,
        _u8(ig),
        _u8(reuse),
        gt_area,
        _u8(matchable),
        dt_area,
        unm,
        thr,
        rng,
        record_area,
    )


def _match_coco(
    ious: np.ndarray,
    groups: Groups,
    gt_ignore: np.ndarray,
    gt_reusable: np.ndarray,
    gt_area: np.ndarray,
    gt_matchable: np.ndarray,
    dt_area: np.ndarray,
    dt_unm: np.ndarray,
    thr: np.ndarray,
    area_rng: np.ndarray,
    record_area: int | None,
) -> tuple[np.ndarray, MatchRecords | None]:
    """:func:`match_coco` without the checks (the engine's call: inputs already valid)."""
    nd, n_t = groups.dt_index.size, thr.size
    # allocated by NumPy (huge pages at COCO sizes; see docs/architecture.md)
    out = np.empty((nd, area_rng.shape[0], n_t), np.uint8)
    args = (
        ious,
        _i64(groups.iou_offsets),
        _i64(groups.dt_index),
        _i64(groups.dt_offsets),
        _i64(groups.gt_index),
        _i64(groups.gt_offsets),
        gt_ignore,
        gt_reusable,
        np.ascontiguousarray(gt_area, dtype=np.float64),
        gt_matchable,
        np.ascontiguousarray(dt_area, dtype=np.float64),
        dt_unm,
        thr,
        area_rng,
        out,
    )
    if record_area is None:
        match_coco_kernel(*args)
        return out, None
    gt_row = np.empty((nd, n_t), np.int64)
    iou = np.empty((nd, n_t), np.float64)
    best_gt = np.empty(nd, np.int64)
    best_iou = np.empty(nd, np.float64)
    match_coco_kernel(*args, int(record_area), gt_row, iou, best_gt, best_iou)
    flags = out[:, record_area, :].copy()
    rec = MatchRecords(_i64(groups.dt_index), flags, gt_row, best_gt, best_iou, thr, iou)
    return out, rec


def match_lvis(
    ious: np.ndarray,
    groups: Groups,
    gt_area: np.ndarray,
    dt_area: np.ndarray,
    gt_ignore: np.ndarray,
    dt_not_exhaustive: np.ndarray,
    iou_threshold: float | Sequence[float] | np.ndarray = 0.5,
    area_ranges: np.ndarray | Sequence[Sequence[float]] = ALL_AREAS,
    *,
    gt_matchable: np.ndarray | None = None,
    record_area: int | None = None,
) -> tuple[np.ndarray, MatchRecords | None]:
    """The LVIS rule: :func:`match_coco` with no reusable GT (no crowd regions), the
    GT's ``ignore`` field, and unmatched detections of not-exhaustive categories ignored.

    Example
    -------
    A detection that matches nothing: a false positive, unless its category is not
    exhaustively annotated in its image:

    >>> from ioukit.matching import build_groups
    >>> g = build_groups(np.array([0, 0]), np.array([0]), 1, dt_score=np.array([0.9, 0.8]))
    >>> f, _ = match_lvis(np.array([0.9, 0.1]), g, np.array([50.]), np.full(2, 50.),
    ...                   np.array([False]), np.array([False, True]))
    >>> f[:, 0, 0].tolist()
    [1, 2]
    """
    n_gt = len(np.asarray(gt_ignore))
    return match_coco(
        ious,
        groups,
        gt_area,
        dt_area,
        iou_threshold,
        area_ranges,
        gt_ignore=gt_ignore,
        gt_reusable=np.zeros(n_gt, bool),
        gt_matchable=gt_matchable,
        dt_ignore_unmatched=dt_not_exhaustive,
        record_area=record_area,
    )
