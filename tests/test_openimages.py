"""ioukit.openimages against an independent implementation of the official semantics
(tests/_openimages_reference.py) and hand-worked cases, one per rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from _openimages_reference import evaluate as reference_evaluate
from _openimages_reference import hierarchy_maps
from ioukit import openimages
from ioukit.errors import DatasetError, InvalidParameterError, MissingFieldError

# a 3-level hierarchy under a virtual root: 3 groups, 2 families each, 2 leaves each;
# "shared" sits under two families (a class with two parents)
TREE = {
    "LabelName": "root",
    "Subcategory": [
        {
            "LabelName": f"g{a}",
            "Subcategory": [
                {
                    "LabelName": f"f{a}{b}",
                    "Subcategory": [{"LabelName": f"l{a}{b}{c}"} for c in range(2)]
                    + ([{"LabelName": "shared"}] if a == 0 else []),
                }
                for b in range(2)
            ],
        }
        for a in range(3)
    ],
}
LEAVES = [f"l{a}{b}{c}" for a in range(3) for b in range(2) for c in range(2)] + ["shared"]
ALL = sorted({*LEAVES, *(f"f{a}{b}" for a in range(3) for b in range(2)), "g0", "g1", "g2"})


def _cols(rows, names):
    return {n: [r[n] for r in rows] for n in names}


BOX_COLS = ("ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsGroupOf")
LAB_COLS = ("ImageID", "LabelName", "Confidence")
DT_COLS = ("ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax")


def _box(rng, lo=0.05, hi=0.5):
    w, h = rng.uniform(lo, hi, 2)
    x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
    return x, x + w, y, y + h


def generate(seed: int, n_images: int = 120):
    """Boxes (with group-of), image labels (positives and verified negatives) and
    predictions: jittered hits with the right / parent / sibling class, several
    detections inside group-of boxes, background, unverified classes, invalid boxes,
    scores <= 0, images without ground truth."""
    rng = np.random.default_rng(seed)
    ups, downs = hierarchy_maps(TREE)
    boxes, labels, preds = [], [], []
    for i in range(n_images):
        img = f"img{i:04d}"
        n_box = int(rng.integers(0, 7))
        present = set()
        for _ in range(n_box):
            lab = (
                LEAVES[int(rng.integers(len(LEAVES)))]
                if rng.random() < 0.8
                else ALL[int(rng.integers(len(ALL)))]
            )
            group = int(rng.random() < 0.2)
            x1, x2, y1, y2 = _box(rng, 0.3, 0.6) if group else _box(rng)
            boxes.append(
                dict(
                    ImageID=img, LabelName=lab, XMin=x1, XMax=x2, YMin=y1, YMax=y2, IsGroupOf=group
                )
            )
            present.add(lab)
            # predictions for this box: jittered, class right / parent / sibling
            for _ in range(int(rng.integers(0, 4)) + (2 if group else 0)):
                if group:  # a small box inside (mostly) the group-of box
                    w = (x2 - x1) * rng.uniform(0.1, 0.4)
                    h = (y2 - y1) * rng.uniform(0.1, 0.4)
                    px = rng.uniform(x1 - 0.2 * w, x2 - 0.8 * w)
                    py = rng.uniform(y1 - 0.2 * h, y2 - 0.8 * h)
                    b = (px, px + w, py, py + h)
                else:
                    s = 0.25 * min(x2 - x1, y2 - y1)
                    j = rng.uniform(-s, s, 4)
                    b = (x1 + j[0], x2 + j[1], y1 + j[2], y2 + j[3])
                r = rng.random()
                cls = (
                    lab
                    if r < 0.6
                    else (ups[lab][0] if ups[lab] and r < 0.8 else ALL[int(rng.integers(len(ALL)))])
                )
                score = float(rng.uniform(-0.3, 1.0)) if rng.random() < 0.1 else float(rng.random())
                preds.append(
                    dict(
                        ImageID=img,
                        LabelName=cls,
                        Score=score,
                        XMin=b[0],
                        XMax=b[1],
                        YMin=b[2],
                        YMax=b[3],
                    )
                )
        # image-level labels: positives for present classes (some), verified negatives
        for lab in sorted(present):
            if rng.random() < 0.7:
                labels.append(dict(ImageID=img, LabelName=lab, Confidence=1))
        for _ in range(int(rng.integers(0, 4))):
            lab = ALL[int(rng.integers(len(ALL)))]
            if lab not in present:
                labels.append(dict(ImageID=img, LabelName=lab, Confidence=int(rng.random() < 0.3)))
        if n_box == 0 and not any(r["ImageID"] == img for r in labels) and rng.random() < 0.5:
            labels.append(
                dict(ImageID=img, LabelName=ALL[int(rng.integers(len(ALL)))], Confidence=0)
            )
        # background and odd predictions
        for _ in range(int(rng.integers(0, 4))):
            x1, x2, y1, y2 = _box(rng)
            if rng.random() < 0.1:
                x1, x2 = x2, x1  # invalid box: dropped
            preds.append(
                dict(
                    ImageID=img,
                    LabelName=ALL[int(rng.integers(len(ALL)))],
                    Score=float(rng.random()),
                    XMin=x1,
                    XMax=x2,
                    YMin=y1,
                    YMax=y2,
                )
            )
    for i in range(5):  # images without any ground truth: their predictions are ignored
        x1, x2, y1, y2 = _box(rng)
        preds.append(
            dict(
                ImageID=f"zz{i}",
                LabelName="l000",
                Score=float(rng.random()),
                XMin=x1,
                XMax=x2,
                YMin=y1,
                YMax=y2,
            )
        )
    order = rng.permutation(len(preds))
    preds = [preds[k] for k in order]
    return boxes, labels, preds


def _scores_distinct(preds):
    s = [p["Score"] for p in preds]
    assert len(set(s)) == len(s)  # the reference's tie order is unspecified


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weight", [1.0, 0.0])
def test_against_reference_with_hierarchy(seed, weight):
    boxes, labels, preds = generate(seed)
    _scores_distinct(preds)
    want, want_map = reference_evaluate(boxes, labels, preds, ALL, TREE, weight=weight)
    r = openimages.evaluate(
        _cols(boxes, BOX_COLS),
        _cols(preds, DT_COLS),
        labels=_cols(labels, LAB_COLS),
        hierarchy=TREE,
        classes=ALL,
        group_of_weight=weight,
    )
    assert r.classes == ALL
    got = r.ap_by_class
    for c in ALL:
        if math.isnan(want[c]):
            assert math.isnan(got[c]), c
        else:
            assert abs(got[c] - want[c]) <= 1e-12, (c, got[c], want[c])
    assert abs(r.map - want_map) <= 1e-12
    # the generated set exercises every rule
    assert {k for k in r.outcome.tolist()} == {0, 1, 2, 3}
    assert np.isnan(r.ap).sum() < len(ALL) // 2


def test_against_reference_without_hierarchy_other_threshold():
    boxes, labels, preds = generate(7, 80)
    want, want_map = reference_evaluate(boxes, labels, preds, ALL, None, thr=0.6)
    r = openimages.evaluate(
        _cols(boxes, BOX_COLS),
        _cols(preds, DT_COLS),
        labels=_cols(labels, LAB_COLS),
        classes=ALL,
        iou_threshold=0.6,
    )
    for c in ALL:
        assert (math.isnan(want[c]) and math.isnan(r.ap_by_class[c])) or abs(
            r.ap_by_class[c] - want[c]
        ) <= 1e-12
    assert abs(r.map - want_map) <= 1e-12


def test_csv_files_equal_columns(tmp_path):
    boxes, labels, preds = generate(3, 40)
    paths = {}
    for name, rows, cols in (
        ("b", boxes, BOX_COLS),
        ("l", labels, LAB_COLS),
        ("p", preds, DT_COLS),
    ):
        p = tmp_path / f"{name}.csv"
        lines = [",".join(cols)] + [
            ",".join(repr(float(r[c])) if isinstance(r[c], float) else str(r[c]) for c in cols)
            for r in rows
        ]
        p.write_text("\n".join(lines) + "\n")
        paths[name] = p
    h = tmp_path / "h.json"
    h.write_text(json.dumps(TREE))
    a = openimages.evaluate(paths["b"], paths["p"], labels=paths["l"], hierarchy=h)
    b = openimages.evaluate(
        _cols(boxes, BOX_COLS),
        _cols(preds, DT_COLS),
        labels=_cols(labels, LAB_COLS),
        hierarchy=TREE,
    )
    assert a.classes == b.classes
    np.testing.assert_array_equal(a.ap, b.ap)


# ---------------------------------------------------------------- hand cases
def _one(boxes, preds, **kw):
    return openimages.evaluate(
        {k: [b[k] for b in boxes] for k in BOX_COLS},
        {k: [p[k] for p in preds] for k in DT_COLS},
        **kw,
    )


def _b(img, lab, x1, x2, y1, y2, g=0):
    return dict(ImageID=img, LabelName=lab, XMin=x1, XMax=x2, YMin=y1, YMax=y2, IsGroupOf=g)


def _p(img, lab, s, x1, x2, y1, y2):
    return dict(ImageID=img, LabelName=lab, Score=s, XMin=x1, XMax=x2, YMin=y1, YMax=y2)


def test_group_of_counts_once_with_the_max_score():
    # one group-of box (the only GT): three detections inside (IoA 1) and one outside.
    # Entries: the group-of box at score 0.7 (max of 0.7, 0.5, 0.3) and a FP at 0.6.
    # Ranked: TP (0.7), FP (0.6): precision 1, 1/2; recall 1, 1 -> AP 1.
    boxes = [_b("a", "dog", 0.0, 0.5, 0.0, 0.5, g=1)]
    preds = [
        _p("a", "dog", 0.5, 0.1, 0.2, 0.1, 0.2),
        _p("a", "dog", 0.7, 0.2, 0.3, 0.2, 0.3),
        _p("a", "dog", 0.3, 0.3, 0.4, 0.3, 0.4),
        _p("a", "dog", 0.6, 0.6, 0.9, 0.6, 0.9),
    ]
    r = _one(boxes, preds)
    assert r.num_gt.tolist() == [1.0] and r.num_entries.tolist() == [2]
    assert r.ap_by_class == {"dog": 1.0}
    assert [openimages.OUTCOMES[k] for k in r.outcome] == ["group-of", "group-of", "group-of", "FP"]
    # the FP above the group entry: FP (0.8) then TP (0.7): precision 0, 1/2 at recall
    # 0, 1 -> AP = 1 * 1/2
    preds[3]["Score"] = 0.8
    assert _one(boxes, preds).ap_by_class == {"dog": 0.5}
    # group-of weight 0: detections inside are ignored and the box is not counted
    r0 = _one(boxes, preds, group_of_weight=0.0)
    assert r0.num_gt.tolist() == [0.0] and math.isnan(r0.ap[0])


def test_group_of_ioa_is_over_the_detection_and_inclusive():
    # detection [0.4, 0.6] x [0, 0.5] inside group-of [0, 0.5] x [0, 0.5] for half its
    # area: IoA = 0.05 / 0.1 = 0.5 >= 0.5, matched (IoU would be 0.05 / 0.3)
    boxes = [_b("a", "cat", 0.0, 0.5, 0.0, 0.5, g=1)]
    preds = [_p("a", "cat", 0.9, 0.25, 0.75, 0.0, 0.5)]
    r = _one(boxes, preds)
    assert openimages.OUTCOMES[r.outcome[0]] == "group-of" and r.ap_by_class == {"cat": 1.0}
    # a group-of box whose detections all score <= 0 makes no entry (the reference's
    # "scores > 0" selector): AP 0
    preds[0]["Score"] = -0.5
    assert _one(boxes, preds).ap_by_class == {"cat": 0.0}


def test_true_positive_first_then_group_of():
    # a plain box and a group-of box overlapping; detection 1 matches the plain box
    # (TP), detection 2 is a duplicate on the taken box (stage 1 FP) but lies inside the
    # group-of box, so it becomes its entry. 2 GT, entries TP 0.9, TP 0.8 -> AP 1.
    boxes = [_b("a", "car", 0.1, 0.3, 0.1, 0.3), _b("a", "car", 0.0, 0.6, 0.0, 0.6, g=1)]
    preds = [_p("a", "car", 0.9, 0.1, 0.3, 0.1, 0.3), _p("a", "car", 0.8, 0.1, 0.3, 0.1, 0.29)]
    r = _one(boxes, preds)
    assert [openimages.OUTCOMES[k] for k in r.outcome] == ["TP", "group-of"]
    assert r.ap_by_class == {"car": 1.0}


def test_hierarchy_expansion_boxes_and_labels():
    tree = {
        "LabelName": "root",
        "Subcategory": [
            {
                "LabelName": "animal",
                "Subcategory": [
                    {"LabelName": "dog", "Subcategory": [{"LabelName": "puppy"}]},
                    {"LabelName": "cat"},
                ],
            }
        ],
    }
    h = openimages.load_hierarchy(tree)
    assert h.ancestors["puppy"] == ["dog", "animal"]
    assert h.descendants["animal"] == ["dog", "puppy", "cat"]
    # a puppy box counts for puppy, dog and animal; a "dog" detection on it is a TP
    # for dog; an "animal" detection too
    boxes = [_b("a", "puppy", 0.1, 0.5, 0.1, 0.5)]
    preds = [_p("a", "dog", 0.9, 0.1, 0.5, 0.1, 0.5), _p("a", "animal", 0.8, 0.1, 0.5, 0.1, 0.5)]
    r = _one(boxes, preds, hierarchy=tree, classes=["puppy", "dog", "animal", "cat"])
    assert r.num_gt.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert r.ap.tolist()[:3] == [0.0, 1.0, 1.0] and math.isnan(r.ap[3])
    # without the hierarchy: only puppy has GT; dog / animal are not verified on the image
    r = _one(
        boxes,
        preds,
        labels={"ImageID": ["a"], "LabelName": ["puppy"], "Confidence": [1]},
        classes=["puppy", "dog", "animal"],
    )
    assert r.num_gt.tolist() == [1.0, 0.0, 0.0] and r.outcome.tolist() == [0, 0]
    # a negative label expands downwards: "animal" absent -> dog, puppy, cat verified
    # negatives, so a cat detection there is a false positive for cat
    boxes2 = boxes + [_b("b", "cat", 0.1, 0.5, 0.1, 0.5)]
    preds2 = [_p("a", "cat", 0.9, 0.6, 0.9, 0.6, 0.9), _p("b", "cat", 0.5, 0.1, 0.5, 0.1, 0.5)]
    lab = {"ImageID": ["a"], "LabelName": ["animal"], "Confidence": [0]}
    r = _one(boxes2, preds2, labels=lab, hierarchy=tree, classes=["cat"])
    # ranked: FP (0.9), TP (0.5): AP = 1 * 1/2
    assert r.outcome.tolist() == [1, 2] and r.ap.tolist() == [0.5]
    # a positive label expands upwards only: "dog" present does not verify "cat"
    lab = {"ImageID": ["a"], "LabelName": ["dog"], "Confidence": [1]}
    r = _one(boxes2, preds2, labels=lab, hierarchy=tree, classes=["cat"])
    assert r.outcome.tolist() == [0, 2] and r.ap.tolist() == [1.0]


def test_unverified_class_is_ignored():
    # image "a" has a dog box and a verified negative "cat"; "bird" is not verified:
    # the bird detection is ignored, the cat detection is a FP (cat has GT elsewhere)
    boxes = [
        _b("a", "dog", 0.1, 0.5, 0.1, 0.5),
        _b("b", "cat", 0.1, 0.5, 0.1, 0.5),
        _b("c", "bird", 0.1, 0.5, 0.1, 0.5),
    ]
    preds = [
        _p("a", "bird", 0.9, 0.1, 0.5, 0.1, 0.5),
        _p("a", "cat", 0.8, 0.6, 0.9, 0.6, 0.9),
        _p("b", "cat", 0.7, 0.1, 0.5, 0.1, 0.5),
        _p("c", "bird", 0.6, 0.1, 0.5, 0.1, 0.5),
        _p("x", "cat", 0.95, 0.1, 0.5, 0.1, 0.5),
    ]  # no GT for image x: ignored
    lab = {"ImageID": ["a"], "LabelName": ["cat"], "Confidence": [0]}
    r = _one(boxes, preds, labels=lab)
    assert [openimages.OUTCOMES[k] for k in r.outcome] == ["ignored", "FP", "TP", "TP", "ignored"]
    assert r.ap_by_class == {"bird": 1.0, "cat": 0.5, "dog": 0.0}
    assert r.map == pytest.approx(0.5)


def test_all_point_ap_by_hand():
    # 3 GT on 3 images; ranked TP, FP, TP, FP, (missed): precision 1, 1/2, 2/3, 1/2;
    # recall 1/3, 1/3, 2/3, 2/3. All-point: 1/3 * 1 + 1/3 * 2/3 = 5/9
    boxes = [_b(f"i{k}", "x", 0.1, 0.5, 0.1, 0.5) for k in range(3)]
    preds = [
        _p("i0", "x", 0.9, 0.1, 0.5, 0.1, 0.5),
        _p("i0", "x", 0.8, 0.6, 0.9, 0.6, 0.9),
        _p("i1", "x", 0.7, 0.1, 0.5, 0.1, 0.5),
        _p("i1", "x", 0.6, 0.1, 0.5, 0.1, 0.5),
    ]
    r = _one(boxes, preds)
    assert r.ap[0] == pytest.approx(5 / 9, abs=1e-15)
    recall, precision = r.curves[0]
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 1 / 2])
    np.testing.assert_allclose(recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    # IoU exactly 0.5 is a match (>=): [0, 0.5]^2 vs [0, 0.25] x [0, 0.5] (dyadic: exact)
    r = _one([_b("i0", "x", 0.0, 0.5, 0.0, 0.5)], [_p("i0", "x", 0.9, 0.0, 0.25, 0.0, 0.5)])
    assert r.outcome.tolist() == [2]
    r = _one(
        [_b("i0", "x", 0.0, 0.5, 0.0, 0.5)],
        [_p("i0", "x", 0.9, 0.0, 0.25, 0.0, 0.5)],
        iou_threshold=np.nextafter(0.5, 1),
    )
    assert r.outcome.tolist() == [1]


def test_invalid_boxes_and_max_detections():
    boxes = [_b("a", "x", 0.1, 0.5, 0.1, 0.5)]
    preds = [
        _p("a", "x", 0.9, 0.5, 0.1, 0.1, 0.5),
        _p("a", "x", 0.8, 0.6, 0.9, 0.6, 0.9),
        _p("a", "x", 0.7, 0.1, 0.5, 0.1, 0.5),
    ]
    r = _one(boxes, preds)
    assert r.outcome.tolist() == [0, 1, 2]
    r = _one(boxes, preds, max_detections=1)  # only the best valid one is kept
    assert r.outcome.tolist() == [0, 1, 0] and r.ap.tolist() == [0.0]


def test_errors():
    with pytest.raises(MissingFieldError, match="IsGroupOf"):
        openimages.evaluate(
            {"ImageID": [], "LabelName": [], "XMin": [], "XMax": [], "YMin": [], "YMax": []},
            {k: [] for k in DT_COLS},
        )
    with pytest.raises(DatasetError, match="not in the hierarchy"):
        _one([_b("a", "zebra", 0.1, 0.5, 0.1, 0.5)], [], hierarchy=TREE)
    with pytest.raises(DatasetError, match="Score"):
        openimages.evaluate(
            {k: [] for k in BOX_COLS}, {**{k: ["a"] for k in DT_COLS}, "Score": ["high"]}
        )
    with pytest.raises(InvalidParameterError):
        _one([], [], iou_threshold=1.5)
    r = _one([], [])
    assert r.classes == [] and math.isnan(r.map)


# ---------------------------------------------------------------- the CLI
def _write_set(tmp_path, seed=5, n_images=30):
    boxes, labels, preds = generate(seed, n_images)
    paths = {}
    for name, rows, cols in (
        ("b", boxes, BOX_COLS),
        ("l", labels, LAB_COLS),
        ("p", preds, DT_COLS),
    ):
        lines = [",".join(cols)] + [
            ",".join(repr(float(r[c])) if isinstance(r[c], float) else str(r[c]) for c in cols)
            for r in rows
        ]
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text("\n".join(lines) + "\n")
    paths["h"] = tmp_path / "h.json"
    paths["h"].write_text(json.dumps(TREE))
    return paths


def _cli(*args):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "IOUKIT_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "ioukit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cli_eval_openimages(tmp_path):
    f = _write_set(tmp_path)
    p = _cli(
        "eval",
        "--protocol",
        "openimages",
        f["b"],
        f["p"],
        "--labels",
        f["l"],
        "--hierarchy",
        f["h"],
        "--json",
        tmp_path / "out.json",
    )
    assert p.returncode == 0, p.stderr
    r = openimages.evaluate(f["b"], f["p"], labels=f["l"], hierarchy=f["h"])
    assert r.summary() in p.stdout
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["protocol"] == "openimages" and out["classes"] == r.classes
    assert out["map"] == pytest.approx(r.map, abs=0)
    # options reach the call; COCO-only options are usage errors
    p = _cli(
        "eval",
        "--protocol",
        "openimages",
        f["b"],
        f["p"],
        "--labels",
        f["l"],
        "--iou-thrs",
        "0.6",
        "--group-of-weight",
        "0",
        "--json",
        "-",
    )
    assert p.returncode == 0, p.stderr
    r = openimages.evaluate(f["b"], f["p"], labels=f["l"], iou_threshold=0.6, group_of_weight=0)
    assert json.loads(p.stdout)["map"] == pytest.approx(r.map, abs=0)
    p = _cli("eval", "--protocol", "openimages", f["b"], f["p"], "--max-dets", "1,10,100")
    assert p.returncode != 0 and "COCO option" in p.stderr
