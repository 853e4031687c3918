"""GtTable / DtTable: public constructors from columns, and data handed on through them."""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest

from ioukit import coco
from ioukit.coco import DtTable, GtTable, load_dt, load_gt
from ioukit.errors import DuplicateIdError, InvalidBoxesError, UnknownIdError

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
