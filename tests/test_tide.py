"""ioukit.tide.evaluate against tidecv 1.0.1 (tests/_tide_oracle.py) and hand cases."""

from __future__ import annotations

import os

import numpy as np
import pytest

import _tide_oracle as oracle
from ioukit import tide
from ioukit.errors import InvalidParameterError
from ioukit.synthetic import make_coco_dataset, write_coco_dataset

TOL = 1e-9  # fractions; the bar is 1e-6


def _check(res: tide.TideResult, ref: tuple, tol: float = TOL) -> None:
    ap, main, special = ref
    assert res.ap == pytest.approx(ap / 100, abs=tol)
    for k in tide.MAIN_ERRORS:
        assert res.main_errors[k] == pytest.approx(main[k] / 100, abs=tol), k
    for k in tide.SPECIAL_ERRORS:
        assert res.special_errors[k] == pytest.approx(special[k] / 100, abs=tol), k


# ------------------------------------------------------------------ tidecv oracle
def test_coco_val2014_100_bbox(coco100):
    oracle.require()
    g = str(coco100 / "instances_val2014_100.json")
    d = str(coco100 / "instances_val2014_fakebbox100_results.json")
    res = tide.evaluate(g, d)
    _check(res, oracle.run_files(g, d))
    assert res.name == "instances_val2014_fakebbox100_results"


@pytest.mark.parametrize(
    ("pos", "bg", "dets"), [(0.5, 0.1, 27.0), (0.75, 0.25, 100.0), (0.3, 0.0, 12.0)]
)
def test_synthetic_against_tidecv(pos, bg, dets):
    oracle.require()
    gt, dt = make_coco_dataset(
        n_images=60 if dets >= 100 else 150, n_categories=12, dets_per_image=dets,
        polygons=False, seed=7,
    )  # fmt: skip
    _check(tide.evaluate(gt, dt, pos_threshold=pos, background_threshold=bg),
           oracle.run(gt, dt, pos, bg))  # fmt: skip


def test_synthetic_files_with_polygons(tmp_path):
    # the JSON path (ioukit's loader, tidecv's own COCO loaders)
    oracle.require()
    g, d = write_coco_dataset(tmp_path, n_images=80, n_categories=10, seed=11)
    _check(tide.evaluate(g, d), oracle.run_files(g, d))


def _scene(rng: np.random.Generator, n_img: int = 4, n_cat: int = 3) -> tuple[dict, list]:
    """Tiny scenes on an integer grid: tied IoUs, tied scores, crowd regions, images
    without GT, categories without GT."""
    images = [{"id": i + 1, "width": 100, "height": 100} for i in range(n_img)]
    cats = [{"id": c + 1, "name": f"c{c + 1}"} for c in range(n_cat)]
    anns, dts = [], []
    for im in images:
        if rng.random() < 0.15:
            n_g = 0
        else:
            n_g = int(rng.integers(1, 5))
        for _ in range(n_g):
            x, y = (int(v) for v in rng.integers(0, 6, 2) * 5)
            w, h = (int(v) for v in rng.integers(1, 4, 2) * 5)
            crowd = int(rng.random() < 0.15)
            if crowd:
                w, h = w * 3, h * 3
            anns.append(
                {"id": len(anns) + 1, "image_id": im["id"],
                 "category_id": int(rng.integers(1, n_cat)), "bbox": [x, y, w, h],
                 "area": float(w * h), "iscrowd": crowd}
            )  # fmt: skip
        for _ in range(int(rng.integers(0, 8))):
            x, y = (int(v) for v in rng.integers(0, 6, 2) * 5)
            w, h = (int(v) for v in rng.integers(1, 4, 2) * 5)
            dts.append(
                {"image_id": im["id"], "category_id": int(rng.integers(1, n_cat + 1)),
                 "bbox": [x, y, w, h], "score": float(rng.integers(1, 6)) / 5}
            )  # fmt: skip
    return {"images": images, "categories": cats, "annotations": anns}, dts


