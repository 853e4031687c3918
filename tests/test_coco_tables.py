"""GtTable / DtTable: public constructors from columns, and data handed on through them."""

from __future__ import annotations

import gc
import json
import os
import tempfile

import numpy as np
import pytest

from ioukit import coco
from ioukit.coco import DtTable, GtTable, load_dt, load_gt
from ioukit.errors import (
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    MissingFieldError,
    UnknownIdError,
)

GT = "instances_val2014_100.json"
SEGM = "instances_val2014_fakesegm100_results.json"


def _columns(g: GtTable) -> dict:
    return {
        "image_ids": g.image_ids,
        "category_ids": g.category_ids,
        "image_heights": g.image_heights,
        "image_widths": g.image_widths,
        "category_names": g.category_names,
        "ann_id": g.ann_id,
        "ann_image_id": g.ann_image_id,
        "ann_category_id": g.ann_category_id,
        "ann_bbox": g.ann_bbox,
        "ann_area": g.ann_area,
        "ann_iscrowd": g.ann_iscrowd,
    }


def test_gt_from_columns_equals_the_loaded_file(coco100):
    g = load_gt(coco100 / GT)
    t = GtTable.from_columns(**_columns(g), source="cols")
    for k in _columns(g):
        a, b = getattr(t, k), getattr(g, k)
        assert (a == b) if isinstance(a, dict) else np.array_equal(a, b), k
    res = json.loads((coco100 / "instances_val2014_fakebbox100_results.json").read_text())
    d = load_dt(res, g)
    e = DtTable.from_columns(
        t, image_id=d.image_id, category_id=d.category_id, bbox=d.bbox, score=d.score
    )
    for k in ("image_id", "category_id", "bbox", "score", "area"):
        assert np.array_equal(getattr(e, k), getattr(d, k)), k
    # same evaluation to the last bit
    assert np.array_equal(coco.evaluate(t, e).precision, coco.evaluate(g, d).precision)


def test_from_columns_checks_as_the_loader_does():
    base = dict(
        image_ids=[1, 2],
        category_ids=[3],
        ann_id=[5, 6],
        ann_image_id=[1, 2],
        ann_category_id=[3, 3],
        ann_bbox=[[0, 0, 2, 2], [0, 0, 2, 2]],
        ann_area=[4, 4],
        ann_iscrowd=[0, 0],
    )
    with pytest.raises(DuplicateIdError, match=r"^cols: duplicate annotation id 5 \(entries 0"):
        GtTable.from_columns(**{**base, "ann_id": [5, 5]}, source="cols")
    with pytest.raises(InvalidBoxesError, match="annotation id 6 .* negative width -2"):
        GtTable.from_columns(**{**base, "ann_bbox": [[0, 0, 2, 2], [0, 0, -2, 2]]})
    with pytest.raises(UnknownIdError, match="refers to image id 9"):
        GtTable.from_columns(**{**base, "ann_image_id": [1, 9]})
    with pytest.raises(InvalidBoxesError, match=r"shape \(2, 4\)"):
        GtTable.from_columns(**{**base, "ann_bbox": [[0, 0, 2], [0, 0, 2]]})
    g = GtTable.from_columns(**base, category_names=["cat"])
    assert g.category_names == {3: "cat"}
    d = DtTable.from_columns(g, image_id=[2], category_id=[3], bbox=[[1, 1, 2, 3]], score=[0.4])
    assert d.area.tolist() == [6.0] and d.source == "<dt columns>"
    d = DtTable.from_columns(
        g, image_id=[2], category_id=[3], bbox=[[1, 1, 2, 3]], score=[0.4], area=[5.5]
    )
    assert d.area.tolist() == [5.5]
    with pytest.raises(UnknownIdError, match="result 0 \\(image id 2\\) refers to category id 4"):
        DtTable.from_columns(g, image_id=[2], category_id=[4], bbox=[[1, 1, 2, 3]], score=[0.4])


def _segm_only_results(coco100):
    res = json.loads((coco100 / SEGM).read_text())
    for r in res:
        r.pop("bbox", None)  # loadRes' segmentation mode: area and box from the masks
    return res


