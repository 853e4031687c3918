"""``evaluate``: COCO detection evaluation identical to pycocotools 2.0.11.

The engine in three steps, each usable on its own (e.g. one call of
:func:`evaluate_images` per shard of images, then :func:`merge_states`):

1. :func:`load_gt` / :func:`load_dt` -> columns;
2. :func:`evaluate_images` -> :class:`EvalState` (per-image match records);
3. :func:`accumulate` -> :class:`CocoResult`.

Step 2 is protocol-neutral: :func:`evaluate_groups` groups the rows by (category,
image), scores the pairs with the IoU plug-in and runs the greedy rule of
:func:`ioukit.matching.match_coco` with the flags of a :class:`MatchRules`. COCO's
rules are :func:`coco_rules`; LVIS (``ioukit.lvis``) builds its own.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import DatasetError, InvalidParameterError
from ..matching import Groups
from ..matching._coco import _match_coco
from ._accumulate import accumulate_state, summarize_stats, summary_max_dets_index
from ._geometry import get_iou_type
from ._load import DtTable, GtTable, load_dt, load_gt, load_pair
from ._order import group_detections
from ._params import Params, area_bounds, make_params
from ._state import EvalState
from .result import CocoResult

__all__ = [
    "evaluate",
    "evaluate_images",
    "evaluate_groups",
    "accumulate",
    "prepare",
    "MatchRules",
    "coco_rules",
]


def prepare(
    gt: Any, dt: Any, iou_type: str = "bbox", **params: Any
) -> tuple[GtTable, DtTable, Params]:
    """Load GT and detections and build the parameters (step 1 of the engine).

    Example
    -------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
    >>> g, d, p = prepare(gt, [], maxDets=[1, 10, 100])
    >>> p.imgIds, p.catIds
    ([1], [1])
    """
    plugin = get_iou_type(iou_type)

    def segm_rules() -> Any:
        # results carrying only segmentations need the mask plug-in for area and box
        if plugin.segm_area_bbox is not None or iou_type != "bbox":
            return plugin.segm_area_bbox
        try:
            return get_iou_type("segm").segm_area_bbox
        except InvalidParameterError:
            return None

    paths = (str, os.PathLike)
    if isinstance(gt, paths) and isinstance(dt, paths):
        g, d = load_pair(
            gt,
            dt,
            segm_area_bbox=_Lazy(segm_rules),
            needs_segmentation=plugin.needs_segmentation,
            fields=plugin.fields,
        )
    else:
        g = load_gt(gt, needs_segmentation=plugin.needs_segmentation, fields=plugin.fields)
        d = load_dt(
            dt,
            g,
            needs_segmentation=plugin.needs_segmentation,
            segm_area_bbox=segm_rules(),
            fields=plugin.fields,
        )
    p = make_params(iou_type, gt_img_ids=g.image_ids, gt_cat_ids=g.category_ids, **params)
    return g, d, p


class _Lazy:
    """A callable resolved on first use (the mask plug-in is imported only if needed)."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._make()
        if fn is None:
            raise DatasetError(
                "results carry segmentations only; their area and box need the 'segm' IoU "
                "type (ioukit.rle)"
            )
        return fn(*args, **kwargs)


def _trim_heap() -> None:
    """Hand the C heap's free pages back to the OS (glibc's ``malloc_trim``).

    Loading leaves tens of MB of freed, still-resident heap behind (its transient
    buffers are small enough to come from the heap, which glibc does not shrink on its
    own); matching and accumulation then grow the peak RSS on top of it. ~1 ms; a
    no-op where the C library has no ``malloc_trim``.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError, TypeError):  # not glibc / no C library handle
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None
#: below this many GT + detection rows the loader's leftovers are a few MB: not worth
#: the ~1 ms of ``malloc_trim`` (on the 100-image subset that is 2 % of a whole run)
_TRIM_MIN_ROWS = 100_000


def _positions(values: np.ndarray, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in ``sorted_keys`` (unique) and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(values.shape, np.int64), np.zeros(values.shape, bool)
    lo, hi = int(sorted_keys[0]), int(sorted_keys[-1])
    if lo >= 0 and hi < max(4 * sorted_keys.size, 1 << 20) and values.size > 64:
        # ids are small integers (COCO's are): a lookup table beats a binary search
        lut = np.full(hi + 2, -1, dtype=np.int64)
        lut[sorted_keys] = np.arange(sorted_keys.size)
        idx = np.where((values >= 0) & (values <= hi), values, hi + 1)
        pos = lut[idx]
        ok = pos >= 0
        return np.where(ok, pos, 0), ok
    pos = np.searchsorted(sorted_keys, values)
    pos_c = np.minimum(pos, sorted_keys.size - 1)
    return pos_c, sorted_keys[pos_c] == values


def _cat_lookup(cat_ids: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k index, position in catIds order, selected) for category ids."""
    cats = np.asarray(p.catIds, dtype=np.int64)
    order = np.argsort(cats, kind="stable")
    pos, ok = _positions(cat_ids, cats[order])
    cat_pos = order[pos] if cats.size else pos
    k = cat_pos if p.useCats else np.zeros_like(cat_pos)
    return k.astype(np.int64, copy=False), cat_pos.astype(np.int64, copy=False), ok