@pytest.mark.parametrize("seed", range(12))
def test_tiny_scenes_against_tidecv(seed):
    oracle.require()
    rng = np.random.default_rng(seed)
    gt, dt = _scene(rng)
    if not dt and not any(not a["iscrowd"] for a in gt["annotations"]):
        pytest.skip("tidecv divides by zero without data points")
    pos, bg, md = [(0.5, 0.1, 100), (0.4, 0.2, 3), (0.6, 0.0, 5)][seed % 3]
    res = tide.evaluate(gt, dt, pos_threshold=pos, background_threshold=bg, max_dets=md)
    _check(res, oracle.run(gt, dt, pos, bg, max_dets=md))


def test_many_detections_per_image_are_cut():
    # more than max_dets per image: the cut is across categories, best score first
    oracle.require()
    gt, dt = make_coco_dataset(n_images=8, n_categories=5, dets_per_image=100, seed=2,
                               polygons=False)  # fmt: skip
    extra = [{**d, "score": round(d["score"] * 0.9, 3)} for d in dt[::2]]
    _check(tide.evaluate(gt, dt + extra), oracle.run(gt, dt + extra))


# ------------------------------------------------------------------- hand cases
def _gt(*anns: tuple, cats: int = 2, images: int = 1) -> dict:
    return {
        "images": [{"id": i + 1} for i in range(images)],
        "categories": [{"id": c + 1} for c in range(cats)],
        "annotations": [
            {"id": k + 1, "image_id": im, "category_id": c, "bbox": list(b),
             "area": float(b[2] * b[3]), "iscrowd": crowd}
            for k, (im, c, b, crowd) in enumerate(anns)
        ],
    }  # fmt: skip


def _dt(*rows: tuple) -> list:
    return [{"image_id": im, "category_id": c, "bbox": list(b), "score": s}
            for im, c, b, s in rows]  # fmt: skip


def test_hand_duplicate_and_localisation():
    # one GT; detections: TP (0.9), duplicate (0.8, IoU 0.8), a loose box (IoU 0.25)
    gt = _gt((1, 1, (0, 0, 10, 10), 0), cats=1)
    dt = _dt((1, 1, (0, 0, 10, 8), 0.9), (1, 1, (0, 2, 10, 8), 0.8), (1, 1, (0, 0, 10, 2.5), 0.7))
    r = tide.evaluate(gt, dt)
    assert r.counts == {"Cls": 0, "Loc": 1, "Both": 0, "Dupe": 1, "Bkg": 0, "Miss": 0}
    # AP: the TP ranks first and recall reaches 1: AP 1, nothing to gain
    assert r.ap == pytest.approx(1.0)
    assert r.main_errors["Dupe"] == 0.0 and r.main_errors["Loc"] == 0.0
    # the Loc error points at a matched GT: its fix is suppressed (dropped)
    assert r.detections["error"].tolist() == ["", "Dupe", "Loc"]


def test_hand_miss_and_false_negative():
    # two GT of one class, one found: AP = 51/101 (precision 1 up to recall 0.5)
    gt = _gt((1, 1, (0, 0, 10, 10), 0), (1, 1, (50, 50, 10, 10), 0), cats=1)
    dt = _dt((1, 1, (0, 0, 10, 10), 0.9))
    r = tide.evaluate(gt, dt)
    assert r.ap == pytest.approx(51 / 101)
    assert r.counts["Miss"] == 1
    # Miss fixed: one GT left, found: AP 1; FalseNeg: the same here
    assert r.main_errors["Miss"] == pytest.approx(1 - 51 / 101)
    assert r.special_errors["FalseNeg"] == pytest.approx(1 - 51 / 101)
    assert r.ground_truth["missed"].tolist() == [False, True]


