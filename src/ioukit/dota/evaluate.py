"""``ioukit.dota.evaluate``: DOTA Task 1 (oriented boxes) AP, a composition of the engine.

The DOTA devkit's ``dota_evaluation_task1.py`` (``voc_eval``) is the reference:

1. load: label files and per-class results files (:mod:`._files`);
2. group: one group per (class, image) (``ioukit.matching.build_groups``; detections
   best score first, ties in file order);
3. overlap: polygon IoU of the 4-point polygons (``ioukit.rotated._kernels``, the same
   signed-triangle-fan sum as the devkit's ``polyiou``). The devkit first keeps the GT
   whose "+1 pixel" axis-aligned boxes overlap the detection's and takes the polygon IoU
   of those only; a GT it drops has polygon IoU 0, which never passes ``ovmax > thr``
   for a threshold >= 0, so the pre-filter changes no decision and is not repeated;
4. match: ``ioukit.matching.match_voc`` (best GT among all, ``ovmax > thr``, a taken GT
   makes a false positive, a difficult GT makes the detection ignored);
5. score: ``ioukit.metrics.precision_recall_curve`` (npos = non-difficult GT of the
   class; precision ``tp / max(tp + fp, eps)``: the "guarded" rule) and
   ``ioukit.metrics.average_precision`` ("voc11" for ``voc07``, "all_point" for ``voc12``).

Conventions and their sources: docs/dota.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ..matching import build_groups, match_voc
from ..matching._voc import iou_thresholds
from ..metrics import PRCurve, average_precision, precision_recall_curve
from ..rotated import _kernels as RK
from ._files import Labels, Results, read_labels, read_results

__all__ = ["evaluate", "DotaResult", "METRICS", "DOTA_V1_CLASSES"]

#: metric name -> ``ioukit.metrics.average_precision`` interpolation
METRICS = {"voc07": "voc11", "voc12": "all_point", "voc11": "voc11", "all_point": "all_point"}

#: The 15 categories of DOTA v1.0 (the devkit's ``classnames``).
DOTA_V1_CLASSES = (
    "plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle",
    "large-vehicle", "ship", "tennis-court", "basketball-court", "storage-tank",
    "soccer-ball-field", "roundabout", "harbor", "swimming-pool", "helicopter",
)  # fmt: skip


@dataclass
class DotaResult:
    """Per-class AP of a DOTA Task 1 evaluation.

    Attributes
    ----------
    classes : list of str
    iou_threshold : float
    metric : str
    ap : dict {class: AP}   NaN for a class without (non-difficult) GT
    num_gt, num_difficult, num_dt : int64 (K,)
    image_ids : list of str
    """

    classes: list[str]
    iou_threshold: float
    metric: str
    ap: dict[str, float]
    num_gt: np.ndarray
    num_difficult: np.ndarray
    num_dt: np.ndarray
    image_ids: list[str]
    _curves: list[PRCurve] = field(repr=False)

    @property
    def map(self) -> float:
        """Mean AP over the classes with GT (NaN when none has one)."""
        vals = [v for v, n in zip(self.ap.values(), self.num_gt) if n > 0]
        return float(np.mean(vals)) if vals else math.nan

    def curves(self) -> dict[str, dict[str, np.ndarray]]:
        """``{class: {"precision", "recall", "scores", "tp", "fp"}}``, best score first."""
        return {
            c: {
                "precision": cv.precision,
                "recall": cv.recall,
                "scores": cv.scores,
                "tp": cv.tp,
                "fp": cv.fp,
            }
            for c, cv in zip(self.classes, self._curves)
        }

    def summary(self) -> str:
        """A table: per class GT, difficult, detections and AP; then mAP."""
        head = (
            f"DOTA task 1 \u00b7 {self.metric} \u00b7 polygon IoU > {self.iou_threshold:g} "
            f"\u00b7 {len(self.image_ids)} images"
        )
        rows = [["class", "GT", "difficult", "det", "AP"]]
        for k, c in enumerate(self.classes):
            v = self.ap[c]
            rows.append(
                [
                    c,
                    str(self.num_gt[k]),
                    str(self.num_difficult[k]),
                    str(self.num_dt[k]),
                    "nan" if v != v else f"{v:.4f}",
                ]
            )
        m = self.map
        rows.append(["mAP", "", "", "", "nan" if m != m else f"{m:.4f}"])
        w = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = [head]
        for r in rows:
            lines.append(
                "  ".join(x.ljust(w[0]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Numbers as JSON-able Python objects (NaN as None)."""
        m = self.map
        return {
            "protocol": "dota",
            "metric": self.metric,
            "iou_threshold": self.iou_threshold,
            "classes": list(self.classes),
            "ap": {c: (None if v != v else float(v)) for c, v in self.ap.items()},
            "map": None if m != m else m,
            "num_gt": self.num_gt.tolist(),
            "num_difficult": self.num_difficult.tolist(),
            "num_dt": self.num_dt.tolist(),
            "num_images": len(self.image_ids),
        }


