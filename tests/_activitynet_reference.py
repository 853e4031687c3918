# Derived from ActivityNet Evaluation/eval_detection.py and Evaluation/utils.py (MIT
# License, the ActivityNet authors): https://github.com/activitynet/ActivityNet
"""Test oracle: the official ActivityNet detection evaluation, without pandas.

``segment_iou``, ``interpolated_prec_rec`` and ``compute_average_precision_detection``
are transcribed operation for operation (written from the reference, not from ioukit),
with the data frames replaced by arrays: the per-class rows keep the frame's row order
(JSON order), ``groupby('video-id')`` becomes a dict of row lists. ``kind`` is passed
to both ``argsort`` calls: the reference uses NumPy's default (an introsort, unstable
for arrays > 16 items); ``"stable"`` gives the order it has whenever NumPy keeps tied
values in input order, which is the order ioukit documents.

Also :func:`make_activitynet`: a generated ActivityNet-like pair (GT, predictions).
"""

import numpy as np


def segment_iou(target_segment, candidate_segments):
    tt1 = np.maximum(target_segment[0], candidate_segments[:, 0])
    tt2 = np.minimum(target_segment[1], candidate_segments[:, 1])
    segments_intersection = (tt2 - tt1).clip(0)
    segments_union = (
        (candidate_segments[:, 1] - candidate_segments[:, 0])
        + (target_segment[1] - target_segment[0])
        - segments_intersection
    )
    return segments_intersection.astype(float) / segments_union


def interpolated_prec_rec(prec, rec):
    mprec = np.hstack([[0], prec, [0]])
    mrec = np.hstack([[0], rec, [1]])
    for i in range(len(mprec) - 1)[::-1]:
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.where(mrec[1::] != mrec[0:-1])[0] + 1
    return np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])


def compute_average_precision_detection(gt, pred, tiou_thresholds, kind="stable"):
    """gt: dict video -> (G, 2) segments (rows in frame order) plus 'npos';
    pred: (video list, (N, 2) segments, (N,) scores) in frame order."""
    ap = np.zeros(len(tiou_thresholds))
    p_vid, p_seg, p_score = pred
    if len(p_score) == 0:
        return ap
    npos = float(gt["npos"])
    lock_gt = {v: np.ones((len(tiou_thresholds), len(s))) * -1 for v, s in gt["videos"].items()}
    sort_idx = p_score.argsort(kind=kind)[::-1]
    p_vid = [p_vid[i] for i in sort_idx]
    p_seg = p_seg[sort_idx]
    tp = np.zeros((len(tiou_thresholds), len(p_vid)))
    fp = np.zeros((len(tiou_thresholds), len(p_vid)))
    for idx in range(len(p_vid)):
        if p_vid[idx] not in gt["videos"]:
            fp[:, idx] = 1
            continue
        this_gt = gt["videos"][p_vid[idx]]
        lock = lock_gt[p_vid[idx]]
        tiou_arr = segment_iou(p_seg[idx], this_gt)
        tiou_sorted_idx = tiou_arr.argsort(kind=kind)[::-1]
        for tidx, tiou_thr in enumerate(tiou_thresholds):
            for jdx in tiou_sorted_idx:
                if tiou_arr[jdx] < tiou_thr:
                    fp[tidx, idx] = 1
                    break
                if lock[tidx, jdx] >= 0:
                    continue
                tp[tidx, idx] = 1
                lock[tidx, jdx] = idx
                break
            if fp[tidx, idx] == 0 and tp[tidx, idx] == 0:
                fp[tidx, idx] = 1
    tp_cumsum = np.cumsum(tp, axis=1).astype(float)
    fp_cumsum = np.cumsum(fp, axis=1).astype(float)
    recall_cumsum = tp_cumsum / npos
    precision_cumsum = tp_cumsum / (tp_cumsum + fp_cumsum)
    for tidx in range(len(tiou_thresholds)):
        ap[tidx] = interpolated_prec_rec(precision_cumsum[tidx, :], recall_cumsum[tidx, :])
    return ap


