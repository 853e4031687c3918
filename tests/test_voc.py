"""ioukit.voc: Pascal VOC AP, compared with the transcribed py-faster-rcnn ``voc_eval``.

The oracle (tests/_voc_reference.py) is written from py-faster-rcnn, not from ioukit.
Every data set here is generated into ``tmp_path`` (XML folder + devkit results files).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from _voc_reference import voc_eval_mem
from ioukit import voc
from ioukit.errors import (
    DatasetError,
    DuplicateIdError,
    InvalidParameterError,
    MissingFieldError,
    UnknownIdError,
)

CLASSES = ("cat", "dog", "person", "car", "bus")


# ------------------------------------------------------------------ writing
def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _xml_object(name, difficult, box, with_difficult=True) -> str:
    tags = "".join(f"<{t}>{_fmt(v)}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box))
    diff = f"<difficult>{int(difficult)}</difficult>" if with_difficult else ""
    return (
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"{diff}<bndbox>{tags}</bndbox></object>"
    )


def write_voc(root: Path, images: dict, dets: dict) -> tuple[Path, str]:
    """images: {id: [(name, difficult, box), ...]}; dets: {class: [(id, score, *box)]}."""
    ann = root / "Annotations"
    ann.mkdir(parents=True, exist_ok=True)
    for img, objs in images.items():
        body = "".join(_xml_object(*o) for o in objs)
        (ann / f"{img}.xml").write_text(
            f"<annotation><filename>{img}.jpg</filename>{body}</annotation>"
        )
    res = root / "results"
    res.mkdir(exist_ok=True)
    for cls, rows in dets.items():
        lines = [f"{r[0]} {r[1]!r} " + " ".join(_fmt(v) for v in r[2:]) for r in rows]
        (res / f"comp4_det_test_{cls}.txt").write_text("".join(x + "\n" for x in lines))
    return ann, str(res / "comp4_det_test_{cls}.txt")


def make_voc(seed: int, n_images=40, integer=True, ties=False):
    """A VOC-like set: difficult objects, jittered TPs, duplicates, wrong-class and
    background detections. Returns (images, dets) for :func:`write_voc`."""
    rng = np.random.default_rng(seed)
    images, dets = {}, {c: [] for c in CLASSES}

    def box(x, y, w, h):
        b = np.array([x, y, x + w, y + h], dtype=float)
        return np.round(b) if integer else np.round(b, 2)

    for i in range(n_images):
        img = f"{i:06d}"
        objs = []
        for _ in range(int(rng.integers(0, 7))):
            w, h = rng.uniform(8, 150, 2)
            objs.append(
                (
                    str(rng.choice(CLASSES)),
                    bool(rng.uniform() < 0.15),
                    tuple(box(*rng.uniform(1, 350, 2), w, h)),
                )
            )
        if i < len(CLASSES):  # every class has a regular GT somewhere
            objs.append((CLASSES[i], False, tuple(box(10, 10, 60, 40))))
        images[img] = objs
        for name, _, b in objs:
            b = np.array(b)
            w, h = b[2] - b[0], b[3] - b[1]
            if integer and (h + 1) % 2 == 0 and rng.uniform() < 0.3:
                # the top half of the GT: +1 areas H*W/2 and H*W, IoU exactly 0.5
                dets[name].append([img, None, b[0], b[1], b[2], b[1] + (h + 1) / 2 - 1])
            for _ in range(int(rng.choice([0, 1, 1, 1, 2, 3]))):  # misses, hits, duplicates
                j = rng.normal(0, 0.12, 4) * np.array([w, h, w, h])
                d = b + j
                d = np.round(d) if integer else np.round(d, 2)
                cls = name if rng.uniform() < 0.9 else str(rng.choice(CLASSES))
                dets[cls].append([img, None, *d])
        for _ in range(int(rng.integers(0, 3))):  # background
            w, h = rng.uniform(8, 150, 2)
            dets[str(rng.choice(CLASSES))].append([img, None, *box(*rng.uniform(1, 350, 2), w, h)])
    for cls in CLASSES:
        n = len(dets[cls])
        scores = rng.uniform(0.05, 1.0, n)
        scores = np.round(scores, 1) if ties else scores  # ties: 10 distinct values
        order = rng.permutation(n)  # file order unrelated to score
        dets[cls] = [tuple([dets[cls][k][0], float(scores[k]), *dets[cls][k][2:]]) for k in order]
    return images, dets


def oracle(images, dets, cls, *, thr=0.5, use07=True, ge=False, eps=False, kind=None, diff=True):
    gts = {
        img: [(*o[2], int(o[1]) if diff else 0) for o in objs if o[0] == cls]
        for img, objs in images.items()
    }
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        return voc_eval_mem(gts, dets[cls], thr, use07, eps_guard=eps, ge=ge, kind=kind)


def same(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True))


# ------------------------------------------------- equality with the oracle
@pytest.mark.parametrize("metric", ["voc07", "voc12"])
@pytest.mark.parametrize("rule", [">", ">="])
@pytest.mark.parametrize("precision_rule", ["plain", "guarded"])
@pytest.mark.parametrize("integer", [True, False])
def test_equals_py_faster_rcnn(tmp_path, metric, rule, precision_rule, integer):
    images, dets = make_voc(seed=1 + integer, integer=integer)
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(
        ann, pattern, metric=metric, threshold_rule=rule, precision_rule=precision_rule
    )
    assert r.classes == sorted(CLASSES)
    curves = r.curves()
    aps = []
    for cls in r.classes:
        rec, prec, ap = oracle(
            images,
            dets,
            cls,
            use07=metric == "voc07",
            ge=rule == ">=",
            eps=precision_rule == "guarded",
        )
        assert same(r.ap[cls], ap), (cls, r.ap[cls], ap)
        assert same(curves[cls]["recall"], rec) and same(curves[cls]["precision"], prec), cls
        aps.append(ap)
    assert same(r.map, np.mean(aps))


@pytest.mark.parametrize("seed", range(6))
def test_equals_py_faster_rcnn_many_sets(tmp_path, seed):
    images, dets = make_voc(seed=100 + seed, n_images=25)
    ann, pattern = write_voc(tmp_path, images, dets)
    for thr in (0.3, 0.5, 0.7):
        r = voc.evaluate(ann, pattern, iou_threshold=thr, metric="voc12", precision_rule="plain")
        for cls in r.classes:
            assert same(r.ap[cls], oracle(images, dets, cls, thr=thr, use07=False)[2]), (thr, cls)


def test_tied_scores_follow_file_order(tmp_path):
    # scores with one decimal: many ties; ioukit ranks them in file order (the devkit's
    # stable MATLAB sort), which is the oracle with a stable argsort
    images, dets = make_voc(seed=5, ties=True)
    ann, pattern = write_voc(tmp_path, images, dets)
    for metric, use07 in (("voc07", True), ("voc12", False)):
        r = voc.evaluate(ann, pattern, metric=metric, precision_rule="plain")
        for cls in r.classes:
            want = oracle(images, dets, cls, use07=use07, kind="stable")[2]
            assert same(r.ap[cls], want), (metric, cls)


def test_several_thresholds_equal_separate_runs(tmp_path):
    images, dets = make_voc(seed=9)
    ann, pattern = write_voc(tmp_path, images, dets)
    thrs = [0.3, 0.5, 0.75]
    r = voc.evaluate(ann, pattern, iou_threshold=thrs)
    for t, thr in enumerate(thrs):
        one = voc.evaluate(ann, pattern, iou_threshold=thr)
        assert same(r.ap_table[:, t], one.ap_table[:, 0])
        for cls in r.classes:
            assert same(r.curves(thr)[cls]["precision"], one.curves()[cls]["precision"])
    assert r.ap["cat"] == np.mean(r.ap_table[r.classes.index("cat")])
    with pytest.raises(InvalidParameterError, match="was not evaluated"):
        r.curves(0.6)


def test_use_difficult_counts_them_as_regular(tmp_path):
    images, dets = make_voc(seed=11)
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern, use_difficult=True, precision_rule="plain")
    for cls in r.classes:
        assert same(r.ap[cls], oracle(images, dets, cls, diff=False)[2]), cls
    assert r.num_difficult.tolist() == [0] * len(CLASSES)


def test_default_is_detectron_precision_and_devkit_order(tmp_path):
    images, dets = make_voc(seed=13)
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern)  # voc07, >, guarded, legacy
    for cls in r.classes:
        assert same(r.ap[cls], oracle(images, dets, cls, eps=True)[2]), cls


# ------------------------------------------------------------ golden cases
def test_golden_11_point_vs_all_point(tmp_path):
    # one image, 3 GT dogs, 4 detections ranked TP, FP (background), TP, FP (background)
    #   recall    1/3 1/3 2/3 2/3      precision 1 1/2 2/3 1/2
    # all-point: 1/3 * 1 + 1/3 * 2/3 + 1/3 * 0 = 5/9
    # 11-point: t in {0, .1, .2, .30000000000000004} -> 1; {.4, .5, .6000000000000001} ->
    #   2/3; t >= .7000000000000001 -> 0 (recall never reaches it): (4 + 2) / 11 = 6/11
    gt = [(1, 1, 20, 20), (40, 40, 60, 60), (100, 100, 140, 140)]
    images = {"im": [("dog", False, b) for b in gt]}
    dets = {
        "dog": [
            ("im", 0.9, 1, 1, 20, 20),
            ("im", 0.8, 200, 200, 220, 220),
            ("im", 0.7, 40, 40, 60, 60),
            ("im", 0.6, 300, 300, 320, 320),
        ]
    }
    ann, pattern = write_voc(tmp_path, images, dets)
    r07 = voc.evaluate(ann, pattern, metric="voc07")
    r12 = voc.evaluate(ann, pattern, metric="voc12")
    assert r07.ap["dog"] == pytest.approx(6 / 11, abs=1e-15)
    assert r12.ap["dog"] == pytest.approx(5 / 9, abs=1e-15)
    assert r12.ap["dog"] == oracle(images, dets, "dog", use07=False)[2]
    assert r07.ap["dog"] == oracle(images, dets, "dog")[2]
    c = r12.curves()["dog"]
    assert c["tp"].tolist() == [1, 1, 2, 2] and c["fp"].tolist() == [0, 1, 1, 2]


def test_golden_difficult_only_gt(tmp_path):
    # "cat" has only a difficult GT: no positives, AP NaN, left out of the mAP. The
    # detection on it is ignored (neither TP nor FP).
    images = {
        "a": [("cat", True, (10, 10, 50, 50)), ("dog", False, (100, 100, 150, 150))],
    }
    dets = {"cat": [("a", 0.9, 10, 10, 50, 50)], "dog": [("a", 0.8, 100, 100, 150, 150)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern)
    assert math.isnan(r.ap["cat"]) and r.ap["dog"] == pytest.approx(1.0, abs=1e-15)
    assert r.map == r.ap["dog"]
    assert r.num_gt.tolist() == [0, 1] and r.num_difficult.tolist() == [1, 0]
    m = r.matches()
    assert m["outcome"].tolist() == ["ignored", "TP"]
    assert m["gt_id"].tolist() == [0, 1]  # object positions in a.xml
    assert "nan" in r.summary()


def test_golden_difficult_hit_first_then_tp(tmp_path):
    # ranked: a detection on a difficult GT (ignored), then a TP; npos = 1.
    # precision[0] is 0/0: py-faster-rcnn ("plain") gives NaN and its 11-point AP is NaN;
    # Detectron ("guarded", the default) gives 0 there: 11 x 1/11 = 1.0000000000000002.
    # All-point AP is 1 either way (the NaN sits at recall 0).
    images = {"a": [("dog", True, (1, 1, 30, 30)), ("dog", False, (100, 100, 130, 130))]}
    dets = {"dog": [("a", 0.9, 1, 1, 30, 30), ("a", 0.8, 100, 100, 130, 130)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    assert math.isnan(voc.evaluate(ann, pattern, precision_rule="plain").ap["dog"])
    assert voc.evaluate(ann, pattern).ap["dog"] == 1.0000000000000002
    assert voc.evaluate(ann, pattern, metric="voc12", precision_rule="plain").ap["dog"] == 1.0
    assert math.isnan(oracle(images, dets, "dog")[2])
    assert oracle(images, dets, "dog", eps=True)[2] == 1.0000000000000002


def test_golden_duplicates_on_one_gt(tmp_path):
    # two detections on one GT: the better-scored is the TP, the other a FP (duplicate)
    # -> precision 1, 1/2; recall 1, 1; AP 1 in both metrics
    images = {"a": [("dog", False, (10, 10, 60, 60))]}
    dets = {"dog": [("a", 0.7, 11, 11, 60, 60), ("a", 0.9, 10, 10, 60, 60)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern, metric="voc12")
    m = r.matches()
    assert m["outcome"].tolist() == ["FP", "TP"]  # rows in file order
    assert m["gt_id"].tolist() == [-1, 0] and m["best_gt_id"].tolist() == [0, 0]
    assert r.ap["dog"] == 1.0
    assert r.curves()["dog"]["precision"].tolist() == [1.0, 0.5]


def test_golden_best_gt_taken_is_fp_even_with_a_free_gt(tmp_path):
    # research note 2.6: det 2's best GT is b/0 (taken), although b/1 overlaps > 0.5
    images = {"b": [("x", False, (1, 1, 50, 50)), ("x", False, (30, 1, 80, 50))]}
    dets = {"x": [("b", 0.80, 1, 1, 50, 50), ("b", 0.75, 10, 1, 59, 50)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    m = voc.evaluate(ann, pattern).matches()
    assert m["outcome"].tolist() == ["TP", "FP"]
    assert m["best_gt_id"].tolist() == [0, 0] and m["iou"][1] > 0.5


def test_golden_iou_exactly_half(tmp_path):
    # det [1,1,10,5] on GT [1,1,10,10]: +1 areas 50 and 100, IoU exactly 0.5:
    # '>' (py-faster-rcnn) -> FP, AP 0; '>=' (MATLAB devkit) -> TP, AP 1
    images = {"a": [("dog", False, (1, 1, 10, 10))]}
    dets = {"dog": [("a", 0.9, 1, 1, 10, 5)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    gt_rule = voc.evaluate(ann, pattern, metric="voc12")
    ge_rule = voc.evaluate(ann, pattern, metric="voc12", threshold_rule=">=")
    assert gt_rule.matches()["iou"].tolist() == [0.5]
    assert gt_rule.ap["dog"] == 0.0 and ge_rule.ap["dog"] == 1.0
    # continuous coordinates: 10 x 4 / (9 x 9) = 36/81, under the threshold
    cont = voc.evaluate(ann, pattern, legacy=False, threshold_rule=">=")
    assert cont.matches()["iou"].tolist() == [36 / 81] and cont.ap["dog"] == 0.0


def test_golden_empty_cases(tmp_path):
    # "dog" has GT but no detections (empty file): AP 0. "cat" has no GT at all and one
    # detection: AP NaN, out of the mAP. Images without GT make detections FP.
    images = {"a": [("dog", False, (1, 1, 9, 9))], "b": []}
    dets = {"dog": [], "cat": [("b", 0.5, 1, 1, 9, 9)]}
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern, classes=["dog", "cat"])
    assert r.ap["dog"] == 0.0 and math.isnan(r.ap["cat"]) and r.map == 0.0
    assert r.matches()["outcome"].tolist() == ["FP"]
    assert r.num_dt.tolist() == [0, 1]
    r = voc.evaluate(ann, pattern, classes=["cat"])
    assert math.isnan(r.map)


# ---------------------------------------------------------------- results API
def test_result_api(tmp_path):
    images, dets = make_voc(seed=21, n_images=10)
    ann, pattern = write_voc(tmp_path, images, dets)
    r = voc.evaluate(ann, pattern, classes=["dog", "cat"])
    assert list(r.ap) == ["dog", "cat"]
    m = r.matches()
    n = sum(len(dets[c]) for c in ("dog", "cat"))
    assert all(len(v) == n for v in m.values())
    assert set(np.unique(m["flag"])) <= {0, 1, 2}
    assert m["class"][0] == "dog" and m["row"][0] == 0
    c = r.curves()
    assert len(c["dog"]["scores"]) == len(dets["dog"])
    assert np.all(np.diff(c["dog"]["scores"]) <= 0)
    text = r.summary()
    assert "voc07" in text and "mAP" in text and "IoU > 0.5" in text and "dog" in text
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["map"] == pytest.approx(r.map) and d["classes"] == ["dog", "cat"]
    pd = pytest.importorskip("pandas")
    f = r.matches(as_frame=True)
    assert isinstance(f, pd.DataFrame) and len(f) == n and "outcome" in f.columns


def test_image_set_file_and_list(tmp_path):
    images, dets = make_voc(seed=23, n_images=12)
    # keep only detections on the first 6 images, which make the image set
    keep = sorted(images)[:6]
    dets = {c: [d for d in v if d[0] in keep] for c, v in dets.items()}
    ann, pattern = write_voc(tmp_path, images, dets)
    sets = tmp_path / "test.txt"
    sets.write_text("".join(f"{i}  1\n" for i in keep) + "\n")  # class-set style + blank line
    a = voc.evaluate(ann, pattern, image_set=sets)
    b = voc.evaluate(ann, pattern, image_set=keep)
    assert a.image_ids == keep and same(list(a.ap.values()), list(b.ap.values()))
    sub = {k: images[k] for k in keep}
    for cls in a.classes:
        if a.num_gt[a.classes.index(cls)]:
            assert same(a.ap[cls], oracle(sub, dets, cls, eps=True)[2]), cls


def test_coco_json_pair_gives_the_same_numbers(tmp_path):
    images, dets = make_voc(seed=29)
    ann, pattern = write_voc(tmp_path, images, dets)
    ids = sorted(images)
    cats = [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)]
    cid = {c["name"]: c["id"] for c in cats}
    anns = []
    for i, img in enumerate(ids):
        for name, diff, (x1, y1, x2, y2) in images[img]:
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i,
                    "category_id": cid[name],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "difficult": int(diff),
                }
            )
    gt = {"images": [{"id": i} for i in range(len(ids))], "categories": cats, "annotations": anns}
    res = [
        {
            "image_id": ids.index(d[0]),
            "category_id": cid[c],
            "score": d[1],
            "bbox": [d[2], d[3], d[4] - d[2], d[5] - d[3]],
        }
        for c in CLASSES
        for d in dets[c]
    ]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(res))
    x = voc.evaluate(ann, pattern, classes=list(CLASSES))
    for g, d in ((gt, res), (tmp_path / "gt.json", str(tmp_path / "dt.json"))):
        j = voc.evaluate(g, d)
        assert j.classes == list(CLASSES)
        assert same(j.ap_table, x.ap_table)
    # a subset of images: results on the other images are skipped
    j = voc.evaluate(gt, res, image_set=[0, 1, 2])
    assert j.image_ids == [0, 1, 2]
    with pytest.raises(UnknownIdError, match=r"results\[0\]: category_id 99"):
        voc.evaluate(gt, [{"image_id": 0, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 1}])
    with pytest.raises(UnknownIdError, match="image_id 'zz'"):
        voc.evaluate(gt, [{"image_id": "zz", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])
    with pytest.raises(InvalidParameterError, match="COCO-style results"):
        voc.evaluate(gt, pattern)


# -------------------------------------------------------------------- parsing
def test_xml_rules(tmp_path):
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "a.xml").write_text(
        "<annotation>"
        + _xml_object("dog", 0, (1.5, 2, 30, 40), with_difficult=False)  # missing -> 0
        + _xml_object("Dog", 1, (1, 2, 3, 4))  # names are exact: not a "dog"
        + "<object><name>dog</name><difficult> 1 </difficult><part><name>head</name>"
        "</part><bndbox><xmin>5</xmin><ymin>6</ymin><xmax>7</xmax><ymax>8</ymax></bndbox>"
        "</object></annotation>"
    )
    g = voc.read_annotations(ann)
    assert g.name.tolist() == ["dog", "Dog", "dog"]
    assert g.difficult.tolist() == [False, True, True]
    assert g.box.tolist()[0] == [1.5, 2.0, 30.0, 40.0]
    assert g.obj_id.tolist() == [0, 1, 2]
    (tmp_path / "d_dog.txt").write_text("")
    r = voc.evaluate(ann, str(tmp_path / "d_{cls}.txt"), classes=["dog"])
    assert r.num_gt.tolist() == [1] and r.num_difficult.tolist() == [1]


@pytest.mark.parametrize(
    "body, err, pattern",
    [
        ("<object><bndbox/></object>", MissingFieldError, r"bad\.xml: object 0: no <name>"),
        (
            "<object><name>dog</name></object>",
            MissingFieldError,
            r"object 0 \('dog'\): no <bndbox>",
        ),
        (
            "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>x9</xmax>"
            "<ymax>9</ymax></bndbox></object>",
            DatasetError,
            r"bad\.xml: object 0 \('cat'\): <xmax> is 'x9', not a number",
        ),
        (
            "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax>"
            "</bndbox></object>",
            MissingFieldError,
            r"<bndbox> has no <ymax> value",
        ),
        (
            "<object><name>cat</name><difficult>yes</difficult><bndbox><xmin>1</xmin><ymin>1"
            "</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>",
            DatasetError,
            r"<difficult> is 'yes', expected an integer",
        ),
        (
            "<object><name>cat</name><bndbox><xmin>nan</xmin><ymin>1</ymin><xmax>9</xmax>"
            "<ymax>9</ymax></bndbox></object>",
            DatasetError,
            "not a finite number",
        ),
        ("<object><name>cat", DatasetError, r"bad\.xml: not well-formed XML"),
    ],
)
def test_xml_errors_name_file_and_object(tmp_path, body, err, pattern):
    p = tmp_path / "bad.xml"
    text = f"<annotation>{body}</annotation>" if not body.endswith("cat") else body
    p.write_text(text)
    with pytest.raises(err, match=pattern):
        voc.read_voc_xml(p)


def test_folder_and_image_set_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        voc.read_annotations(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no .xml annotation files"):
        voc.read_annotations(tmp_path)
    (tmp_path / "a.xml").write_text("<annotation/>")
    with pytest.raises(FileNotFoundError, match="no annotation for image 'b'"):
        voc.read_annotations(tmp_path, ["a", "b"])
    with pytest.raises(DuplicateIdError, match="'a' appears twice"):
        voc.read_annotations(tmp_path, ["a", "a"])


def test_results_files_parsing(tmp_path):
    images = {"a": [("dog", False, (1, 1, 9, 9))], "b": []}
    ann, _ = write_voc(tmp_path, images, {})
    res = tmp_path / "r_dog.txt"
    res.write_text("a\t0.5   1 1 9 9\n\n  b 0.25 1 1 9 9  \n")  # any whitespace, blank lines
    d = voc.read_results_files(tmp_path / "r_{cls}.txt", ["dog"], ["a", "b"])
    assert d.image.tolist() == [0, 1] and d.score.tolist() == [0.5, 0.25]
    assert d.row.tolist() == [0, 1]
    pattern = str(tmp_path / "r_{cls}.txt")

    def fails(text, err, match):
        res.write_text(text)
        with pytest.raises(err, match=match):
            voc.evaluate(ann, pattern)

    fails("a 0.5 1 1 9\n", DatasetError, r"r_dog\.txt:1: expected 'image_id score x1 y1 x2 y2'")
    fails("a 0.5 1 1 9 9\nzz 0.5 1 1 9 9\n", UnknownIdError, r"r_dog\.txt:2: image 'zz' is not")
    fails("a high 1 1 9 9\n", DatasetError, r"r_dog\.txt:1: score 'high' is not a number")
    fails("a 0.5 1 1 9 inf\n", DatasetError, r"y2 'inf' is not finite")
    res.write_text("a 0.5 1 1 9 9\n")
    with pytest.raises(FileNotFoundError, match="no results file for class 'cat'"):
        voc.evaluate(ann, pattern, classes=["dog", "cat"])
    with pytest.raises(InvalidParameterError, match=r"has no \{cls\}"):
        voc.evaluate(ann, str(res))


def test_parameter_errors(tmp_path):
    ann, pattern = write_voc(tmp_path, {"a": [("dog", False, (1, 1, 9, 9))]}, {"dog": []})
    with pytest.raises(InvalidParameterError, match="metric"):
        voc.evaluate(ann, pattern, metric="voc2007")
    with pytest.raises(InvalidParameterError, match="threshold_rule"):
        voc.evaluate(ann, pattern, threshold_rule="gt")
    with pytest.raises(InvalidParameterError, match="iou_threshold"):
        voc.evaluate(ann, pattern, iou_threshold=1.5)
    with pytest.raises(InvalidParameterError, match="precision_rule"):
        voc.evaluate(ann, pattern, precision_rule="x")
    with pytest.raises(InvalidParameterError, match="list of class names"):
        voc.evaluate(ann, pattern, classes="dog")
    with pytest.raises(InvalidParameterError, match="devkit results files"):
        voc.evaluate(ann, [])


def test_recorded_values_of_the_research_note(tmp_path):
    # issue-14 research note 2.6 (voc_compare.py): one class, 3 images, 11 GT of which
    # 1 difficult; an IoU-exactly-0.5 detection, one on the difficult GT, one whose best
    # GT is taken while another overlaps > 0.5, and a score tie (in file order)
    g = {
        "a": [(1, 1, 10, 10, 0), (20, 20, 39, 39, 0), (50, 50, 69, 69, 1)],
        "b": [(1, 1, 50, 50, 0), (30, 1, 80, 50, 0), (100, 100, 119, 119, 0)]
        + [(130, 130, 149, 149, 0)],
        "c": [(1, 1, 20, 20, 0), (40, 40, 59, 59, 0), (70, 70, 89, 89, 0)]
        + [(100, 100, 119, 119, 0)],
    }
    images = {k: [("x", bool(o[4]), o[:4]) for o in v] for k, v in g.items()}
    dets = {
        "x": [
            ("a", 0.95, 1, 1, 10, 5),
            ("a", 0.90, 50, 50, 69, 69),
            ("a", 0.85, 20, 20, 39, 39),
            ("b", 0.80, 1, 1, 50, 50),
            ("b", 0.75, 10, 1, 59, 50),
            ("c", 0.70, 1, 1, 20, 20),
            ("c", 0.70, 40, 40, 59, 59),
            ("c", 0.60, 0, 0, 5, 5),
            ("b", 0.50, 100, 100, 119, 119),
            ("c", 0.40, 70, 70, 89, 89),
        ]
    }
    ann, pattern = write_voc(tmp_path, images, dets)
    recorded = {
        ("voc12", ">"): 0.39999999999999997,
        ("voc12", ">="): 0.6222222222222222,
        ("voc07", ">"): 0.3636363636363636,
        ("voc07", ">="): 0.5707070707070706,
    }
    for (metric, rule), ap in recorded.items():
        for prec in ("plain", "guarded"):
            r = voc.evaluate(ann, pattern, metric=metric, threshold_rule=rule, precision_rule=prec)
            assert r.ap["x"] == ap, (metric, rule, prec)
