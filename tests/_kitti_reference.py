"""An independent transcription of kitti-object-eval-python's eval.py (per frame, plain
Python), for the differential test in test_kitti.py. Overlaps come from shapely (BEV
polygons x height) and a plain loop (2-D boxes), not from ioukit."""

from __future__ import annotations

import numpy as np
import shapely

MIN_HEIGHT = [40, 25, 25]
MAX_OCCLUSION = [0, 1, 2]
MAX_TRUNCATION = [0.15, 0.3, 0.5]


def clean_data(gt, dt, cls, difficulty):
    cur = cls.lower()
    ignored_gt, ignored_dt, dc = [], [], []
    n_valid = 0
    for i in range(len(gt["name"])):
        name = gt["name"][i].lower()
        height = gt["bbox"][i][3] - gt["bbox"][i][1]
        if name == cur:
            valid = 1
        elif (cur == "pedestrian" and name == "person_sitting") or (cur == "car" and name == "van"):
            valid = 0
        else:
            valid = -1
        ignore = (
            gt["occluded"][i] > MAX_OCCLUSION[difficulty]
            or gt["truncated"][i] > MAX_TRUNCATION[difficulty]
            or height <= MIN_HEIGHT[difficulty]
        )
        if valid == 1 and not ignore:
            ignored_gt.append(0)
            n_valid += 1
        elif valid == 0 or (ignore and valid == 1):
            ignored_gt.append(1)
        else:
            ignored_gt.append(-1)
        if gt["name"][i] == "DontCare":
            dc.append(gt["bbox"][i])
    for i in range(len(dt["name"])):
        valid = 1 if dt["name"][i].lower() == cur else -1
        height = abs(dt["bbox"][i][3] - dt["bbox"][i][1])
        if height < MIN_HEIGHT[difficulty]:
            ignored_dt.append(1)
        elif valid == 1:
            ignored_dt.append(0)
        else:
            ignored_dt.append(-1)
    return n_valid, ignored_gt, ignored_dt, dc


def image_overlap(a, b, criterion=-1):
    out = np.zeros((len(a), len(b)))
    for n in range(len(a)):
        for k in range(len(b)):
            iw = min(a[n][2], b[k][2]) - max(a[n][0], b[k][0])
            if iw > 0:
                ih = min(a[n][3], b[k][3]) - max(a[n][1], b[k][1])
                if ih > 0:
                    area_a = (a[n][2] - a[n][0]) * (a[n][3] - a[n][1])
                    area_b = (b[k][2] - b[k][0]) * (b[k][3] - b[k][1])
                    ua = area_a + area_b - iw * ih if criterion == -1 else area_a
                    out[n, k] = iw * ih / ua
    return out


def _footprint(loc, dim, ry):
    # camera x-z plane; corners rotated by ry about y as the devkit does
    h, w, l_ = dim
    c, s = np.cos(ry), np.sin(ry)
    pts = [
        (x * c + z * s + loc[0], -x * s + z * c + loc[2])
        for x, z in ((l_ / 2, w / 2), (l_ / 2, -w / 2), (-l_ / 2, -w / 2), (-l_ / 2, w / 2))
    ]
    return shapely.Polygon(pts)


def box3d_overlap(dt, gt, bev):
    out = np.zeros((len(dt["name"]), len(gt["name"])))
    for j in range(len(dt["name"])):
        pj = _footprint(dt["location"][j], dt["dimensions"][j], dt["rotation_y"][j])
        for i in range(len(gt["name"])):
            if min(gt["dimensions"][i]) <= 0:
                continue
            pi = _footprint(gt["location"][i], gt["dimensions"][i], gt["rotation_y"][i])
            inter = pj.intersection(pi).area
            if bev:
                out[j, i] = inter / (pj.area + pi.area - inter)
                continue
            yj, yi = dt["location"][j][1], gt["location"][i][1]
            iw = min(yj, yi) - max(yj - dt["dimensions"][j][0], yi - gt["dimensions"][i][0])
            if iw > 0 and inter > 0:
                inc = iw * inter
                va = np.prod(dt["dimensions"][j])
                vb = np.prod(gt["dimensions"][i])
                out[j, i] = inc / (va + vb - inc)
    return out


