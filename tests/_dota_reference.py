"""An independent reimplementation of the DOTA devkit's Task 1 evaluation (test oracle).

Written from the semantics of ``DOTA_devkit/dota_evaluation_task1.py`` (``parse_gt``,
``voc_eval``, ``voc_ap``), not from ioukit: per class, every image's GT of the class;
detections sorted by descending confidence; for each detection, the GT whose "+1 pixel"
axis-aligned boxes overlap it are kept and their polygon IoU taken (here with shapely
in place of the devkit's ``polyiou`` C++ extension); ``ovmax > ovthresh``: a difficult
best GT is skipped, a free one becomes a TP and is marked, a taken one is a FP; else FP.
Then ``rec = tp / npos``, ``prec = tp / max(tp + fp, eps)``, and ``voc_ap``. The sort is
stable (ties in file order; the devkit's ``np.argsort`` only guarantees it below 17
detections).
"""

from __future__ import annotations

import numpy as np
import shapely


def parse_gt(text: str) -> list[dict]:
    objects = []
    for line in text.splitlines():
        s = line.strip().split(" ")
        if len(s) < 9:
            continue
        objects.append(
            {
                "name": s[8],
                "difficult": int(s[9]) if len(s) >= 10 else 0,
                "bbox": [float(v) for v in s[:8]],
            }
        )
    return objects


def voc_ap(rec: np.ndarray, prec: np.ndarray, use_07_metric: bool) -> float:
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _poly_iou(a, b) -> float:
    pa, pb = shapely.Polygon(np.reshape(a, (4, 2))), shapely.Polygon(np.reshape(b, (4, 2)))
    inter = pa.intersection(pb).area
    return inter / (pa.area + pb.area - inter)


def voc_eval(labels: dict, detections: str, classname: str, ovthresh=0.5, use_07_metric=True):
    """labels: {image: label text}; detections: the class's results text."""
    class_recs, npos = {}, 0
    for img, text in labels.items():
        objs = [o for o in parse_gt(text) if o["name"] == classname]
        bbox = np.array([o["bbox"] for o in objs])
        difficult = np.array([o["difficult"] for o in objs]).astype(bool)
        npos += int(np.sum(~difficult))
        class_recs[img] = {"bbox": bbox, "difficult": difficult, "det": [False] * len(objs)}
    lines = [x.strip().split(" ") for x in detections.splitlines() if x.strip()]
    image_ids = [x[0] for x in lines]
    confidence = np.array([float(x[1]) for x in lines])
    bb_all = np.array([[float(z) for z in x[2:]] for x in lines]).reshape(-1, 8)
    order = np.argsort(-confidence, kind="stable")
    bb_all = bb_all[order]
    image_ids = [image_ids[i] for i in order]
    nd = len(image_ids)
    tp, fp = np.zeros(nd), np.zeros(nd)
    for d in range(nd):
        r = class_recs[image_ids[d]]
        bb = bb_all[d]
        ovmax, jmax = -np.inf, -1
        gt = r["bbox"].astype(float)
        if gt.size > 0:
            gxmin, gymin = gt[:, 0::2].min(1), gt[:, 1::2].min(1)
            gxmax, gymax = gt[:, 0::2].max(1), gt[:, 1::2].max(1)
            bxmin, bymin, bxmax, bymax = (
                bb[0::2].min(),
                bb[1::2].min(),
                bb[0::2].max(),
                bb[1::2].max(),
            )
            iw = np.maximum(np.minimum(gxmax, bxmax) - np.maximum(gxmin, bxmin) + 1.0, 0.0)
            ih = np.maximum(np.minimum(gymax, bymax) - np.maximum(gymin, bymin) + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bxmax - bxmin + 1.0) * (bymax - bymin + 1.0)
                + (gxmax - gxmin + 1.0) * (gymax - gymin + 1.0)
                - inters
            )
            keep = np.where(inters / uni > 0)[0]
            if keep.size:
                ov = [_poly_iou(gt[k], bb) for k in keep]
                ovmax = max(ov)
                jmax = int(keep[int(np.argmax(ov))])
        if ovmax > ovthresh:
            if not r["difficult"][jmax]:
                if not r["det"][jmax]:
                    tp[d] = 1.0
                    r["det"][jmax] = True
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, use_07_metric) if npos > 0 else float("nan")


def generate(rng: np.random.Generator, n_images: int, classes=("car", "ship", "plane", "bridge")):
    """A DOTA-like set: integer-cornered GT polygons (some difficult), jittered detections,
    duplicates and false positives. Returns (labels {image: text}, results {class: text})."""
    labels, results = {}, {c: [] for c in classes}

    def poly(cx, cy, w, h, t):
        c, s = np.cos(t), np.sin(t)
        pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
        return [v for x, y in pts for v in (cx + x * c - y * s, cy + x * s + y * c)]

    for i in range(n_images):
        img = f"P{i:04d}"
        lines = ["imagesource:GoogleEarth", "gsd:0.146"]
        for _ in range(rng.integers(0, 12)):
            c = classes[rng.integers(len(classes))]
            cx, cy = rng.uniform(50, 950, 2)
            w, h = rng.uniform(8, 80), rng.uniform(8, 40)
            t = rng.uniform(-np.pi, np.pi)
            g = np.round(poly(cx, cy, w, h, t))
            lines.append(" ".join(f"{v:g}" for v in g) + f" {c} {int(rng.random() < 0.15)}")
            for _ in range(rng.integers(0, 3)):  # detections on it (0: missed; 2: duplicate)
                cc = c if rng.random() < 0.9 else classes[rng.integers(len(classes))]
                d = poly(
                    cx + rng.normal(0, w / 8),
                    cy + rng.normal(0, h / 8),
                    w * rng.uniform(0.8, 1.2),
                    h * rng.uniform(0.8, 1.2),
                    t + rng.normal(0, 0.2),
                )
                results[cc].append((img, rng.random(), d))
        for _ in range(rng.integers(0, 4)):  # background false positives
            c = classes[rng.integers(len(classes))]
            d = poly(*rng.uniform(50, 950, 2), rng.uniform(8, 60), rng.uniform(8, 30), 0.3)
            results[c].append((img, rng.random(), d))
        labels[img] = "\n".join(lines) + "\n"
    texts = {
        c: "".join(f"{img} {s:.6f} " + " ".join(f"{v:.3f}" for v in d) + "\n" for img, s, d in rows)
        for c, rows in results.items()
    }
    return labels, texts