def test_hand_crowd_region_ignores_strictly_above_threshold():
    # a crowd region of class 1; detections inside it: crowd IoU 1.0 (ignored) and
    # exactly 0.5 (not ignored: tidecv needs > pos_threshold) -> one Bkg-type FP
    gt = _gt((1, 1, (0, 0, 100, 100), 1), (1, 1, (200, 200, 10, 10), 0), cats=1)
    dt = _dt((1, 1, (10, 10, 10, 10), 0.9), (1, 1, (90, 0, 20, 10), 0.8),
             (1, 1, (200, 200, 10, 10), 0.7))  # fmt: skip
    r = tide.evaluate(gt, dt)
    assert r.detections["status"].tolist() == [-1, 0, 1]
    assert r.detections["error"].tolist() == ["Bkg", "Bkg", ""]
    # AP: FP (0.8) then TP (0.7): precision 0.5 at recall 1 -> 0.5
    assert r.ap == pytest.approx(0.5)
    assert r.main_errors["Bkg"] == pytest.approx(0.5)
    assert r.special_errors["FalsePos"] == pytest.approx(0.5)


def test_hand_fp_only_category_counts_as_zero():
    # category 2 has detections and no GT: AP 0 in the mean (tidecv), unlike COCO
    gt = _gt((1, 1, (0, 0, 10, 10), 0))
    dt = _dt((1, 1, (0, 0, 10, 10), 0.9), (1, 2, (70, 70, 10, 10), 0.8))
    r = tide.evaluate(gt, dt)
    assert r.ap == pytest.approx(0.5)
    # the Bkg fix removes category 2's only point: it leaves the mean
    assert r.main_errors["Bkg"] == pytest.approx(0.5)


def test_invalid_thresholds():
    gt = _gt((1, 1, (0, 0, 10, 10), 0))
    with pytest.raises(InvalidParameterError, match="background_threshold"):
        tide.evaluate(gt, [], pos_threshold=0.1, background_threshold=0.5)
    with pytest.raises(InvalidParameterError, match="max_dets"):
        tide.evaluate(gt, [], max_dets=0)


def test_empty_detections():
    gt = _gt((1, 1, (0, 0, 10, 10), 0))
    r = tide.evaluate(gt, [])
    assert r.ap == 0.0 and r.counts["Miss"] == 1
    assert r.main_errors["Miss"] == 0.0  # the class leaves the mean: 0 -> 0


def test_summary_compare_to_dict():
    gt, dt = make_coco_dataset(n_images=15, n_categories=3, seed=1)
    a, b = tide.evaluate(gt, dt, name="a"), tide.evaluate(gt, dt[::2], name="b")
    text = tide.summary({"a": a, "b": b})
    assert "-- a --" in text and "-- b --" in text and "FalseNeg" in text
    assert f"{100 * a.main_errors['Cls']:6.2f}" in text
    cmp = tide.compare([a, b]).splitlines()
    assert cmp[1].split()[0] == "a" and cmp[2].split()[0] == "b"
    assert float(cmp[2].split()[1]) == pytest.approx(100 * b.ap, abs=0.006)
    d = a.to_dict()
    assert d["main_errors"] == a.main_errors and d["counts"] == a.counts
    import json

    json.dumps(d)


def test_segm_uses_the_mask_plugin(coco100):
    # segm: the COCO segm IoU plug-in; tidecv's mask mode on the same files
    oracle.require()
    g = str(coco100 / "instances_val2014_100.json")
    d = str(coco100 / "instances_val2014_fakesegm100_results.json")
    if os.environ.get("IOUKIT_SKIP_SLOW"):
        pytest.skip("slow oracle")
    _check(tide.evaluate(g, d, iou_type="segm"), oracle.run_files(g, d, mode="mask"))


def test_compiled_doctests():
    import doctest

    from ioukit.tide import _kernels

    res = doctest.testmod(_kernels, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0


def test_thread_count_does_not_change_results():
    from ioukit import _threads

    gt, dt = make_coco_dataset(n_images=200, n_categories=6, dets_per_image=100, seed=5,
                               polygons=False)  # fmt: skip
    n = _threads.get_num_threads()
    try:
        _threads.set_num_threads(1)
        one = tide.evaluate(gt, dt)
        _threads.set_num_threads(max(n, 2))
        many = tide.evaluate(gt, dt)
    finally:
        _threads.set_num_threads(n)
    assert one.to_dict() == many.to_dict()
    assert np.array_equal(one.detections["status"], many.detections["status"])