def compute_statistics(ov, gt_ign, dt_ign, scores, dc_ov, min_overlap, thresh, compute_fp, use_dc):
    nd, ng = len(dt_ign), len(gt_ign)
    assigned = [False] * nd
    ign_thr = [compute_fp and scores[j] < thresh for j in range(nd)]
    NO = -10000000
    tp = fp = fn = 0
    th = []
    for i in range(ng):
        if gt_ign[i] == -1:
            continue
        det, valid, max_ov, assigned_ign = -1, NO, 0, False
        for j in range(nd):
            if dt_ign[j] == -1 or assigned[j] or ign_thr[j]:
                continue
            o = ov[j, i]
            if not compute_fp and o > min_overlap and scores[j] > valid:
                det, valid = j, scores[j]
            elif compute_fp and o > min_overlap and (o > max_ov or assigned_ign) and dt_ign[j] == 0:
                max_ov, det, valid, assigned_ign = o, j, 1, False
            elif compute_fp and o > min_overlap and valid == NO and dt_ign[j] == 1:
                det, valid, assigned_ign = j, 1, True
        if valid == NO and gt_ign[i] == 0:
            fn += 1
        elif valid != NO and (gt_ign[i] == 1 or dt_ign[det] == 1):
            assigned[det] = True
        elif valid != NO:
            tp += 1
            th.append(scores[det])
            assigned[det] = True
    if compute_fp:
        for j in range(nd):
            if not (assigned[j] or dt_ign[j] == -1 or dt_ign[j] == 1 or ign_thr[j]):
                fp += 1
        nstuff = 0
        if use_dc:
            for i in range(dc_ov.shape[1]):
                for j in range(nd):
                    if assigned[j] or dt_ign[j] in (-1, 1) or ign_thr[j]:
                        continue
                    if dc_ov[j, i] > min_overlap:
                        assigned[j] = True
                        nstuff += 1
        fp -= nstuff
    return tp, fp, fn, th


def get_thresholds(scores, num_gt, pts=41):
    scores = sorted(scores, reverse=True)
    cur, out = 0.0, []
    for i, s in enumerate(scores):
        lr = (i + 1) / num_gt
        rr = (i + 2) / num_gt if i < len(scores) - 1 else lr
        if (rr - cur) < (cur - lr) and i < len(scores) - 1:
            continue
        out.append(s)
        cur += 1 / (pts - 1.0)
    return out


def evaluate(gts, dts, cls, metric, min_overlap):
    """(R11, R40) arrays over the 3 difficulties for one class and metric."""
    ovs = []
    for g, d in zip(gts, dts):
        if metric == "bbox":
            ovs.append(image_overlap(d["bbox"], g["bbox"]))
        else:
            ovs.append(box3d_overlap(d, g, metric == "bev"))
    r11, r40 = np.zeros(3), np.zeros(3)
    for diff in range(3):
        data = [clean_data(g, d, cls, diff) for g, d in zip(gts, dts)]
        n_valid = sum(x[0] for x in data)
        scores = []
        for (_, gi, di, _dc), d, ov in zip(data, dts, ovs):
            scores += compute_statistics(
                ov, gi, di, d["score"], None, min_overlap, 0, False, False
            )[3]
        thr = get_thresholds(scores, n_valid) if n_valid else []
        prec = np.zeros(41)
        for t, th in enumerate(thr):
            tp = fp = 0
            for (_, gi, di, dc), d, ov in zip(data, dts, ovs):
                dc_ov = image_overlap(d["bbox"], dc, 0) if dc else np.zeros((len(di), 0))
                a, b, _, _ = compute_statistics(
                    ov, gi, di, d["score"], dc_ov, min_overlap, th, True, metric == "bbox"
                )
                tp, fp = tp + a, fp + b
            prec[t] = tp / (tp + fp)
        for i in range(len(thr)):
            prec[i] = np.max(prec[i:])
        r11[diff] = sum(prec[i] for i in range(0, 41, 4)) / 11
        r40[diff] = sum(prec[i] for i in range(1, 41)) / 40
    return r11, r40
