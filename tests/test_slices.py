"""Sliced COCO evaluation (ioukit.coco.evaluate_slices): whole-set slices bit for bit,
size slices against COCO's area ranges, image subsets against pycocotools' imgIds,
and hand-worked cases of each rule."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest

from ioukit import coco
from ioukit.errors import InvalidParameterError, MissingFieldError
from ioukit.synthetic import make_coco_dataset


@pytest.fixture(scope="module")
def data():
    gt, dt = make_coco_dataset(n_images=60, n_categories=6, seed=11)
    rng = np.random.default_rng(0)
    for im in gt["images"]:
        im["weather"] = ["sun", "rain", "fog"][int(rng.integers(3))]
        im["tags"] = [t for t in ("indoor", "blurry", "night") if rng.random() < 0.4]
    for a in gt["annotations"]:
        a["occluded"] = int(rng.integers(3))
    return gt, dt


def _same(a: coco.CocoResult, b: coco.CocoResult, area_a: int = 0, area_b: int = 0) -> None:
    np.testing.assert_array_equal(a.precision[..., area_a, :], b.precision[..., area_b, :])
    np.testing.assert_array_equal(a.recall[..., area_a, :], b.recall[..., area_b, :])
    np.testing.assert_array_equal(a.scores[..., area_a, :], b.scores[..., area_b, :])


def test_a_slice_of_everything_is_the_whole_set_bit_for_bit(data):
    gt, dt = data
    whole = coco.evaluate(gt, dt)
    every_image = {im["id"]: "all" for im in gt["images"]}
    r = coco.evaluate_slices(gt, dt, every_image)["all"]
    _same(r, whole, slice(None), slice(None))
    np.testing.assert_array_equal(r.stats, whole.stats)
    n_ann = len(gt["annotations"])
    for kw in ({}, {"dt_values": ["x"] * len(dt)}):
        r = coco.evaluate_slices(gt, dt, ["x"] * n_ann, **kw)["x"]
        _same(r, whole, slice(None), slice(None))
        np.testing.assert_array_equal(r.stats, whole.stats)
    r = coco.evaluate_slices(gt, dt, "size", bins={"any": (0, 1e10)})["any"]
    np.testing.assert_array_equal(r.stats, whole.stats)


def test_size_slices_are_cocos_area_ranges(data):
    gt, dt = data
    whole = coco.evaluate(gt, dt)
    s = coco.evaluate_slices(gt, dt, "size")
    assert list(s) == ["small", "medium", "large"]
    for a, name in enumerate(("small", "medium", "large"), start=1):
        _same(s[name], whole, 0, a)  # the slice's "all" range == COCO's range `name`
    assert s["small"].stats[0] == whole.stats[3] and s["large"].stats[0] == whole.stats[5]


def test_image_slices_are_pycocotools_image_subsets(data):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, dt = data
    s = coco.evaluate_slices(gt, dt, "weather")
    assert list(s) == ["fog", "rain", "sun"]
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dt))
        for name, r in s.items():
            e = COCOeval(cg, cd, "bbox")
            e.params.imgIds = [im["id"] for im in gt["images"] if im["weather"] == name]
            e.evaluate()
            e.accumulate()
            e.summarize()
            np.testing.assert_array_equal(r.stats, e.stats)
            np.testing.assert_array_equal(r.precision, e.eval["precision"])
    # a list of tags puts an image in several slices
    t = coco.evaluate_slices(gt, dt, "tags")
    assert set(t) <= {"indoor", "blurry", "night"} and len(t) >= 2
    n_night = sum("night" in im["tags"] for im in gt["images"])
    assert len(t["night"].params.imgIds) == n_night


def _hand():
    # one image, one category; GT A (not occluded) and B (occluded), far apart
    gt = {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 1}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 10, 10],
                "area": 100,
                "iscrowd": 0,
                "occ": "no",
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 1,
                "bbox": [50, 50, 10, 10],
                "area": 100,
                "iscrowd": 0,
                "occ": "yes",
            },
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},  # hits A
        {"image_id": 1, "category_id": 1, "bbox": [25, 25, 10, 10], "score": 0.8},  # nothing
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.7},  # hits B
    ]
    return gt, dt


def test_annotation_field_slices_by_hand():
    gt, dt = _hand()
    s = coco.evaluate_slices(gt, dt, "occ")
    # "no": A counted, B ignored. Ranked: TP (A), FP (unmatched, no value), ignored
    # (matched to B, ignored) -> precision 1 up to recall 1 -> AP 1 at every threshold
    assert s["no"].stats[0] == pytest.approx(1.0, abs=1e-12) and s["no"].num_gt.tolist() == [1]
    # "yes": the hit on A matches an ignored GT (ignored); then FP, then TP (B):
    # precision 1/2 at recall 1 -> AP 0.5 at every threshold
    assert s["yes"].stats[0] == pytest.approx(0.5, abs=1e-15)
    # with a value per detection, the unmatched detection (value "no") is ignored in "yes"
    s = coco.evaluate_slices(gt, dt, "occ", dt_values=["no", "no", "yes"])
    assert s["yes"].stats[0] == pytest.approx(1.0, abs=1e-12)
    assert s["no"].stats[0] == pytest.approx(1.0, abs=1e-12)
    # the same through a callable on annotations and a mapping by annotation id
    s2 = coco.evaluate_slices(gt, dt, lambda a: a["occ"], level="annotation")
    s3 = coco.evaluate_slices(gt, dt, {1: "no", 2: "yes"}, level="annotation")
    for s_ in (s2, s3):
        assert s_["yes"].stats[0] == pytest.approx(0.5, abs=1e-15)
        assert s_["no"].stats[0] == pytest.approx(1.0, abs=1e-12)


def test_density_and_aspect_by_hand():
    gt, dt = _hand()
    # image 1 holds 2 objects, image 2 none: bins "0" and "2-5" are non-empty
    d = coco.evaluate_slices(gt, dt, "density")
    assert list(d) == ["0", "1", "2-5", "6-10", "11+"]
    assert d["2-5"].params.imgIds == [1] and d["0"].params.imgIds == [2]
    assert d["1"].stats[0] == -1  # no GT: COCO's -1
    # aspect: every box is square (1.0) -> in "0.5-1" and "1-2" (closed bins), not ">2"
    a = coco.evaluate_slices(gt, dt, "aspect")
    assert a["1-2"].stats[0] == coco.evaluate(gt, dt).stats[0]
    assert a[">2"].num_gt.tolist() == [0] and a[">2"].stats[0] == -1
    # explicit edges
    e = coco.evaluate_slices(gt, dt, "aspect", bins=[0, 0.9, 1.1])
    assert list(e) == ["0-0.9", "0.9-1.1"] and e["0.9-1.1"].num_gt.tolist() == [2]


def test_slice_errors():
    gt, dt = _hand()
    with pytest.raises(MissingFieldError, match="nope"):
        coco.evaluate_slices(gt, dt, "nope")
    with pytest.raises(InvalidParameterError, match="values for 2 GT"):
        coco.evaluate_slices(gt, dt, ["a"])
    with pytest.raises(InvalidParameterError, match="level"):
        coco.evaluate_slices(gt, dt, {1: "a"}, level="pixel")
    with pytest.raises(InvalidParameterError, match="edges"):
        coco.evaluate_slices(gt, dt, "aspect", bins=[1.0])


def test_cli_slice_by(tmp_path, data):
    import json
    import os
    import subprocess
    import sys

    gt, dt = data
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    env = {k: v for k, v in os.environ.items() if k != "IOUKIT_DEBUG"}
    cmd = [sys.executable, "-m", "ioukit.cli", "eval", tmp_path / "gt.json", tmp_path / "dt.json"]
    p = subprocess.run(
        [*map(str, cmd), "--slice-by", "weather", "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    assert "By weather" in p.stdout
    want = coco.evaluate_slices(gt, dt, "weather")
    rows = json.loads((tmp_path / "o.json").read_text())["slices"]
    assert [r["slice"] for r in rows] == list(want)
    for r in rows:
        s = want[r["slice"]].stats
        assert (r["AP"], r["AP50"], r["AR100"]) == (s[0], s[1], s[8])
        assert f"{s[0]:.3f}" in p.stdout
    p = subprocess.run(
        [*map(str, cmd), "--slice-by", "occluded:0,0.5,2", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    want = coco.evaluate_slices(gt, dt, "occluded", bins=[0, 0.5, 2])
    got = json.loads(p.stdout)["slices"]
    assert [r["AP"] for r in got] == [float(want[k].stats[0]) for k in want]
