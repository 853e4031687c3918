"""ioukit.report: curves, confusion matrix, the HTML file and matplotlib plots.

Oracles: the 12 COCO numbers (pycocotools 2.0.11, expected_bbox.json) that each
curve must average to, hand-worked small cases, and a plain-Python re-count of
the confusion matrix.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ioukit.coco import evaluate
from ioukit.report import (
    ap_by_area,
    confusion_matrix,
    f1_confidence,
    plot_pr,
    pr_curves,
    render_html,
    write_html,
)
from ioukit.report._svg import Series, _simplify, heatmap, line_chart
from ioukit.report.curves import ap_by_iou

GT = "instances_val2014_100.json"
DT = "instances_val2014_fakebbox100_results.json"


@pytest.fixture(scope="module")
def data(coco100):
    gt = json.loads((coco100 / GT).read_text())
    dt = json.loads((coco100 / DT).read_text())
    expected = json.loads((coco100 / "expected_bbox.json").read_text())["stats"]
    return gt, dt, evaluate(gt, dt), np.asarray(expected)


# ---------------------------------------------------------------- curves


def test_curves_average_to_the_coco_numbers(data):
    _, _, res, stats = data
    pc = pr_curves(res)
    # COCO AP is the mean interpolated precision over recall points, IoUs, categories
    assert np.isclose(pc["0.5:0.95/all"].mean(), stats[0], rtol=0, atol=1e-12)
    assert np.isclose(pc["0.5/all"].mean(), stats[1], rtol=0, atol=1e-12)
    assert np.isclose(pc["0.75/all"].mean(), stats[2], rtol=0, atol=1e-12)
    area = ap_by_area(res)
    assert list(area["labels"]) == ["all", "small", "medium", "large"]
    np.testing.assert_allclose(area["AP"], [stats[0], *stats[3:6]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(area["AR"], [stats[8], *stats[9:12]], rtol=0, atol=1e-12)
    by_iou = ap_by_iou(res)
    assert np.isclose(by_iou["AP"].mean(), stats[0], rtol=0, atol=1e-12)
    assert by_iou["AP"][0] == pytest.approx(stats[1], abs=1e-12)
    assert by_iou["AP"][5] == pytest.approx(stats[2], abs=1e-12)
    # categories without ground truth have no curve (-1), as in COCO
    no_gt = np.asarray(res.num_gt) == 0
    assert no_gt.sum() == 10
    assert np.all(pc["0.5"][no_gt] == -1) and np.all(pc["0.5"][~no_gt] >= 0)


def test_f1_confidence_hand_worked():
    # one category, 2 GT, detections: 0.9 hits GT 1, 0.8 misses, 0.7 hits GT 2.
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100,
             "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "area": 100,
             "iscrowd": 0},
        ],
    }  # fmt: skip
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [80, 0, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.7},
    ]
    f = f1_confidence(evaluate(gt, dt), num=11)  # thresholds 0, 0.1, ..., 1
    c = f["confidence"]
    f1 = dict(zip(np.round(c, 2), f["f1"][0]))
    # score >= 0.7: recall 2/2; interpolated precision at recall 1 is 2/3
    # -> F1 = 2 (2/3)(1) / (2/3 + 1) = 0.8
    assert f1[0.7] == pytest.approx(0.8)
    # score >= 0.8: recall 1/2, interpolated precision there max(1, 2/3) = 1
    # -> F1 = 2 (1)(1/2) / (3/2) = 2/3
    assert f1[0.8] == pytest.approx(2 / 3)
    assert f1[0.9] == pytest.approx(2 / 3)
    assert f1[1.0] == 0.0  # nothing scores >= 1
    assert f["best"][1] == pytest.approx(0.8) and f["best"][0] <= 0.7


# -------------------------------------------------------------- confusion


def _box_overlaps(ds, gs):
    """Plain-Python IoU (real GT) / intersection over detection (crowd GT)."""

    def box(b):
        return b[0], b[1], b[0] + b[2], b[1] + b[3]

    def area(a):
        return (a[2] - a[0]) * (a[3] - a[1])

    out = []
    for d in ds:
        db, row = box(d["bbox"]), []
        for g in gs:
            gb = box(g["bbox"])
            w = min(db[2], gb[2]) - max(db[0], gb[0])
            h = min(db[3], gb[3]) - max(db[1], gb[1])
            i = max(w, 0.0) * max(h, 0.0)
            u = area(db) if g.get("iscrowd") else area(db) + area(gb) - i
            row.append(i / u if u > 0 else 0.0)
        out.append(row)
    return out


def _mask_overlaps(size):
    """pycocotools' maskUtils.iou on RLEs (the segm oracle)."""
    from pycocotools import mask as mu

    def to_rle(seg):
        if isinstance(seg, list):  # polygons
            return mu.merge(mu.frPyObjects(seg, *size))
        if isinstance(seg["counts"], list):  # uncompressed RLE
            return mu.frPyObjects(seg, *size)
        return seg

    def f(ds, gs):
        if not ds or not gs:
            return [[0.0] * len(gs) for _ in ds]
        crowd = [int(bool(g.get("iscrowd"))) for g in gs]
        d = [to_rle(x["segmentation"]) for x in ds]
        g = [to_rle(x["segmentation"]) for x in gs]
        return mu.iou(d, g, crowd).tolist()

    return f


