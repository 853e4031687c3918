"""ioukit.coco.evaluate(iou_type="rotated"): bbox equality when upright, pycocotools with a
shapely IoU otherwise."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
import shapely
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from _rotated_reference import corners
from ioukit import coco
from ioukit.errors import InvalidBoxesError, MissingFieldError


def _dataset(rng, n_img=20, n_gt=120, n_dt=300, rotated=True):
    """GT with upright bboxes on a half-integer grid (centres exact) and their rboxes."""
    img = rng.integers(1, n_img + 1, n_gt + n_dt)
    cat = rng.integers(1, 4, n_gt + n_dt)
    x, y = rng.integers(0, 200, (2, n_gt + n_dt))
    w, h = rng.integers(1, 60, (2, n_gt + n_dt))
    # detections near GT: copy and jitter some
    src = rng.integers(0, n_gt, n_dt)
    x[n_gt:] = x[src] + rng.integers(-6, 7, n_dt)
    y[n_gt:] = y[src] + rng.integers(-6, 7, n_dt)
    w[n_gt:] = np.maximum(w[src] + rng.integers(-6, 7, n_dt), 1)
    h[n_gt:] = np.maximum(h[src] + rng.integers(-6, 7, n_dt), 1)
    img[n_gt:], cat[n_gt:] = img[src], cat[src]
    ang = rng.uniform(-np.pi, np.pi, n_gt + n_dt) if rotated else np.zeros(n_gt + n_dt)
    if rotated:
        ang[n_gt:] = ang[src] + rng.normal(0, 0.2, n_dt)

    def rec(k):
        return {
            "image_id": int(img[k]),
            "category_id": int(cat[k]),
            "bbox": [int(x[k]), int(y[k]), int(w[k]), int(h[k])],
            "rbox": [x[k] + w[k] / 2, y[k] + h[k] / 2, int(w[k]), int(h[k]), float(ang[k])],
        }

    anns = []
    for k in range(n_gt):
        a = rec(k)
        a.update(id=k + 1, area=int(w[k] * h[k]), iscrowd=int(rng.random() < 0.08))
        anns.append(a)
    gt = {
        "images": [{"id": i} for i in range(1, n_img + 1)],
        "categories": [{"id": c} for c in (1, 2, 3)],
        "annotations": anns,
    }
    dt = [dict(rec(k), score=float(rng.random())) for k in range(n_gt, n_gt + n_dt)]
    return gt, dt


def test_upright_rboxes_equal_bbox_exactly():
    gt, dt = _dataset(np.random.default_rng(15), rotated=False)
    a = coco.evaluate(gt, dt, iou_type="rotated")
    b = coco.evaluate(gt, dt, iou_type="bbox")
    assert np.array_equal(a.stats, b.stats)
    assert np.array_equal(a.precision, b.precision, equal_nan=True)
    assert np.array_equal(a.recall, b.recall, equal_nan=True)
    assert 0.05 < b.stats[0] < 0.9


class _ShapelyRotatedEval(COCOeval):
    # pycocotools' own evaluation with computeIoU replaced by shapely polygons
    def computeIoU(self, imgId, catId):
        p = self.params
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d["score"] for d in dt], kind="mergesort")
        dt = [dt[i] for i in inds][: p.maxDets[-1]]
        if len(gt) == 0 or len(dt) == 0:
            return []
        pg = shapely.polygons(corners(np.array([g["rbox"] for g in gt])))
        pd = shapely.polygons(corners(np.array([d["rbox"] for d in dt])))
        inter = shapely.area(shapely.intersection(pd[:, None], pg[None]))
        ad, ag = shapely.area(pd)[:, None], shapely.area(pg)[None]
        crowd = np.array([g["iscrowd"] for g in gt], bool)[None]
        union = np.where(crowd, ad, ad + ag - inter)
        return inter / union


def _pycocotools_stats(gt, dt):
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dt))
        e = _ShapelyRotatedEval(cg, cd, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def test_rotated_vs_pycocotools_with_shapely_iou():
    gt, dt = _dataset(np.random.default_rng(16))
    ref = _pycocotools_stats(gt, dt)
    got = coco.evaluate(gt, dt, iou_type="rotated")
    assert np.abs(got.stats - ref.stats).max() <= 1e-12
    assert np.abs(got.precision - ref.eval["precision"]).max() <= 1e-12
    assert 0.1 < got.stats[0] < 0.9


def test_rotated_from_files_and_errors(tmp_path):
    gt, dt = _dataset(np.random.default_rng(17), n_img=5, n_gt=20, n_dt=40)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    a = coco.evaluate(str(tmp_path / "gt.json"), str(tmp_path / "dt.json"), iou_type="rotated")
    b = coco.evaluate(gt, dt, iou_type="rotated")
    assert np.array_equal(a.stats, b.stats)
    bad = copy.deepcopy(gt)
    del bad["annotations"][0]["rbox"]
    with pytest.raises(MissingFieldError, match="rbox"):
        coco.evaluate(bad, dt, iou_type="rotated")
    bad = copy.deepcopy(dt)
    bad[3]["rbox"][2] = -1.0
    with pytest.raises(InvalidBoxesError, match="results row 3 has an rbox with a negative"):
        coco.evaluate(gt, bad, iou_type="rotated")
    assert "rotated" in coco.iou_types()