def _match(gt: Labels, dt: Results, gt_cls: np.ndarray, thr: float) -> np.ndarray:
    # flags (D,) in detection-row order; a group per (class, image) with detections
    n_img = max(len(gt.image_ids), 1)
    dt_key = dt.cls * n_img + dt.image
    keys, dt_group = np.unique(dt_key, return_inverse=True)
    gt_key = gt_cls * n_img + gt.image
    if keys.size:
        pos = np.minimum(np.searchsorted(keys, gt_key), len(keys) - 1)
        hit = (gt_cls >= 0) & (keys[pos] == gt_key)
    else:
        pos, hit = np.zeros(len(gt_key), np.int64), np.zeros(len(gt_key), bool)
    gt_group = np.where(hit, pos, -1)
    groups = build_groups(dt_group.ravel(), gt_group, len(keys), dt_score=dt.score)
    ious = np.empty(int(groups.iou_offsets[-1]) if len(groups.iou_offsets) else 0)
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    RK.grouped_polygon_iou(
        np.ascontiguousarray(dt.poly),
        np.ascontiguousarray(gt.poly),
        i64(groups.dt_index),
        i64(groups.dt_offsets),
        i64(groups.gt_index),
        i64(groups.gt_offsets),
        i64(groups.iou_offsets),
        ious,
        0.0,
    )
    rec = match_voc(ious, groups, gt.difficult, thr, threshold_rule=">")
    return rec.by_row(len(dt.score))["flags"][:, 0]


def evaluate(
    labels: Any,
    results: Any,
    *,
    iou_threshold: float = 0.5,
    metric: str = "voc07",
    classes: Sequence[str] | None = None,
    image_set: Any = None,
) -> DotaResult:
    """DOTA Task 1 evaluation (oriented boxes): per-class AP and mAP.

    The semantics of the DOTA devkit's ``dota_evaluation_task1.py``: polygon IoU, a
    detection is a true positive when its best GT (first of equal maxima) has IoU
    ``> iou_threshold`` and is free; a difficult best GT makes it ignored; detections
    ranked by score (ties in file order); 11-point AP (DOTA v1.0's setting) or all-point.

    Args:
        labels: a folder of DOTA label files (``<image>.txt``: ``x1 y1 ... x4 y4 class
            difficult``), or a mapping ``{image: label text}``.
        results: a path in which ``{cls}`` (or the devkit's ``{:s}``) stands for the class
            name, one file per class with ``image score x1 y1 ... x4 y4`` lines; or a
            mapping ``{class: text}``.
        iou_threshold: polygon IoU a match must exceed (default 0.5).
        metric: ``"voc07"`` (11-point, default, as DOTA v1.0) or ``"voc12"`` (all-point);
            ``"voc11"`` and ``"all_point"`` are accepted aliases.
        classes: classes to evaluate (default: those of the labels, sorted; see
            :data:`DOTA_V1_CLASSES`). A results file must exist for each.
        image_set: a file with one image name per line, or a list (default: every label
            file). Detections on other images raise ``UnknownIdError``.

    Returns:
        :class:`DotaResult` with ``.ap`` {class: AP}, ``.map``, ``.curves()``,
        ``.summary()``, ``.to_dict()``. A class without GT has AP NaN and is left out of
        the mAP (the devkit's mean would be NaN).

    Example:
        One car and one difficult ship; two car detections (one duplicate):

        >>> from ioukit.dota import evaluate
        >>> labels = {"P1": "0 0 4 0 4 2 0 2 car 0\\n10 10 14 10 14 12 10 12 ship 1\\n"}
        >>> results = {"car": "P1 0.9 0 0 4 0 4 2 0 2\\nP1 0.8 0 0 4 0 4 2.1 0 2.1\\n",
        ...            "ship": "P1 0.7 10 10 14 10 14 12 10 12\\n"}
        >>> r = evaluate(labels, results)
        >>> r.ap
        {'car': 1.0, 'ship': nan}
        >>> r.map
        1.0
    """
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    thr = float(iou_thresholds(iou_threshold, "dota.evaluate")[0])
    if np.ndim(iou_threshold) != 0:
        raise InvalidParameterError("dota.evaluate: iou_threshold must be one number")
    gt = read_labels(labels, image_set)
    if classes is None:
        names = sorted(set(gt.name.tolist()))
    elif isinstance(classes, str):
        raise InvalidParameterError("classes must be a list of class names, not one string")
    else:
        names = [str(c) for c in classes]
    dt = read_results(results, names, gt.image_ids)
    cls_of = {c: k for k, c in enumerate(names)}
    gt_cls = np.array([cls_of.get(n, -1) for n in gt.name.tolist()], dtype=np.int64)
    k_all = len(names)
    counted = gt_cls >= 0
    num_gt = np.bincount(gt_cls[counted & ~gt.difficult], minlength=k_all).astype(np.int64)
    num_diff = np.bincount(gt_cls[counted & gt.difficult], minlength=k_all).astype(np.int64)
    num_dt = np.bincount(dt.cls, minlength=k_all).astype(np.int64)
    flags = _match(gt, dt, gt_cls, thr)
    starts = np.concatenate(([0], np.cumsum(num_dt)))
    interp = METRICS[metric]
    curves, ap = [], {}
    for k, c in enumerate(names):
        sel = slice(starts[k], starts[k + 1])  # detections are ordered by class
        cv = precision_recall_curve(
            dt.score[sel],
            flags[sel],
            int(num_gt[k]),
            tiebreak=dt.row[sel],
            precision_rule="guarded",
        )
        curves.append(cv)
        ap[c] = average_precision(cv.recall, cv.precision, interp) if num_gt[k] > 0 else math.nan
    return DotaResult(names, thr, metric, ap, num_gt, num_diff, num_dt, list(gt.image_ids), curves)
