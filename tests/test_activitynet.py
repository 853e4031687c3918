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


# ---------------------------------------------------------------- COCO "interval" type
def test_coco_interval_iou_type_hand_case():
    from ioukit import coco
    from ioukit.coco._interval import interval_pairwise

    # one video (image), one class; GT [0, 10] and [20, 30] (the second a crowd region)
    def ann(i, seg, crowd=0):
        s, e = seg
        return {"id": i, "image_id": 1, "category_id": 1, "segment": [s, e],
                "bbox": [s, 0, e - s, 1], "area": e - s, "iscrowd": crowd}  # fmt: skip

    gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [ann(1, (0, 10)), ann(2, (20, 30), crowd=1)]}  # fmt: skip
    dt = [
        {"image_id": 1, "category_id": 1, "score": 0.9, "segment": [0, 8], "bbox": [0, 0, 8, 1]},
        {"image_id": 1, "category_id": 1, "score": 0.8, "segment": [2, 12], "bbox": [2, 0, 10, 1]},
        {"image_id": 1, "category_id": 1, "score": 0.7, "segment": [21, 25], "bbox": [21, 0, 4, 1]},
    ]
    # by hand: tIoU(dt0, gt0) = 8/10; dt1: 8/12 with gt0 (taken at every threshold where
    # dt0 matched); dt2 lies inside the crowd GT: inter / len_d = 1 -> ignored
    segs = np.array([d["segment"] for d in dt], float)
    m = interval_pairwise(segs, np.array([[0, 10], [20, 30]], float), np.array([False, True]))
    np.testing.assert_allclose(m, [[0.8, 0.0], [8 / 12, 0.0], [0.0, 1.0]], rtol=0, atol=1e-15)
    r = coco.evaluate(gt, dt, iou_type="interval", areaRng=[[0, 1e10]] * 4)
    # at tIoU 0.5..0.8: dt0 TP, dt1 FP -> AP 1 (101-point precision 1 up to recall 1);
    # above 0.8 dt1 (8/12) and dt0 miss -> AP 0
    thr = r.params.iouThrs
    for t, x in enumerate(thr):
        want = 1.0 if x <= 0.8 + 1e-12 else 0.0
        assert r.precision[t, :, 0, 0, 2].mean() == pytest.approx(want, abs=1e-12)


# ---------------------------------------------------------------- CLI
def _cli(*args):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "IOUKIT_DEBUG"}
    return subprocess.run([sys.executable, "-m", "ioukit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip


def test_cli_activitynet(tmp_path):
    gt, pred = make_activitynet(30, n_classes=5, preds_per_video=20, seed=3)
    g, p = tmp_path / "gt.json", tmp_path / "pred.json"
    g.write_text(json.dumps(gt))
    p.write_text(json.dumps(pred))
    out = _cli("eval", "--protocol", "activitynet", g, p, "--thumos14", "--json", "-")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    want = activitynet.evaluate(gt, pred, tiou_thresholds="thumos14")
    assert got["average_map"] == want.average_map and got["map"] == want.map.tolist()
    out = _cli("eval", "--protocol", "activitynet", g, p)
    assert out.returncode == 0 and want.summary().splitlines()[0][:20] in out.stdout
    out = _cli("eval", "--protocol", "activitynet", g, p, "--thumos14", "--iou-thrs", "0.5")
    assert out.returncode != 0 and "give one" in out.stderr