@lightclass(frozen=True)
class MatchRules:
    """What a protocol sets in the engine (:func:`evaluate_groups`), row by row.

    Attributes
    ----------
    protocol : str               recorded in the state (states of two protocols never merge)
    gt_ignore : bool (G,)        GT ignored by the matcher (COCO: ``iscrowd``)
    gt_reusable : bool (G,)      GT that stay free once matched (COCO: ``iscrowd``)
    gt_crowd_iou : bool (G,)     GT the IoU plug-in scores as crowd regions, i.e.
                                 intersection over the detection's area (COCO: ``iscrowd``)
    gt_keep : bool (G,) or None  GT rows evaluated (None: all)
    dt_keep : bool (N,) or None  detection rows evaluated (None: all)
    dt_ignore_unmatched : bool (N,) or None
                                 detections ignored where they match nothing
    max_det_per_group : int or None
                                 detections kept per (image, category), best first
                                 (COCO: ``maxDets[-1]``); None keeps all
    """

    protocol: str
    gt_ignore: np.ndarray
    gt_reusable: np.ndarray
    gt_crowd_iou: np.ndarray
    gt_keep: np.ndarray | None = None
    dt_keep: np.ndarray | None = None
    dt_ignore_unmatched: np.ndarray | None = None
    max_det_per_group: int | None = None


def coco_rules(gt: GtTable, params: Params) -> MatchRules:
    """pycocotools' rules: crowd GT are ignored, reusable and scored as crowd regions;
    ``maxDets[-1]`` detections per (image, category).

    >>> from ioukit.coco import prepare
    >>> g, d, p = prepare({"images": [{"id": 1}], "categories": [{"id": 1}],
    ...                    "annotations": []}, [])
    >>> coco_rules(g, p).max_det_per_group
    100
    """
    crowd = np.ascontiguousarray(gt.ann_iscrowd, dtype=bool)
    return MatchRules("coco", crowd, crowd, crowd, max_det_per_group=int(params.maxDets[-1]))


