"""ioukit.panoptic against panopticapi (panopticapi-lite), the reference implementation.

The oracle is panopticapi's own code: ``pq_compute_single_core`` per image list (no
process pool, so the tests stay fast) and ``PQStat.pq_average``, assembled exactly as
``pq_compute`` assembles them; one test runs ``pq_compute`` itself (its process pool).
Every PQ / SQ / RQ number and every per-class entry must be equal (``==``).

Ground truth: the real COCO panoptic sample in ../shared/data/panoptic-sample (2 images,
read in place) with predictions generated from it and written to tmp_path: shifted,
merged, split, dropped segments, VOID and crowd overlaps, IoU exactly 0.5; and random
images from ``ioukit.panoptic.random_panoptic``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from ioukit import panoptic
from ioukit.errors import DatasetError, MissingFieldError, ShapeMismatchError, UnknownIdError

pq_eval = pytest.importorskip("panopticapi.evaluation")
Image = pytest.importorskip("PIL.Image")

SAMPLE = "panoptic-sample"


# ---------------------------------------------------------------- the oracle
def oracle(gt_json, pred_json, gt_folder, pred_folder, processes: int = 1) -> dict:
    """pq_compute's result, its images split over ``processes`` chunks without a pool."""
    gt = json.loads(Path(gt_json).read_text())
    pred = json.loads(Path(pred_json).read_text())
    categories = {c["id"]: c for c in gt["categories"]}
    by_image = {a["image_id"]: a for a in pred["annotations"]}
    pairs = [(a, by_image[a["image_id"]]) for a in gt["annotations"]]
    stat = pq_eval.PQStat()
    with contextlib.redirect_stdout(io.StringIO()):
        for k, part in enumerate(np.array_split(np.array(pairs, dtype=object), processes)):
            stat += pq_eval.pq_compute_single_core(
                k, part, str(gt_folder), str(pred_folder), categories
            )
    results = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        results[name], per_class = stat.pq_average(categories, isthing=isthing)
        if name == "All":
            results["per_class"] = per_class
    return results


def assert_same(ours: panoptic.PanopticResult, ref: dict) -> None:
    for name in ("All", "Things", "Stuff"):
        assert ours.results[name] == ref[name], name
    assert ours.results["per_class"].keys() == ref["per_class"].keys()
    for cid, r in ref["per_class"].items():
        assert ours.results["per_class"][cid] == r, cid


# ---------------------------------------------------------------- data
@pytest.fixture(scope="module")
def sample(shared_data):
    root = shared_data / SAMPLE
    gt = json.loads((root / "panoptic_examples.json").read_text())
    cats = json.loads((root / "panoptic_coco_categories.json").read_text())
    gt["categories"] = cats
    maps = {}
    for a in gt["annotations"]:
        rgb = np.asarray(Image.open(root / "panoptic_examples" / a["file_name"]))
        maps[a["image_id"]] = panoptic.rgb2id(rgb)
    return root, gt, maps


def write_case(tmp_path: Path, gt: dict, preds: dict, name: str, gt_doc: dict | None = None):
    """Prediction PNGs + JSON for ``preds`` ({image_id: (id_map, segments_info)})."""
    folder = tmp_path / name
    folder.mkdir()
    anns = []
    for a in gt["annotations"]:
        ids, segs = preds[a["image_id"]]
        panoptic.write_png(folder / a["file_name"], ids)
        anns.append({"image_id": a["image_id"], "file_name": a["file_name"], "segments_info": segs})
    pred_json = tmp_path / f"{name}.json"
    pred_json.write_text(json.dumps({"annotations": anns, "categories": gt["categories"]}))
    gt_json = tmp_path / f"{name}_gt.json"
    gt_json.write_text(json.dumps(gt_doc if gt_doc is not None else gt))
    return gt_json, pred_json, folder


def segments_of(ids: np.ndarray, cat_of: dict) -> list[dict]:
    u, n = np.unique(ids, return_counts=True)
    return [
        {"id": int(s), "category_id": int(cat_of[int(s)]), "area": int(a)}
        for s, a in zip(u, n)
        if s != 0
    ]


