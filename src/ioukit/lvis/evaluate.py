"""``evaluate``: LVIS evaluation identical to ``lvis`` 0.5.3 (``LVISEval``), on the COCO engine.

LVIS is the COCO protocol with other filters and matching flags (lvis 0.5.3
``lvis/results.py``, ``lvis/lvis.py``, ``lvis/eval.py``; the differences are listed in
docs/lvis.md). As a composition on the engine (:func:`ioukit.coco.evaluate_groups`):

1. **per-image cap** (``LVISResults.limit_dets_per_image``): an image with more than
   ``max_dets`` (300) detections keeps its best ``max_dets`` over all categories, by a
   stable sort on descending score (Python ``sorted(..., reverse=True)``); it runs first,
   so detections the later filters drop still take places;
2. **positive area** (``LVIS.get_ann_ids`` with ``cat_ids``): GT and detections with
   ``not (0 < area < inf)`` are dropped;
3. **federated filter** (``LVISEval._prepare``): a detection of category ``c`` in image
   ``i`` is kept only where ``c`` has a GT in ``i`` (after step 2) or is one of ``i``'s
   ``neg_category_ids``;
4. **matching** (``evaluate_img``): the COCO greedy rule with no crowd regions (every GT
   is matched by plain IoU and taken once), the GT's ``ignore`` field, and unmatched
   detections of the image's ``not_exhaustive_category_ids`` ignored; no cut per
   (image, category);
5. **accumulation** (``accumulate``): pycocotools' arithmetic with no ``maxDets`` axis:
   precision [T, R, K, A], recall [T, K, A];
6. **summary** (``summarize``): AP, AP50, AP75, APs/m/l, APr/c/f (frequency groups by
   position in the sorted category ids), AR@300 and ARs/m/l@300.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..coco import DtTable, EvalState, GtTable, Params, load_dt, make_params
from ..coco._accumulate import accumulate_state
from ..coco._geometry import get_iou_type
from ..coco.evaluate import MatchRules, evaluate_groups
from ..errors import InvalidParameterError
from ._load import load_gt
from .result import LvisResult

__all__ = [
    "evaluate",
    "prepare",
    "lvis_rules",
    "evaluate_images",
    "freq_groups",
    "accumulate",
    "summarize",
    "RESULT_KEYS",
]

#: lvis' ``Params.max_dets``: the per-image cap of ``LVISResults`` and the "300" of the keys
MAX_DETS = 300

#: The keys of ``LVISEval.results``, in its order (lvis/eval.py ``summarize``)
RESULT_KEYS = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "APr",
    "APc",
    "APf",
    "AR@300",
    "ARs@300",
    "ARm@300",
    "ARl@300",
)

_IOU_TYPES = ("bbox", "segm")
# no cut per (image, category) in accumulate: every record's rank is below this
_NO_CUT = np.array([np.iinfo(np.int64).max], np.int64)


def prepare(
    gt: Any,
    dt: Any,
    iou_type: str = "bbox",
    *,
    max_dets: int = MAX_DETS,
    img_ids: Any = None,
    cat_ids: Any = None,
) -> tuple[GtTable, DtTable, Params]:
    """Load LVIS GT and results and build the parameters.

    ``params.maxDets`` is ``[max_dets]``: the per-image cap (-1: none), which
    :func:`lvis_rules` applies. ``img_ids`` / ``cat_ids`` select images and categories
    (default: all of the GT's, sorted).

    Example
    -------
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "f"}], "annotations": []}
    >>> g, d, p = prepare(gt, [])
    >>> p.imgIds, p.catIds, p.maxDets
    ([1], [1], [300])
    """
    if iou_type not in _IOU_TYPES:
        raise InvalidParameterError(f"iou_type must be one of {list(_IOU_TYPES)}; got {iou_type!r}")
    if int(max_dets) != max_dets or max_dets < -1:
        raise InvalidParameterError(
            f"max_dets must be a non-negative integer, or -1 for no cap; got {max_dets!r}"
        )
    plugin = get_iou_type(iou_type)
    g = load_gt(gt, needs_segmentation=plugin.needs_segmentation)
    d = load_dt(
        dt, g, needs_segmentation=plugin.needs_segmentation, segm_area_bbox=plugin.segm_area_bbox
    )
    over: dict[str, Any] = {}
    if img_ids is not None:
        over["imgIds"] = img_ids
    if cat_ids is not None:
        over["catIds"] = cat_ids
    p = make_params(iou_type, gt_img_ids=g.image_ids, gt_cat_ids=g.category_ids, **over)
    return g, d, replace(p, maxDets=[int(max_dets)])


def _sorted_lookup(values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value in ``keys`` (unique, any order), and whether it is there."""
    if keys.size == 0:
        return np.zeros(values.shape, np.int64), np.zeros(values.shape, bool)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], values), keys.size - 1)
    return order[pos], keys[order[pos]] == values