def evaluate_images(
    gt: GtTable,
    dt: DtTable,
    params: Params,
    image_ids: Any = None,
    *,
    fix_zero_id: bool = False,
    geometry: tuple[Any, Any] | None = None,
    keep_matches: bool = False,
) -> EvalState:
    """Match detections to GT on a set of images (``COCOeval.evaluate``) -> :class:`EvalState`.

    Parameters
    ----------
    gt, dt : GtTable, DtTable   from :func:`load_gt` / :func:`load_dt` (or :func:`prepare`)
    params : Params             from :func:`make_params` (or :func:`prepare`)
    image_ids : iterable of int, optional
        Evaluate only these images (intersected with ``params.imgIds``); states of
        disjoint subsets merge into the state of their union.
    fix_zero_id : bool
        Count a detection matched to a GT with id 0 as a true positive (pycocotools
        records the match as id 0, i.e. unmatched; reproduced by default).
    geometry : (dt_geom, gt_geom), optional
        Geometry prepared once by the IoU plug-in, reused across shards.
    keep_matches : bool
        Also keep the match records (detection row, matched GT id and IoU per IoU
        threshold at area range "all"; ``EvalState.matches``): about 16 bytes per
        detection and threshold more.

    Example
    -------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> g, d, p = prepare(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
    ...                         "score": 0.9}])
    >>> s = evaluate_images(g, d, p)
    >>> s.dt_flags[0, 0].tolist()  # true positive at all 10 IoU thresholds
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    return evaluate_groups(
        gt,
        dt,
        params,
        coco_rules(gt, params),
        image_ids,
        fix_zero_id=fix_zero_id,
        geometry=geometry,
        keep_matches=keep_matches,
    )


def _record_area(p: Params) -> int:
    """Area range of the match records: "all" (or the first range)."""
    lbl = list(p.areaRngLbl)
    return lbl.index("all") if "all" in lbl else 0


def evaluate_groups(
    gt: GtTable,
    dt: DtTable,
    params: Params,
    rules: MatchRules,
    image_ids: Any = None,
    *,
    fix_zero_id: bool = False,
    geometry: tuple[Any, Any] | None = None,
    keep_matches: bool = False,
) -> EvalState:
    """The engine's step 2 under a protocol's :class:`MatchRules` -> :class:`EvalState`.

    Groups the selected rows by (category, image) (detections best score first,
    stable, cut to ``rules.max_det_per_group``), scores every group's pairs with the
    ``params.iouType`` plug-in and matches them with the COCO greedy rule and the
    rules' flags, at every area range and IoU threshold. See :func:`evaluate_images`
    for the other arguments.
    """
    p = params
    plugin = get_iou_type(p.iouType)
    if gt.ann_id.size + dt.score.size >= _TRIM_MIN_ROWS:
        _trim_heap()
    imgs = np.asarray(p.imgIds, dtype=np.int64)
    if image_ids is not None:
        sub = np.unique(np.asarray(list(image_ids), dtype=np.int64))
        imgs = sub[np.isin(sub, imgs)]
    n_img = imgs.size
    n_k = len(p.catIds) if p.useCats else 1
    areas = area_bounds(p)
    n_a = areas.shape[0]
    max_det = rules.max_det_per_group
    if max_det is None:  # no cut: no group holds more than every detection
        max_det = max(int(dt.score.size), 1)

    # ground truth of the selected images and categories, grouped by (category, image)
    g_img, g_ok = _positions(gt.ann_image_id, imgs)
    g_k, g_cpos, g_cok = _cat_lookup(gt.ann_category_id, p)
    g_sel = g_ok & g_cok
    if rules.gt_keep is not None:
        g_sel &= rules.gt_keep
    g_rows = np.flatnonzero(g_sel)
    del g_sel
    g_key = g_k[g_rows] * n_img + g_img[g_rows]
    # within a group: catIds order (useCats=0 concatenates categories), then file order
    g_sort = (
        np.lexsort((g_cpos[g_rows], g_key)) if not p.useCats else np.argsort(g_key, kind="stable")
    )
    gt_index = g_rows[g_sort]
    gt_key = g_key[g_sort]
    del g_img, g_ok, g_cpos, g_cok, g_rows, g_key, g_sort

    # non-ignored GT per (category, area): ignored or area outside [lo, hi] is not counted
    g_area = gt.ann_area[gt_index]
    g_ig = rules.gt_ignore[gt_index]
    g_kk = g_k[gt_index]
    num_gt = np.zeros((n_k, n_a), np.int64)
    for a in range(n_a):
        keep = ~g_ig & ~(g_area < areas[a, 0]) & ~(g_area > areas[a, 1])
        num_gt[:, a] = np.bincount(g_kk[keep], minlength=n_k)[:n_k]
    del g_k, g_area, g_ig, g_kk

    # detections: grouped, best score first (stable: ties keep catIds then file order).
    # Temporaries are compacted and dropped as soon as used: they are most of this
    # step's peak memory (one int64 per detection each).
    d_img, d_ok = _positions(dt.image_id, imgs)
    d_k, d_cpos, d_cok = _cat_lookup(dt.category_id, p)
    d_sel = d_ok & d_cok
    if rules.dt_keep is not None:
        d_sel &= rules.dt_keep
    d_rows = np.flatnonzero(d_sel)
    del d_ok, d_cok, d_sel
    d_img = d_img[d_rows]
    d_k = d_k[d_rows]
    num_dt = np.bincount(d_k, minlength=n_k)[:n_k].astype(np.int64)
    if p.useCats:
        del d_cpos
        # counting sorts by (category, image), then best score first in each group
        # (stable: ties keep file order), truncated to max_det
        kept, rank, dt_off, grp_k, grp_img = group_detections(
            d_k, d_img, dt.score[d_rows], n_k, n_img, max_det
        )
        del d_img, d_k
        dt_index = d_rows[kept]
        del kept, d_rows
        kept_len = np.diff(dt_off)
        keys = grp_k * n_img + grp_img
        dt_key = np.repeat(keys, kept_len)
        del grp_k, grp_img
    else:
        # one group per image: categories concatenated in catIds order, so the
        # score order is broken by category position, then file order
        d_key = d_k * n_img + d_img
        d_sort = np.lexsort((d_cpos[d_rows], -dt.score[d_rows], d_key))
        del d_cpos, d_img, d_k
        d_rows = d_rows[d_sort]
        d_key = d_key[d_sort]
        del d_sort
        starts = np.flatnonzero(np.r_[True, d_key[1:] != d_key[:-1]]) if d_key.size else d_key
        grp_len = np.diff(np.r_[starts, d_key.size])
        rank = np.arange(d_key.size) - np.repeat(starts, grp_len)
        keep = rank < max_det
        dt_index = d_rows[keep].astype(np.int64, copy=False)
        del d_rows
        rank = rank[keep]
        dt_key = d_key[keep]
        keys = d_key[starts]
        del d_key, keep, starts
        kept_len = np.minimum(grp_len, max_det)
        del grp_len
        dt_off = np.r_[0, np.cumsum(kept_len)].astype(np.int64)
    gt_off_lo = np.searchsorted(gt_key, keys, side="left")
    gt_off_hi = np.searchsorted(gt_key, keys, side="right")
    del keys, gt_key
    # groups with detections: take their GT slices into a contiguous index
    g_len = gt_off_hi - gt_off_lo
    gt_off = np.r_[0, np.cumsum(g_len)].astype(np.int64)
    if g_len.sum():
        gi = np.repeat(gt_off_lo - gt_off[:-1], g_len) + np.arange(gt_off[-1])
        grp_gt_index = gt_index[gi]
        del gi
    else:
        grp_gt_index = np.zeros(0, np.int64)
    iou_off = np.r_[0, np.cumsum(kept_len * g_len)].astype(np.int64)
    del gt_index, gt_off_lo, gt_off_hi, g_len, kept_len
    groups = Groups(
        dt_index=dt_index,
        dt_offsets=dt_off,
        gt_index=grp_gt_index.astype(np.int64, copy=False),
        gt_offsets=gt_off,
        iou_offsets=iou_off,
        gt_iscrowd=rules.gt_crowd_iou,
    )
    if geometry is None:
        geometry = (plugin.prepare_dt(dt, gt), plugin.prepare_gt(gt))
    ious = plugin.grouped_iou(geometry[0], geometry[1], groups)
    del geometry
    matchable = gt.ann_id != 0 if not fix_zero_id else np.ones(gt.ann_id.size, bool)
    u8 = _flag_bytes
    flags, rec = _match_coco(
        ious,
        groups,
        u8(rules.gt_ignore),
        u8(rules.gt_reusable),
        gt.ann_area,
        u8(matchable),
        dt.area,
        _NO_FLAGS if rules.dt_ignore_unmatched is None else u8(rules.dt_ignore_unmatched),
        np.ascontiguousarray(p.iouThrs, dtype=np.float64),
        areas,
        _record_area(p) if keep_matches else None,
    )
    del ious, groups, matchable
    matches = None if rec is None else _match_columns(rec, gt)
    del rec

    return EvalState(
        params=replace(p, imgIds=[int(i) for i in imgs]),
        image_ids=imgs,
        dt_image_id=dt.image_id[dt_index],
        dt_category=(dt_key // max(n_img, 1)).astype(np.int64, copy=False),
        dt_score=dt.score[dt_index],
        dt_rank=rank.astype(np.int64, copy=False),
        dt_flags=flags,
        num_gt=num_gt,
        num_dt=num_dt,
        fix_zero_id=fix_zero_id,
        category_names=dict(gt.category_names),
        matches=matches,
        protocol=rules.protocol,
    )


_NO_FLAGS = np.zeros(0, np.uint8)


def _flag_bytes(a: np.ndarray) -> np.ndarray:
    """A per-row bool flag array as the kernel's uint8 (a view where it is already bool)."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint8) if a.dtype == np.bool_ else (a != 0).astype(np.uint8)


