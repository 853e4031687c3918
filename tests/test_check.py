"""ioukit.check: every planted problem is found, named by its id; clean data passes."""

from __future__ import annotations

import copy
import json

import pytest

from ioukit.check import check, load_json, raise_if_errors, summarize
from ioukit.coco import load_dt, load_gt
from ioukit.errors import DatasetError, IoukitError, MalformedJSONError


def _clean_gt() -> dict:
    return {
        "images": [
            {"id": 1, "width": 100, "height": 80},
            {"id": 2, "width": 100, "height": 80},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 2, 30, 40],
                "area": 1200,
                "iscrowd": 0,
            },
            {
                "id": 11,
                "image_id": 2,
                "category_id": 2,
                "bbox": [5, 5, 10, 10],
                "area": 100,
                "iscrowd": 1,
            },
        ],
    }


def _clean_dt() -> list:
    return [
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.9},
        {"image_id": 2, "category_id": 2, "bbox": [5, 5, 10, 10], "score": 0.4},
    ]


def _planted() -> tuple[dict, list]:
    gt = _clean_gt()
    gt["images"].append({"id": 3, "width": 100, "height": 80})  # image without annotations
    gt["images"].append({"id": 2, "width": 1, "height": 1})  # duplicate image id
    gt["categories"].append({"id": 3, "name": "emu"})  # empty category
    A = gt["annotations"]
    A += [
        {
            "id": 20,
            "image_id": 99,
            "category_id": 1,
            "bbox": [0, 0, 1, 1],
            "area": 1,
            "iscrowd": 0,
        },  # unknown image
        {
            "id": 21,
            "image_id": 1,
            "category_id": 42,
            "bbox": [0, 0, 1, 1],
            "area": 1,
            "iscrowd": 0,
        },  # unknown category
        {
            "id": 22,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 1],
            "area": 1,
            "iscrowd": 0,
        },  # bbox of length 3
        {
            "id": 23,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, float("nan"), 1],
            "area": 1,
            "iscrowd": 0,
        },  # NaN
        {
            "id": 24,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, -3, 1],
            "area": 1,
            "iscrowd": 0,
        },  # negative width
        {
            "id": 10,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 1, 1],
            "area": 1,
            "iscrowd": 0,
        },  # duplicate annotation id
        {"id": 25, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "iscrowd": 0},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0},
    ]
    dt = _clean_dt() + [
        {"image_id": 77, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},  # row 2
        {"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1], "score": 0.5},  # row 3
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1, 5], "score": 0.5},  # row 4
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]},  # row 5: no score
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, -1], "score": 0.1},  # row 6
    ]
    return gt, dt


# (severity, code, where, id): each planted problem, by hand.
EXPECTED = {
    ("info", "image-without-annotations", "image", 3),
    ("error", "duplicate-id", "image", 2),
    ("warning", "empty-category", "category", 3),
    ("error", "unknown-image", "annotation", 20),
    ("error", "unknown-category", "annotation", 21),
    ("error", "bad-bbox", "annotation", 22),
    ("error", "bad-bbox", "annotation", 23),
    ("error", "bad-bbox", "annotation", 24),
    ("error", "duplicate-id", "annotation", 10),
    ("error", "missing-area", "annotation", 25),
    ("error", "missing-field", "annotation", 9),  # the annotation in row 9 has no id
    ("error", "unknown-image", "result", 2),
    ("error", "unknown-category", "result", 3),
    ("error", "bad-bbox", "result", 4),
    ("error", "missing-field", "result", 5),
    ("error", "bad-bbox", "result", 6),
}


def test_clean_data_has_no_problems():
    r = check(_clean_gt(), _clean_dt())
    assert r.problems == []
    assert r.ok
    assert r.counts == {"images": 2, "categories": 2, "annotations": 2, "crowd": 1, "results": 2}


def test_every_planted_problem_is_found_with_its_id():
    gt, dt = _planted()
    r = check(gt, dt)
    found = {(p.severity, p.code, p.where, p.id) for p in r.problems}
    assert EXPECTED <= found, EXPECTED - found
    assert not r.ok
    # nothing reported that was not planted
    assert found == EXPECTED, found - EXPECTED
    # messages name the offending value
    msgs = {(p.where, p.id): p.message for p in r.problems}
    assert "-3" in msgs[("annotation", 24)] and "negative width" in msgs[("annotation", 24)]
    assert "length 3" in msgs[("annotation", 22)]
    assert "image id 77" in msgs[("result", 2)]
    assert "'score'" in msgs[("result", 5)]