def _top_per_image(image_id: np.ndarray, score: np.ndarray, cap: int) -> np.ndarray:
    """Rows kept by ``LVISResults.limit_dets_per_image(anns, cap)``.

    An image with more than ``cap`` detections keeps the first ``cap`` of
    ``sorted(anns, key=score, reverse=True)``: best score first, ties in input order
    (Python's sort is stable, and stays so with ``reverse=True``). Other images keep
    all. Which rows are kept is all that matters: the engine orders them itself.

    >>> _top_per_image(np.array([1, 1, 1, 1, 2]), np.array([.5, .7, .5, .5, .1]), 2).tolist()
    [True, True, False, False, True]
    """
    keep = np.ones(image_id.size, bool)
    if image_id.size <= cap:
        return keep
    _, inv, counts = np.unique(image_id, return_inverse=True, return_counts=True)
    rows = np.flatnonzero(counts[inv] > cap)
    if rows.size == 0:
        return keep
    # lexsort is stable: by image, then descending score, ties in row order
    o = rows[np.lexsort((-score[rows], inv[rows]))]
    img = inv[o]
    starts = np.flatnonzero(np.r_[True, img[1:] != img[:-1]])
    rank = np.arange(o.size) - np.repeat(starts, np.diff(np.r_[starts, o.size]))
    keep[o[rank >= cap]] = False
    return keep


def _pair_keys(img_row: np.ndarray, cat_pos: np.ndarray, n_cat: int) -> np.ndarray:
    return img_row.astype(np.int64) * max(n_cat, 1) + cat_pos


def _listed_keys(offsets: np.ndarray, ids: np.ndarray, cat_ids: np.ndarray) -> np.ndarray:
    """(image row, category position) keys of per-image category lists (CSR)."""
    img_row = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    pos, ok = _sorted_lookup(ids, cat_ids)
    # ids of no GT category: no detection has them (the loader checks detections)
    return np.unique(_pair_keys(img_row[ok], pos[ok], cat_ids.size))


def lvis_rules(gt: GtTable, dt: DtTable, params: Params) -> MatchRules:
    """LVIS' filters and matching flags, row by row (steps 1-4 of the module docstring).

    Example
    -------
    Image 1 has a GT of category 1 and lists category 2 as absent; category 3 is not
    known there, so its detection is dropped:

    >>> gt = {"images": [{"id": 1, "neg_category_ids": [2],
    ...                   "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": c, "frequency": "f"} for c in (1, 2, 3)],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 4, 4], "area": 16}]}
    >>> dts = [{"image_id": 1, "category_id": c, "bbox": [0, 0, 4, 4], "score": .5}
    ...        for c in (1, 2, 3)]
    >>> lvis_rules(*prepare(gt, dts)).dt_keep.tolist()
    [True, True, False]
    """
    ex = gt.extra
    cats = np.asarray(gt.category_ids, np.int64)
    n_cat = cats.size
    cap = int(params.maxDets[0])
    keep = _top_per_image(dt.image_id, dt.score, cap) if cap >= 0 else np.ones(dt.score.size, bool)
    # lvis.py get_ann_ids: `_ann["area"] > 0 and _ann["area"] < inf` (NaN fails both)
    inf = float("inf")
    g_ok = (gt.ann_area > 0) & (gt.ann_area < inf)
    d_ok = (dt.area > 0) & (dt.area < inf)
    # federated filter: (image, category) pairs with a GT (after the area filter) or
    # listed in the image's neg_category_ids
    g_img, _ = _sorted_lookup(gt.ann_image_id, gt.image_ids)
    g_cat, _ = _sorted_lookup(gt.ann_category_id, cats)
    pos = np.unique(_pair_keys(g_img[g_ok], g_cat[g_ok], n_cat))
    neg = _listed_keys(ex["neg_offsets"], ex["neg_ids"], cats)
    nel = _listed_keys(ex["nel_offsets"], ex["nel_ids"], cats)
    d_img, _ = _sorted_lookup(dt.image_id, gt.image_ids)
    d_cat, _ = _sorted_lookup(dt.category_id, cats)
    d_key = _pair_keys(d_img, d_cat, n_cat)
    federated = np.isin(d_key, pos) | np.isin(d_key, neg)
    no_crowd = np.zeros(gt.ann_id.size, bool)
    return MatchRules(
        protocol="lvis",
        gt_ignore=np.asarray(ex["ann_ignore"], bool),
        gt_reusable=no_crowd,
        gt_crowd_iou=no_crowd,
        gt_keep=g_ok,
        dt_keep=keep & d_ok & federated,
        dt_ignore_unmatched=np.isin(d_key, nel),
        max_det_per_group=None,
    )


