"""ioukit.dota against an independent reimplementation of the DOTA devkit and hand values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from _dota_reference import generate, voc_eval
from ioukit.cli import main as cli_main
from ioukit.dota import evaluate
from ioukit.errors import DatasetError, InvalidParameterError, UnknownIdError


@pytest.mark.parametrize(("metric", "use07"), [("voc07", True), ("voc12", False)])
def test_generated_set_equals_devkit_semantics(metric, use07):
    labels, results = generate(np.random.default_rng(15), 120)
    r = evaluate(labels, results, metric=metric)
    assert set(r.ap) == {"bridge", "car", "plane", "ship"}
    for c, ap in r.ap.items():
        assert ap == pytest.approx(voc_eval(labels, results[c], c, 0.5, use07), abs=1e-12)
    assert 0.2 < r.map < 0.95  # a set where matching decisions matter


@pytest.mark.slow
def test_500_image_set_equals_devkit_semantics():
    labels, results = generate(np.random.default_rng(500), 500)
    for metric, use07 in (("voc07", True), ("voc12", False)):
        r = evaluate(labels, results, metric=metric)
        for c, ap in r.ap.items():
            assert ap == pytest.approx(voc_eval(labels, results[c], c, 0.5, use07), abs=1e-12)


def test_other_threshold_and_files(tmp_path):
    labels, results = generate(np.random.default_rng(7), 40)
    (tmp_path / "labelTxt").mkdir()
    for img, text in labels.items():
        (tmp_path / "labelTxt" / f"{img}.txt").write_text(text)
    for c, text in results.items():
        (tmp_path / f"Task1_{c}.txt").write_text(text)
    r = evaluate(tmp_path / "labelTxt", str(tmp_path / "Task1_{:s}.txt"), iou_threshold=0.7)
    for c, ap in r.ap.items():
        assert ap == pytest.approx(voc_eval(labels, results[c], c, 0.7, True), abs=1e-12)
    (tmp_path / "set.txt").write_text("\n".join(sorted(labels)[:5]) + "\n")
    with pytest.raises(UnknownIdError, match="not in the label set"):
        evaluate(
            tmp_path / "labelTxt", str(tmp_path / "Task1_{cls}.txt"), image_set=tmp_path / "set.txt"
        )


# One image: cars A and C (non-difficult), car B (difficult); detections by score:
# d1 on B (ignored), d2 on A (TP), d3 on nothing (FP), d4 on A again (FP, A is taken).
# tp = [0, 1, 1, 1], fp = [0, 0, 1, 2], npos = 2: rec = [0, .5, .5, .5],
# prec = [0, 1, .5, 1/3]. 11-point: t = 0 .. 0.5 see precision 1 (6 points), t >= 0.6
# none: AP = 6/11. All-point: 0.5 * 1 + 0.5 * 0 = 0.5.
GOLDEN_LABELS = {
    "P1": "0 0 10 0 10 10 0 10 car 0\n20 0 30 0 30 10 20 10 car 1\n40 0 50 0 50 10 40 10 car\n"
}
GOLDEN_RESULTS = {
    "car": "P1 0.9 20 0 30 0 30 10 20 10\n"
    "P1 0.8 0 0 10 0 10 10 0 10\n"
    "P1 0.7 100 100 110 100 110 110 100 110\n"
    "P1 0.6 1 0 10 0 10 10 1 10\n"
}


def test_golden_difficult_and_11_point():
    r = evaluate(GOLDEN_LABELS, GOLDEN_RESULTS)
    assert r.ap["car"] == pytest.approx(6 / 11, abs=1e-15)
    assert r.num_gt.tolist() == [2] and r.num_difficult.tolist() == [1]
    assert r.curves()["car"]["tp"].tolist() == [0, 1, 1, 1]
    assert evaluate(GOLDEN_LABELS, GOLDEN_RESULTS, metric="voc12").ap["car"] == 0.5


def test_golden_strict_threshold():
    # detection [0,2]x[0,1] inside GT [0,2]x[0,2]: IoU exactly 2/4 = 0.5, not > 0.5
    labels = {"P1": "0 0 2 0 2 2 0 2 car 0\n"}
    results = {"car": "P1 0.9 0 0 2 0 2 1 0 1\n"}
    assert evaluate(labels, results).ap["car"] == 0.0
    assert evaluate(labels, results, iou_threshold=0.49).ap["car"] == pytest.approx(1.0, abs=1e-15)


def test_rotated_boxes_cross_not_matched():
    # GT and detection are the same 40 x 10 bar turned 90 degrees: hbb IoU 1/4 of
    # nothing useful, polygon IoU 100 / 700
    labels = {"P1": "0 15 40 15 40 25 0 25 bridge 0\n"}
    results = {"bridge": "P1 0.9 15 0 25 0 25 40 15 40\n"}
    assert evaluate(labels, results, iou_threshold=0.1).ap["bridge"] == pytest.approx(1, abs=1e-15)
    assert evaluate(labels, results, iou_threshold=0.15).ap["bridge"] == 0.0


def test_errors_and_empty():
    with pytest.raises(InvalidParameterError, match="metric"):
        evaluate(GOLDEN_LABELS, GOLDEN_RESULTS, metric="coco")
    with pytest.raises(DatasetError, match=r"results\['car'\] line 1: expected"):
        evaluate(GOLDEN_LABELS, {"car": "P1 0.9 1 2 3\n"})
    with pytest.raises(DatasetError, match=r"labels\['P1'\] line 1"):
        evaluate({"P1": "0 0 a 0 2 2 0 2 car\n"}, {"car": ""})
    with pytest.raises(InvalidParameterError, match="has no"):
        evaluate(GOLDEN_LABELS, "det.txt")
    with pytest.raises(FileNotFoundError, match="label folder"):
        evaluate("/nonexistent", "det_{cls}.txt")
    r = evaluate(GOLDEN_LABELS, {"car": "", "ship": ""}, classes=["car", "ship"])
    assert r.ap["car"] == 0.0 and math.isnan(r.ap["ship"]) and r.map == 0.0


def test_cli(tmp_path, capsys):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "P1.txt").write_text(GOLDEN_LABELS["P1"])
    (tmp_path / "Task1_car.txt").write_text(GOLDEN_RESULTS["car"])
    pattern = str(tmp_path / "Task1_{cls}.txt")
    out = tmp_path / "out.json"
    rc = cli_main(
        ["eval", "--protocol", "dota", str(tmp_path / "labels"), pattern, "--json", str(out)]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "car" in text and "0.5455" in text
    assert json.loads(out.read_text())["ap"]["car"] == pytest.approx(6 / 11, abs=1e-15)
    rc = cli_main(
        ["eval", "--protocol", "dota", str(tmp_path / "labels"), pattern, "--metric", "voc12"]
    )
    assert rc == 0 and "0.5000" in capsys.readouterr().out
