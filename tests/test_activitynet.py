"""ioukit.activitynet against a transcription of the official ActivityNet evaluation,
hand cases, the COCO-style "interval" IoU type and ``ioukit eval --protocol activitynet``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _activitynet_reference import anet_detection, make_activitynet
from ioukit import activitynet
from ioukit.errors import DatasetError, InvalidParameterError, UnknownIdError


@pytest.fixture(scope="module")
def generated():
    return make_activitynet(300, n_classes=40, preds_per_video=60, seed=11)


@pytest.mark.parametrize("preset", ["activitynet", "thumos14"])
def test_equals_the_official_semantics(generated, preset):
    gt, pred = generated
    thr = activitynet.PRESETS[preset]
    r = activitynet.evaluate(gt, pred, tiou_thresholds=preset)
    ap, m, avg = anet_detection(gt, pred, np.array(thr))
    assert r.ap.shape == ap.shape == (len(thr), len(r.labels))
    np.testing.assert_allclose(r.ap, ap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.map, m, rtol=0, atol=1e-12)
    assert abs(r.average_map - avg) <= 1e-12
    assert 0.05 < r.average_map < 0.95  # a set where matching matters
    assert r.ap[:, r.labels.index("only_in_gt")].tolist() == [0.0] * len(thr)


def test_subsets_and_files(generated, tmp_path):
    gt, pred = generated
    g, p = tmp_path / "gt.json", tmp_path / "pred.json"
    g.write_text(json.dumps(gt))
    p.write_text(json.dumps(pred))
    a = activitynet.evaluate(
        str(g), p, subset="training", tiou_thresholds=[0.5], unknown_labels="ignore"
    )
    ap, m, _ = anet_detection(gt, _known(pred, gt, "training"), np.array([0.5]), "training")
    np.testing.assert_allclose(a.ap, ap, rtol=0, atol=1e-12)
    # unknown labels: the official code raises; "ignore" skips those predictions
    with pytest.raises(UnknownIdError, match="results\\['v_"):
        activitynet.evaluate(gt, pred, subset="training")
    b = activitynet.evaluate(gt, _known(pred, gt, "training"), subset="training",
                             tiou_thresholds=[0.5])  # fmt: skip
    assert np.array_equal(b.ap, a.ap)


def _known(pred, gt, subset):
    labels = {a["label"] for v in gt["database"].values() if v["subset"] == subset
              for a in v["annotations"]}  # fmt: skip
    res = {k: [p for p in v if p["label"] in labels] for k, v in pred["results"].items()}
    return {"results": res}


def _one(segments_gt, preds, thr):
    gt = {"database": {"v": {"subset": "validation", "annotations": [
        {"segment": s, "label": "a"} for s in segments_gt]}}}  # fmt: skip
    pr = {"results": {"v": [{"label": "a", "score": sc, "segment": s} for s, sc in preds]}}
    return activitynet.evaluate(gt, pr, tiou_thresholds=thr)


def test_hand_cases():
    # two GT, three predictions: TP (tIoU 1), duplicate (FP: its GT is taken, the other
    # GT is below the threshold), TP on the second GT -> precision 1, 1/2, 2/3 at recall
    # 1/2, 1/2, 1: AP = 1/2 * 1 + 1/2 * 2/3
    r = _one([[0, 10], [20, 30]], [([0, 10], 0.9), ([1, 10], 0.8), ([21, 30], 0.7)], [0.5])
    assert r.ap[0, 0] == pytest.approx(0.5 + 1 / 3, abs=1e-15)
    # the best free GT is taken, not the best GT: the second prediction gets GT 2
    r = _one([[0, 10], [0, 8]], [([0, 10], 0.9), ([0, 9], 0.8)], [0.7])
    assert r.ap[0, 0] == 1.0
    # tIoU exactly at the threshold counts (>=): [0, 5] vs [0, 10] is 0.5
    assert _one([[0, 10]], [([0, 5], 0.9)], [0.5]).ap[0, 0] == 1.0
    # equal scores: the later prediction in the file comes first (argsort()[::-1]):
    # FP then TP -> precision 0, 1/2 at recall 0, 1: AP 1/2 (TP first would give 1)
    assert _one([[0, 10]], [([0, 10], 0.5), ([50, 60], 0.5)], [0.5]).ap[0, 0] == 0.5
    assert _one([[0, 10]], [([50, 60], 0.5), ([0, 10], 0.5)], [0.5]).ap[0, 0] == 1.0
    # no predictions at all
    assert _one([[0, 10]], [], [0.5]).ap[0, 0] == 0.0


def test_errors():
    gt = {"database": {"v": {"subset": "validation", "annotations": [
        {"segment": [5, 1], "label": "a"}]}}}  # fmt: skip
    with pytest.raises(DatasetError, match=r"database\['v'\] annotation 0: segment .* ends before"):
        activitynet.evaluate(gt, {"results": {}})
    gt["database"]["v"]["annotations"][0]["segment"] = [0, 1]
    with pytest.raises(DatasetError, match=r"results\['v'\]\[1\] has a non-finite score"):
        activitynet.evaluate(gt, {"results": {"v": [
            {"label": "a", "score": 0.5, "segment": [0, 1]},
            {"label": "a", "score": float("nan"), "segment": [0, 1]}]}})  # fmt: skip
    with pytest.raises(DatasetError, match="'results'"):
        activitynet.evaluate(gt, {"res": {}})
    with pytest.raises(InvalidParameterError):
        activitynet.evaluate(gt, {"results": {}}, tiou_thresholds="voc")
