"""``ioukit.openimages.evaluate``: the Open Images challenge detection metric.

The semantics are those of the official evaluation (TF object detection API:
``metrics/oid_challenge_evaluation.py`` with ``OpenImagesDetectionChallengeEvaluator``,
``utils/per_image_evaluation.py``, ``utils/metrics.py``), step by step:

1. hierarchy expansion (``dataset_tools/oid_hierarchical_labels_expansion.py``): every
   box repeated for each ancestor of its class, positive image labels for each
   ancestor, negative ones for each descendant (:mod:`._hierarchy`);
2. verified classes: a detection whose class is neither an image-level label
   (positive or negative) nor a box class of its image is ignored; so is every
   detection on an image that has neither boxes nor labels;
3. per (image, class): invalid boxes dropped (``XMin < XMax`` and ``YMin < YMax``
   required), scores ``> -10`` kept, best score first, at most ``max_detections``;
4. matching (``_compute_tp_fp_for_single_class``, box mode): first against the non
   group-of boxes, each detection taking its best-IoU box (first of equal maxima):
   IoU >= threshold and box free -> TP (the box is taken), otherwise FP
   (``ioukit.matching.match_voc`` with ``>=``); then every detection that is not a
   TP takes its best group-of box by intersection over the *detection's* area (IoA);
   IoA >= threshold -> the detection leaves the list and the group-of box becomes
   one entry of weight ``group_of_weight`` scored with the best score among its
   detections (no entry when that score is not > 0, as the reference);
5. per class: entries ranked by score, precision ``tp / (tp + fp)`` with weighted
   ``tp``, recall ``tp / num_gt`` with ``num_gt = #non-group-of boxes +
   group_of_weight * #group-of boxes``, all-point AP (``ioukit.metrics``
   ``average_precision(..., "all_point")``, the devkit formula of ``metrics.py``);
   AP NaN without GT; mAP the mean over classes with GT (``np.nanmean``).

Tied scores: the reference ranks with NumPy's default ``argsort`` reversed, whose
order among equal scores is not specified; ioukit ranks as if that sort were stable
(equal scores in reverse input order, which NumPy's default gives for short arrays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..boxes import ioa
from ..errors import InvalidParameterError
from ..matching import TP, build_groups, grouped_box_iou, match_voc
from ..metrics import average_precision, rank
from ._hierarchy import expand_rows, load_hierarchy
from ._tables import Boxes, ImageLabels, read_boxes, read_labels, read_predictions

__all__ = ["evaluate", "OpenImagesResult", "OUTCOMES"]

#: per-prediction outcome codes of :attr:`OpenImagesResult.outcome`
OUTCOMES = ("ignored", "FP", "TP", "group-of")
_IGNORED, _FP, _TP, _GROUP_OF = 0, 1, 2, 3
# the reference's non-maximum-suppression step keeps scores above this (it is disabled)
_SCORE_FLOOR = -10.0


@lightclass
class OpenImagesResult:
    """Per-class AP of an Open Images challenge evaluation.

    Attributes
    ----------
    classes : list of str
    ap : float64 (K,)          AP per class (NaN: no GT)
    num_gt : float64 (K,)      boxes + group_of_weight * group-of boxes, per class
    num_entries : int64 (K,)   ranked entries per class (detections and group-of boxes)
    image_ids : list of str    the evaluated images (with boxes or labels), sorted
    outcome : int8 (N,)        per prediction row: index into :data:`OUTCOMES`
    settings : dict            iou_threshold, group_of_weight, max_detections, ...
    curves : list of (recall, precision) float64 arrays, one pair per class
    """

    classes: list
    ap: np.ndarray
    num_gt: np.ndarray
    num_entries: np.ndarray
    image_ids: list
    outcome: np.ndarray
    settings: dict
    curves: list

    @property
    def map(self) -> float:
        """Mean AP over the classes with GT (NaN when none has)."""
        if np.isnan(self.ap).all():
            return math.nan
        return float(np.nanmean(self.ap))  # the reference's mean, summed alike

    @property
    def ap_by_class(self) -> dict[str, float]:
        """{class: AP}."""
        return {c: float(a) for c, a in zip(self.classes, self.ap)}

    def summary(self) -> str:
        """A table: per class GT, entries and AP, then mAP."""
        s = self.settings
        lines = [
            f"Open Images challenge \u00b7 all-point AP \u00b7 IoU >= {s['iou_threshold']:g} "
            f"\u00b7 group-of weight {s['group_of_weight']:g} \u00b7 "
            f"{len(self.image_ids):,} images \u00b7 {len(self.classes)} classes"
        ]
        w = max([5, *(len(c) for c in self.classes)])
        lines.append(f"{'class'.ljust(w)}  {'GT':>9}  {'entries':>9}  {'AP':>7}")
        for c, g, n, a in zip(self.classes, self.num_gt, self.num_entries, self.ap):
            lines.append(f"{c.ljust(w)}  {g:>9g}  {n:>9d}  {_num(a):>7}")
        lines.append(f"{'mAP'.ljust(w)}  {'':>9}  {'':>9}  {_num(self.map):>7}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Numbers as JSON-able Python objects (NaN as None)."""
        return {
            "protocol": "openimages",
            "settings": dict(self.settings),
            "classes": list(self.classes),
            "ap": {c: _none(a) for c, a in zip(self.classes, self.ap)},
            "map": _none(self.map),
            "num_gt": self.num_gt.tolist(),
            "num_entries": self.num_entries.tolist(),
            "num_images": len(self.image_ids),
            "outcomes": {
                name: int(np.count_nonzero(self.outcome == k)) for k, name in enumerate(OUTCOMES)
            },
        }


