"""ioukit.coco against pycocotools 2.0.11 (the oracle), bit for bit."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

import ioukit.coco as C  # noqa: E402
from ioukit.errors import (  # noqa: E402
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    InvalidParameterError,
    MalformedJSONError,
    MissingFieldError,
    UnknownIdError,
)
from ioukit.synthetic import make_coco_dataset  # noqa: E402

ARRAYS = ("precision", "recall", "scores")


def pycoco(gt: dict, dt, **params):
    """Run pycocotools on copies (it mutates its inputs); returns (COCOeval, printed text)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dt) if not isinstance(dt, np.ndarray) else dt)
        E = COCOeval(cg, cd, "bbox")
        for k, v in params.items():
            setattr(E.params, k, v)
    with contextlib.redirect_stdout(io.StringIO()):
        E.evaluate()
        E.accumulate()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        E.summarize()
    return E, out.getvalue()


def assert_same(res: C.CocoResult, E: COCOeval) -> None:
    for k in ARRAYS:
        a, b = getattr(res, k), E.eval[k]
        assert a.shape == b.shape, k
        assert np.array_equal(a, b), f"{k}: max diff {np.abs(a - b).max()}"
    assert np.array_equal(res.stats, np.asarray(E.stats))


# ---------------------------------------------------------------- real data
def test_coco100_bbox_exact(coco100):
    res = C.evaluate(
        coco100 / "instances_val2014_100.json",
        coco100 / "instances_val2014_fakebbox100_results.json",
    )
    exp = np.load(coco100 / "expected_bbox.npz")
    for k in ARRAYS:
        assert np.array_equal(getattr(res, k), exp[k]), k
    stats = json.loads((coco100 / "expected_bbox.json").read_text())["stats"]
    assert res.stats.tolist() == stats


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_coco100_summary_slice_then_full_arrays_on_access(coco100, iou_type):
    # accumulate(full_arrays=False), as ioukit eval runs it: the stats come from the
    # summary's one maxDets of precision, the full arrays from the records on access;
    # both equal pycocotools' stored outputs
    g, d, p = C.prepare(
        coco100 / "instances_val2014_100.json",
        coco100 / f"instances_val2014_fake{iou_type}100_results.json",
        iou_type,
    )
    res = C.accumulate(C.evaluate_images(g, d, p), full_arrays=False)
    assert res._precision is None and res._scores is None
    stats = json.loads((coco100 / f"expected_{iou_type}.json").read_text())["stats"]
    assert res.stats.tolist() == stats
    exp = np.load(coco100 / f"expected_{iou_type}.npz")
    for k in ARRAYS:
        assert np.array_equal(getattr(res, k), exp[k]), k


def test_summary_slice_needs_one_max_dets():
    # maxDets without 100: the summary's first line reads none, the others maxDets[2];
    # the summary then needs the full arrays (and gives pycocotools' -1)
    from ioukit.coco._accumulate import summary_max_dets_index

    assert summary_max_dets_index(C.Params(maxDets=[1, 10, 50])) is None
    assert summary_max_dets_index(C.Params(maxDets=[1, 10, 50]), fix_summary=True) == 2
    assert summary_max_dets_index(C.Params(maxDets=[100, 100, 100])) is None


def test_coco100_summary_text_matches_pycocotools(coco100):
    gt = json.loads((coco100 / "instances_val2014_100.json").read_text())
    dt = json.loads((coco100 / "instances_val2014_fakebbox100_results.json").read_text())
    E, printed = pycoco(gt, dt)
    res = C.evaluate(gt, dt)
    assert res.summary() + "\n" == printed
    assert_same(res, E)


