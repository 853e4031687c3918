"""``ioukit.kitti.evaluate``: KITTI object detection AP in the image, BEV and 3-D.

The semantics are those of kitti-object-eval-python ``eval.py`` (traveller59; the copy
in OpenPCDet ``pcdet/datasets/kitti/kitti_object_eval_python`` and mmdet3d), which
transcribes the official C++ devkit ``evaluate_object.cpp``:

1. ``clean_data``: per class and difficulty, a GT of the class is evaluated (0) unless
   occluded > max occlusion, truncated > max truncation or 2-D height <= min height
   (then ignored, 1); Van for Car and Person_sitting for Pedestrian are ignored (1); any
   other GT is skipped (-1). A detection of the class is evaluated (0), any other is
   skipped (-1), but *every* detection lower than the min height (``abs(y2 - y1) <``)
   is ignored (1), whatever its class (the reference's rule, kept);
2. overlaps per frame: 2-D box IoU (no +1), BEV IoU of the rotated footprints, 3-D IoU
   (``ioukit.boxes3d``, exact, float64; the reference computes the BEV part in float32);
3. ``compute_statistics_jit`` (``ioukit.kitti._kernels``): GT by GT, the highest-score
   unassigned detection with overlap > threshold (first pass: TP scores), then at each
   score threshold the best-overlap one (second pass: tp, fp, fn); detections on a
   DontCare region (intersection over the detection's area > threshold) are not FP;
4. ``get_thresholds``: 41 score thresholds at recall steps of 1/40; precision and
   recall per threshold, each replaced by its maximum to the right;
5. AP R11 = sum of precision at threshold indices 0, 4, ..., 40 / 11; AP R40 = sum at
   indices 1..40 / 40 (``get_mAP`` / ``get_mAP_R40``), as a fraction (the reference
   prints percent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..boxes3d import from_kitti_camera
from ..boxes3d import iou as iou3d
from ..boxes3d._measures import _measure
from ..errors import InvalidParameterError
from . import _kernels as K
from ._labels import Objects, load_objects

__all__ = ["evaluate", "KittiResult", "MIN_OVERLAP", "DIFFICULTIES", "METRICS"]

DIFFICULTIES = ("easy", "moderate", "hard")
METRICS = ("bbox", "bev", "3d")
MIN_HEIGHT = (40, 25, 25)
MAX_OCCLUSION = (0, 1, 2)
MAX_TRUNCATION = (0.15, 0.3, 0.5)
N_SAMPLE_PTS = 41
#: class -> IoU threshold (get_official_eval_result's overlap_0_7, every metric)
MIN_OVERLAP = {
    "Car": 0.7,
    "Pedestrian": 0.5,
    "Cyclist": 0.5,
    "Van": 0.7,
    "Person_sitting": 0.5,
    "Truck": 0.7,
}
#: overlap_0_5: the same for bbox, and 0.5 / 0.25 / 0.25 for bev and 3d
_LOOSE = {
    "Car": 0.5,
    "Pedestrian": 0.25,
    "Cyclist": 0.25,
    "Van": 0.5,
    "Person_sitting": 0.25,
    "Truck": 0.5,
}
#: GT names ignored (not skipped) when evaluating a class
NEIGHBOURS = {"car": "van", "pedestrian": "person_sitting"}


@dataclass
class KittiResult:
    """AP per metric, class and difficulty.

    ``ap_r40[metric]`` / ``ap_r11[metric]``: float64 (K, 3), fractions in [0, 1];
    ``precision[metric]`` / ``recall[metric]``: (K, 3, 41) after the envelope;
    ``min_overlap[metric]``: (K,) IoU thresholds; ``num_gt``: int64 (K, 3) evaluated GT.
    """

    classes: list[str]
    metrics: tuple[str, ...]
    ap_r40: dict[str, np.ndarray]
    ap_r11: dict[str, np.ndarray]
    precision: dict[str, np.ndarray]
    recall: dict[str, np.ndarray]
    min_overlap: dict[str, np.ndarray]
    num_gt: np.ndarray
    frame_ids: list[str]

    def ap(self, metric: str = "3d", interpolation: str = "R40") -> dict[str, dict[str, float]]:
        """``{class: {difficulty: AP}}`` for one metric ("bbox", "bev", "3d")."""
        table = (self.ap_r40 if interpolation == "R40" else self.ap_r11)[metric]
        return {
            c: dict(zip(DIFFICULTIES, map(float, table[k]))) for k, c in enumerate(self.classes)
        }

    def summary(self) -> str:
        """The reference's text block per class (AP in percent), R11 then R40."""
        lines = []
        for k, c in enumerate(self.classes):
            thr = ", ".join(f"{self.min_overlap[m][k]:.2f}" for m in self.metrics)
            for name, table in (("AP_R11", self.ap_r11), ("AP_R40", self.ap_r40)):
                lines.append(f"{c} {name}@{thr}:")
                for m in self.metrics:
                    v = ", ".join(f"{100 * x:.4f}" for x in table[m][k])
                    lines.append(f"{m:<4} AP:{v}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able numbers: ``{"R40": {metric: {class: {difficulty: AP}}}, "R11": ...}``."""

        def table(t: dict[str, np.ndarray]) -> dict:
            return {
                m: {
                    c: dict(zip(DIFFICULTIES, map(float, t[m][k])))
                    for k, c in enumerate(self.classes)
                }
                for m in self.metrics
            }

        return {
            "R40": table(self.ap_r40),
            "R11": table(self.ap_r11),
            "min_overlap": {
                m: dict(zip(self.classes, map(float, self.min_overlap[m]))) for m in self.metrics
            },
            "num_gt": {
                c: dict(zip(DIFFICULTIES, map(int, self.num_gt[k])))
                for k, c in enumerate(self.classes)
            },
            "frames": len(self.frame_ids),
        }


# ----------------------------------------------------------------------------- pieces
def clean_flags(
    gt: Objects, dt: Objects, cls: str, difficulty: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """``clean_data``: (ignored_gt int8 (G,), ignored_dt int8 (D,), evaluated GT count)."""
    cur = cls.lower()
    gname = np.array([str(n).lower() for n in gt.name], dtype=object)
    valid = np.where(gname == cur, 1, np.where(gname == NEIGHBOURS.get(cur, "\0"), 0, -1))
    height = gt.bbox[:, 3] - gt.bbox[:, 1]
    ignore = (
        (gt.occluded > MAX_OCCLUSION[difficulty])
        | (gt.truncated > MAX_TRUNCATION[difficulty])
        | (height <= MIN_HEIGHT[difficulty])
    )
    ign_gt = np.where(
        (valid == 1) & ~ignore, 0, np.where((valid == 0) | ((valid == 1) & ignore), 1, -1)
    )
    dname = np.array([str(n).lower() for n in dt.name], dtype=object)
    dheight = np.abs(dt.bbox[:, 3] - dt.bbox[:, 1])
    ign_dt = np.where(dheight < MIN_HEIGHT[difficulty], 1, np.where(dname == cur, 0, -1))
    return ign_gt.astype(np.int8), ign_dt.astype(np.int8), int(np.sum(ign_gt == 0))


def get_thresholds(
    scores: np.ndarray, num_gt: int, num_sample_pts: int = N_SAMPLE_PTS
) -> np.ndarray:
    """``get_thresholds``: the scores at which recall crosses each 1/(pts-1) step.

    >>> get_thresholds(np.array([0.9, 0.8, 0.3]), 3, 5).tolist()
    [0.9, 0.8, 0.3]
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    out = []
    current = 0.0
    n = len(s)
    for i, score in enumerate(s):
        l_recall = (i + 1) / num_gt
        r_recall = (i + 2) / num_gt if i < n - 1 else l_recall
        if (r_recall - current) < (current - l_recall) and i < n - 1:
            continue
        out.append(score)
        current += 1 / (num_sample_pts - 1.0)
    return np.array(out, dtype=np.float64)


def _blocks(dt: Objects, gt: Objects, n_frames: int, pair: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame [n_dt, n_gt] overlap blocks of ``pair(dt_rows, gt_rows)``, flat, and offsets."""
    dcount = np.bincount(dt.frame, minlength=n_frames)
    gcount = np.bincount(gt.frame, minlength=n_frames)
    off = np.zeros(n_frames + 1, dtype=np.int64)
    np.cumsum(dcount * gcount, out=off[1:])
    flat = np.zeros(int(off[-1]), dtype=np.float64)
    d_off = np.concatenate([[0], np.cumsum(dcount)])
    g_off = np.concatenate([[0], np.cumsum(gcount)])
    for f in np.flatnonzero(dcount * gcount):
        d = slice(d_off[f], d_off[f + 1])
        g = slice(g_off[f], g_off[f + 1])
        flat[off[f] : off[f + 1]] = pair(d, g).ravel()
    return flat, off


def _image_overlap(a: np.ndarray, b: np.ndarray, criterion: int) -> np.ndarray:
    # image_box_overlap: criterion -1 IoU, 0 intersection over a's area (no +1 pixel)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    area_a = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]
    area_b = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :]
    ua = area_a + area_b - inter if criterion == -1 else np.broadcast_to(area_a, inter.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / np.where(inter > 0, ua, 1), 0.0)


def _min_overlaps(min_overlap: Any, classes: Sequence[str], metric: str) -> np.ndarray:
    if min_overlap is None or min_overlap == "strict":
        table = MIN_OVERLAP
    elif min_overlap == "loose":
        table = MIN_OVERLAP if metric == "bbox" else _LOOSE
    elif isinstance(min_overlap, Mapping):
        table = {**MIN_OVERLAP, **min_overlap}
    elif isinstance(min_overlap, (int, float)):
        return np.full(len(classes), float(min_overlap))
    else:
        raise InvalidParameterError(
            f"min_overlap must be None, 'strict', 'loose', a number or a dict, got {min_overlap!r}"
        )
    missing = [c for c in classes if c not in table]
    if missing:
        raise InvalidParameterError(
            f"no IoU threshold for class {missing[0]!r}: pass min_overlap={{...}}"
        )
    return np.array([float(table[c]) for c in classes])


# ---------------------------------------------------------------------------- evaluate
def evaluate(
    gt: Any,
    dt: Any,
    *,
    classes: Sequence[str] = ("Car", "Pedestrian", "Cyclist"),
    metrics: Sequence[str] = METRICS,
    min_overlap: Any = None,
    frame_ids: Sequence[str] | None = None,
    dontcare_metrics: Sequence[str] = ("bbox",),
) -> KittiResult:
    """KITTI AP (R40 and R11) per class and difficulty, in the image, BEV and 3-D.

    Args:
        gt: a folder of KITTI label files (``000000.txt``...), a mapping ``{frame id:
            annotation dict}`` or a sequence of annotation dicts (``ioukit.kitti.load_objects``).
        dt: the same for detections (a 16th number, the score); a frame without a
            result file has no detections.
        classes: evaluated classes (names as in the labels, compared case-insensitively).
        metrics: any of "bbox" (2-D image boxes), "bev", "3d".
        min_overlap: IoU thresholds: None / "strict" (Car 0.7, Pedestrian 0.5, Cyclist
            0.5), "loose" (bev and 3d at 0.5 / 0.25 / 0.25), one number, or ``{class: t}``.
        frame_ids: frames to evaluate (default: every GT frame).
        dontcare_metrics: metrics on which a detection over a DontCare region is not a
            FP; ("bbox",) is kitti-object-eval-python's ``metric == 0`` rule,
            ("bbox", "bev", "3d") the C++ devkit's.

    >>> obj = dict(name=["Car"], truncated=[0.0], occluded=[0], alpha=[0.0],
    ...            bbox=[[100, 100, 200, 180]], dimensions=[[1.5, 1.6, 4.0]],
    ...            location=[[0.0, 1.5, 20.0]], rotation_y=[0.0])
    >>> r = evaluate([obj], [dict(obj, score=[0.9])], classes=["Car"])
    >>> r.ap("3d", "R11")["Car"]["easy"], r.ap("3d")["Car"]["easy"]  # 1 GT: 1 recall point
    (0.09090909090909091, 0.0)
    """
    for m in metrics:
        if m not in METRICS:
            raise InvalidParameterError(f"metrics: {m!r} is not one of {METRICS}")
    ids, g = load_objects(gt, frame_ids, is_dt=False)
    _, d = load_objects(dt, ids, is_dt=True)
    nf = len(ids)
    classes = list(classes)
    d_off = np.concatenate([[0], np.cumsum(np.bincount(d.frame, minlength=nf))]).astype(np.int64)
    g_off = np.concatenate([[0], np.cumsum(np.bincount(g.frame, minlength=nf))]).astype(np.int64)
    # DontCare regions and the detections' overlap with them (intersection / det area)
    dc = Objects(
        **{
            k: (v[g.name == "DontCare"] if isinstance(v, np.ndarray) else v)
            for k, v in vars(g).items()
        }
    )
    dc_ov, dc_off = _blocks(d, dc, nf, lambda i, j: _image_overlap(d.bbox[i], dc.bbox[j], 0))
    dc_num = np.bincount(dc.frame, minlength=nf).astype(np.int64)
    # DontCare rows carry -1 sizes: as empty boxes they overlap nothing (they are skipped)
    box_d = from_kitti_camera(np.maximum(d.dimensions, 0), d.location, d.rotation_y)
    box_g = from_kitti_camera(np.maximum(g.dimensions, 0), g.location, g.rotation_y)
    pairs = {
        "bbox": lambda i, j: _image_overlap(d.bbox[i], g.bbox[j], -1),
        "bev": lambda i, j: _measure(box_d[i], box_g[j], "xyzlwhyaw", False, "bev_iou", 0.0),
        "3d": lambda i, j: iou3d(box_d[i], box_g[j]),
    }
    flags = [[clean_flags(g, d, c, diff) for diff in range(3)] for c in classes]
    num_gt = np.array([[f[2] for f in row] for row in flags], dtype=np.int64)
    res: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("r40", "r11", "p", "r", "t")}
    for m in metrics:
        ov, ov_off = _blocks(d, g, nf, pairs[m])
        thr = _min_overlaps(min_overlap, classes, m)
        prec = np.zeros((len(classes), 3, N_SAMPLE_PTS))
        rec = np.zeros((len(classes), 3, N_SAMPLE_PTS))
        for k in range(len(classes)):
            for diff in range(3):
                ign_gt, ign_dt, n_valid = flags[k][diff]
                args = (ov, ov_off, d_off, g_off, ign_gt, ign_dt, d.score)
                scores = K.tp_scores(*args, float(thr[k]))
                t = get_thresholds(scores, n_valid)[:N_SAMPLE_PTS] if n_valid else np.zeros(0)
                pr = K.statistics(
                    *args, dc_ov, dc_off, dc_num, float(thr[k]), t, m in dontcare_metrics
                )
                tp, fp, fn = (pr[:, i].astype(np.float64) for i in range(3))
                with np.errstate(invalid="ignore", divide="ignore"):
                    rec[k, diff, : len(t)] = tp / (tp + fn)
                    prec[k, diff, : len(t)] = tp / (tp + fp)
                # precision[i] = max(precision[i:]) (np.max: NaN propagates as in the reference)
                for arr in (prec, rec):
                    row = arr[k, diff]
                    for i in range(len(t)):
                        row[i] = np.max(row[i:])
        res["p"][m], res["r"][m], res["t"][m] = prec, rec, thr
        # get_mAP / get_mAP_R40, summed in the reference's order
        r11 = 0
        for i in range(0, N_SAMPLE_PTS, 4):
            r11 = r11 + prec[..., i]
        r40 = 0
        for i in range(1, N_SAMPLE_PTS):
            r40 = r40 + prec[..., i]
        res["r11"][m], res["r40"][m] = r11 / 11, r40 / 40
    return KittiResult(
        classes=classes,
        metrics=tuple(metrics),
        ap_r40=res["r40"],
        ap_r11=res["r11"],
        precision=res["p"],
        recall=res["r"],
        min_overlap=res["t"],
        num_gt=num_gt,
        frame_ids=ids,
    )