def _match_columns(rec: Any, gt: GtTable) -> dict[str, np.ndarray]:
    """The kernel's records (GT rows) as the state's columns (GT ids; -1 for none)."""

    def ids(rows: np.ndarray) -> np.ndarray:
        out = np.full(rows.shape, -1, np.int64)
        hit = rows >= 0
        out[hit] = gt.ann_id[rows[hit]]
        return out

    return {
        "dt_row": rec.dt_row,
        "gt_id": ids(rec.gt_row),
        "iou": rec.iou,
        "best_gt_id": ids(rec.best_gt),
        "best_iou": rec.best_iou,
    }


def accumulate(
    state: EvalState, *, fix_summary: bool = False, full_arrays: bool = True
) -> CocoResult:
    """Precision, recall, scores and stats from match records (``COCOeval.accumulate``).

    ``fix_summary``: compute ``stats[0]`` at ``maxDets[-1]`` instead of the literal 100
    that pycocotools uses (which gives -1 when ``maxDets`` lacks 100).
    ``full_arrays=False``: compute only the precision the summary reads (one maxDets);
    ``CocoResult.precision`` / ``.scores`` then build the full arrays on first access
    (``ioukit eval`` prints the summary alone and asks for this).

    Example
    -------
    >>> from ioukit.coco._state import EvalState
    >>> from ioukit.coco._params import Params
    >>> float(accumulate(EvalState.empty(Params(catIds=[1]))).stats[0])
    -1.0
    """
    p = state.params
    if state.protocol != "coco":
        raise InvalidParameterError(
            f"this state holds {state.protocol!r} match records; accumulate it with "
            f"ioukit.{state.protocol}"
        )
    # The summary reads one maxDets of precision: without full_arrays compute that slice
    # now and the full precision / scores arrays when first asked for (CocoResult).
    m_out = None if full_arrays else summary_max_dets_index(p, fix_summary)
    precision, recall, scores = accumulate_state(state, m_out=m_out)
    stats, rows = summarize_stats(precision, recall, p, fix_summary=fix_summary, precision_m=m_out)
    full = m_out is None
    return CocoResult(
        params=p,
        stats=stats,
        _precision=precision if full else None,
        recall=recall,
        _scores=scores if full else None,
        state=state,
        summary_rows=rows,
        fix_summary=fix_summary,
    )