def _confusion_reference(gt, dt, thr, score_thr, iou_type="bbox"):
    """Plain-Python re-count: class-agnostic greedy matching (COCO's rule: the best free
    GT, later GT winning ties), crowds absorb."""
    cats = sorted(c["id"] for c in gt["categories"])
    idx = {c: i for i, c in enumerate(cats)}
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    K = len(cats)
    M = [[0] * (K + 1) for _ in range(K + 1)]
    imgs = {a["image_id"] for a in gt["annotations"]} | {d["image_id"] for d in dt}
    for img in imgs:
        gs = [a for a in gt["annotations"] if a["image_id"] == img]
        ds = sorted(
            [d for d in dt if d["image_id"] == img and d["score"] >= score_thr],
            key=lambda d: -d["score"],
        )
        ov = (_box_overlaps if iou_type == "bbox" else _mask_overlaps(sizes[img]))(ds, gs)
        used = [False] * len(gs)
        for di, d in enumerate(ds):
            best, bj = -1.0, -1
            for j, g in enumerate(gs):
                if not g.get("iscrowd") and not used[j] and ov[di][j] >= best:
                    best, bj = ov[di][j], j
            if bj >= 0 and best >= thr:
                used[bj] = True
                M[idx[gs[bj]["category_id"]]][idx[d["category_id"]]] += 1
                continue
            if any(g.get("iscrowd") and ov[di][j] >= thr for j, g in enumerate(gs)):
                continue
            M[K][idx[d["category_id"]]] += 1
        for j, g in enumerate(gs):
            if not g.get("iscrowd") and not used[j]:
                M[idx[g["category_id"]]][K] += 1
    return np.array(M)


def test_confusion_matrix_equals_plain_python_recount(data):
    gt, dt, _, _ = data
    for score_thr in (0.0, 0.3):
        cm = confusion_matrix(gt, dt, iou_threshold=0.5, score_threshold=score_thr)
        ref = _confusion_reference(gt, dt, 0.5, score_thr)
        np.testing.assert_array_equal(cm.matrix, ref)
    # every non-crowd GT lands in exactly one cell of its row
    n_real = np.bincount(
        [sorted(c["id"] for c in gt["categories"]).index(a["category_id"])
         for a in gt["annotations"] if not a["iscrowd"]],
        minlength=80,
    )  # fmt: skip
    cm = confusion_matrix(gt, dt)
    np.testing.assert_array_equal(cm.matrix[:80].sum(axis=1), n_real)
    assert cm.names[-1] == "background" and len(cm.names) == 81


def test_segm_confusion_matrix_equals_pycocotools_mask_recount(data, coco100):
    gt = data[0]
    dt = json.loads((coco100 / "instances_val2014_fakesegm100_results.json").read_text())
    cm = confusion_matrix(gt, dt, iou_threshold=0.5, score_threshold=0.2, iou_type="segm")
    ref = _confusion_reference(gt, dt, 0.5, 0.2, iou_type="segm")
    np.testing.assert_array_equal(cm.matrix, ref)
    assert np.trace(cm.matrix[:80, :80]) > 300  # most masks land on their own class


def test_confusion_matrix_crowd_and_threshold():
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 100], "iscrowd": 1},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [200, 0, 10, 10], "iscrowd": 0},
        ],
    }
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 5, 5], "score": 0.9},  # in crowd
        {"image_id": 1, "category_id": 1, "bbox": [200, 0, 10, 10], "score": 0.2},  # a as b
    ]
    m = confusion_matrix(gt, dt).matrix
    # the crowd absorbs detection 1; detection 2 matches GT 2 (class b) with class a
    assert m.tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    m = confusion_matrix(gt, dt, score_threshold=0.5).matrix
    assert m.tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0]]  # GT 2 missed
    cm = confusion_matrix(gt, dt)
    assert cm.top_confusions() == [("b", "a", 1)]