def evaluate_images(
    gt: GtTable,
    dt: DtTable,
    params: Params,
    image_ids: Any = None,
    *,
    rules: MatchRules | None = None,
    fix_zero_id: bool = False,
    keep_matches: bool = False,
    geometry: tuple[Any, Any] | None = None,
) -> EvalState:
    """Match detections to GT under LVIS' rules on a set of images -> :class:`EvalState`.

    States of disjoint image sets merge (:func:`ioukit.coco.merge_states`). ``rules``
    (from :func:`lvis_rules`) may be computed once for several shards.

    Example
    -------
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [],
    ...                   "not_exhaustive_category_ids": [1]}],
    ...       "categories": [{"id": 1, "frequency": "c"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 4, 4], "area": 16}]}
    >>> dts = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": .9},
    ...        {"image_id": 1, "category_id": 1, "bbox": [9, 9, 4, 4], "score": .8}]
    >>> s = evaluate_images(*prepare(gt, dts))
    >>> s.dt_flags[:, 0, 0].tolist()  # TP; unmatched in a not-exhaustive category: ignored
    [1, 2]
    """
    if rules is None:
        rules = lvis_rules(gt, dt, params)
    return evaluate_groups(
        gt,
        dt,
        params,
        rules,
        image_ids,
        fix_zero_id=fix_zero_id,
        geometry=geometry,
        keep_matches=keep_matches,
    )


def freq_groups(gt: GtTable, params: Params) -> list[list[int]]:
    """Category positions (along K) of the r, c and f groups (``_prepare_freq_group``).

    >>> g, _, p = prepare({"images": [], "annotations": [], "categories": [
    ...     {"id": 9, "frequency": "r"}, {"id": 2, "frequency": "f"}]}, [])
    >>> freq_groups(g, p)
    [[1], [], [0]]
    """
    pos, ok = _sorted_lookup(np.asarray(params.catIds, np.int64), gt.category_ids)
    freq = np.where(ok, np.asarray(gt.extra["frequency"])[pos], -1)
    return [[k for k in range(freq.size) if freq[k] == g] for g in range(3)]


def _summarize(
    precision: np.ndarray,
    recall: np.ndarray,
    params: Params,
    groups: list[list[int]],
    kind: str,
    iou_thr: float | None = None,
    area: str = "all",
    group: int | None = None,
) -> float:
    """``LVISEval._summarize``, the same indexing, so that ``np.mean`` sums in its order."""
    aidx = [i for i, lbl in enumerate(params.areaRngLbl) if lbl == area]
    thrs = np.asarray(params.iouThrs)
    if kind == "ap":
        s = precision
        if iou_thr is not None:
            s = s[np.where(iou_thr == thrs)[0]]
        s = s[:, :, groups[group], aidx] if group is not None else s[:, :, :, aidx]
    else:
        s = recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == thrs)[0]]
        s = s[:, :, aidx]
    valid = s[s > -1]
    return -1.0 if len(valid) == 0 else float(np.mean(valid))


