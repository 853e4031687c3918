"""``ioukit.voc.evaluate``: Pascal VOC detection AP, a composition of the engine's layers.

1. load: XML annotation folder + devkit results files (:mod:`._xml`, :mod:`._results`),
   or a COCO-style JSON pair;
2. group: one group per (class, image) holding detections (``ioukit.matching.build_groups``;
   detections best score first, ties in file order);
3. overlap: ``ioukit.matching.grouped_box_iou`` (the devkit's "+1 pixel" IoU by default);
4. match: ``ioukit.matching.match_voc`` (best GT among all, taken means FP, difficult
   means ignored), at every IoU threshold at once;
5. score: per class, ``ioukit.metrics.precision_recall_curve`` over all its detections
   (npos = non-difficult GT of the class in the image set) and
   ``ioukit.metrics.average_precision`` ("voc11" for voc07, "all_point" for voc12).

Conventions and their sources: docs/voc.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ..matching import build_groups, grouped_box_iou, match_voc
from ..matching._voc import iou_thresholds
from ..metrics import (
    INTERPOLATIONS,
    PRCurve,
    average_precision,
    precision_recall_curve,
    threshold_index,
)
from ._results import CLS, Detections, read_coco_gt, read_coco_results, read_results_files
from ._xml import GroundTruth, read_annotations

__all__ = ["evaluate", "VocResult", "METRICS"]

#: metric name -> ``ioukit.metrics.average_precision`` interpolation
METRICS = {"voc07": "voc11", "voc12": "all_point", **{m: m for m in INTERPOLATIONS}}
_METRIC_TEXT = {"voc11": "11-point AP", "all_point": "all-point AP", "coco101": "101-point AP"}
_FLAG_NAMES = np.array(["FP", "TP", "ignored"], dtype=object)


@dataclass
class VocResult:
    """Per-class AP of a VOC evaluation, with the curves and match records behind it.

    Attributes
    ----------
    classes : list of str
    iou_thresholds : float64 (T,)
    metric : str                   as asked ("voc07", "voc12", ...)
    ap_table : float64 (K, T)      AP per class and IoU threshold (NaN: class without GT)
    num_gt : int64 (K,)            non-difficult GT per class (the devkit's npos)
    num_difficult : int64 (K,)     difficult GT per class (0 with use_difficult=True)
    num_dt : int64 (K,)            detections per class
    image_ids : list               the evaluated images, in order
    settings : dict                legacy, threshold_rule, precision_rule, use_difficult
    """

    classes: list[str]
    iou_thresholds: np.ndarray
    metric: str
    ap_table: np.ndarray
    num_gt: np.ndarray
    num_difficult: np.ndarray
    num_dt: np.ndarray
    image_ids: list
    settings: dict[str, Any]
    _curves: list[list[PRCurve]] = field(repr=False)
    _gt: GroundTruth = field(repr=False)
    _dt: Detections = field(repr=False)
    _records: dict[str, np.ndarray] = field(repr=False)

    # ------------------------------------------------------------------ numbers
    @property
    def ap(self) -> dict[str, float]:
        """{class: AP}; with several IoU thresholds, the mean over them. NaN: no GT."""
        return {c: float(np.mean(self.ap_table[k])) for k, c in enumerate(self.classes)}

    @property
    def map(self) -> float:
        """Mean of :attr:`ap` over the classes that have GT (NaN when none has)."""
        vals = [v for v, n in zip(self.ap.values(), self.num_gt) if n > 0]
        return float(np.mean(vals)) if vals else math.nan

    def _t(self, iou_threshold: float | None) -> int:
        if iou_threshold is None:
            return 0
        return threshold_index(self.iou_thresholds, iou_threshold)

    def curves(self, iou_threshold: float | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Per class, the ranked curve at one IoU threshold (default: the first).

        ``{class: {"precision", "recall", "scores", "tp", "fp"}}``, one point per
        detection, best score first (recall NaN for a class without GT).
        """
        t = self._t(iou_threshold)
        out = {}
        for k, c in enumerate(self.classes):
            cv = self._curves[k][t]
            out[c] = {
                "precision": cv.precision,
                "recall": cv.recall,
                "scores": cv.scores,
                "tp": cv.tp,
                "fp": cv.fp,
            }
        return out

    def matches(self, iou_threshold: float | None = None, *, as_frame: bool = False) -> Any:
        """Match records of every detection at one IoU threshold (default: the first).

        Columns (one row per detection, by class then input order): ``class``,
        ``image_id``, ``row`` (position in its results file / class), ``score``,
        ``x1 y1 x2 y2``, ``flag`` (0 FP, 1 TP, 2 ignored), ``outcome`` ("TP", "FP",
        "ignored"), ``gt_id`` (the matched or hit GT object, -1 for FP: its position in
        its XML file, or its JSON annotation id), ``iou`` (best IoU over the image's GT
        of the class, 0 without GT) and ``best_gt_id`` (that GT, -1 without GT; a FP
        whose best GT is taken is a duplicate). A dict of arrays, or a pandas DataFrame.
        """
        t = self._t(iou_threshold)
        dt, gt, rec = self._dt, self._gt, self._records
        ids = np.empty(len(self.image_ids), dtype=object)
        ids[:] = self.image_ids
        names = np.array(self.classes, dtype=object)

        def obj(rows: np.ndarray) -> np.ndarray:
            return np.where(rows >= 0, gt.obj_id[np.maximum(rows, 0)] if gt.obj_id.size else -1, -1)

        flag = rec["flags"][:, t]
        out = {
            "class": names[dt.cls] if dt.cls.size else np.zeros(0, object),
            "image_id": ids[dt.image] if dt.image.size else np.zeros(0, object),
            "row": dt.row,
            "score": dt.score,
            **{k: dt.box[:, i] for i, k in enumerate(("x1", "y1", "x2", "y2"))},
            "flag": flag,
            "outcome": _FLAG_NAMES[flag],
            "gt_id": obj(rec["gt_row"][:, t]),
            "iou": rec["best_iou"],
            "best_gt_id": obj(rec["best_gt"]),
        }
        if as_frame:
            import pandas as pd

            return pd.DataFrame(out)
        return out

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """A readable table: per class GT, difficult, detections and AP; then mAP."""
        s = self.settings
        thr = self.iou_thresholds
        rule = s["threshold_rule"]
        head = (
            f"Pascal VOC \u00b7 {self.metric} ({_METRIC_TEXT[METRICS[self.metric]]}) \u00b7 "
            f"IoU {rule} {', '.join(f'{x:g}' for x in thr)} \u00b7 "
            f"{'+1-pixel' if s['legacy'] else 'continuous'} boxes \u00b7 "
            f"difficult {'counted' if s['use_difficult'] else 'ignored'} \u00b7 "
            f"{len(self.image_ids)} images"
        )
        ap_cols = [f"AP@{x:g}" for x in thr] if len(thr) > 1 else []
        cols = ["class", "GT", "difficult", "det", *ap_cols, "AP"]
        rows = []
        for k, c in enumerate(self.classes):
            aps = [_num(v) for v in self.ap_table[k]] if len(thr) > 1 else []
            rows.append(
                [
                    c,
                    str(self.num_gt[k]),
                    str(self.num_difficult[k]),
                    str(self.num_dt[k]),
                    *aps,
                    _num(self.ap[c]),
                ]
            )
        rows.append(["mAP", "", "", "", *[""] * len(ap_cols), _num(self.map)])
        w = [max(len(r[i]) for r in [cols, *rows]) for i in range(len(cols))]
        lines = [
            head,
            "  ".join(h.ljust(w[0]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(cols)),
        ]
        for r in rows:
            lines.append(
                "  ".join(x.ljust(w[0]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Numbers as JSON-able Python objects (NaN as None)."""
        return {
            "protocol": "voc",
            "metric": self.metric,
            "iou_thresholds": self.iou_thresholds.tolist(),
            "settings": dict(self.settings),
            "classes": list(self.classes),
            "ap": {c: _none(v) for c, v in self.ap.items()},
            "ap_table": [[_none(v) for v in row] for row in self.ap_table],
            "map": _none(self.map),
            "num_gt": self.num_gt.tolist(),
            "num_difficult": self.num_difficult.tolist(),
            "num_dt": self.num_dt.tolist(),
            "num_images": len(self.image_ids),
        }


def _num(v: float) -> str:
    return "nan" if v != v else f"{v:.4f}"


def _none(v: float) -> float | None:
    return None if v != v else float(v)


# ---------------------------------------------------------------------- loading
def _is_json_gt(annotations: Any) -> bool:
    if isinstance(annotations, Mapping):
        return True
    return isinstance(annotations, (str, os.PathLike)) and Path(annotations).is_file()


def _classes(classes: Sequence[str] | None, found: Sequence[str]) -> list[str]:
    if classes is None:
        return list(found)
    if isinstance(classes, str):
        raise InvalidParameterError("classes must be a list of class names, not one string")
    out = [str(c) for c in classes]
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"classes has a repeated name: {out}")
    return out


def _load(annotations: Any, results: Any, classes: Any, image_set: Any):
    # -> (GroundTruth, Detections, class names)
    if _is_json_gt(annotations):
        if isinstance(results, (str, os.PathLike)) and CLS in os.fspath(results):
            raise InvalidParameterError(
                "COCO-style GT needs COCO-style results (a JSON list or file), not a "
                f"{CLS} results pattern"
            )
        gt, cats, all_ids = read_coco_gt(annotations, image_set)
        names = _classes(classes, list(cats.values()))
        dt = read_coco_results(results, cats, names, gt.image_ids, all_ids)
        return gt, dt, names
    if not isinstance(results, (str, os.PathLike)):
        raise InvalidParameterError(
            "with an XML annotation folder, results is a path with {cls} standing for the "
            "class name (devkit results files); COCO-style JSON results need a COCO-style GT"
        )
    gt = read_annotations(annotations, image_set)
    names = _classes(classes, sorted(set(gt.name.tolist())))
    return gt, read_results_files(results, names, gt.image_ids), names


# ------------------------------------------------------------------- the call
def _match(
    gt: GroundTruth,
    dt: Detections,
    gt_cls: np.ndarray,
    difficult: np.ndarray,
    thr: np.ndarray,
    legacy: bool,
    threshold_rule: str,
) -> dict[str, np.ndarray]:
    # match records in detection-row order; a group per (class, image) with detections
    n_img = max(len(gt.image_ids), 1)
    dt_key = dt.cls * n_img + dt.image
    keys, dt_group = np.unique(dt_key, return_inverse=True)
    gt_key = gt_cls * n_img + gt.image
    pos = np.minimum(np.searchsorted(keys, gt_key), max(len(keys) - 1, 0))
    hit = (gt_cls >= 0) & (keys[pos] == gt_key) if keys.size else np.zeros(len(gt_key), bool)
    gt_group = np.where(hit, pos, -1)
    groups = build_groups(dt_group.ravel(), gt_group, len(keys), dt_score=dt.score)
    ious = grouped_box_iou(dt.box, gt.box, groups, legacy=legacy)
    rec = match_voc(ious, groups, difficult, thr, threshold_rule=threshold_rule)
    return rec.by_row(len(dt.score))


def evaluate(
    annotations: Any,
    results: Any,
    *,
    classes: Sequence[str] | None = None,
    image_set: Any = None,
    iou_threshold: float | Sequence[float] = 0.5,
    metric: str = "voc07",
    use_difficult: bool = False,
    legacy: bool = True,
    threshold_rule: str = ">",
    precision_rule: str = "guarded",
) -> VocResult:
    """Pascal VOC detection evaluation: per-class AP and mAP, with curves and matches.

    Parameters
    ----------
    annotations : folder of VOC XML files (``Annotations/``), or a COCO-style GT (dict
        or JSON path; ``bbox`` ``[x, y, w, h]``, ``difficult`` / ``ignore`` flags).
    results : with XML, a path in which ``{cls}`` stands for the class name, one devkit
        results file per class (``image_id score x1 y1 x2 y2`` per line); with COCO-style
        GT, a COCO-style results list or JSON path.
    classes : the class names to evaluate (default: every class of the GT, sorted for
        XML, in category order for JSON). A class without GT gets AP NaN and is left out
        of the mAP; its detections are all false positives.
    image_set : XML: a devkit image-set file (``ImageSets/Main/test.txt``) or a list of
        ids (default: every XML file in the folder); JSON: a list of image ids.
    iou_threshold : float or list of floats (each matched independently).
    metric : "voc07" (11-point AP, VOC2007) or "voc12" (all-point AP, VOC2010+); also
        "voc11", "all_point", "coco101" (``ioukit.metrics.average_precision``).
    use_difficult : count difficult objects as regular GT (default: ignore them).
    legacy : the devkit's "+1 pixel" IoU (default, as the devkit and py-faster-rcnn);
        False for continuous coordinates.
    threshold_rule : ">" (py-faster-rcnn, Detectron: ``ovmax > thr``) or ">=" (the MATLAB
        devkit: ``ovmax >= minoverlap``). They differ only at an IoU exactly equal to the
        threshold, which integer boxes do produce.
    precision_rule : "guarded" (Detectron: 0 / 0 precision is 0; the devkit's numbers),
        "plain" (py-faster-rcnn: NaN, so an 11-point AP whose top detections all hit
        difficult GT is NaN), or "coco" (``ioukit.metrics.PRECISION_RULES``).

    Returns
    -------
    VocResult : ``.ap`` {class: AP}, ``.map``, ``.curves()``, ``.matches()``,
    ``.summary()``. Detections are ranked by score with ties in file order (the devkit's
    stable sort). A class with GT but no detection has AP 0.

    Example
    -------
    One image, one dog; two detections on it (a duplicate) and one elsewhere:

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "im1.xml").write_text(
    ...     "<annotation><object><name>dog</name><difficult>0</difficult><bndbox>"
    ...     "<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>"
    ...     "</annotation>")
    >>> _ = (d / "det_dog.txt").write_text(
    ...     "im1 0.9 1 1 10 10\\nim1 0.8 1 1 10 9\\nim1 0.7 50 50 60 60\\n")
    >>> r = evaluate(d, str(d / "det_{cls}.txt"))
    >>> r.ap, r.map
    ({'dog': 1.0}, 1.0)
    >>> r.matches()["outcome"].tolist()
    ['TP', 'FP', 'FP']
    """
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    thr = iou_thresholds(iou_threshold, "voc.evaluate")
    gt, dt, names = _load(annotations, results, classes, image_set)
    cls_of = {c: k for k, c in enumerate(names)}
    gt_cls = np.array([cls_of.get(n, -1) for n in gt.name.tolist()], dtype=np.int64)
    difficult = gt.difficult & (not use_difficult)
    counted = gt_cls >= 0
    k_all = len(names)
    num_gt = np.bincount(gt_cls[counted & ~difficult], minlength=k_all).astype(np.int64)
    num_diff = np.bincount(gt_cls[counted & difficult], minlength=k_all).astype(np.int64)
    num_dt = np.bincount(dt.cls, minlength=k_all).astype(np.int64)
    records = _match(gt, dt, gt_cls, difficult, thr, legacy, threshold_rule)
    interp = METRICS[metric]
    starts = np.concatenate(([0], np.cumsum(num_dt)))
    curves, ap = [], np.full((k_all, len(thr)), np.nan)
    for k in range(k_all):
        sel = slice(starts[k], starts[k + 1])  # detections are ordered by class
        row = []
        for t in range(len(thr)):
            cv = precision_recall_curve(
                dt.score[sel],
                records["flags"][sel, t],
                int(num_gt[k]),
                tiebreak=dt.row[sel],
                precision_rule=precision_rule,
            )
            row.append(cv)
            if num_gt[k] > 0:
                ap[k, t] = average_precision(cv.recall, cv.precision, interp)
        curves.append(row)
    settings = {
        "legacy": bool(legacy),
        "threshold_rule": threshold_rule,
        "precision_rule": precision_rule,
        "use_difficult": bool(use_difficult),
    }
    return VocResult(
        names,
        thr,
        metric,
        ap,
        num_gt,
        num_diff,
        num_dt,
        list(gt.image_ids),
        settings,
        curves,
        gt,
        dt,
        records,
    )