def test_confusion_matrix_ties_follow_the_coco_rule():
    # one detection, two GT boxes of other classes at the same IoU (0.5): COCO's
    # evaluateImg keeps the later GT on a tie, so GT 2 (class b) is matched, GT 1 missed
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [10, 0, 10, 10], "iscrowd": 0},
        ],
    }
    dt = [{"image_id": 1, "category_id": 3, "bbox": [5, 0, 10, 10], "score": 0.9}]
    m = confusion_matrix(gt, dt, iou_threshold=1 / 3).matrix
    assert m.tolist() == [[0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


# ------------------------------------------------------------------ HTML


def test_html_is_self_contained_and_complete(data, tmp_path):
    gt, dt, res, stats = data
    path = write_html(res, tmp_path / "r.html", gt=gt, dt=dt, inputs={"GT": GT, "DT": DT})
    html = path.read_text()
    # offline: no external resource of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script src" not in html and "@import" not in html
    assert len(html) < 600_000  # lean
    charts = re.findall(r'<figure class="chart" data-chart="([^"]+)"', html)
    n_with_gt = int(np.sum(np.asarray(res.num_gt) > 0))
    assert {"pr-all", "f1-confidence", "ap-by-iou", "ap-by-area", "confusion"} <= set(charts)
    assert sum(c.startswith("pr-class-") for c in charts) == n_with_gt == 70
    # the summary and the table
    assert res.summary() in html.replace("&#x27;", "'")
    rows = re.findall(r"<tr><td>([^<]+)</td><td", html.split('id="per-class-table"')[1])
    assert len(rows) >= 80
    assert f"{stats[0]:.3f}" in html
    assert ">-1" not in html  # COCO's -1 shows as a dash


def test_html_without_annotations_and_with_custom_thresholds(data):
    gt, dt, _, _ = data
    res = evaluate(gt, dt, iouThrs=np.array([0.3, 0.5]), maxDets=[5, 100])
    html = render_html(res)
    assert "Not available" in html  # no gt/dt -> no confusion matrix, said so
    assert 'data-chart="pr-all"' in html
    # IoU 0.75 is not evaluated: its curve is left out rather than drawn from junk
    assert "IoU 0.75" not in html


def test_result_report_delegate(data, tmp_path):
    gt, dt, res, _ = data
    with pytest.warns(DeprecationWarning, match="write_html"):
        out = res.report(tmp_path / "d.html", gt=gt, dt=dt)
    assert out.exists() and out.read_text().count('data-chart="confusion"') == 1


# ------------------------------------------------------------------- SVG


def test_svg_primitives():
    # a staircase keeps only its corners
    x = np.array([0, 1, 2, 3, 3, 3, 4, 5], dtype=float)
    y = np.array([5, 5, 5, 5, 4, 3, 3, 3], dtype=float)
    px, py = _simplify(x, y)
    assert list(zip(px, py)) == [(0, 5), (3, 5), (3, 3), (5, 3)]
    svg = line_chart([Series(np.linspace(0, 1, 5), np.linspace(1, 0, 5), "s")])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and svg.count("<path") == 1
    m = np.array([[3, 0, 1], [0, 0, 0], [2, 0, 5]])
    hm = heatmap(m, ["a", "b", "bg"], ["a", "b", "bg"])
    assert hm.count("<title>") == 4  # only the non-zero cells are drawn
    assert "a \u2192 bg: 1 (25% of row)" in hm


# ------------------------------------------------------------- matplotlib


def test_plot_pr(data):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    _, _, res, stats = data
    ax = plot_pr(res)
    assert len(ax.lines) == 3
    assert np.mean(ax.lines[0].get_ydata()) == pytest.approx(stats[1], abs=1e-12)
    assert np.mean(ax.lines[2].get_ydata()) == pytest.approx(stats[0], abs=1e-12)
    rows = {r["category_id"]: r for r in res.per_class(as_frame=False)}
    ax = plot_pr(res, category_id=1, iou=(0.5, 0.6))
    assert np.mean(ax.lines[0].get_ydata()) == pytest.approx(rows[1]["AP50"], abs=1e-12)
    assert "person" in ax.get_title()
    from ioukit.errors import InvalidParameterError, UnknownIdError

    with pytest.raises(UnknownIdError):
        plot_pr(res, category_id=12345)
    with pytest.raises(InvalidParameterError, match="0.42"):
        plot_pr(res, iou=(0.42,))
    with pytest.raises(InvalidParameterError, match="tiny"):
        plot_pr(res, area="tiny")
    import matplotlib.pyplot as plt

    plt.close("all")
