"""Calibration (ECE / MCE, reliability bins) and per-image diagnostics: hand cases."""

from __future__ import annotations

import numpy as np
import pytest

from ioukit import tide
from ioukit.coco import evaluate as coco_evaluate
from ioukit.errors import InvalidParameterError, ShapeMismatchError
from ioukit.report import confusion_matrix


# ------------------------------------------------------------------ calibration
def test_ece_mce_by_hand():
    # 4 bins of width 0.25:
    #   [0, .25): 0.1 (wrong)           acc 0,   conf 0.1   gap 0.1
    #   [.25, .5): empty
    #   [.5, .75): 0.6 (right), 0.7 (wrong)  acc 0.5, conf 0.65  gap 0.15
    #   [.75, 1]: 0.8, 1.0 (right), 0.9 (wrong)  acc 2/3, conf 0.9  gap 0.9 - 2/3
    s = [0.1, 0.6, 0.7, 0.8, 1.0, 0.9]
    ok = [False, True, False, True, True, False]
    c = tide.calibration_error(s, ok, n_bins=4)
    assert c.count.tolist() == [1, 0, 2, 3]
    gaps = [0.1, 0.15, 0.9 - 2 / 3]
    assert c.ece == pytest.approx((1 * gaps[0] + 2 * gaps[1] + 3 * gaps[2]) / 6, abs=1e-15)
    assert c.mce == pytest.approx(0.9 - 2 / 3, abs=1e-15)
    assert np.isnan(c.accuracy[1]) and np.isnan(c.confidence[1])
    assert c.bin_edges.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert c.n == 6


def test_edges_are_left_closed_and_one_in_last_bin():
    c = tide.calibration_error([0.0, 0.5, 1.0], [1, 1, 1], n_bins=2)
    assert c.count.tolist() == [1, 2]  # 0.5 opens the second bin; 1.0 closes it


def test_perfectly_calibrated_and_empty():
    # every bin's accuracy equals its mean confidence
    c = tide.calibration_error([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0], n_bins=2)
    assert c.ece == pytest.approx(0.0, abs=1e-15) and c.mce == pytest.approx(0.0, abs=1e-15)
    e = tide.calibration_error([], [], n_bins=3)
    assert (e.ece, e.mce, e.n) == (0.0, 0.0, 0)


def test_calibration_errors():
    with pytest.raises(InvalidParameterError, match=r"scores\[1\]"):
        tide.calibration_error([0.5, 1.5], [1, 1])
    with pytest.raises(ShapeMismatchError):
        tide.calibration_error([0.5], [1, 1])
    with pytest.raises(InvalidParameterError, match="n_bins"):
        tide.calibration_error([0.5], [1], n_bins=0)


def _scene() -> tuple[dict, list]:
    # image 1: GT A (cat 1), crowd region (cat 1); image 2: GT B (cat 2); image 3: empty
    gt = {
        "images": [{"id": 1}, {"id": 2}, {"id": 3}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
             "area": 100, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50],
             "area": 2500, "iscrowd": 1},
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 10, 10],
             "area": 100, "iscrowd": 0},
        ],
    }  # fmt: skip
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 6], "score": 0.9},  # IoU .6: TP
        {"image_id": 1, "category_id": 1, "bbox": [110, 110, 5, 5], "score": 0.8},  # crowd
        {"image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.7},  # cls
        {"image_id": 3, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.3},  # bkg
    ]
    return gt, dt


def test_calibration_from_coco_matches():
    gt, dt = _scene()
    # at IoU 0.5: scores 0.9 (TP), 0.7 (FP), 0.3 (FP); 0.8 ignored on the crowd region
    c = tide.calibration(gt, dt, iou_threshold=0.5, n_bins=2)
    assert c.n == 3 and c.count.tolist() == [1, 2]
    assert c.accuracy.tolist() == [0.0, 0.5]
    assert c.ece == pytest.approx((0.3 + 2 * abs(0.5 - 0.8)) / 3, abs=1e-15)
    # at IoU 0.75 the first detection (IoU 0.6) is wrong too: accuracy 0 everywhere
    c75 = tide.calibration(gt, dt, iou_threshold=0.75, n_bins=2)
    assert c75.accuracy.tolist() == [0.0, 0.0] and c75.iou_threshold == 0.75
    # from a CocoResult with match records: the same bins
    r = coco_evaluate(gt, dt, keep_matches=True)
    assert tide.calibration(r, iou_threshold=0.5, n_bins=2).count.tolist() == [1, 2]
    with pytest.raises(InvalidParameterError, match="keep_matches"):
        tide.calibration(coco_evaluate(gt, dt), iou_threshold=0.5)


# -------------------------------------------------------------- per-image records
def test_worst_images_by_hand():
    gt, dt = _scene()
    r = tide.evaluate(gt, dt)
    by_ap = tide.worst_images(r, 3)
    # image 2: one Cls error, its GT unmatched -> AP over {cat 1: FP only, cat 2: GT only}
    # = 0; image 3: a Bkg FP on an image without GT -> 0; image 1: TP, crowd ignored -> 1
    assert [w["image_id"] for w in by_ap] == [2, 3, 1]
    assert [w["missed_ap"] for w in by_ap] == [1.0, 1.0, 0.0]
    w2 = by_ap[0]
    assert (w2["tp"], w2["fp"], w2["fn"], w2["n_gt"]) == (0, 1, 1, 1)
    assert w2["errors"] == {"Cls": 1}  # the GT is the Cls error's target: not a Miss
    assert w2["error_list"] == [("Cls", 1, 0.7, 3)]
    w1 = by_ap[2]
    assert (w1["tp"], w1["ignored"], w1["errors"]) == (1, 1, {"Bkg": 1})
    assert [w["image_id"] for w in tide.worst_images(r, 2, by="fn")] == [2, 1]
    with pytest.raises(InvalidParameterError, match="by"):
        tide.worst_images(r, by="score")


def test_image_ap_is_tides_ap_of_the_image_alone():
    # a two-image set where each image on its own is a TIDE evaluation
    from ioukit.synthetic import make_coco_dataset
    from ioukit.tide.diagnostics import image_table

    gt, dt = make_coco_dataset(n_images=6, n_categories=3, seed=4, polygons=False)
    t = image_table(tide.evaluate(gt, dt))
    for k, im in enumerate(gt["images"][:3]):
        g1 = {
            **gt,
            "images": [im],
            "annotations": [a for a in gt["annotations"] if a["image_id"] == im["id"]],
        }
        d1 = [d for d in dt if d["image_id"] == im["id"]]
        one = tide.evaluate(g1, d1)
        assert t["ap"][k] == pytest.approx(one.ap, abs=1e-12)
        assert t["fp"][k] == int(np.sum(one.detections["status"] == 0))


def test_confusion_at_tau_shares_the_matching():
    # the report's class confusion matrix at IoU tau: the dog detection on the cat GT
    gt, dt = _scene()
    cm = confusion_matrix(gt, dt, iou_threshold=0.5)
    # rows GT (cat, dog, background), columns predicted
    assert cm.matrix.tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0]]
    # at tau = 0.75 the 0.6-IoU cat detection no longer matches
    assert confusion_matrix(gt, dt, iou_threshold=0.75).matrix[0].tolist() == [0, 0, 1]
