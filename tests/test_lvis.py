"""ioukit.lvis against lvis 0.5.3 (the oracle, tests/_lvis_oracle.py), compared with ``==``."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

import _lvis_oracle as oracle
import ioukit.lvis as L
from ioukit.coco import merge_states
from ioukit.errors import (
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    InvalidParameterError,
    MalformedJSONError,
    MissingFieldError,
    UnknownIdError,
)

KEYS = [
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "APr",
    "APc",
    "APf",
    "AR@300",
    "ARs@300",
    "ARm@300",
    "ARl@300",
]


# ------------------------------------------------------------------- data sets
def lvis_dataset(
    seed: int,
    n_images: int = 40,
    n_cats: int = 30,
    gt_per_image: int = 6,
    bg_per_image: int = 8,
    big_images: int = 2,
    big_dets: int = 360,
    score_decimals: int = 2,
) -> tuple[dict, list]:
    """An LVIS-shaped GT and results, seeded, with every rule's edge cases.

    - categories with scattered ids listed out of order, frequencies r / c / f, some
      with no GT anywhere;
    - images with ``neg_category_ids`` (some also holding a GT of that category) and
      ``not_exhaustive_category_ids``;
    - GT with area 0 (the box's or only the ``area`` field's), ``ignore`` present as 0,
      1 or absent, ``iscrowd`` present on some (LVIS never reads it);
    - detections around the GT (halves and quarters of boxes: IoU exactly 0.5, 0.75),
      in the right, a negative, an unknown or a not-exhaustive category, zero-area
      detections, scores rounded (ties), images with more than 300 detections whose
      cut crosses categories and ties, results listed in shuffled order.
    """
    rng = np.random.default_rng(seed)
    cat_ids = (rng.choice(5000, n_cats, replace=False) + 1).tolist()
    freqs = ["r", "c", "f"]
    cats = [
        {"id": int(c), "name": f"c{c}", "frequency": freqs[int(rng.integers(3))]} for c in cat_ids
    ]
    # categories that will have GT (the rest exist only in lists and detections)
    used = cat_ids[: max(1, int(n_cats * 0.7))]
    img_ids = (rng.choice(100000, n_images, replace=False) + 1).tolist()
    images, anns, dts = [], [], []
    aid = 1
    for k, i in enumerate(img_ids):
        W, H = int(rng.integers(240, 640)), int(rng.integers(240, 640))
        img_cats = set()
        gts = []
        for _ in range(int(rng.integers(0, 2 * gt_per_image + 1))):
            c = int(rng.choice(used[: max(1, len(used) // (1 + k % 3))]))
            s = float(rng.choice([8.0, 20.0, 45.0, 90.0, 150.0]))
            w, h = (
                float(np.round(s * rng.uniform(0.5, 1.5), 1)),
                float(np.round(s * rng.uniform(0.5, 1.5), 1)),
            )
            x, y = (
                float(np.round(rng.uniform(0, W - w), 1)),
                float(np.round(rng.uniform(0, H - h), 1)),
            )
            a = {"id": aid, "image_id": i, "category_id": c, "bbox": [x, y, w, h], "area": w * h}
            u = rng.random()
            if u < 0.04:
                a["area"] = 0.0  # zero area: dropped by lvis (get_ann_ids area > 0)
            elif u < 0.06:
                a["bbox"] = [x, y, 0.0, h]
                a["area"] = 0
            if rng.random() < 0.1:
                a["ignore"] = int(rng.integers(0, 2))
            if rng.random() < 0.1:
                a["iscrowd"] = 1  # never read by lvis
            anns.append(a)
            gts.append(a)
            if a["area"] > 0:
                img_cats.add(c)
            aid += 1
        neg = [int(c) for c in rng.choice(cat_ids, int(rng.integers(0, 5)), replace=False)]
        if gts and rng.random() < 0.2:
            neg.append(gts[0]["category_id"])  # listed negative yet present: union anyway
        nel = [int(c) for c in rng.choice(cat_ids, int(rng.integers(0, 3)), replace=False)]
        if img_cats and rng.random() < 0.5:
            nel.append(int(rng.choice(sorted(img_cats))))
        images.append(
            {
                "id": i,
                "width": W,
                "height": H,
                "neg_category_ids": sorted(set(neg)),
                "not_exhaustive_category_ids": sorted(set(nel)),
            }
        )

        def score() -> float:
            return float(np.round(rng.random(), score_decimals))

        for a in gts:
            x, y, w, h = a["bbox"]
            for _ in range(int(rng.integers(0, 4))):
                mode = int(rng.integers(0, 5))
                if mode == 0:
                    b = [x, y, w, h / 2]
                elif mode == 1:
                    b = [x, y, w, h * 0.75]
                elif mode == 2:
                    b = [x, y, w, h]
                else:
                    j = float(rng.uniform(0.02, 0.3)) * max(w, h, 1.0)
                    b = [x + float(rng.normal(0, j)), y + float(rng.normal(0, j)), w, h]
                u = rng.random()
                c = a["category_id"] if u < 0.8 else int(rng.choice(cat_ids))
                dts.append({"image_id": i, "category_id": c, "bbox": b, "score": score()})
        n_bg = bg_per_image if k >= big_images else big_dets
        for _ in range(int(rng.integers(0, n_bg + 1)) if k >= big_images else n_bg):
            w, h = float(rng.integers(0, 120)), float(rng.integers(1, 120))
            b = [float(rng.integers(0, W)), float(rng.integers(0, H)), w, h]
            dts.append(
                {
                    "image_id": i,
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": b,
                    "score": score(),
                }
            )
    rng.shuffle(dts)
    order = rng.permutation(len(cats))
    gt = {"images": images, "categories": [cats[j] for j in order], "annotations": anns}
    return gt, [dict(d) for d in dts]


def assert_equal_to_lvis(r: L.LvisResult, e) -> None:
    assert list(r.results) == list(e.results) == KEYS
    for k in KEYS:
        assert r.results[k] == e.results[k], (k, r.results[k], e.results[k])
    assert r.precision.shape == e.eval["precision"].shape
    assert np.array_equal(r.precision, e.eval["precision"])
    assert np.array_equal(r.recall, e.eval["recall"])
    assert r.freq_groups == e.freq_groups


# ------------------------------------------------------------------- the oracle
def test_oracle_is_lvis_0_5_3():
    lvis = oracle.require()
    from importlib.metadata import version

    assert version("lvis") == oracle.VERSION and hasattr(lvis, "LVISEval")


GENERATED = [
    dict(seed=0),
    dict(seed=1, n_images=60, n_cats=50),
    dict(seed=2, big_images=4, big_dets=420, score_decimals=1),  # many ties in the cut
    dict(seed=3, n_images=25, n_cats=8, gt_per_image=12, bg_per_image=20),
    dict(seed=4, n_images=30, n_cats=80, gt_per_image=3),
]


@pytest.mark.parametrize("kw", GENERATED, ids=[str(k["seed"]) for k in GENERATED])
def test_generated_sets_equal_lvis(kw):
    gt, dt = lvis_dataset(**kw)
    e = oracle.run(gt, dt)
    r = L.evaluate(gt, dt)
    assert_equal_to_lvis(r, e)
    # the data exercise what they should
    assert any(v != -1 for v in e.results.values())
    assert (r.precision == -1).any() and (r.precision > 0).any()


@pytest.mark.parametrize("max_dets", [-1, 0, 1, 5, 50])
def test_per_image_cap_equals_lvis(max_dets):
    gt, dt = lvis_dataset(7, n_images=20, big_images=3, big_dets=80, score_decimals=1)
    if max_dets == 0:
        # lvis reads results[0] after the cut: an empty list raises there
        with pytest.raises(IndexError):
            oracle.run(gt, dt, max_dets=0)
        r = L.evaluate(gt, dt, max_dets=0)
        assert r.results["AR@300"] == 0.0
        return
    e = oracle.run(gt, dt, max_dets=max_dets)
    assert_equal_to_lvis(L.evaluate(gt, dt, max_dets=max_dets), e)


def test_files_and_dicts_give_lvis_numbers(tmp_path):
    gt, dt = lvis_dataset(11, n_images=30)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(dt))
    e = oracle.run(gt, dt)
    assert_equal_to_lvis(L.evaluate(g, d), e)
    assert_equal_to_lvis(L.evaluate(str(g), dt), e)


def test_subsets_of_images_and_categories_equal_lvis():
    gt, dt = lvis_dataset(12, n_images=30, n_cats=20)
    lvis = oracle.require()
    img_ids = sorted(im["id"] for im in gt["images"])[::2]
    cat_ids = sorted(c["id"] for c in gt["categories"])[1::3]
    r = L.evaluate(gt, dt, img_ids=img_ids, cat_ids=cat_ids)
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gt.json")
        with open(path, "w") as f:
            json.dump(gt, f)
        g = lvis.LVIS(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lvis' Logger.warn
        e = lvis.LVISEval(g, lvis.LVISResults(g, copy.deepcopy(dt)), iou_type="bbox")
        e.params.img_ids, e.params.cat_ids = img_ids, cat_ids
        e.run()
    assert_equal_to_lvis(r, e)


def test_zero_id_quirk_reproduced_and_fixable():
    gt = {
        "images": [{"id": 1, "neg_category_ids": [], "not_exhaustive_category_ids": []}],
        "categories": [{"id": 1, "frequency": "f"}],
        "annotations": [
            {"id": 0, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "area": 100},
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.8},
    ]
    e = oracle.run(gt, dt)
    with pytest.warns(UserWarning, match="annotation id 0"):
        r = L.evaluate(gt, dt)
    assert_equal_to_lvis(r, e)
    assert r.recall[0, 0, 0] == 0.5
    with pytest.warns(UserWarning):
        assert L.evaluate(gt, dt, fix_zero_id=True).recall[0, 0, 0] == 1.0


# ---------------------------------------------------------- golden, by hand
def _img(i: int, neg=(), nel=()) -> dict:
    return {"id": i, "neg_category_ids": list(neg), "not_exhaustive_category_ids": list(nel)}


def _gt(i: int, img: int, cat: int, box, **kw) -> dict:
    return {"id": i, "image_id": img, "category_id": cat, "bbox": list(box),
            "area": box[2] * box[3], **kw}  # fmt: skip


def _dt(img: int, cat: int, box, score: float) -> dict:
    return {"image_id": img, "category_id": cat, "bbox": list(box), "score": score}


# 1 / (1 + spacing(1)): pycocotools' and lvis' precision of a run of true positives
P1 = 1.0 / (1.0 + np.spacing(1))


def test_golden_federated_filter():
    # image 1: GT of category 1; category 2 listed negative; category 3 unknown there.
    cats = [{"id": c, "frequency": "f"} for c in (1, 2, 3)]
    gt = {"images": [_img(1, neg=[2])], "categories": cats,
          "annotations": [_gt(1, 1, 1, (0, 0, 10, 10))]}  # fmt: skip
    dt = [_dt(1, 1, (0, 0, 10, 10), 0.5), _dt(1, 2, (0, 0, 10, 10), 0.9),
          _dt(1, 3, (0, 0, 10, 10), 0.9)]  # fmt: skip
    r = L.evaluate(gt, dt)
    # category 1: one TP, recall 1, precision 1/(1+eps) everywhere
    assert (r.recall[:, 0, 0] == 1.0).all() and (r.precision[:, :, 0, 0] == P1).all()
    # category 2: only a false positive on a negative image, no GT anywhere: -1
    # category 3: its detection is dropped (neither positive nor negative in image 1)
    assert (r.precision[:, :, 1:, 0] == -1).all()
    assert r.state.num_dt.tolist() == [1, 1, 0]
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_golden_not_exhaustive_unmatched_is_ignored():
    cats = [{"id": 1, "frequency": "c"}]
    ann = [_gt(1, 1, 1, (0, 0, 10, 10))]
    dt = [_dt(1, 1, (50, 50, 10, 10), 0.95), _dt(1, 1, (0, 0, 10, 10), 0.9)]
    exhaustive = L.evaluate({"images": [_img(1)], "categories": cats, "annotations": ann}, dt)
    # the unmatched 0.95 comes first: at recall 1, precision 1 / (2 + eps)
    assert exhaustive.precision[0, 100, 0, 0] == 1.0 / (2.0 + np.spacing(1))
    gt = {"images": [_img(1, nel=[1])], "categories": cats, "annotations": ann}
    r = L.evaluate(gt, dt)
    assert (r.precision[:, :, 0, 0] == P1).all()  # ignored: the TP stands alone
    assert r.state.dt_flags[:, 0, 0].tolist() == [2, 1]  # ignored, TP (best first)
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_golden_cap_counts_across_categories_before_the_filter():
    # 300 detections of category 2 (neither positive nor negative in the image: dropped
    # later) outscore the only true positive of category 1, which the cap removes.
    cats = [{"id": 1, "frequency": "r"}, {"id": 2, "frequency": "f"}]
    gt = {"images": [_img(1)], "categories": cats, "annotations": [_gt(1, 1, 1, (0, 0, 10, 10))]}
    dt = [_dt(1, 2, (20, 20, 5, 5), 0.9)] * 300 + [_dt(1, 1, (0, 0, 10, 10), 0.1)]
    r = L.evaluate(gt, dt)
    assert r.results["AR@300"] == 0.0 and r.results["APr"] == 0.0
    assert r.results["APf"] == -1.0
    assert L.evaluate(gt, dt, max_dets=-1).results["AR@300"] == 1.0
    assert L.evaluate(gt, dt[1:]).results["AR@300"] == 1.0  # 300 fit under the cap
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_golden_cap_ties_keep_input_order():
    # four detections, cap 2: [A .5, B .7, C .5, D .5] keeps B and A (a stable sort)
    cats = [{"id": 1, "frequency": "f"}]
    boxes = [(0, 0, 10, 10), (30, 30, 10, 10), (60, 60, 10, 10), (90, 90, 10, 10)]
    gt = {"images": [_img(1)], "categories": cats,
          "annotations": [_gt(k + 1, 1, 1, b) for k, b in enumerate(boxes)]}  # fmt: skip
    dt = [_dt(1, 1, b, s) for b, s in zip(boxes, (0.5, 0.7, 0.5, 0.5))]
    r = L.evaluate(gt, dt, max_dets=2, keep_matches=True)
    assert sorted(r.matches()["dt_row"].tolist()) == [0, 1]
    assert r.recall[0, 0, 0] == 0.5
    assert_equal_to_lvis(r, oracle.run(gt, dt, max_dets=2))


def test_golden_no_crowd_and_ignore_field():
    cats = [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "c"}]
    gt = {
        "images": [_img(1)],
        "categories": cats,
        "annotations": [
            _gt(1, 1, 1, (0, 0, 10, 10), iscrowd=1),  # a plain GT for LVIS
            _gt(2, 1, 2, (40, 40, 10, 10), ignore=1),  # ignored: category 2 has no GT
        ],
    }
    dt = [_dt(1, 1, (0, 0, 10, 10), 0.9), _dt(1, 1, (0, 0, 10, 10), 0.8),
          _dt(1, 2, (40, 40, 10, 10), 0.7)]  # fmt: skip
    r = L.evaluate(gt, dt, keep_matches=True)
    m = r.matches(0.5)
    # the crowd-flagged GT is taken once: TP then FP (COCO would reuse it: ignored)
    assert m["flag"].tolist() == [1, 0, 2] and m["gt_id"].tolist() == [1, -1, 2]
    assert r.results["APc"] == -1.0 and r.recall[0, 0, 0] == 1.0
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_golden_zero_area_dropped():
    cats = [{"id": 1, "frequency": "f"}]
    gt = {
        "images": [_img(1), _img(2)],
        "categories": cats,
        "annotations": [
            _gt(1, 1, 1, (0, 0, 10, 10)),
            {**_gt(2, 2, 1, (0, 0, 10, 10)), "area": 0},
        ],  # fmt: skip
    }
    # image 2's only GT has area 0: it is gone, so category 1 is not positive there and
    # its detection is dropped too; a zero-area detection in image 1 is dropped
    dt = [_dt(1, 1, (0, 0, 10, 10), 0.9), _dt(2, 1, (0, 0, 10, 10), 0.8),
          _dt(1, 1, (0, 0, 0, 10), 0.95)]  # fmt: skip
    r = L.evaluate(gt, dt)
    assert r.state.num_gt[0, 0] == 1 and r.state.num_dt.tolist() == [1]
    assert r.results["AR@300"] == 1.0
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_golden_frequency_groups_by_sorted_category_position():
    cats = [{"id": 30, "frequency": "r"}, {"id": 10, "frequency": "f"},
            {"id": 20, "frequency": "r"}]  # fmt: skip
    anns = [_gt(1, 1, 30, (0, 0, 10, 10)), _gt(2, 1, 10, (50, 50, 10, 10))]
    gt = {"images": [_img(1)], "categories": cats, "annotations": anns}
    dt = [_dt(1, 30, (0, 0, 10, 10), 0.9), _dt(1, 10, (0, 0, 10, 10), 0.9)]
    r = L.evaluate(gt, dt)
    assert r.cat_ids == [10, 20, 30] and r.freq_groups == [[1, 2], [], [0]]
    assert r.results["APf"] == 0.0 and r.results["APc"] == -1.0
    assert r.results["APr"] == float(np.mean(np.full(1010, P1)))
    assert_equal_to_lvis(r, oracle.run(gt, dt))


def test_summary_lines_match_print_results(capsys):
    gt, dt = lvis_dataset(3, n_images=10)
    e = oracle.run(gt, dt)
    capsys.readouterr()
    e.print_results()
    assert L.evaluate(gt, dt).summary() == capsys.readouterr().out.rstrip("\n")


# ------------------------------------------------------------ engine pieces
def test_sharded_states_merge_to_the_whole():
    gt, dt = lvis_dataset(5, n_images=30)
    g, d, p = L.prepare(gt, dt)
    rules = L.lvis_rules(g, d, p)
    img = np.asarray(p.imgIds)
    parts = [
        L.evaluate_images(g, d, p, img[k::3], rules=rules, keep_matches=True) for k in range(3)
    ]
    merged = L.accumulate(merge_states(parts[::-1]), L.freq_groups(g, p))
    whole = L.evaluate(gt, dt, keep_matches=True)
    assert merged.results == whole.results
    assert np.array_equal(merged.precision, whole.precision)
    a, b = merged.matches(), whole.matches()
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k


def test_match_records_agree_with_flags_and_ious():
    gt, dt = lvis_dataset(6, n_images=20)
    r = L.evaluate(gt, dt, keep_matches=True)
    m = r.matches()
    assert m["gt_id"].shape == m["iou"].shape == m["flag"].shape == (m["dt_row"].size, 10)
    hit = m["gt_id"] >= 0
    assert np.array_equal(hit, ~np.isnan(m["iou"]))
    assert ((m["flag"] == 1) <= hit).all()  # every TP has its GT
    assert (m["iou"][hit] >= np.repeat(r.params.iouThrs[None], len(hit), 0)[hit] - 1e-10).all()
    assert (m["best_iou"][:, None] >= np.nan_to_num(m["iou"], nan=0)).all()
    # the same numbers as without records
    assert L.evaluate(gt, dt).results == r.results
    pd = pytest.importorskip("pandas")
    f = r.matches(0.5, as_frame=True)
    assert isinstance(f, pd.DataFrame) and len(f) == m["dt_row"].size
    assert len(r.matches(as_frame=True)) == 10 * m["dt_row"].size


def test_lvis_state_is_not_a_coco_state():
    from ioukit.coco import accumulate as coco_accumulate

    gt, dt = lvis_dataset(8, n_images=5)
    g, d, p = L.prepare(gt, dt)
    with pytest.raises(InvalidParameterError, match="lvis"):
        coco_accumulate(L.evaluate_images(g, d, p))


def test_segm_iou_type_equals_lvis(tmp_path):
    # polygons for the GT (lvis rasterises them at the image size), RLE results
    pytest.importorskip("pycocotools")
    from pycocotools import mask as mask_utils

    gt, dt = lvis_dataset(9, n_images=12, n_cats=10, big_images=1, big_dets=310)
    for a in gt["annotations"]:
        x, y, w, h = a["bbox"]
        a["segmentation"] = [[x, y, x + w, y, x + w, y + h * 0.7, x, y + h]]
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    out = []
    for d in dt:
        h, w = sizes[d["image_id"]]
        x, y, bw, bh = d["bbox"]
        rle = mask_utils.frPyObjects([[x, y, x + bw, y, x + bw, y + bh, x, y + bh]], h, w)[0]
        rle["counts"] = rle["counts"].decode()
        out.append({"image_id": d["image_id"], "category_id": d["category_id"],
                    "segmentation": rle, "score": d["score"]})  # fmt: skip
    e = oracle.run(gt, out, iou_type="segm")
    assert_equal_to_lvis(L.evaluate(gt, out, iou_type="segm"), e)
    # from files: the scanner's flat segmentations
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(out))
    assert_equal_to_lvis(L.evaluate(g, d, iou_type="segm"), e)


# ------------------------------------------------------------------ loading
def test_scanner_and_python_paths_load_the_same(tmp_path):
    from ioukit.lvis._load import load_gt

    gt, _ = lvis_dataset(10, n_images=15)
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(gt))
    a, b = load_gt(p), load_gt(gt)
    for k in ("image_ids", "image_heights", "category_ids", "ann_id", "ann_image_id",
              "ann_category_id", "ann_bbox", "ann_area", "ann_iscrowd"):  # fmt: skip
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    for k in a.extra:
        assert np.array_equal(a.extra[k], b.extra[k]), k
    # a file the scanner leaves (a float 'ignore') takes the Python path: same table
    gt2 = copy.deepcopy(gt)
    gt2["annotations"][0]["ignore"] = 1.0
    p.write_text(json.dumps(gt2))
    c = load_gt(p)
    assert c.extra["ann_ignore"][0] and np.array_equal(c.ann_id, a.ann_id)


def _base() -> dict:
    return {
        "images": [_img(1, neg=[2])],
        "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "r"}],
        "annotations": [_gt(5, 1, 1, (0, 0, 10, 10))],
    }


def _err(gt: dict, tmp_path, exc, match: str, dt=()) -> None:
    with pytest.raises(exc, match=match):
        L.evaluate(gt, list(dt))
    p = tmp_path / "gt.json"  # the scanner path words it the same
    p.write_text(json.dumps(gt))
    with pytest.raises(exc, match=match):
        L.evaluate(p, list(dt))


def test_errors_name_the_object(tmp_path):
    g = _base()
    del g["images"][0]["neg_category_ids"]
    _err(g, tmp_path, MissingFieldError, r"image id 1 \(entry 0\) has no 'neg_category_ids'")
    g = _base()
    del g["images"][0]["not_exhaustive_category_ids"]
    _err(g, tmp_path, MissingFieldError, "image id 1 .* 'not_exhaustive_category_ids'")
    g = _base()
    g["images"][0]["neg_category_ids"] = 2
    _err(g, tmp_path, DatasetError, "image id 1 .* 'neg_category_ids' = 2; expected a list")
    g = _base()
    del g["categories"][1]["frequency"]
    _err(g, tmp_path, MissingFieldError, r"category id 2 \(entry 1\) has no 'frequency'")
    g = _base()
    g["categories"][0]["frequency"] = "x"
    _err(g, tmp_path, DatasetError, "category id 1 .* frequency 'x'")
    g = _base()
    del g["annotations"][0]["area"]
    _err(g, tmp_path, MissingFieldError, r"annotation id 5 \(entry 0\) has no 'area'")
    g = _base()
    del g["annotations"][0]["bbox"]
    _err(g, tmp_path, MissingFieldError, "annotation id 5 .* no 'bbox'")
    g = _base()
    g["annotations"][0]["bbox"] = [0, 0, 10]
    _err(g, tmp_path, InvalidBoxesError, "annotation id 5 .* not 4 numbers")
    g = _base()
    g["annotations"].append(_gt(5, 1, 1, (1, 1, 2, 2)))
    _err(g, tmp_path, DuplicateIdError, "duplicate annotation id 5")
    g = _base()
    g["annotations"][0]["category_id"] = 9
    _err(g, tmp_path, UnknownIdError, "annotation id 5 .* category id 9")
    g = _base()
    _err(g, tmp_path, UnknownIdError, "image id 7", dt=[_dt(7, 1, (0, 0, 1, 1), 0.5)])
    _err(g, tmp_path, UnknownIdError, "category id 3", dt=[_dt(1, 3, (0, 0, 1, 1), 0.5)])
    with pytest.raises(MissingFieldError, match="no 'images'"):
        L.evaluate({"categories": [], "annotations": []}, [])
    p = tmp_path / "bad.json"
    p.write_text('{"images": [')
    with pytest.raises(MalformedJSONError, match="bad.json"):
        L.evaluate(p, [])


def test_parameters_are_checked():
    with pytest.raises(InvalidParameterError, match="iou_type"):
        L.evaluate(_base(), [], iou_type="boundary")
    with pytest.raises(InvalidParameterError, match="max_dets"):
        L.evaluate(_base(), [], max_dets=-2)


def test_empty_results_and_no_gt():
    r = L.evaluate(_base(), [])
    assert r.results["AP"] == 0.0 and r.results["APr"] == -1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = L.evaluate({**_base(), "annotations": []}, [])
    assert all(v == -1.0 for v in r.results.values())