def test_planted_problems_in_a_large_clean_file(coco100):
    gt = json.loads((coco100 / "instances_val2014_100.json").read_text())
    dt = json.loads((coco100 / "instances_val2014_fakebbox100_results.json").read_text())
    base = check(gt, dt)
    assert base.ok, base.errors[:3]
    # the subset has 10 categories without annotations, and nothing else to report
    assert base.by_code() == {"empty-category": 10}
    gt2 = copy.deepcopy(gt)
    victim = gt2["annotations"][123]
    victim["bbox"][2] = -1.0
    del gt2["annotations"][500]["area"]
    dt2 = copy.deepcopy(dt)
    dt2[700]["category_id"] = 1000
    r = check(gt2, dt2)
    got = {(p.code, p.id) for p in r.errors}
    assert got == {
        ("bad-bbox", victim["id"]),
        ("missing-area", gt2["annotations"][500]["id"]),
        ("unknown-category", 700),
    }


def test_schema_errors():
    r = check([1, 2, 3])
    assert [(p.code, p.severity) for p in r.problems] == [("bad-schema", "error")]
    r = check({"images": [], "categories": []}, {"not": "a list"})
    codes = {(p.code, p.source) for p in r.problems}
    assert codes == {("missing-field", "gt"), ("bad-schema", "dt")}


def test_id_zero_and_bbox_outside_are_warnings():
    gt = _clean_gt()
    gt["annotations"][0]["id"] = 0
    gt["annotations"][1]["bbox"] = [95, 75, 20, 20]  # ends at 115 x 95 in a 100 x 80 image
    r = check(gt)
    assert r.ok
    assert {(p.code, p.id) for p in r.warnings} == {("id-zero", 0), ("bbox-outside", 11)}


def test_load_json_errors(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"a": 1,\n "b": }')
    with pytest.raises(MalformedJSONError, match=r"x\.json: not valid JSON at line 2, column 7"):
        load_json(p)
    with pytest.raises(FileNotFoundError):
        load_json(tmp_path / "missing.json")
    # invalid UTF-8 in a string is kept as lone surrogates (eval's scanner does not read
    # ignored strings; a string it reads is checked: test_check_vs_eval); a file that
    # is no text at all stays an error
    p.write_bytes(b'{"a": "\xff"}')
    assert load_json(p) == {"a": "\udcff"}
    p.write_bytes(b'{"a": \xff}')
    with pytest.raises(MalformedJSONError, match="not valid JSON"):
        load_json(p)
    seen = []
    p.write_text(json.dumps({"k": list(range(1000))}))
    assert (
        load_json(p, on_progress=lambda d, t: seen.append((d, t)), chunk_size=512)["k"][-1] == 999
    )
    assert seen[-1][0] == seen[-1][1] == p.stat().st_size and len(seen) > 1


def test_summaries():
    gt, dt = _planted()
    r = check(gt, dt)
    n_err = sum(1 for e in EXPECTED if e[0] == "error")
    assert summarize(r.problems) == f"{n_err} errors, 1 warning, 1 note"
    with pytest.raises(DatasetError, match=f"and {n_err - 1} more errors"):
        raise_if_errors(r)
    d = r.to_dict()
    assert d["num_errors"] == n_err and json.dumps(d)  # JSON-ready


def _one_problem_each():
    """(gt, dt) pairs with one planted problem that the loader refuses."""
    cases = []
    for field, value in [
        ("bbox", [0, 0, 1]),
        ("bbox", [0, 0, float("nan"), 1]),
        ("bbox", [0, 0, -3, 1]),
        ("bbox", [0, 0, 3, -1]),
        ("image_id", 99),
        ("category_id", 42),
        ("area", float("inf")),
    ]:
        gt = _clean_gt()
        gt["annotations"][1][field] = value
        cases.append((gt, None))
    gt = _clean_gt()
    gt["annotations"][1]["id"] = 10  # duplicate annotation id
    cases.append((gt, None))
    gt = _clean_gt()
    gt["images"].append({"id": 1, "width": 5, "height": 5})  # duplicate image id
    cases.append((gt, None))
    for field, value in [
        ("bbox", [0, 0, 1, 1, 5]),
        ("bbox", [0, 0, 2, -1]),
        ("score", float("nan")),
        ("image_id", 77),
        ("category_id", 9),
    ]:
        dt = _clean_dt()
        dt[1][field] = value
        cases.append((_clean_gt(), dt))
    return cases


@pytest.mark.parametrize("gt, dt", _one_problem_each())
def test_check_and_the_loader_share_rules_and_messages(gt, dt):
    # one set of rules: what the loader refuses, check reports as an error, in its words
    errors = check(gt, dt).errors
    assert len(errors) == 1, errors
    with pytest.raises(IoukitError) as e:
        g = load_gt(gt)
        load_dt(dt, g)
    source, loader_message = str(e.value).split(": ", 1)
    assert source in ("<gt dict>", "<results list>")
    assert errors[0].message == loader_message


def test_clean_data_loads_and_checks():
    gt, dt = _clean_gt(), _clean_dt()
    assert check(gt, dt).ok
    load_dt(dt, load_gt(gt))