# ------------------------------------------------------- stress generator
def stress_dataset(seed: int, n_images: int = 24):
    """Small sets hitting every rule: crowds, score ties, empty images, categories
    without GT or detections, > maxDets detections, area-range and IoU edges."""
    rng = np.random.default_rng(seed)
    cats = [{"id": c, "name": f"c{c}"} for c in (1, 2, 3, 5, 9)]  # 9: never annotated
    images = [
        {"id": int(i), "height": 200, "width": 200} for i in rng.permutation(60)[:n_images] + 1
    ]
    anns, dts = [], []
    aid = 1
    for img in images:
        i = img["id"]
        if rng.random() < 0.15:  # empty image (maybe with detections)
            pass
        else:
            for _ in range(rng.integers(1, 7)):
                c = int(rng.choice([1, 2, 3, 5], p=[0.4, 0.3, 0.2, 0.1]))
                kind = rng.integers(0, 4)
                if kind == 0:  # exactly on the small/medium edge: 32 x 32 = 1024
                    w, h = 32.0, 32.0
                elif kind == 1:  # exactly on the medium/large edge: 96 x 96 = 9216
                    w, h = 96.0, 96.0
                else:
                    w, h = float(rng.integers(4, 120)), float(rng.integers(4, 120))
                x, y = float(rng.integers(0, 80)), float(rng.integers(0, 80))
                crowd = int(rng.random() < 0.1)
                area = w * h if rng.random() < 0.5 else float(np.round(w * h * 0.7, 2))
                anns.append(
                    {
                        "id": aid,
                        "image_id": i,
                        "category_id": c,
                        "bbox": [x, y, w, h],
                        "area": area,
                        "iscrowd": crowd,
                    }
                )
                aid += 1
                # detections around it; halves and quarters of the box give IoU exactly
                # 0.5 and 0.75 (IoU-threshold edges)
                for _ in range(rng.integers(0, 4)):
                    mode = rng.integers(0, 4)
                    if mode == 0:
                        b = [x, y, w, h / 2]
                    elif mode == 1:
                        b = [x, y, w, h * 0.75]
                    elif mode == 2:
                        b = [x, y, w, h]
                    else:
                        b = [x + float(rng.normal(0, 3)), y + float(rng.normal(0, 3)), w, h]
                    dc = c if rng.random() < 0.9 else 3
                    dts.append(
                        {
                            "image_id": i,
                            "category_id": dc,
                            "bbox": b,
                            "score": float(rng.choice([0.3, 0.5, 0.5, 0.9])),
                        }
                    )
        # background detections; category 5 rarely, category 1 heavily (beyond maxDets)
        n_bg = int(rng.integers(0, 5)) if rng.random() < 0.9 else 120
        for _ in range(n_bg):
            w, h = float(rng.integers(2, 100)), float(rng.integers(2, 100))
            dts.append(
                {
                    "image_id": i,
                    "category_id": int(rng.choice([1, 2, 3])),
                    "bbox": [float(rng.integers(0, 100)), float(rng.integers(0, 100)), w, h],
                    "score": float(np.round(rng.random(), 1)),
                }
            )
    gt = {"images": images, "categories": cats, "annotations": anns}
    return gt, dts


PARAM_CASES = [
    {},
    {"iouThrs": np.array([0.3, 0.5, 0.75]), "recThrs": np.linspace(0, 1, 11)},
    {"maxDets": [1, 5, 100]},
    {"maxDets": [2, 10, 40]},
    {"areaRng": [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]]},
    {"areaRng": [[0, 1e10], [0, 500], [500, 3000], [3000, 1e10]]},
    {"useCats": 0},
    {"useCats": 0, "maxDets": [1, 3, 100]},
    {"recThrs": np.array([0.0, 0.9, 0.2, 1.0])},  # unsorted: pycocotools stops at the first miss
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", range(len(PARAM_CASES)))
def test_differential_stress(seed, case):
    gt, dt = stress_dataset(seed)
    params = PARAM_CASES[case]
    E, _ = pycoco(gt, dt, **params)
    res = C.evaluate(gt, dt, **params)
    assert_same(res, E)


def test_differential_subsets():
    gt, dt = stress_dataset(5, n_images=30)
    img_ids = sorted(im["id"] for im in gt["images"])
    for params in (
        {"imgIds": img_ids[::3]},
        {"catIds": [2, 3, 9]},
        {"imgIds": img_ids[1::2], "catIds": [1, 5]},
        {"useCats": 0, "catIds": [3, 1]},
        {"useCats": 0, "imgIds": img_ids[:7]},
    ):
        E, _ = pycoco(gt, dt, **params)
        res = C.evaluate(gt, dt, **params)
        assert_same(res, E)


def test_areas_labels_and_three_ranges():
    gt, dt = stress_dataset(7)
    params = {"areaRng": [[0, 1e10], [0, 2000], [2000, 1e10]], "areaRngLbl": ["all", "s", "l"]}
    E, _ = pycoco(gt, dt, **params)
    res = C.evaluate(gt, dt, **params)
    for k in ARRAYS:
        assert np.array_equal(getattr(res, k), E.eval[k])


