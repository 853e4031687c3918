# Derived from py-faster-rcnn lib/datasets/voc_eval.py (MIT License, Copyright (c) 2015
# Microsoft; written by Bharath Hariharan).
"""Test oracle: a Py3 transcription of py-faster-rcnn ``lib/datasets/voc_eval.py``.

``voc_ap`` and ``voc_eval``'s matching, in memory: the same NumPy operations in the same
order (written from the reference, not from ioukit). Options: ``eps_guard=True`` gives
Detectron's precision line, ``ge=True`` the MATLAB devkit's ``>=``, and ``kind`` is passed
to ``np.argsort`` (None, the default, is py-faster-rcnn's unstable sort; "stable" is the
devkit's order among tied scores: a deviation from py-faster-rcnn, used only on data
with ties). Copied from the issue-14 research notes (voc_ref.py), plus ``kind``.
"""

import numpy as np


def voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            if np.sum(rec >= t) == 0:
                p = 0
            else:
                p = np.max(prec[rec >= t])
            ap = ap + p / 11.0
    else:
        mrec = np.concatenate(([0.0], rec, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        for i in range(mpre.size - 1, 0, -1):
            mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
        i = np.where(mrec[1:] != mrec[:-1])[0]
        ap = np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])
    return ap


def voc_eval_mem(
    gts, dets, ovthresh=0.5, use_07_metric=False, eps_guard=False, ge=False, kind=None
):
    """gts: {image: [(x1,y1,x2,y2,difficult), ...]} for ONE class;
    dets: [(image, score, x1,y1,x2,y2)]"""
    class_recs, npos = {}, 0
    for img, R in gts.items():
        bbox = np.array([r[:4] for r in R])
        difficult = np.array([r[4] for r in R]).astype(bool)
        npos = npos + sum(~difficult)
        class_recs[img] = {"bbox": bbox, "difficult": difficult, "det": [False] * len(R)}
    image_ids = [d[0] for d in dets]
    confidence = np.array([float(d[1]) for d in dets])
    BB = np.array([[float(z) for z in d[2:]] for d in dets])
    sorted_ind = np.argsort(-confidence, kind=kind)
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R["bbox"].astype(float)
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0)
                - inters
            )
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if (ovmax >= ovthresh) if ge else (ovmax > ovthresh):
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps) if eps_guard else tp / (tp + fp)
    return rec, prec, voc_ap(rec, prec, use_07_metric)