def test_loadres_masks_travel_on_the_table_not_in_a_module_slot(coco100):
    from ioukit.coco import _segm

    assert not hasattr(_segm, "_LOADRES_CACHE")
    g = load_gt(coco100 / GT, needs_segmentation=True)
    plug = coco.get_iou_type("segm")
    d = load_dt(_segm_only_results(coco100), g, segm_area_bbox=plug.segm_area_bbox)
    geom = d.loaded_geometry
    assert isinstance(geom, _segm.MaskGeometry) and geom.segmentation is d.segmentation
    # the plug-in reuses what loadRes decoded (no second decode), any number of times
    assert plug.prepare_dt(d, g) is geom
    assert plug.prepare_dt(d, g) is geom
    # a boundary evaluation works on a copy: the table's geometry gets no bands
    b = coco.get_iou_type("boundary").prepare_dt(d, g)
    assert b is not geom and b.boundary is not None and geom.boundary is None
    # another table (a shard, a copy) with other segmentation objects decodes its own
    d2 = DtTable(d.image_id, d.category_id, d.bbox, d.score, d.area, list(d.segmentation))
    assert plug.prepare_dt(d2, g) is not geom


def test_loadres_geometry_goes_with_its_table(coco100):
    # nothing keeps the decoded masks once the table is gone (bbox evaluation included)
    import weakref

    g = load_gt(coco100 / GT)
    segm = coco.get_iou_type("segm").segm_area_bbox
    d = load_dt(_segm_only_results(coco100), g, segm_area_bbox=segm)
    ref = weakref.ref(d.loaded_geometry)
    r = coco.evaluate(g, d, iou_type="bbox")
    assert r.stats.shape == (12,)
    del d, r
    gc.collect()
    assert ref() is None


def test_segm_only_results_evaluate_the_same_twice(coco100):
    res = _segm_only_results(coco100)
    a = coco.evaluate(coco100 / GT, res, iou_type="segm")
    b = coco.evaluate(coco100 / GT, res, iou_type="segm")
    assert np.array_equal(a.precision, b.precision) and np.array_equal(a.stats, b.stats)


# ------------------------------------------------ geometry fields named by a plug-in
RBOX = coco.GeometryField("rbox", 5, "[cx, cy, w, h, angle]")


def _rbox_files(tmp_path, fallback: bool = False):
    gt = {
        "images": [{"id": 1, "height": 10, "width": 10}],
        "categories": [{"id": 1}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4,
             "iscrowd": 0, "rbox": [1, 1, 2, 2, 0.25]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [5, 5, 2, 2], "area": 4,
             "iscrowd": 0, "rbox": [6, 6, 2, 2, -0.5]},
        ],
    }  # fmt: skip
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.9,
         "rbox": [1, 1, 2, 2, 0.3]},
    ]  # fmt: skip
    g, d = tmp_path / "g.json", tmp_path / "d.json"
    text = json.dumps(gt)
    if fallback:  # a key written with an escape: the scanner leaves the file to msgspec
        text = text.replace('"height"', '"h\\u0065ight"')
    g.write_text(text)
    d.write_text(json.dumps(dt) if not fallback else json.dumps(dt).replace("score", "sc\\u006fre"))
    return gt, dt, g, d


@pytest.mark.parametrize("fallback", [False, True])
def test_the_loader_reads_a_field_the_plugin_names(tmp_path, fallback):
    gt, dt, g, d = _rbox_files(tmp_path, fallback)
    want_g = np.array([a["rbox"] for a in gt["annotations"]], float)
    want_d = np.array([r["rbox"] for r in dt], float)
    for G, D in [
        coco.load_pair(g, d, fields=(RBOX,)),
        (load_gt(g, fields=(RBOX,)), None),
        (load_gt(gt, fields=(RBOX,)), None),
    ]:
        assert np.array_equal(G.ann_fields["rbox"], want_g)
        if D is not None:
            assert np.array_equal(D.fields["rbox"], want_d)
    G = load_gt(gt, fields=(RBOX,))
    for D in (load_dt(d, G, fields=(RBOX,)), load_dt(dt, G, fields=(RBOX,))):
        assert np.array_equal(D.fields["rbox"], want_d)
    # not asked for: not read
    assert load_gt(g).ann_fields == {} and load_dt(dt, G).fields == {}