def test_differential_synthetic_generator():
    gt, dt = make_coco_dataset(n_images=80, n_categories=6, seed=3)
    E, _ = pycoco(gt, dt)
    assert_same(C.evaluate(gt, dt), E)
    gt, dt = make_coco_dataset(n_images=20, n_categories=4, dets_per_image=100, seed=4)
    E, _ = pycoco(gt, dt)
    assert_same(C.evaluate(gt, dt), E)


def test_numpy_rows_input_matches_pycocotools():
    gt, dt = stress_dataset(3)
    rows = np.array(
        [[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dt], dtype=np.float64
    )
    E, _ = pycoco(gt, rows)
    assert_same(C.evaluate(gt, rows), E)


def test_files_and_dicts_agree(tmp_path):
    gt, dt = stress_dataset(4)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    a = C.evaluate(tmp_path / "gt.json", str(tmp_path / "dt.json"))
    b = C.evaluate(gt, dt)
    for k in (*ARRAYS, "stats"):
        assert np.array_equal(getattr(a, k), getattr(b, k))


# -------------------------------------------------------------- quirk switches
def _zero_id_case():
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}],
        "annotations": [
            {
                "id": 0,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 10, 10],
                "area": 100,
                "iscrowd": 0,
            },
            {
                "id": 5,
                "image_id": 1,
                "category_id": 1,
                "bbox": [50, 50, 10, 10],
                "area": 100,
                "iscrowd": 0,
            },
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.8},
    ]
    return gt, dt


def test_zero_id_quirk_reproduced_and_fixable():
    gt, dt = _zero_id_case()
    E, _ = pycoco(gt, dt)
    with pytest.warns(UserWarning, match="annotation id 0"):
        res = C.evaluate(gt, dt)
    assert_same(res, E)
    # pycocotools: the match to id 0 reads as unmatched -> first detection is a FP
    assert res.recall[0, 0, 0, 2] == 0.5
    with pytest.warns(UserWarning):
        fixed = C.evaluate(gt, dt, fix_zero_id=True)
    # both detections match their GT at every threshold: precision 1 everywhere
    assert (fixed.precision[:, :, 0, 0, 2] == 1.0).all()
    assert fixed.recall[0, 0, 0, 2] == 1.0


def test_summary_maxdets_without_100_quirk_and_fix():
    gt, dt = stress_dataset(8)
    E, printed = pycoco(gt, dt, maxDets=[1, 10, 50])
    res = C.evaluate(gt, dt, maxDets=[1, 10, 50])
    assert_same(res, E)
    assert res.stats[0] == -1 and res.summary() + "\n" == printed
    fixed = C.evaluate(gt, dt, maxDets=[1, 10, 50], fix_summary=True)
    p = fixed.precision[:, :, :, 0, 2]
    assert fixed.stats[0] == np.mean(p[p > -1])
    assert "maxDets= 50 ] = " in fixed.summary().splitlines()[0]


# ---------------------------------------------------------------- bad input
def _gt():
    return {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 1}, {"id": 2}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 4, 4],
                "area": 16,
                "iscrowd": 0,
            },
        ],
    }


def _dt(**kw):
    d = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.5}
    d.update(kw)
    return [d]


def test_unknown_ids_rejected():
    with pytest.raises(UnknownIdError, match="image id 7"):
        C.evaluate(_gt(), _dt(image_id=7))
    with pytest.raises(UnknownIdError, match="category id 4"):
        C.evaluate(_gt(), _dt(category_id=4))


@pytest.mark.parametrize(
    "bbox, match",
    [
        ([0, 0, 4], "length 3"),
        ([0, 0, 4, 4, 1], "length 5"),
        ([0, 0, float("nan"), 4], "non-finite"),
        ([0, 0, -1, 4], "negative"),
    ],
)
def test_bad_detection_boxes(bbox, match):
    with pytest.raises(InvalidBoxesError, match=match):
        C.evaluate(_gt(), _dt(bbox=bbox))