def summarize(
    precision: np.ndarray, recall: np.ndarray, params: Params, groups: list[list[int]]
) -> dict[str, float]:
    """``LVISEval.results``: the 13 numbers, keyed and ordered as lvis does (-1: no GT)."""

    def s(*a: Any, **kw: Any) -> float:
        return _summarize(precision, recall, params, groups, *a, **kw)

    return {
        "AP": s("ap"),
        "AP50": s("ap", iou_thr=0.50),
        "AP75": s("ap", iou_thr=0.75),
        "APs": s("ap", area="small"),
        "APm": s("ap", area="medium"),
        "APl": s("ap", area="large"),
        "APr": s("ap", group=0),
        "APc": s("ap", group=1),
        "APf": s("ap", group=2),
        "AR@300": s("ar"),
        "ARs@300": s("ar", area="small"),
        "ARm@300": s("ar", area="medium"),
        "ARl@300": s("ar", area="large"),
    }


def accumulate(state: EvalState, groups: list[list[int]]) -> LvisResult:
    """Precision [T,R,K,A], recall [T,K,A] and the summary from an LVIS state.

    ``groups``: the r/c/f category positions (:func:`freq_groups`).

    >>> gt = {"images": [{"id": 1, "neg_category_ids": [], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "f"}], "annotations": []}
    >>> g, d, p = prepare(gt, [])
    >>> accumulate(evaluate_images(g, d, p), freq_groups(g, p)).results["AP"]
    -1.0
    """
    if state.protocol != "lvis":
        raise InvalidParameterError(
            f"this state holds {state.protocol!r} match records, not LVIS ones"
        )
    p = state.params
    # pycocotools' accumulation with one "maxDets" that cuts nothing (lvis has no cut)
    precision, recall, scores = accumulate_state(state, _NO_CUT)
    precision = np.ascontiguousarray(precision[..., 0])
    recall = np.ascontiguousarray(recall[..., 0])
    scores = np.ascontiguousarray(scores[..., 0])
    return LvisResult(
        params=p,
        results=summarize(precision, recall, p, groups),
        precision=precision,
        recall=recall,
        scores=scores,
        freq_groups=groups,
        state=state,
    )


def evaluate(
    gt: Any,
    dt: Any,
    iou_type: str = "bbox",
    *,
    max_dets: int = MAX_DETS,
    img_ids: Any = None,
    cat_ids: Any = None,
    fix_zero_id: bool = False,
    keep_matches: bool = False,
) -> LvisResult:
    """LVIS evaluation of detections ``dt`` against LVIS ground truth ``gt``.

    Identical to lvis 0.5.3's ``LVISEval(gt, dt, iou_type).run()``: every value of
    ``results`` and of ``precision`` / ``recall`` equals lvis' (``eval["precision"]``,
    ``eval["recall"]``).

    Parameters
    ----------
    gt : str | PathLike | dict
        LVIS annotation file or its loaded dict (images with ``neg_category_ids`` and
        ``not_exhaustive_category_ids``, categories with ``frequency``).
    dt : str | PathLike | list[dict] | ndarray (N, 7)
        Results: ``image_id``, ``category_id``, ``score`` and ``bbox`` [x, y, w, h]
        (or, for ``segm``, a compressed-RLE ``segmentation``).
    iou_type : "bbox" or "segm"
        ``segm`` rasterises the GT polygons at the image sizes (``height``, ``width``).
    max_dets : int
        Detections kept per image, over all categories (``LVISResults(max_dets=...)``;
        300, LVIS' rule); -1 keeps all.
    img_ids, cat_ids : iterables of int, optional
        Evaluate only these images / categories (``LVISEval.params``), sorted.
    fix_zero_id : bool
        Count matches to a GT with id 0 (lvis, as pycocotools, loses them).
    keep_matches : bool
        Keep the match records for :meth:`LvisResult.matches`.

    Returns
    -------
    LvisResult

    Example
    -------
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [2], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "r"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100}]}
    >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
    ...                    "score": 0.9}])
    >>> r.results["AP"], r.results["APr"], r.precision.shape
    (1.0, -1.0, (10, 101, 2, 4))
    """
    g, d, p = prepare(gt, dt, iou_type, max_dets=max_dets, img_ids=img_ids, cat_ids=cat_ids)
    state = evaluate_images(g, d, p, fix_zero_id=fix_zero_id, keep_matches=keep_matches)
    return accumulate(state, freq_groups(g, p))
