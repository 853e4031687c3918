"""An independent, loop-by-loop implementation of the official Open Images challenge
evaluation semantics (the test oracle of ``ioukit.openimages``).

Written from the TF object detection API's behaviour, one image and one class at a
time, in plain Python and NumPy, without any ioukit code:

- ``dataset_tools/oid_hierarchical_labels_expansion.py``: the hierarchy walk and the
  box / label expansion (positive labels up, negative labels down);
- ``metrics/oid_challenge_evaluation.py`` + ``oid_challenge_evaluation_utils.py``:
  ground truth grouped by ImageID (sorted), the evaluatable classes of an image =
  its image-level labels + its box classes; detections of other classes dropped,
  images without ground truth dropped;
- ``utils/per_image_evaluation.py``: invalid boxes dropped, scores > -10 sorted
  descending (NumPy ``argsort`` reversed), at most 10000; stage 1 IoU against the
  non group-of boxes, stage 2 IoA (over the detection's area) against the group-of
  boxes, one entry per group-of box with the max score when > 0;
- ``utils/metrics.py``: ``compute_precision_recall`` and the VOC all-point
  ``compute_average_precision``; mAP = ``np.nanmean``.
"""

from __future__ import annotations

import numpy as np


# ------------------------------------------------------------------ hierarchy
def hierarchy_maps(tree):
    """(ancestors, descendants) as the reference's recursive walk builds them."""

    def walk(node, is_root):
        ups, downs, below = {}, {}, []
        for sub in node.get("Subcategory", []):
            s_downs, s_ups, s_below = walk(sub, False)
            for name, lst in s_downs.items():
                if name in downs:
                    downs[name] = downs[name] + lst
                else:
                    downs[name] = list(lst)
            for name, lst in s_ups.items():
                if name in ups:
                    ups[name] = ups[name] + lst
                else:
                    ups[name] = list(lst)
            below = below + s_below
        if not is_root:
            me = node["LabelName"]
            downs[me] = list(below)
            below = [me] + below
            for name in list(ups):
                ups[name] = ups[name] + [me]
            ups[me] = []
        return downs, ups, below

    downs, ups, _ = walk(tree, True)
    return ups, downs


def expand_box_rows(rows, ups):
    out = []
    for r in rows:
        out.append(dict(r))
        for parent in ups[r["LabelName"]]:
            c = dict(r)
            c["LabelName"] = parent
            out.append(c)
    return out


def expand_label_rows(rows, ups, downs):
    out = []
    for r in rows:
        out.append(dict(r))
        rel = ups[r["LabelName"]] if int(r["Confidence"]) == 1 else downs[r["LabelName"]]
        for name in rel:
            c = dict(r)
            c["LabelName"] = name
            out.append(c)
    return out


# ------------------------------------------------------------------ one image
def _area(b):  # b: [ymin, xmin, ymax, xmax]
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _inter(a, b):
    ih = np.maximum(
        0.0, np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    )
    iw = np.maximum(
        0.0, np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    )
    return ih * iw


def _iou(a, b):
    i = _inter(a, b)
    return i / (_area(a)[:, None] + _area(b)[None, :] - i)


def _ioa_over_second(a, b):
    return _inter(a, b) / _area(b)[None, :]


def single_class(det_boxes, det_scores, gt_boxes, gt_group_of, thr, weight, max_out=10000):
    """(scores, labels) of one image and one class, as ``_compute_tp_fp_for_single_class``."""
    if det_boxes.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    keep = det_scores > -10.0
    det_boxes, det_scores = det_boxes[keep], det_scores[keep]
    order = np.argsort(det_scores)[::-1][:max_out]
    det_boxes, det_scores = det_boxes[order], det_scores[order]
    n = det_boxes.shape[0]
    if gt_boxes.shape[0] == 0:
        return det_scores, np.zeros(n)
    plain, grouped = gt_boxes[~gt_group_of], gt_boxes[gt_group_of]
    tp = np.zeros(n, bool)
    in_group = np.zeros(n, bool)
    if plain.shape[0]:
        iou = _iou(det_boxes, plain)
        taken = np.zeros(plain.shape[0], bool)
        for d in range(n):
            g = int(np.argmax(iou[d]))
            if iou[d, g] >= thr and not taken[g]:
                tp[d] = True
                taken[g] = True
    group_scores = np.zeros(0)
    group_labels = np.zeros(0)
    if grouped.shape[0]:
        ioa = _ioa_over_second(grouped, det_boxes).T  # [det, group-of]
        best_score = np.zeros(grouped.shape[0])
        for d in range(n):
            g = int(np.argmax(ioa[d]))
            if not tp[d] and ioa[d, g] >= thr:
                in_group[d] = True
                best_score[g] = max(best_score[g], det_scores[d])
        labels = weight * np.ones(grouped.shape[0])
        chosen = (best_score > 0) & (labels > 0)
        group_scores, group_labels = best_score[chosen], labels[chosen]
    keep = ~in_group
    return (
        np.concatenate([det_scores[keep], group_scores]),
        np.concatenate([tp[keep].astype(float), group_labels]),
    )