def test_bad_gt_boxes_and_ids():
    g = _gt()
    g["annotations"][0]["bbox"] = [0, 0, 4]
    with pytest.raises(InvalidBoxesError, match="annotation id 1"):
        C.evaluate(g, [])
    g = _gt()
    g["annotations"].append(dict(g["annotations"][0]))
    with pytest.raises(DuplicateIdError, match="duplicate annotation id 1"):
        C.evaluate(g, [])
    g = _gt()
    del g["annotations"][0]["area"]
    with pytest.raises(MissingFieldError, match="area"):
        C.evaluate(g, [])
    with pytest.raises(MissingFieldError, match="score"):
        C.evaluate(_gt(), [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    with pytest.raises(DatasetError, match="non-finite score"):
        C.evaluate(_gt(), _dt(score=float("nan")))
    g = _gt()
    g["annotations"][0]["image_id"] = 3
    with pytest.raises(UnknownIdError, match="image id 3"):
        C.evaluate(g, [])


def test_malformed_json_names_file_and_position(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"images": [{"id": 1}],\n "categories": [}')
    with pytest.raises(MalformedJSONError, match=r"broken\.json.*line 2, column 17"):
        C.evaluate(p, [])
    good = tmp_path / "gt.json"
    good.write_text(json.dumps(_gt()))
    bad = tmp_path / "dt.json"
    bad.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5')
    with pytest.raises(MalformedJSONError, match=r"dt\.json.*line 1"):
        C.evaluate(good, bad)


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match="unknown evaluation parameter"):
        C.evaluate(_gt(), _dt(), iouThr=[0.5])
    with pytest.raises(InvalidParameterError, match="areaRngLbl"):
        C.evaluate(_gt(), _dt(), areaRng=[[0, 1e10]])
    with pytest.raises(InvalidParameterError, match="iou_type"):
        C.evaluate(_gt(), _dt(), iou_type="cubes")


def test_empty_inputs_give_minus_one():
    res = C.evaluate({"images": [{"id": 1}], "categories": [{"id": 1}]}, [])
    assert (res.precision == -1).all() and (res.stats == -1).all()


# ---------------------------------------------------------- result views
def test_per_class_and_pr_curve_consistent_with_arrays():
    gt, dt = stress_dataset(9)
    res = C.evaluate(gt, dt)
    rows = res.per_class(as_frame=False)
    assert [r["category_id"] for r in rows] == [1, 2, 3, 5, 9]
    r9 = rows[-1]
    assert r9["AP"] == -1 and r9["num_gt"] == 0
    # num_gt: non-crowd GT of the category (area "all" covers every area)
    for r in rows:
        n = sum(
            1
            for a in gt["annotations"]
            if a["category_id"] == r["category_id"] and not a["iscrowd"]
        )
        assert r["num_gt"] == n
        assert r["num_dt"] == sum(1 for d in dt if d["category_id"] == r["category_id"])
    rc, pr, sc = res.pr_curve(2, iou=0.5)
    assert np.array_equal(pr, res.precision[0, :, 1, 0, 2]) and rc[-1] == 1.0
    _, mean_pr, _ = res.pr_curve(None, iou=0.5)
    valid = res.precision[0, 0, :, 0, 2] > -1
    assert np.allclose(mean_pr, res.precision[0, :, valid, 0, 2].mean(axis=0))
    d = json.loads(res.to_json())
    assert d["stats"] == res.stats.tolist() and len(d["per_class"]) == 5


def test_f1_optimal_hand_worked():
    # one image, 3 GT; detections by score: TP (0.9), FP (0.8), TP (0.7), FP (0.6)
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}],
        "annotations": [
            {
                "id": i + 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [30 * i, 0, 10, 10],
                "area": 100,
                "iscrowd": 0,
            }
            for i in range(3)
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [200, 0, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 1, "bbox": [30, 0, 10, 10], "score": 0.7},
        {"image_id": 1, "category_id": 1, "bbox": [300, 0, 10, 10], "score": 0.6},
    ]
    f = C.evaluate(gt, dt).f1_optimal(0.5)
    # F1 = 2TP / (TP + FP + nGT): s>=.9: 2/4 = .5; s>=.8: 2/5; s>=.7: 4/6 = .667; s>=.6: 4/7
    c = f["categories"][1]
    assert c["threshold"] == 0.7 and c["f1"] == 4 / 6
    assert c["precision"] == 2 / 3 and c["recall"] == 2 / 3
    assert f["overall"]["f1"] == 4 / 6


# ------------------------------------------------------------ state / merge
def test_split_merge_equals_single_run():
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    gt, dt = make_coco_dataset(n_images=40, n_categories=5, seed=11)
    g, d, p = C.prepare(gt, dt)
    whole = C.accumulate(C.evaluate_images(g, d, p))
    ids = np.asarray(p.imgIds)

    @hyp.settings(max_examples=15, deadline=None)
    @hyp.given(st.lists(st.integers(0, 3), min_size=ids.size, max_size=ids.size), st.randoms())
    def check(assign, rnd):
        shards = [
            C.evaluate_images(g, d, p, image_ids=ids[np.asarray(assign) == s]) for s in range(4)
        ]
        rnd.shuffle(shards)
        merged = shards[0]
        for s in shards[1:]:
            merged = merged.merge(s) if rnd.random() < 0.5 else s.merge(merged)
        res = C.accumulate(merged)
        for k in (*ARRAYS, "stats"):
            assert np.array_equal(getattr(res, k), getattr(whole, k))

    check()