@pytest.mark.parametrize("fallback", [False, True])
def test_a_plugin_field_follows_the_bbox_rules(tmp_path, fallback):
    gt, dt, g, d = _rbox_files(tmp_path, fallback)
    # the one length rule, worded as for bbox, from a file (scanner or not) and a dict
    gt["annotations"][1]["rbox"] = [6, 6, 2, 2]
    g.write_text(json.dumps(gt))
    for src in (g, gt):
        with pytest.raises(
            InvalidBoxesError,
            match=r"annotation id 2 \(entry 1\) has a rbox of length 4 "
            r"\(expected 5: \[cx, cy, w, h, angle\]\)",
        ):
            load_gt(src, fields=(RBOX,))
    # compare: bbox's own message
    gt["annotations"][1]["rbox"] = [6, 6, 2, 2, 0.0]
    gt["annotations"][1]["bbox"] = [5, 5, 2]
    with pytest.raises(InvalidBoxesError, match=r"has a bbox of length 3 \(expected 4"):
        load_gt(gt, fields=(RBOX,))
    gt["annotations"][1]["bbox"] = [5, 5, 2, 2]
    del gt["annotations"][0]["rbox"]
    with pytest.raises(MissingFieldError, match="annotation id 1 .* has no 'rbox'"):
        load_gt(gt, fields=(RBOX,))
    G = load_gt(_rbox_files(tmp_path, fallback)[2], fields=(RBOX,))  # a valid GT again
    bad = [dict(dt[0], rbox=[1, 1, 2, float("nan"), 0.0])]
    with pytest.raises(InvalidBoxesError, match=r"result 0 \(image id 1\) has a non-finite rbox"):
        load_dt(bad, G, fields=(RBOX,))
    with pytest.raises(DatasetError, match="rbox"):
        load_dt(np.zeros((1, 7)), G, fields=(RBOX,))
    with pytest.raises(InvalidBoxesError, match="COCO's own keys"):
        load_gt(gt, fields=(coco.GeometryField("bbox", 5),))


def _interval_plugin():
    # a 1-D geometry: IoU of [start, end] intervals, read from the field "span"
    span = coco.GeometryField("span", 2, "[start, end]")

    def pairwise(d, g, crowd):
        lo = np.maximum(d[:, None, 0], g[None, :, 0])
        hi = np.minimum(d[:, None, 1], g[None, :, 1])
        inter = np.maximum(hi - lo, 0.0)
        union = (d[:, 1] - d[:, 0])[:, None] + (g[:, 1] - g[:, 0])[None, :] - inter
        return np.where(inter > 0, inter / union, 0.0)

    from ioukit.coco._geometry import grouped_iou_from_pairwise

    return coco.IouPlugin(
        name="test-interval",
        needs_segmentation=False,
        prepare_gt=lambda gt: gt.ann_fields["span"],
        prepare_dt=lambda dt, gt: dt.fields["span"],
        grouped_iou=grouped_iou_from_pairwise(pairwise),
        fields=(span,),
    )


def test_an_interval_plugin_evaluates_as_boxes_of_height_one():
    # "bbox" is one case of the rule: intervals [s, e] (width 2) give the same AP as the
    # boxes [s, 0, e - s, 1] (integers, so both IoUs are the same floats)
    plug = _interval_plugin()
    coco.register_iou_type(plug)
    rng = np.random.default_rng(7)
    s = rng.integers(0, 200, 60)
    e = s + rng.integers(1, 40, 60)
    img = rng.integers(1, 6, 60)
    gt = {
        "images": [{"id": i} for i in range(1, 6)],
        "categories": [{"id": 1}],
        "annotations": [
            {"id": k + 1, "image_id": int(img[k]), "category_id": 1,
             "bbox": [int(s[k]), 0, int(e[k] - s[k]), 1], "area": int(e[k] - s[k]),
             "iscrowd": 0, "span": [int(s[k]), int(e[k])]}
            for k in range(30)
        ],
    }  # fmt: skip
    dt = [
        {"image_id": int(img[k]), "category_id": 1, "score": float(rng.uniform()),
         "bbox": [int(s[k]), 0, int(e[k] - s[k]), 1], "span": [int(s[k]), int(e[k])]}
        for k in range(20, 60)
    ]  # fmt: skip
    G = load_gt(gt, fields=plug.fields)
    D = load_dt(dt, G, fields=plug.fields)
    a = coco.evaluate(G, D, iou_type="test-interval")
    b = coco.evaluate(gt, dt, iou_type="bbox")
    assert np.array_equal(a.precision, b.precision) and np.array_equal(a.stats, b.stats)
    # from files and from dicts, evaluate() reads the fields the plug-in names
    c = coco.evaluate(gt, dt, iou_type="test-interval")
    assert np.array_equal(c.precision, b.precision)
    with tempfile.TemporaryDirectory() as d:
        g_path, d_path = os.path.join(d, "gt.json"), os.path.join(d, "dt.json")
        with open(g_path, "w") as f:
            json.dump(gt, f)
        with open(d_path, "w") as f:
            json.dump(dt, f)
        f_res = coco.evaluate(g_path, d_path, iou_type="test-interval")
    assert np.array_equal(f_res.precision, b.precision)