def _num(v: float) -> str:
    return "nan" if v != v else f"{v:.4f}"


def _none(v: float) -> float | None:
    return None if v != v else float(v)


# ---------------------------------------------------------------------- inputs
def _expand(gt: Boxes, lab: ImageLabels | None, hierarchy: Any, unique: bool):
    h = load_hierarchy(hierarchy, unique=unique)
    rows, names = expand_rows(gt.label, h.ancestors, "boxes", gt.source)
    gt = Boxes(gt.image_id[rows], names, gt.box[rows], gt.group_of[rows], gt.source)
    if lab is not None:
        pos = lab.confidence == 1
        parts = []
        for sel, rel in ((pos, h.ancestors), (~pos, h.descendants)):
            r, n = expand_rows(lab.label[sel], rel, "labels", lab.source)
            parts.append((lab.image_id[sel][r], n))
        lab = ImageLabels(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.ones(sum(len(p[1]) for p in parts), np.int64),
            lab.source,
        )
    return gt, lab


def _codes(values: np.ndarray, index: dict) -> tuple[np.ndarray, np.ndarray]:
    """(index of every value in ``index`` (name -> int), found)."""
    # map() over the dict's own method: a C loop, no Python frame per value
    codes = np.fromiter(map(index.get, values.tolist(), repeat(-1)), np.int64, count=values.size)
    ok = codes >= 0
    return np.where(ok, codes, 0), ok