def test_merge_rejects_overlap_and_param_mismatch():
    gt, dt = stress_dataset(2)
    g, d, p = C.prepare(gt, dt)
    s = C.evaluate_images(g, d, p)
    with pytest.raises(DuplicateIdError):
        s.merge(s)
    g2, d2, p2 = C.prepare(gt, dt, maxDets=[1, 10, 20])
    with pytest.raises(InvalidParameterError):
        C.merge_states([s, C.evaluate_images(g2, d2, p2, image_ids=[])])


# ----------------------------------------------------------------- streaming
def _stream(gt, dt, order, **kw):
    ev = C.CocoEvaluator(gt["categories"], fmt="xywh", batch_images=7, **kw)
    by_img_g = {im["id"]: [] for im in gt["images"]}
    by_img_d = {im["id"]: [] for im in gt["images"]}
    for a in gt["annotations"]:
        by_img_g[a["image_id"]].append(a)
    for x in dt:
        by_img_d[x["image_id"]].append(x)
    for i in order:
        ga, da = by_img_g[i], by_img_d[i]
        ev.update(
            i,
            gt_boxes=np.array([a["bbox"] for a in ga]).reshape(-1, 4),
            gt_labels=np.array([a["category_id"] for a in ga], dtype=np.int64),
            dt_boxes=np.array([x["bbox"] for x in da]).reshape(-1, 4),
            dt_scores=np.array([x["score"] for x in da]),
            dt_labels=np.array([x["category_id"] for x in da], dtype=np.int64),
            gt_iscrowd=np.array([a["iscrowd"] for a in ga]),
            gt_area=np.array([a["area"] for a in ga]),
        )
    return ev


@pytest.mark.parametrize("params", [{}, {"useCats": 0}, {"maxDets": [1, 4, 30]}])
def test_streaming_equals_file_based(params):
    gt, dt = stress_dataset(6)
    ref = C.evaluate(gt, dt, **params)
    ids = [im["id"] for im in gt["images"]]
    rng = np.random.default_rng(0)
    ev = _stream(gt, dt, rng.permutation(ids).tolist(), **params)
    res = ev.compute()
    for k in (*ARRAYS, "stats"):
        assert np.array_equal(getattr(res, k), getattr(ref, k)), k
    # two evaluators on halves, merged, in the other order
    perm = rng.permutation(ids).tolist()
    a = _stream(gt, dt, perm[:10], **params)
    b = _stream(gt, dt, perm[10:], **params)
    res2 = b.merge(a).compute()
    for k in (*ARRAYS, "stats"):
        assert np.array_equal(getattr(res2, k), getattr(ref, k)), k


def test_streaming_torch_xyxy():
    torch = pytest.importorskip("torch")
    gt, dt = _zero_id_case()
    gt["annotations"][0]["id"] = 3
    ev = C.CocoEvaluator({1: "thing"})
    ev.update(
        1,
        gt_boxes=torch.tensor([[0.0, 0, 10, 10], [50, 50, 60, 60]]),
        gt_labels=torch.tensor([1, 1]),
        dt_boxes=torch.tensor([[0.0, 0, 10, 10], [50, 50, 60, 60]], requires_grad=True),
        dt_scores=torch.tensor([0.9, 0.8]),
        dt_labels=torch.tensor([1, 1]),
    )
    ref = C.evaluate(gt, dt)
    assert np.array_equal(ev.compute().precision, ref.precision)
    with pytest.raises(DuplicateIdError):
        ev.update(1, None, None, None, None, None)
    with pytest.raises(UnknownIdError):
        ev.update(2, [[0, 0, 1, 1]], [7], None, None, None)


def test_coco100_bbox_of_segmentation_results(coco100):
    # loadRes' segmentation mode: area and box of each result come from its RLE
    pytest.importorskip("ioukit.coco._segm")
    gt = coco100 / "instances_val2014_100.json"
    dt = coco100 / "instances_val2014_fakesegm100_results.json"
    E, _ = pycoco(json.loads(gt.read_text()), json.loads(dt.read_text()))
    assert_same(C.evaluate(gt, dt), E)