def perturb(maps: dict, gt: dict, how: str, seed: int = 0) -> dict:
    """Predictions made from the GT maps; ``how`` names the perturbation."""
    rng = np.random.default_rng(seed)
    out = {}
    for a in gt["annotations"]:
        ids = maps[a["image_id"]].copy()
        cat = {s["id"]: s["category_id"] for s in a["segments_info"]}
        segs = [s for s in a["segments_info"] if s["iscrowd"] == 0]
        free_id = max(cat) + 1
        if how == "identical":
            pass
        elif how == "shifted":
            ids = np.roll(ids, (int(rng.integers(-9, 10)), int(rng.integers(-9, 10))), (0, 1))
        elif how == "merged":  # pairs of same-category segments become one
            by_cat: dict[int, list[int]] = {}
            for s in segs:
                by_cat.setdefault(s["category_id"], []).append(s["id"])
            for members in by_cat.values():
                for x, y in zip(members[::2], members[1::2]):
                    ids[ids == y] = x
        elif how == "split":  # each thing split at its middle row: the halves get new ids
            for s in segs:
                ys, _ = np.nonzero(ids == s["id"])
                if ys.size:
                    lower = (ids == s["id"]) & (np.arange(ids.shape[0])[:, None] > np.median(ys))
                    ids[lower] = free_id
                    cat[free_id] = s["category_id"]
                    free_id += 1
        elif how == "dropped":  # every third segment becomes VOID or another category
            for k, s in enumerate(segs):
                if k % 3 == 0:
                    ids[ids == s["id"]] = 0
                elif k % 3 == 1:
                    cat[s["id"]] = 1 if s["category_id"] != 1 else 2
        elif how == "void":  # predictions over GT VOID: inside it, and grown into it
            void = ids == 0
            ys, xs = np.nonzero(void)
            inside = np.zeros_like(void)
            inside[ys[: ys.size // 2], xs[: xs.size // 2]] = True
            ids[inside] = free_id
            cat[free_id] = 1
            grow = np.roll(ids, 4, 1)
            ids = np.where(void & ~inside & (grow != 0), grow, ids)
            # a segment mostly on VOID: a few GT pixels of category 1 plus VOID pixels
            free_id += 1
            mixed = void & ~inside
            m_ys, m_xs = np.nonzero(mixed)
            ids[m_ys[:40], m_xs[:40]] = free_id
            cat[free_id] = 1
        elif how == "crowd":  # predictions on crowd regions, right and wrong category
            for s in a["segments_info"]:
                if s["iscrowd"]:
                    region = np.nonzero(ids == s["id"])
                    n = region[0].size
                    ids[region[0][: n // 3], region[1][: n // 3]] = free_id
                    ids[region[0][n // 3 : n // 2], region[1][n // 3 : n // 2]] = free_id + 1
                    cat[free_id] = s["category_id"]
                    cat[free_id + 1] = 1 if s["category_id"] != 1 else 2
                    free_id += 2
        else:  # pragma: no cover
            raise ValueError(how)
        # the prediction's own ids (sequential from 1): panopticapi never compares ids
        u = np.unique(ids)
        new = {int(s): k for k, s in enumerate(u.tolist(), start=0 if u[0] == 0 else 1)}
        lut = np.array([new[int(s)] for s in u])
        ids = lut[np.searchsorted(u, ids)]
        out[a["image_id"]] = (ids, segments_of(ids, {new[s]: cat[s] for s in new if s != 0}))
    return out


PERTURBATIONS = ["identical", "shifted", "merged", "split", "dropped", "void", "crowd"]


@pytest.mark.parametrize("how", PERTURBATIONS)
def test_perturbed_predictions_equal_panopticapi(sample, tmp_path, how):
    root, gt, maps = sample
    gt_json, pred_json, folder = write_case(tmp_path, gt, perturb(maps, gt, how), how)
    gt_folder = root / "panoptic_examples"
    ours = panoptic.evaluate(gt_json, pred_json, gt_folder=gt_folder, pred_folder=folder)
    ref = oracle(gt_json, pred_json, gt_folder, folder)
    assert_same(ours, ref)
    if how == "identical":
        assert ours.pq == 1.0 and ours.fp.sum() == 0 and ours.fn.sum() == 0
    # the same through Pillow, one thread, and in memory
    pil = panoptic.evaluate(
        gt_json, pred_json, gt_folder=gt_folder, pred_folder=folder, decoder="pillow",
        num_threads=1,
    )  # fmt: skip
    assert_same(pil, ref)
    preds = perturb(maps, gt, how)
    mem = panoptic.evaluate_arrays(
        [(maps[a["image_id"]], a["segments_info"]) for a in gt["annotations"]],
        [preds[a["image_id"]] for a in gt["annotations"]],
        gt["categories"],
    )
    assert_same(mem, ref)


def test_crowd_and_void_rules_are_exercised(sample, tmp_path):
    # the crowd case swallows one prediction and counts the wrong-category one as FP
    root, gt, maps = sample
    preds = perturb(maps, gt, "crowd")
    gt_json, pred_json, folder = write_case(tmp_path, gt, preds, "crowd")
    r = panoptic.evaluate(gt_json, pred_json, gt_folder=root / "panoptic_examples",
                          pred_folder=folder)  # fmt: skip
    person = int(np.flatnonzero(r.category_ids == 1)[0])
    n_crowd = sum(s["iscrowd"] for a in gt["annotations"] for s in a["segments_info"])
    assert n_crowd == 3  # a person crowd in each image, a horse crowd in the second
    # on each crowd region: a prediction of its category (swallowed) and one of another
    # (an FP: 2 on the person crowds, category 2; 1 on the horse crowd, a person)
    assert r.fp.sum() == 3 and r.fp[person] == 1


def _exact_half_case(gt: dict, maps: dict, extra: int) -> dict:
    """Per image, one prediction covering exactly half (+extra pixels) of one segment."""
    out = {}
    for a in gt["annotations"]:
        ids = maps[a["image_id"]]
        s = next(s for s in a["segments_info"] if s["iscrowd"] == 0 and s["area"] % 2 == 0)
        ys, xs = np.nonzero(ids == s["id"])
        # inside the segment: IoU = (A/2 + extra) / A (no VOID, union = the GT segment)
        p = np.zeros_like(ids)
        k = s["area"] // 2 + extra
        p[ys[:k], xs[:k]] = 7
        out[a["image_id"]] = (p, [{"id": 7, "category_id": s["category_id"]}])
    return out


@pytest.mark.parametrize("extra", [0, 1])
def test_iou_exactly_half_is_not_a_match(sample, tmp_path, extra):
    root, gt, maps = sample
    preds = _exact_half_case(gt, maps, extra)
    gt_json, pred_json, folder = write_case(tmp_path, gt, preds, f"half{extra}")
    gt_folder = root / "panoptic_examples"
    ours = panoptic.evaluate(gt_json, pred_json, gt_folder=gt_folder, pred_folder=folder)
    assert_same(ours, oracle(gt_json, pred_json, gt_folder, folder))
    # IoU 0.5 exactly: no TP (strict >); one pixel more: one TP per image
    assert int(ours.tp.sum()) == (2 if extra else 0)


def test_gt_area_json_versus_pixels(sample, tmp_path):
    root, gt, maps = sample
    doc = copy.deepcopy(gt)
    # inflate two JSON areas: panopticapi uses them in the union
    doc["annotations"][0]["segments_info"][0]["area"] += 500
    doc["annotations"][1]["segments_info"][3]["area"] += 1
    preds = perturb(maps, gt, "shifted", seed=3)
    gt_json, pred_json, folder = write_case(tmp_path, gt, preds, "areas", gt_doc=doc)
    gt_folder = root / "panoptic_examples"
    with pytest.warns(panoptic.GtAreaWarning, match="2 GT segment"):
        ours = panoptic.evaluate(gt_json, pred_json, gt_folder=gt_folder, pred_folder=folder)
    assert_same(ours, oracle(gt_json, pred_json, gt_folder, folder))
    assert len(ours.area_mismatches) == 2
    # gt_area="pixels" is panopticapi on a JSON whose areas are the pixel counts
    counted = panoptic.evaluate(
        gt_json, pred_json, gt_folder=gt_folder, pred_folder=folder, gt_area="pixels"
    )
    fixed_json = tmp_path / "fixed.json"
    fixed_json.write_text(json.dumps(gt))
    assert_same(counted, oracle(fixed_json, pred_json, gt_folder, folder))


# ---------------------------------------------------------------- random images
@pytest.fixture(scope="module")
def random_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("random_panoptic")
    cats, gt, pred = panoptic.random_panoptic(
        60, height=48, width=64, n_segments=12, n_categories=10, seed=11
    )
    panoptic.write_panoptic(d / "gt.json", gt, cats)
    panoptic.write_panoptic(d / "pred.json", pred, cats)
    return d, cats, gt, pred


def test_random_images_equal_panopticapi(random_files):
    d, cats, gt, pred = random_files
    ref = oracle(d / "gt.json", d / "pred.json", d / "gt", d / "pred")
    for threads in (1, 3):
        assert_same(panoptic.evaluate(d / "gt.json", d / "pred.json", num_threads=threads), ref)
    assert_same(panoptic.evaluate_arrays(gt, pred, cats, num_threads=2), ref)


@pytest.mark.parametrize("processes", [2, 3, 7])
def test_reference_processes_sum_as_pq_compute_does(random_files, processes):
    d, *_ = random_files
    ref = oracle(d / "gt.json", d / "pred.json", d / "gt", d / "pred", processes=processes)
    r = panoptic.evaluate(d / "gt.json", d / "pred.json", reference_processes=processes)
    assert_same(r, ref)


def test_pq_compute_itself(random_files):
    # panopticapi's public entry point with its process pool (cpu_count processes)
    d, *_ = random_files
    with contextlib.redirect_stdout(io.StringIO()):
        ref = pq_eval.pq_compute(str(d / "gt.json"), str(d / "pred.json"))
    r = panoptic.evaluate(
        d / "gt.json", d / "pred.json", reference_processes=multiprocessing.cpu_count()
    )
    assert_same(r, ref)


@pytest.mark.parametrize("seed", range(4))
def test_random_in_memory_equal_panopticapi(tmp_path, seed):
    cats, gt, pred = panoptic.random_panoptic(
        8, height=24 + seed, width=40, n_segments=6 + 3 * seed, n_categories=6, seed=100 + seed
    )
    panoptic.write_panoptic(tmp_path / "gt.json", gt, cats)
    panoptic.write_panoptic(tmp_path / "pred.json", pred, cats)
    ref = oracle(tmp_path / "gt.json", tmp_path / "pred.json", tmp_path / "gt", tmp_path / "pred")
    assert_same(panoptic.evaluate_arrays(gt, pred, cats), ref)
    rgb = [(panoptic.id2rgb(m), s) for m, s in gt]  # RGB maps decode like the PNGs
    assert_same(panoptic.evaluate_arrays(rgb, pred, cats), ref)


# ---------------------------------------------------------------- results and edge cases
def test_result_tables_and_dict(random_files):
    d, cats, *_ = random_files
    r = panoptic.evaluate(d / "gt.json", d / "pred.json")
    rows = r.per_class()
    assert [x["category_id"] for x in rows] == [c["id"] for c in cats]
    k = next(i for i, x in enumerate(rows) if x["tp"])
    x = rows[k]
    # closed form from the counts: PQ = SQ * RQ, RQ = TP / (TP + FP/2 + FN/2)
    assert x["rq"] == x["tp"] / (x["tp"] + 0.5 * x["fp"] + 0.5 * x["fn"])
    assert x["pq"] == pytest.approx(x["sq"] * x["rq"], rel=1e-12)
    text = r.summary(per_class=True)
    assert "All" in text and "Things" in text and x["name"] in text
    payload = json.loads(json.dumps(r.to_dict()))
    assert payload["results"]["All"]["pq"] == r.pq
    assert payload["results"]["per_class"][str(x["category_id"])]["sq"] == x["sq"]


def test_no_category_with_segments_gives_nan():
    ids = np.zeros((3, 3), np.int64)
    r = panoptic.evaluate_arrays([(ids, [])], [(ids, [])], [{"id": 1, "isthing": 1}])
    assert np.isnan(r.pq) and r.results["All"]["n"] == 0
    assert r.results["per_class"] == {1: {"pq": 0.0, "sq": 0.0, "rq": 0.0}}


def _one_image(tmp_path, gt_ids, gt_segs, pr_ids, pr_segs, cats=None):
    cats = cats or [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]
    panoptic.write_panoptic(tmp_path / "gt.json", [(gt_ids, gt_segs)], cats)
    panoptic.write_panoptic(tmp_path / "pred.json", [(pr_ids, pr_segs)], cats)
    return tmp_path / "gt.json", tmp_path / "pred.json"


def test_errors_name_the_image_and_segment(tmp_path):
    ids = np.array([[1, 1, 2, 2]] * 2)
    gseg = [{"id": 1, "category_id": 1, "area": 4}, {"id": 2, "category_id": 2, "area": 4}]
    # a PNG id the JSON does not list
    (tmp_path / "a").mkdir()
    g, p = _one_image(tmp_path / "a", ids, gseg, ids, gseg[:1])
    with pytest.raises(UnknownIdError, match="image 0.*segment id 2"):
        panoptic.evaluate(g, p)
    # a JSON segment without pixels
    (tmp_path / "b").mkdir()
    extra = gseg + [{"id": 9, "category_id": 1}]
    g, p = _one_image(tmp_path / "b", ids, gseg, ids, extra)
    with pytest.raises(DatasetError, match="segment 9 .*no pixel"):
        panoptic.evaluate(g, p)
    # an unknown category
    (tmp_path / "c").mkdir()
    g, p = _one_image(tmp_path / "c", ids, gseg, ids, [gseg[0], {"id": 2, "category_id": 5}])
    with pytest.raises(UnknownIdError, match="category_id 5"):
        panoptic.evaluate(g, p)
    # sizes differ
    (tmp_path / "d").mkdir()
    g, p = _one_image(tmp_path / "d", ids, gseg, ids[:1], gseg)
    with pytest.raises(ShapeMismatchError, match="2x4.*1x4"):
        panoptic.evaluate(g, p)


def test_missing_prediction_and_folder(tmp_path):
    ids = np.ones((2, 2), np.int64)
    seg = [{"id": 1, "category_id": 1, "area": 4}]
    g, p = _one_image(tmp_path, ids, seg, ids, seg)
    doc = json.loads(p.read_text())
    doc["annotations"][0]["image_id"] = 99
    p.write_text(json.dumps(doc))
    with pytest.raises(UnknownIdError, match="no prediction for image id 0"):
        panoptic.evaluate(g, p)
    with pytest.raises(FileNotFoundError):
        panoptic.evaluate(g, p, pred_folder=tmp_path / "nowhere")


def test_non_rgb_png_is_a_dataset_error(tmp_path):
    ids = np.ones((2, 2), np.int64)
    seg = [{"id": 1, "category_id": 1, "area": 4}]
    g, p = _one_image(tmp_path, ids, seg, ids, seg)
    Image.fromarray(np.ones((2, 2), np.uint8), "L").save(tmp_path / "pred" / "000000000000.png")
    with pytest.raises(DatasetError, match="mode L"):
        panoptic.evaluate(g, p)


def test_rgba_pngs_read_like_rgb(tmp_path, random_files):
    # panopticapi reads the first three channels of an RGBA PNG
    d, cats, gt, pred = random_files
    out = tmp_path / "pred"
    out.mkdir()
    for k, (ids, _) in enumerate(pred[:5]):
        rgba = np.concatenate([panoptic.id2rgb(ids), np.full(ids.shape + (1,), 200, np.uint8)], 2)
        Image.fromarray(rgba).save(out / f"{k:012d}.png")
    docs = {}
    for side in ("gt", "pred"):
        doc = json.loads((d / f"{side}.json").read_text())
        doc["annotations"] = doc["annotations"][:5]
        docs[side] = tmp_path / f"{side}.json"
        docs[side].write_text(json.dumps(doc))
    ref = oracle(docs["gt"], docs["pred"], d / "gt", out)
    assert_same(
        panoptic.evaluate(docs["gt"], docs["pred"], gt_folder=d / "gt", pred_folder=out), ref
    )


def test_one_crowd_region_per_category_the_last_in_the_json(tmp_path):
    # two person crowds (ids 5 and 9); panopticapi keeps the one listed last, so a person
    # prediction on crowd 5 is swallowed when 5 is listed last and an FP when 9 is
    gt_ids = np.array([[5, 5, 5, 9, 9, 9, 1, 1, 2]] * 3)
    crowd5 = {"id": 5, "category_id": 1, "iscrowd": 1, "area": 9}
    crowd9 = {"id": 9, "category_id": 1, "iscrowd": 1, "area": 9}
    # a stuff and another thing category matched, so that Things and Stuff both have n > 0
    others = [
        {"id": 1, "category_id": 2, "iscrowd": 0, "area": 6},
        {"id": 2, "category_id": 3, "iscrowd": 0, "area": 3},
    ]
    cats = [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}, {"id": 3, "isthing": 1}]
    pr_ids = np.array([[3, 3, 3, 0, 0, 0, 1, 1, 2]] * 3)
    pseg = [{"id": 3, "category_id": 1}, {"id": 1, "category_id": 2}, {"id": 2, "category_id": 3}]
    for k, (order, fp) in enumerate((([crowd9, crowd5], 0), ([crowd5, crowd9], 1))):
        d = tmp_path / str(k)
        d.mkdir()
        g, p = _one_image(d, gt_ids, order + others, pr_ids, pseg, cats)
        r = panoptic.evaluate(g, p)
        assert_same(r, oracle(g, p, d / "gt", d / "pred"))
        assert int(r.fp[0]) == fp and int(r.tp[1]) == 1


def test_json_readers_agree(random_files, tmp_path):
    # files go through ioukit's byte scanner, dicts through json; string image ids and
    # a missing GT area make the scanner hand over to json
    d, *_ = random_files
    ref = oracle(d / "gt.json", d / "pred.json", d / "gt", d / "pred")
    gt, pred = (json.loads((d / f"{s}.json").read_text()) for s in ("gt", "pred"))
    assert_same(panoptic.evaluate(gt, pred, gt_folder=d / "gt", pred_folder=d / "pred"), ref)
    for doc in (gt, pred):
        for a in doc["annotations"]:
            a["image_id"] = f"img{a['image_id']}"
    gt["annotations"][0]["segments_info"][0]["extra"] = {"nested": [1, "x"]}
    for s, doc in (("gt", gt), ("pred", pred)):
        (tmp_path / f"{s}.json").write_text(json.dumps(doc))
    r = panoptic.evaluate(tmp_path / "gt.json", tmp_path / "pred.json", gt_folder=d / "gt",
                          pred_folder=d / "pred")  # fmt: skip
    assert_same(r, ref)
    del gt["annotations"][1]["segments_info"][0]["area"]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    with pytest.raises(MissingFieldError, match="segments_info\\[0\\] has no 'area'"):
        panoptic.evaluate(tmp_path / "gt.json", tmp_path / "pred.json", gt_folder=d / "gt",
                          pred_folder=d / "pred")  # fmt: skip