# -------------------------------------------------------------------- matching
def _group_of_matches(
    d_box: np.ndarray,
    gt_box: np.ndarray,
    is_tp: np.ndarray,
    groups: Any,
    thr: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per detection row: matched to a group-of box (IoA >= thr) and which GT row.

    Every non-TP detection looks at the group-of boxes of its group and takes the
    best by intersection over the detection's area, the first of equal maxima.
    """
    nd_all = d_box.shape[0]
    matched = np.zeros(nd_all, bool)
    best = np.full(nd_all, -1, np.int64)
    ng = np.diff(groups.gt_offsets)
    nd = np.diff(groups.dt_offsets)
    total = int(groups.iou_offsets[-1]) if len(groups.iou_offsets) else 0
    if total == 0:
        return matched, best
    g = np.repeat(np.arange(ng.size), nd * ng)
    local = np.arange(total) - groups.iou_offsets[g]
    i, j = local // ng[g], local % ng[g]
    d_pos = groups.dt_offsets[g] + i
    d_row = groups.dt_index[d_pos]
    g_row = groups.gt_index[groups.gt_offsets[g] + j]
    # the reference: ioa(gt_group_of, detections) = intersection / detection area
    v = ioa(d_box[d_row], gt_box[g_row], aligned=True, eps=0.0, validate=False)
    v = np.where(is_tp[d_row], -np.inf, v)
    starts = np.flatnonzero(np.r_[True, d_pos[1:] != d_pos[:-1]])
    row_max = np.maximum.reduceat(v, starts)
    lens = np.diff(np.r_[starts, total])
    first = np.minimum.reduceat(np.where(v == np.repeat(row_max, lens), j, ng.max()), starts)
    rows = d_row[starts]
    hit = row_max >= thr
    matched[rows] = hit
    gs = g[starts]
    best[rows] = np.where(hit, groups.gt_index[groups.gt_offsets[gs] + first], -1)
    return matched, best


def evaluate(
    boxes: Any,
    predictions: Any,
    *,
    labels: Any = None,
    hierarchy: Any = None,
    classes: Sequence[str] | None = None,
    iou_threshold: float = 0.5,
    group_of_weight: float = 1.0,
    max_detections: int = 10000,
    unique_hierarchy: bool = False,
) -> OpenImagesResult:
    """Open Images challenge detection AP (the official evaluation's semantics).

    Parameters
    ----------
    boxes : CSV path or columns (``ImageID, LabelName, XMin, XMax, YMin, YMax,
        IsGroupOf``): the ground-truth boxes, normalised coordinates.
    predictions : CSV path or columns (``ImageID, LabelName, Score, XMin, XMax, YMin,
        YMax``). Not expanded by the hierarchy (the challenge expects parent classes
        to be predicted).
    labels : CSV path or columns (``ImageID, LabelName, Confidence``), optional: the
        verified image-level labels. Without them, every class counts as verified on
        every image with boxes (the Open Images V2 protocol's filter-free rule).
    hierarchy : JSON path or dict, optional: expand boxes and labels (module docstring).
    classes : the classes to report (default: every class of the boxes and labels,
        sorted). Rows of other classes are dropped.
    iou_threshold : float, IoU (non group-of) and IoA (group-of) threshold, ``>=``.
    group_of_weight : float >= 0: the weight of a group-of box (1 in the challenge;
        0 ignores detections inside group-of boxes, the V2 protocol).
    max_detections : int, per image and class (the reference's 10000).
    unique_hierarchy : bool, drop repeated ancestors (see :mod:`._hierarchy`).

    Returns
    -------
    OpenImagesResult : ``.ap``, ``.ap_by_class``, ``.map``, ``.summary()``, ``.outcome``.

    Example
    -------
    One dog box and one group-of box of dogs; three detections inside the group
    count once, a fourth matches the dog:

    >>> gt = {"ImageID": ["a", "a"], "LabelName": ["dog", "dog"],
    ...       "XMin": [0.0, 0.5], "XMax": [0.2, 1.0], "YMin": [0.0, 0.5],
    ...       "YMax": [0.2, 1.0], "IsGroupOf": [0, 1]}
    >>> dt = {"ImageID": ["a"] * 4, "LabelName": ["dog"] * 4,
    ...       "Score": [0.9, 0.8, 0.7, 0.6], "XMin": [0.6, 0.7, 0.8, 0.0],
    ...       "XMax": [0.7, 0.8, 0.9, 0.2], "YMin": [0.6, 0.6, 0.6, 0.0],
    ...       "YMax": [0.7, 0.7, 0.7, 0.2]}
    >>> r = evaluate(gt, dt)
    >>> r.ap_by_class, [OUTCOMES[k] for k in r.outcome]
    ({'dog': 1.0}, ['group-of', 'group-of', 'group-of', 'TP'])
    """
    thr = float(iou_threshold)
    if not 0.0 <= thr <= 1.0:
        raise InvalidParameterError(f"iou_threshold must lie in [0, 1], got {iou_threshold!r}")
    w = float(group_of_weight)
    if not w >= 0.0:
        raise InvalidParameterError(f"group_of_weight must be >= 0, got {group_of_weight!r}")
    if int(max_detections) < 1:
        raise InvalidParameterError(f"max_detections must be >= 1, got {max_detections!r}")
    gt = read_boxes(boxes)
    dt = read_predictions(predictions)
    lab = read_labels(labels) if labels is not None else None
    if hierarchy is not None:
        gt, lab = _expand(gt, lab, hierarchy, unique_hierarchy)

    # images: every image with boxes or labels (the reference's ground-truth groups)
    lab_img = lab.image_id.tolist() if lab is not None else []
    images = sorted({*gt.image_id.tolist(), *lab_img})  # code-point order, as pandas' groupby
    img_index = {name: i for i, name in enumerate(images)}
    n_img = max(len(images), 1)
    if classes is None:
        lab_cls = lab.label.tolist() if lab is not None else []
        names = sorted({*gt.label.tolist(), *lab_cls})
    else:
        if isinstance(classes, str):
            raise InvalidParameterError("classes must be a list of class names, not one string")
        names = [str(c) for c in classes]
        if len(set(names)) != len(names):
            raise InvalidParameterError(f"classes has a repeated name: {names}")
    k_all = len(names)
    cls_index = {name: k for k, name in enumerate(names)}

    g_img, _ = _codes(gt.image_id, img_index)
    g_cls, g_ok = _codes(gt.label, cls_index)
    g_key = np.where(g_ok, g_cls * n_img + g_img, -1)

    # detections: image known, class verified there, valid box, score above the floor
    d_img, d_img_ok = _codes(dt.image_id, img_index)
    d_cls, d_cls_ok = _codes(dt.label, cls_index)
    d_key_all = d_cls * n_img + d_img
    keep = d_img_ok & d_cls_ok
    if lab is not None:
        l_img, _ = _codes(lab.image_id, img_index)
        l_cls, l_ok = _codes(lab.label, cls_index)
        verified = np.unique(np.concatenate([g_key[g_ok], (l_cls * n_img + l_img)[l_ok]]))
        keep &= np.isin(d_key_all, verified)
    b = dt.box
    keep &= (b[:, 0] < b[:, 2]) & (b[:, 1] < b[:, 3]) & (dt.score > _SCORE_FLOOR)
    # reversed input order: the reference's descending sort puts equal scores last-first
    sel = np.flatnonzero(keep)[::-1]
    keys, d_group = np.unique(d_key_all[sel], return_inverse=True)
    d_group = d_group.ravel().astype(np.int64)
    if sel.size:  # at most max_detections per (image, class), best first
        order = np.lexsort((-dt.score[sel], d_group))
        starts = np.searchsorted(d_group[order], np.arange(keys.size))
        rank_in = np.empty(sel.size, np.int64)
        rank_in[order] = np.arange(sel.size) - starts[d_group[order]]
        cut = rank_in < int(max_detections)
        sel, d_group = sel[cut], d_group[cut]
        keys, d_group = np.unique(keys[d_group], return_inverse=True)
        d_group = d_group.ravel().astype(np.int64)
    d_score, d_box = dt.score[sel], np.ascontiguousarray(dt.box[sel])
    n_groups = keys.size

    # GT rows of the groups that hold detections
    if keys.size:
        pos = np.minimum(np.searchsorted(keys, g_key), keys.size - 1)
        gt_group = np.where(g_ok & (keys[pos] == g_key), pos, -1)
    else:
        gt_group = np.full(g_key.size, -1, np.int64)
    go = gt.group_of
    groups1 = build_groups(d_group, np.where(go, -1, gt_group), n_groups, dt_score=d_score)
    ious = grouped_box_iou(d_box, gt.box, groups1, legacy=False)
    rec = match_voc(ious, groups1, np.zeros(go.size, bool), thr, threshold_rule=">=")
    is_tp = rec.by_row(sel.size)["flags"][:, 0] == TP
    groups2 = build_groups(d_group, np.where(go, gt_group, -1), n_groups, dt_score=d_score)
    in_group_of, best_go = _group_of_matches(d_box, gt.box, is_tp, groups2, thr)

    # group-of entries: the best score of the detections inside, when > 0
    go_score = np.zeros(go.size)
    np.maximum.at(go_score, best_go[in_group_of], d_score[in_group_of])
    go_rows = np.flatnonzero(go_score > 0) if w > 0 else np.zeros(0, np.int64)

    # entries of every class; ties ranked by descending position in the reference's
    # concatenation (images ascending; per image the detections best first, then the
    # group-of boxes in file order)
    det_rows = np.flatnonzero(~in_group_of)
    d_rank = np.empty(sel.size, np.int64)
    d_rank[groups1.dt_index] = np.arange(sel.size) - np.repeat(
        groups1.dt_offsets[:-1], np.diff(groups1.dt_offsets)
    )
    e_cls = np.concatenate([keys[d_group[det_rows]] // n_img, g_cls[go_rows]])
    e_img = np.concatenate([keys[d_group[det_rows]] % n_img, g_img[go_rows]])
    e_kind = np.concatenate([np.zeros(det_rows.size, np.int64), np.ones(go_rows.size, np.int64)])
    e_sub = np.concatenate([d_rank[det_rows], go_rows])
    e_score = np.concatenate([d_score[det_rows], go_score[go_rows]])
    e_label = np.concatenate([is_tp[det_rows].astype(np.float64), np.full(go_rows.size, w)])
    position = np.lexsort((e_sub, e_kind, e_img, e_cls))
    tiebreak = np.empty(position.size, np.int64)
    tiebreak[position] = -np.arange(position.size)
    by_cls = np.argsort(e_cls, kind="stable")
    bounds = np.searchsorted(e_cls[by_cls], np.arange(k_all + 1))

    cnt_gt = np.bincount(g_cls[g_ok & ~go], minlength=k_all).astype(np.float64)
    cnt_go = np.bincount(g_cls[g_ok & go], minlength=k_all).astype(np.float64)
    num_gt = cnt_gt + w * cnt_go
    ap = np.full(k_all, np.nan)
    curves = []
    for k in range(k_all):
        idx = by_cls[bounds[k] : bounds[k + 1]]
        o = idx[rank(e_score[idx], tiebreak[idx])]
        lab_k = e_label[o]
        tp = np.cumsum(lab_k)
        fp = np.cumsum((lab_k <= 0).astype(np.float64))
        precision = tp / (tp + fp)
        recall = tp / num_gt[k] if num_gt[k] > 0 else np.full(tp.size, np.nan)
        curves.append((recall, precision))
        if num_gt[k] > 0:
            ap[k] = average_precision(recall, precision, "all_point")

    outcome = np.full(dt.score.size, _IGNORED, np.int8)
    outcome[sel] = np.where(in_group_of, _GROUP_OF, np.where(is_tp, _TP, _FP))
    return OpenImagesResult(
        classes=names,
        ap=ap,
        num_gt=num_gt,
        num_entries=np.diff(bounds).astype(np.int64),
        image_ids=images,
        outcome=outcome,
        settings={
            "iou_threshold": thr,
            "group_of_weight": w,
            "max_detections": int(max_detections),
            "hierarchy": hierarchy is not None,
            "verified_labels": lab is not None,
            "unique_hierarchy": bool(unique_hierarchy),
        },
        curves=curves,
    )
