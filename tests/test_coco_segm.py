"""COCO ``segm`` and ``boundary`` evaluation on the coco100 fixture against the references."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from ioukit import rle
from ioukit.errors import InvalidPolygonError, InvalidRLEError, ShapeMismatchError

coco = pytest.importorskip("ioukit.coco")

GT = "instances_val2014_100.json"
SEGM = "instances_val2014_fakesegm100_results.json"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_segm_matches_pycocotools_exactly(coco100):
    r = coco.evaluate(coco100 / GT, coco100 / SEGM, iou_type="segm")
    exp = np.load(coco100 / "expected_segm.npz")
    for k in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(getattr(r, k), exp[k], err_msg=k)
    stats = json.loads((coco100 / "expected_segm.json").read_text())["stats"]
    assert np.asarray(r.stats).tolist() == stats


@pytest.mark.parametrize("threads", [1, 4])
def test_segm_files_load_with_each_thread_count(coco100, threads):
    # GT and results are parsed on two Python threads, and each kernel may split its
    # work across OpenMP threads: with every kernel forced onto its threaded path
    # (PARALLEL_MIN_WORK = 0), concurrent parallel launches give the reference too
    import os
    import subprocess
    import sys

    script = (
        "import json, sys, numpy as np\n"
        "import ioukit.rle._kernels as k\n"
        "k.PARALLEL_MIN_WORK = 0  # every kernel takes its threaded path\n"
        "from ioukit import coco\n"
        "from ioukit._threads import get_num_threads\n"
        "d = sys.argv[1]\n"
        f"r = coco.evaluate(d + '/{GT}', d + '/{SEGM}', iou_type='segm')\n"
        "exp = np.load(d + '/expected_segm.npz')\n"
        "assert all(np.array_equal(getattr(r, k), exp[k]) for k in ('precision', 'recall'))\n"
        "print(get_num_threads())\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    p = subprocess.run(
        [sys.executable, "-c", script, str(coco100)], capture_output=True, text=True, env=env
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == str(threads)


def _boundary_reference(coco100, dilation_ratio: float):
    """pycocotools' COCOeval with faster-coco-eval's boundary bands plugged into computeIoU.

    faster-coco-eval's own accumulate differs from pycocotools by an ulp in
    ``precision``; this oracle keeps pycocotools' accumulation and takes only the
    band computation (its C++ ``toBoundary``) from faster-coco-eval.
    """
    fce_mask = pytest.importorskip("faster_coco_eval.core.mask")
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    class BoundaryEval(COCOeval):
        def computeIoU(self, imgId, catId):  # noqa: N802 (pycocotools' name)
            ious = super().computeIoU(imgId, catId)
            if len(ious) == 0:
                return ious
            gt = self._gts[imgId, catId]
            dt = sorted(self._dts[imgId, catId], key=lambda d: -d["score"])
            dt = dt[: self.params.maxDets[-1]]
            crowd = [int(g["iscrowd"]) for g in gt]
            gb = [fce_mask.rleToBoundary(g["segmentation"], dilation_ratio) for g in gt]
            db = [fce_mask.rleToBoundary(d["segmentation"], dilation_ratio) for d in dt]
            b = mask_utils.iou(db, gb, crowd)
            nc = ~np.asarray(crowd, bool)
            ious[:, nc] = np.minimum(ious[:, nc], b[:, nc])
            return ious

    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(str(coco100 / GT))
        d = g.loadRes(str(coco100 / SEGM))
        e = BoundaryEval(g, d, "segm")
        # computeIoU's dt order is a stable sort by -score, as sorted() above.
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def test_boundary_matches_faster_coco_eval_bands(coco100):
    e = _boundary_reference(coco100, 0.02)
    r = coco.evaluate(coco100 / GT, coco100 / SEGM, iou_type="boundary")
    for k in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(getattr(r, k), e.eval[k], err_msg=k)
    np.testing.assert_array_equal(np.asarray(r.stats), e.stats)


def test_boundary_bands_match_faster_coco_eval(coco100):
    fce_mask = pytest.importorskip("faster_coco_eval.core.mask")
    res = json.loads((coco100 / SEGM).read_text())[:150]
    segs = [r["segmentation"] for r in res]
    for ratio in (0.02, 0.005, 0.1):
        want = [fce_mask.rleToBoundary(s, ratio)["counts"] for s in segs]
        got = [b["counts"] for b in rle.boundary(segs, ratio)]
        assert got == want


def test_boundary_ratio_is_a_parameter(coco100):
    from ioukit.coco._geometry import register_iou_type
    from ioukit.coco._segm import boundary_iou_type

    register_iou_type(boundary_iou_type(0.05, "boundary@0.05"))
    e = _boundary_reference(coco100, 0.05)
    r = coco.evaluate(coco100 / GT, coco100 / SEGM, iou_type="boundary@0.05")
    np.testing.assert_array_equal(r.precision, e.eval["precision"])


def _tiny():
    gt = {
        "images": [{"id": 1, "height": 10, "width": 12}],
        "categories": [{"id": 1}],
        "annotations": [
            {
                "id": 7,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [[1, 1, 8, 1, 8, 8, 1, 8]],
                "area": 49.0,
                "bbox": [1, 1, 7, 7],
                "iscrowd": 0,
            }
        ],
    }
    m = np.zeros((10, 12), np.uint8)
    m[1:8, 1:8] = 1
    dt = [{"image_id": 1, "category_id": 1, "segmentation": rle.encode(m), "score": 0.9}]
    dt[0]["segmentation"]["counts"] = dt[0]["segmentation"]["counts"].decode()
    return gt, dt


def test_tiny_perfect_match():
    gt, dt = _tiny()
    r = coco.evaluate(gt, dt, iou_type="segm")
    # One GT, one detection with IoU 1 (the polygon covers pixels 1..7 exactly): AP = 1.
    assert r.stats[0] == pytest.approx(1.0)


def test_errors_name_the_annotation():
    gt, dt = _tiny()
    bad = copy.deepcopy(gt)
    bad["annotations"][0]["segmentation"] = [[1, 1, 8, 1]]
    with pytest.raises(InvalidPolygonError, match="annotation id 7"):
        coco.evaluate(bad, dt, iou_type="segm")
    bad_dt = copy.deepcopy(dt)
    bad_dt[0]["segmentation"]["counts"] = "0~~"
    with pytest.raises(InvalidRLEError, match=r"result 0 \(image id 1\): character 1"):
        coco.evaluate(gt, bad_dt, iou_type="segm")
    bad_dt = copy.deepcopy(dt)
    bad_dt[0]["segmentation"] = rle.encode(np.ones((9, 12), np.uint8))
    bad_dt[0]["bbox"] = [0, 0, 1, 1]  # keep loadRes' box mode: the size check is ours
    with pytest.raises(ShapeMismatchError, match="result 0 .*does not match the image size"):
        coco.evaluate(gt, bad_dt, iou_type="segm")
    bad = copy.deepcopy(gt)
    bad["annotations"][0]["segmentation"] = {"size": [10, 12], "counts": [5, 5]}
    bad["annotations"][0]["iscrowd"] = 1
    with pytest.raises(InvalidRLEError, match="annotation id 7.*not h\\*w = 120"):
        coco.evaluate(bad, dt, iou_type="segm")


def test_boundary_mode_agrees_with_faster_coco_eval(coco100):
    # faster-coco-eval's own boundary evaluation: same matches (recall, scores exact);
    # its C++ accumulation differs from pycocotools' by at most an ulp in precision.
    import contextlib
    import io

    fce = pytest.importorskip("faster_coco_eval")
    with contextlib.redirect_stdout(io.StringIO()):
        g = fce.COCO(str(coco100 / GT))
        d = g.loadRes(str(coco100 / SEGM))
        e = fce.COCOeval_faster(g, d, "boundary", print_function=lambda *a: None)
        e.evaluate()
        e.accumulate()
        e.summarize()
    r = coco.evaluate(coco100 / GT, coco100 / SEGM, iou_type="boundary")
    np.testing.assert_array_equal(r.recall, e.eval["recall"])
    np.testing.assert_array_equal(r.scores, e.eval["scores"])
    np.testing.assert_allclose(r.precision, e.eval["precision"], rtol=0, atol=1e-15)
