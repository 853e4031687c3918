"""Sliced COCO evaluation: AP / AR per value of an image or annotation attribute.

A slice is evaluated as a subset with the engine's rules unchanged:

- **image-level** slice (an image tag, the number of objects in the image, a
  ``{image_id: label}`` mapping): the evaluation restricted to the slice's images
  (``evaluate_images(..., image_ids=...)``, pycocotools with ``imgIds`` = the slice);
- **annotation-level** slice (object size, aspect ratio, an annotation field, a
  column aligned with the annotations): every GT outside the slice becomes ignored,
  exactly as COCO's area ranges ignore the GT outside a range. A detection matched to
  an ignored GT is ignored; an unmatched detection is ignored when its own value is
  outside the slice (size and aspect ratio are measured on the detection's box, as
  COCO measures a detection's area) and counts as a false positive in every slice
  when detections carry no value (an annotation field, a user column without
  ``dt_values``).

Numeric bins are closed intervals ``[lo, hi]``, COCO's area-range rule (a value on a
shared edge is in both bins); the ``"size"`` slices are COCO's small / medium / large
ranges, so their numbers equal the ``small`` / ``medium`` / ``large`` rows of a COCO
evaluation. A slice holding every image (every annotation) gives the whole-set numbers
bit for bit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, MissingFieldError
from .evaluate import MatchRules, accumulate, coco_rules, evaluate_groups, prepare
from .result import CocoResult

__all__ = ["evaluate_slices", "SLICE_ATTRIBUTES", "DEFAULT_BINS"]

#: built-in attributes: name -> level
SLICE_ATTRIBUTES = {"size": "annotation", "aspect": "annotation", "density": "image"}

_INF = float("inf")
#: default bins of the built-in numeric attributes (closed intervals, COCO's rule)
DEFAULT_BINS: dict[str, dict[str, tuple[float, float]]] = {
    # pycocotools Params.areaRng (small, medium, large)
    "size": {"small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e5**2)},
    # width / height of the box
    "aspect": {"<0.5": (0.0, 0.5), "0.5-1": (0.5, 1.0), "1-2": (1.0, 2.0), ">2": (2.0, _INF)},
    # non-crowd annotations in the image
    "density": {"0": (0, 0), "1": (1, 1), "2-5": (2, 5), "6-10": (6, 10), "11+": (11, _INF)},
}


def _bins(bins: Any, name: str) -> dict[str, tuple[float, float]]:
    if bins is None:
        if name not in DEFAULT_BINS:
            raise InvalidParameterError(f"slice_by={name!r}: give bins for a numeric attribute")
        return DEFAULT_BINS[name]
    if isinstance(bins, Mapping):
        out = {str(k): (float(v[0]), float(v[1])) for k, v in bins.items()}
    else:
        edges = [float(e) for e in bins]
        if len(edges) < 2 or any(b < a for a, b in zip(edges, edges[1:])):
            raise InvalidParameterError(f"bins must be >= 2 increasing edges, got {bins!r}")
        out = {f"{a:g}-{b:g}": (a, b) for a, b in zip(edges, edges[1:])}
    for k, (lo, hi) in out.items():
        if not lo <= hi:
            raise InvalidParameterError(f"bin {k!r}: lo {lo} > hi {hi}")
    return out


def _in_bin(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    # pycocotools: outside a range when area < lo or area > hi
    return ~(values < lo) & ~(values > hi)


def _raw(gt: Any) -> Mapping:
    if isinstance(gt, Mapping):
        return gt
    if isinstance(gt, (str, os.PathLike)):
        import json  # loaded on first use (CLI start-up)

        with open(gt, "rb") as f:
            return json.load(f)
    raise InvalidParameterError("slicing by a field needs the GT as a JSON path or dict")


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _labels_of(values: Sequence[Any]) -> list:
    """Slice labels in order: sorted by their text (numbers by value)."""
    seen = {}
    for v in values:
        for x in v if isinstance(v, (list, tuple, set)) else (v,):
            if not _is_missing(x):
                seen.setdefault(x, None)
    try:
        return sorted(seen)
    except TypeError:
        return sorted(seen, key=str)


def _member(values: Sequence[Any], label: Any) -> np.ndarray:
    out = np.zeros(len(values), bool)
    for i, v in enumerate(values):
        out[i] = label in v if isinstance(v, (list, tuple, set)) else v == label
    return out


def _run(g, d, p, rules, image_ids, kw) -> CocoResult:
    state = evaluate_groups(g, d, p, rules, image_ids, fix_zero_id=kw["fix_zero_id"])
    return accumulate(state, fix_summary=kw["fix_summary"])


def evaluate_slices(
    gt: Any,
    dt: Any,
    slice_by: str | Mapping | Callable | Sequence,
    *,
    iou_type: str = "bbox",
    level: str | None = None,
    bins: Mapping | Sequence[float] | None = None,
    dt_values: Sequence | None = None,
    fix_zero_id: bool = False,
    fix_summary: bool = False,
    **params: Any,
) -> dict[str, CocoResult]:
    """COCO evaluation per slice: ``{slice label: CocoResult}``.

    Parameters
    ----------
    gt, dt : as :func:`ioukit.coco.evaluate`
    slice_by :
        ``"size"`` (GT ``area`` / detection area; COCO's small, medium, large),
        ``"aspect"`` (box width / height), ``"density"`` (non-crowd annotations per
        image, an image-level attribute); the name of an image field (image-level: its
        values, a list of tags putting an image in several slices) or, when no image
        has it, of an annotation field (annotation-level); a mapping
        ``{image_id: label}`` (image-level, or ``{annotation_id: label}`` with
        ``level="annotation"``); a callable applied to every image record
        (``level="image"``, the default) or annotation record (``level="annotation"``);
        a sequence aligned with the GT annotations (annotation-level). A label None
        (or NaN) puts the row in no slice.
    level : "image" | "annotation", for mappings and callables
    bins : numeric values are binned: ``{name: (lo, hi)}`` or increasing edges;
        closed intervals (COCO's area-range rule). Default for "size", "aspect",
        "density": :data:`DEFAULT_BINS`; other fields are categorical without bins.
    dt_values : per detection (results order) values of an annotation-level
        attribute: unmatched detections outside a slice are then ignored in it.
    fix_zero_id, fix_summary, **params : as :func:`ioukit.coco.evaluate`

    The rule of each kind of slice is in the module docstring.

    Example
    -------
    Two images tagged "day" / "night", a hit on the first, a miss on the second:

    >>> ann = lambda i, img: {"id": i, "image_id": img, "category_id": 1,
    ...                       "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}
    >>> gt = {"images": [{"id": 1, "time": "day"}, {"id": 2, "time": "night"}],
    ...       "categories": [{"id": 1}], "annotations": [ann(1, 1), ann(2, 2)]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9}]
    >>> r = evaluate_slices(gt, dt, "time")
    >>> {k: round(float(v.stats[0]), 3) for k, v in r.items()}
    {'day': 1.0, 'night': 0.0}
    """
    g, d, p = prepare(gt, dt, iou_type, **params)
    kw = {"fix_zero_id": fix_zero_id, "fix_summary": fix_summary}
    base = coco_rules(g, p)
    if level not in (None, "image", "annotation"):
        raise InvalidParameterError(f"level must be 'image' or 'annotation', got {level!r}")

    # ---- annotation-level values (and detection values where they exist)
    gt_vals: Any = None
    dt_vals: Any = None
    img_vals: Any = None
    if isinstance(slice_by, str) and slice_by in ("size", "aspect"):
        if slice_by == "size":
            gt_vals, dt_vals = g.ann_area, d.area
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                gt_vals = g.ann_bbox[:, 2] / g.ann_bbox[:, 3]
                dt_vals = d.bbox[:, 2] / d.bbox[:, 3]
        bins = _bins(bins, slice_by)
    elif isinstance(slice_by, str) and slice_by == "density":
        n_obj = {int(i): 0 for i in g.image_ids}
        for i in g.ann_image_id[~g.ann_iscrowd].tolist():
            n_obj[int(i)] = n_obj.get(int(i), 0) + 1
        img_vals = n_obj
        bins = _bins(bins, slice_by)
    elif isinstance(slice_by, str):
        raw = _raw(gt)
        images = raw.get("images", [])
        if any(slice_by in im for im in images):
            img_vals = {int(im["id"]): im.get(slice_by) for im in images}
        else:
            by_id = {int(a["id"]): a.get(slice_by) for a in raw.get("annotations", [])}
            if not any(not _is_missing(v) for v in by_id.values()):
                raise MissingFieldError(
                    f"slice_by={slice_by!r}: no image or annotation of the GT has this field "
                    f"(built-in attributes: {sorted(SLICE_ATTRIBUTES)})"
                )
            gt_vals = [by_id.get(int(i)) for i in g.ann_id.tolist()]
    elif callable(slice_by):
        raw = _raw(gt)
        if level == "annotation":
            by_id = {int(a["id"]): slice_by(a) for a in raw.get("annotations", [])}
            gt_vals = [by_id.get(int(i)) for i in g.ann_id.tolist()]
        else:
            img_vals = {int(im["id"]): slice_by(im) for im in raw.get("images", [])}
    elif isinstance(slice_by, Mapping):
        if level == "annotation":
            gt_vals = [slice_by.get(int(i)) for i in g.ann_id.tolist()]
        else:
            img_vals = {int(k): v for k, v in slice_by.items()}
    else:
        gt_vals = list(slice_by)
        if len(gt_vals) != g.ann_id.size:
            raise InvalidParameterError(
                f"slice_by has {len(gt_vals)} values for {g.ann_id.size} GT annotations"
            )
    if dt_values is not None:
        dt_vals = list(dt_values)
        if len(dt_vals) != d.score.size:
            raise InvalidParameterError(
                f"dt_values has {len(dt_vals)} values for {d.score.size} detections"
            )

    out: dict[str, CocoResult] = {}
    if img_vals is not None:  # image-level: subsets of images
        ids = [int(i) for i in p.imgIds]
        vals = [img_vals.get(i) for i in ids]
        if bins is not None:
            bins = _bins(bins, "")
        if bins is not None:
            num = np.array([np.nan if _is_missing(v) else float(v) for v in vals])
            for name, (lo, hi) in bins.items():
                sel = [i for i, m in zip(ids, _in_bin(num, lo, hi)) if m]
                out[name] = _run(g, d, p, base, sel, kw)
        else:
            for label in _labels_of(vals):
                sel = [i for i, m in zip(ids, _member(vals, label)) if m]
                out[str(label)] = _run(g, d, p, base, sel, kw)
        return out

    # annotation-level: the GT outside the slice are ignored (COCO's area-range rule)
    if bins is not None:
        bins = _bins(bins, "")
    if bins is not None:
        gnum = np.array([np.nan if _is_missing(v) else float(v) for v in gt_vals])
        dnum = None
        if dt_vals is not None:
            dnum = np.array([np.nan if _is_missing(v) else float(v) for v in dt_vals])
        members = [
            (name, _in_bin(gnum, lo, hi), None if dnum is None else _in_bin(dnum, lo, hi))
            for name, (lo, hi) in bins.items()
        ]
    else:
        members = [
            (
                str(label),
                _member(gt_vals, label),
                None if dt_vals is None else _member(dt_vals, label),
            )
            for label in _labels_of(gt_vals)
        ]
    for name, g_in, d_in in members:
        rules = MatchRules(
            base.protocol,
            base.gt_ignore | ~g_in,
            base.gt_reusable,
            base.gt_crowd_iou,
            dt_ignore_unmatched=None if d_in is None else ~d_in,
            max_det_per_group=base.max_det_per_group,
        )
        out[name] = _run(g, d, p, rules, None, kw)
    return out