# ------------------------------------------------------------------ the dataset
def evaluate(box_rows, label_rows, pred_rows, classes, hierarchy=None, thr=0.5, weight=1.0):
    """{class: AP} and mAP from lists of row dicts (the challenge CSV columns)."""
    if hierarchy is not None:
        ups, downs = hierarchy_maps(hierarchy)
        box_rows = expand_box_rows(box_rows, ups)
        label_rows = expand_label_rows(label_rows, ups, downs)
    cls_id = {c: k for k, c in enumerate(classes)}
    gt_images = sorted({r["ImageID"] for r in box_rows} | {r["ImageID"] for r in label_rows})
    per_image = {}
    num_gt = np.zeros(len(classes))
    boxes_of, labels_of, preds_of = {}, {}, {}  # rows by image, in file order
    for rows, by in ((box_rows, boxes_of), (label_rows, labels_of), (pred_rows, preds_of)):
        for r in rows:
            by.setdefault(r["ImageID"], []).append(r)
    for img in gt_images:
        rows = [r for r in boxes_of.get(img, []) if r["LabelName"] in cls_id]
        boxes = np.array([[r["YMin"], r["XMin"], r["YMax"], r["XMax"]] for r in rows], float)
        boxes = boxes.reshape(-1, 4)
        cls = np.array([cls_id[r["LabelName"]] for r in rows], int)
        group = np.array([int(r["IsGroupOf"]) for r in rows], int).astype(bool)
        verified = {
            cls_id[r["LabelName"]] for r in labels_of.get(img, []) if r["LabelName"] in cls_id
        }
        verified |= set(cls.tolist())
        per_image[img] = (boxes, cls, group, verified)
        for k in range(len(classes)):
            num_gt[k] += np.sum(cls[~group] == k) + weight * np.sum(cls[group] == k)
    scores = [[] for _ in classes]
    labels = [[] for _ in classes]
    for img in sorted(preds_of):
        if img not in per_image:
            continue
        boxes, cls, group, verified = per_image[img]
        rows = [r for r in preds_of[img] if r["LabelName"] in cls_id]
        rows = [r for r in rows if cls_id[r["LabelName"]] in verified]
        db = np.array([[r["YMin"], r["XMin"], r["YMax"], r["XMax"]] for r in rows], float)
        db = db.reshape(-1, 4)
        ds = np.array([r["Score"] for r in rows], float)
        dc = np.array([cls_id[r["LabelName"]] for r in rows], int)
        valid = (db[:, 0] < db[:, 2]) & (db[:, 1] < db[:, 3])
        db, ds, dc = db[valid], ds[valid], dc[valid]
        for k in range(len(classes)):
            s, lab = single_class(
                db[dc == k], ds[dc == k], boxes[cls == k], group[cls == k], thr, weight
            )
            if s.shape[0]:
                scores[k].append(s)
                labels[k].append(lab)
    ap = np.full(len(classes), np.nan)
    for k in range(len(classes)):
        if num_gt[k] == 0:
            continue
        s = np.concatenate(scores[k]) if scores[k] else np.zeros(0)
        lab = np.concatenate(labels[k]) if labels[k] else np.zeros(0)
        order = np.argsort(s)[::-1]
        lab = lab[order]
        ctp = np.cumsum(lab)
        cfp = np.cumsum((lab <= 0).astype(float))
        precision = ctp.astype(float) / (ctp + cfp)
        recall = ctp.astype(float) / num_gt[k]
        ap[k] = voc_all_point(precision, recall)
    with np.errstate(all="ignore"):
        m = float(np.nanmean(ap)) if not np.isnan(ap).all() else float("nan")
    return dict(zip(classes, ap.tolist())), m


def voc_all_point(precision, recall):
    if precision.size == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    idx = [i for i in range(1, len(r)) if r[i] != r[i - 1]]
    return float(np.sum(np.array([(r[i] - r[i - 1]) * p[i] for i in idx])))