def anet_detection(gt_json, pred_json, tiou_thresholds, subset="validation", kind="stable"):
    """ANETdetection(...).evaluate() -> (ap [T, K], mAP [T], average_mAP)."""
    activity_index = {}
    per_class_gt = {}
    for videoid, v in gt_json["database"].items():
        if subset != v["subset"]:
            continue
        for ann in v["annotations"]:
            if ann["label"] not in activity_index:
                activity_index[ann["label"]] = len(activity_index)
            c = activity_index[ann["label"]]
            g = per_class_gt.setdefault(c, {"videos": {}, "npos": 0})
            g["videos"].setdefault(videoid, []).append(
                [float(ann["segment"][0]), float(ann["segment"][1])]
            )
            g["npos"] += 1
    for g in per_class_gt.values():
        g["videos"] = {k: np.array(s) for k, s in g["videos"].items()}
    per_class_pred = {c: ([], [], []) for c in activity_index.values()}
    for videoid, v in pred_json["results"].items():
        for result in v:
            vids, segs, scores = per_class_pred[activity_index[result["label"]]]
            vids.append(videoid)
            segs.append([float(result["segment"][0]), float(result["segment"][1])])
            scores.append(result["score"])
    ap = np.zeros((len(tiou_thresholds), len(activity_index)))
    for c in activity_index.values():
        vids, segs, scores = per_class_pred[c]
        pred = (vids, np.array(segs).reshape(-1, 2), np.array(scores, dtype=float))
        ap[:, c] = compute_average_precision_detection(per_class_gt[c], pred, tiou_thresholds, kind)
    m = ap.mean(axis=1)
    return ap, m, m.mean()


def make_activitynet(n_videos, n_classes=200, preds_per_video=100, seed=0):
    """An ActivityNet-like (GT, predictions) pair of dicts, with tied scores and ties in
    tIoU (integer-ish segments), videos of other subsets and predictions on them."""
    rng = np.random.default_rng(seed)
    classes = [f"action_{k:03d}" for k in range(n_classes)]
    database, results = {}, {}
    for v in range(n_videos):
        vid = f"v_{v:06d}"
        duration = float(rng.uniform(20, 240))
        cls = int(rng.integers(n_classes))
        anns = []
        for _ in range(int(rng.integers(1, 5))):
            c = cls if rng.random() < 0.85 else int(rng.integers(n_classes))
            s = float(np.round(rng.uniform(0, duration * 0.8), 1))
            e = float(np.round(min(duration, s + rng.uniform(1, duration * 0.5)), 1))
            anns.append({"segment": [s, max(e, s + 0.5)], "label": classes[c]})
        subset = "validation" if rng.random() < 0.9 else "training"
        database[vid] = {"subset": subset, "duration": duration, "annotations": anns}
        preds = []
        for _ in range(preds_per_video):
            if rng.random() < 0.5:
                a = anns[int(rng.integers(len(anns)))]
                c = a["label"] if rng.random() < 0.8 else classes[int(rng.integers(n_classes))]
                s0, e0 = a["segment"]
                d = e0 - s0
                s = s0 + rng.normal(0, 0.2) * d
                e = e0 + rng.normal(0, 0.2) * d
                if rng.random() < 0.3:  # snapped: exact ties in tIoU
                    s, e = np.round(s), np.round(e)
            else:
                c = classes[cls] if rng.random() < 0.5 else classes[int(rng.integers(n_classes))]
                s = rng.uniform(0, duration)
                e = s + rng.uniform(0.5, duration / 2)
            s, e = float(s), float(e)
            if e <= s:
                e = s + 0.5
            score = float(np.round(rng.random(), 3))  # ties across and within videos
            preds.append({"label": c, "score": score, "segment": [s, e]})
        results[vid] = preds
    # a class that only GT has (no predictions: AP 0) and a video only predictions have
    database["v_gt_only"] = {
        "subset": "validation",
        "annotations": [{"segment": [1.0, 2.0], "label": "only_in_gt"}],
    }
    results["v_unknown"] = [{"label": classes[0], "score": 0.999, "segment": [0.0, 5.0]}]
    return {"version": "generated", "taxonomy": [], "database": database}, {
        "version": "generated",
        "external_data": {},
        "results": results,
    }