def evaluate(
    gt: Any,
    dt: Any,
    iou_type: str = "bbox",
    *,
    fix_zero_id: bool = False,
    fix_summary: bool = False,
    keep_matches: bool = False,
    **params: Any,
) -> CocoResult:
    """COCO evaluation of detections ``dt`` against ground truth ``gt``.

    Identical to pycocotools 2.0.11's ``COCO`` / ``loadRes`` / ``COCOeval`` with
    ``evaluate(); accumulate(); summarize()``: ``stats``, ``precision``, ``recall`` and
    ``scores`` are equal to the last bit.

    Parameters
    ----------
    gt : str | PathLike | dict
        COCO ground truth JSON file or its loaded dict.
    dt : str | PathLike | list[dict] | ndarray (N, 7)
        Results file, list of result dicts, or rows ``[image_id, x, y, w, h, score,
        category_id]`` (``loadRes`` inputs).
    iou_type : str
        ``"bbox"`` (here), ``"segm"`` / ``"boundary"`` (with ``ioukit.rle``).
    fix_zero_id : bool
        Count matches to a GT annotation with id 0 (pycocotools loses them).
    fix_summary : bool
        ``stats[0]`` at ``maxDets[-1]`` rather than the literal 100.
    keep_matches : bool
        Keep the match records for :meth:`CocoResult.matches` (off by default: about
        16 bytes per detection and IoU threshold).
    **params
        ``imgIds, catIds, iouThrs, recThrs, areaRng, areaRngLbl, maxDets, useCats``.

    Returns
    -------
    CocoResult

    Example
    -------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "dog"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9],
    ...                    "score": 0.9}])
    >>> round(float(r.stats[0]), 4)  # IoU 0.9: matched at thresholds 0.50 ... 0.90
    0.9
    """
    g, d, p = prepare(gt, dt, iou_type, **params)
    state = evaluate_images(g, d, p, fix_zero_id=fix_zero_id, keep_matches=keep_matches)
    return accumulate(state, fix_summary=fix_summary)
