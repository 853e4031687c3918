"""Streaming mask evaluation (``CocoEvaluator(iou_type="segm" / "boundary")``).

Oracles: pycocotools 2.0.11 (the stored coco100 arrays and COCOeval run here on
generated sets, masks decoded by pycocotools' own ``mask`` module) and the
file-based ``ioukit.coco.evaluate``; split / order / merge invariance by equality.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools import mask as pmask  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

import ioukit.coco as C  # noqa: E402
from ioukit.errors import (  # noqa: E402
    DuplicateIdError,
    InvalidMaskError,
    InvalidParameterError,
    InvalidPolygonError,
    InvalidRLEError,
    ShapeMismatchError,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ARRAYS = ("precision", "recall", "scores")
GT = "instances_val2014_100.json"
SEGM = "instances_val2014_fakesegm100_results.json"


def pycoco(gt: dict, dt: list, iou_type: str) -> COCOeval:
    """pycocotools on deep copies (it mutates its inputs)."""
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dt))
        E = COCOeval(cg, cd, iou_type)
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E


def same(a: C.CocoResult, b) -> None:
    """Arrays and stats equal with ==; ``b`` a CocoResult or a pycocotools COCOeval."""
    for k in ARRAYS:
        x = getattr(a, k)
        y = b.eval[k] if isinstance(b, COCOeval) else getattr(b, k)
        assert x.shape == y.shape, k
        assert np.array_equal(x, y), f"{k}: max diff {np.abs(x - y).max()}"
    ys = b.stats if isinstance(b, COCOeval) else b.stats
    assert np.array_equal(np.asarray(a.stats), np.asarray(ys))


def _gt_rle(ann: dict, h: int, w: int) -> dict:
    """pycocotools' COCO.annToRLE, written against pycocotools' mask module."""
    s = ann["segmentation"]
    if isinstance(s, list):
        return pmask.merge(pmask.frPyObjects(s, h, w))
    if isinstance(s["counts"], list):
        return pmask.frPyObjects(s, h, w)
    return s


def _by_image(gt: dict, dt: list) -> tuple[dict, dict]:
    g = {im["id"]: [] for im in gt["images"]}
    d = {im["id"]: [] for im in gt["images"]}
    for a in gt["annotations"]:
        g[a["image_id"]].append(a)
    for x in dt:
        d[x["image_id"]].append(x)
    return g, d


def _dense(rles: list[dict], h: int, w: int) -> np.ndarray:
    """[n, H, W] uint8 decoded by pycocotools."""
    if not rles:
        return np.zeros((0, h, w), np.uint8)
    return np.ascontiguousarray(np.transpose(pmask.decode(rles), (2, 0, 1)))


def stream(
    gt: dict,
    dt: list,
    order: list[int],
    iou_type: str = "segm",
    *,
    use_area: bool = True,
    dt_boxes: bool = False,
    batch_images: int = 5,
    **params,
):
    """Feed ``gt`` / ``dt`` image by image in ``order``, rotating the mask forms.

    Form by position in ``order`` mod 5: 0 dense NumPy [n, H, W]; 1 the COCO objects
    as they are (polygons / RLE dicts) with image_size; 2 torch [n, H, W] bool;
    3 a list of (H, W) arrays; 4 GT as objects, detections dense uint8.
    """
    torch = pytest.importorskip("torch")
    ev = C.CocoEvaluator(
        gt["categories"], iou_type, fmt="xywh", batch_images=batch_images, **params
    )
    size = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    g_by, d_by = _by_image(gt, dt)
    for pos, i in enumerate(order):
        h, w = size[i]
        ga, da = g_by[i], d_by[i]
        g_rle = [_gt_rle(a, h, w) for a in ga]
        d_rle = [x["segmentation"] for x in da]
        form = pos % 5
        kw = {}
        if form == 0:
            gm, dm = _dense(g_rle, h, w), _dense(d_rle, h, w)
        elif form == 1:
            gm, dm = [a["segmentation"] for a in ga], d_rle
            kw["image_size"] = (h, w)
        elif form == 2:
            gm = torch.from_numpy(_dense(g_rle, h, w)).bool()
            dm = torch.from_numpy(_dense(d_rle, h, w)).bool()
        elif form == 3:
            gm = list(_dense(g_rle, h, w))
            dm = [torch.from_numpy(m) for m in _dense(d_rle, h, w)]
        else:
            gm, dm = [a["segmentation"] for a in ga], _dense(d_rle, h, w)
            kw["image_size"] = (h, w)
        if dt_boxes:
            kw["dt_boxes"] = np.array([x["bbox"] for x in da], np.float64).reshape(-1, 4)
        ev.update(
            i,
            gt_labels=np.array([a["category_id"] for a in ga], np.int64),
            dt_scores=np.array([x["score"] for x in da], np.float64),
            dt_labels=np.array([x["category_id"] for x in da], np.int64),
            gt_iscrowd=np.array([a["iscrowd"] for a in ga], np.int64),
            gt_area=np.array([a["area"] for a in ga], np.float64) if use_area else None,
            gt_masks=gm,
            dt_masks=dm,
            **kw,
        )
    return ev


# ----------------------------------------------------------------- coco100
@pytest.fixture(scope="module")
def coco100_data(coco100):
    gt = json.loads((coco100 / GT).read_text())
    dt = json.loads((coco100 / SEGM).read_text())
    return gt, dt


def test_coco100_segm_streaming_equals_pycocotools(coco100, coco100_data):
    gt, dt = coco100_data
    ids = [im["id"] for im in gt["images"]]
    order = np.random.default_rng(1).permutation(ids).tolist()
    res = stream(gt, dt, order, batch_images=17).compute()
    # the stored pycocotools 2.0.11 arrays (test_coco_segm checks evaluate() against them)
    exp = np.load(coco100 / "expected_segm.npz")
    for k in ARRAYS:
        assert np.array_equal(getattr(res, k), exp[k]), k
    stats = json.loads((coco100 / "expected_segm.json").read_text())["stats"]
    assert np.asarray(res.stats).tolist() == stats
    same(res, C.evaluate(gt, dt, iou_type="segm"))


def test_coco100_default_gt_area_is_the_mask_area(coco100_data):
    # Without gt_area the area ranges use the GT mask's pixel count: the same as a
    # file whose `area` fields hold maskUtils.area(annToRLE(ann)).
    gt, dt = coco100_data
    size = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    gt2 = copy.deepcopy(gt)
    for a in gt2["annotations"]:
        a["area"] = float(pmask.area(_gt_rle(a, *size[a["image_id"]])))
    assert any(a["area"] != b["area"] for a, b in zip(gt["annotations"], gt2["annotations"]))
    ids = [im["id"] for im in gt["images"]]
    res = stream(gt, dt, ids, use_area=False, batch_images=40).compute()
    same(res, pycoco(gt2, dt, "segm"))


def test_coco100_bbox_streaming_from_masks(coco100_data):
    # bbox IoU with detections given only as masks: loadRes takes box and area from
    # the RLE (toBbox, area), which the evaluator does when dt_boxes is omitted.
    gt, dt = coco100_data
    g_by, d_by = _by_image(gt, dt)
    ev = C.CocoEvaluator(gt["categories"], fmt="xywh")
    for im in gt["images"]:
        i, ga, da = im["id"], g_by[im["id"]], d_by[im["id"]]
        ev.update(
            i,
            gt_boxes=np.array([a["bbox"] for a in ga]).reshape(-1, 4),
            gt_labels=[a["category_id"] for a in ga],
            dt_scores=[x["score"] for x in da],
            dt_labels=[x["category_id"] for x in da],
            gt_iscrowd=[a["iscrowd"] for a in ga],
            gt_area=[a["area"] for a in ga],
            dt_masks=[x["segmentation"] for x in da],
        )
    same(ev.compute(), pycoco(gt, dt, "bbox"))


# ------------------------------------------------------------ generated set
def _runs(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO counts of a 2-D mask (column-major, background first)."""
    flat = np.asarray(mask, np.uint8).ravel(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.r_[0, change, flat.size]
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat.size and flat[0] else runs


def _poly(rng, h: int, w: int) -> list[float]:
    """A random convex-ish polygon (ellipse with 5-9 vertices, partly off-image)."""
    cx, cy = rng.uniform(-3, w + 3), rng.uniform(-3, h + 3)
    rx, ry = rng.uniform(2, w / 2), rng.uniform(2, h / 2)
    t = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(5, 10)))
    xy = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)
    return np.round(xy, 2).ravel().tolist()


def make_masks_set(seed: int, n_images: int = 14):
    """GT (polygons, some multi-part; crowds as uncompressed RLE) and RLE detections.

    Detections are jittered GT polygons plus false positives; scores on a 0.1 grid
    so that ties occur within and across images; some images have no GT or none
    of the detections.
    """
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    cats = [{"id": c, "name": f"c{c}"} for c in (1, 2, 5)]
    aid = 1
    for i in range(1, n_images + 1):
        h, w = int(rng.integers(20, 90)), int(rng.integers(20, 90))
        images.append({"id": i * 3, "height": h, "width": w})
        n_gt = int(rng.integers(0, 6)) if i % 5 else 0
        for _ in range(n_gt):
            cat = int(rng.choice([1, 2, 5]))
            if rng.random() < 0.15:
                m = np.zeros((h, w), np.uint8)
                y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
                m[y0 : y0 + rng.integers(3, h // 2 + 3), x0 : x0 + rng.integers(3, w // 2 + 3)] = 1
                seg = {"size": [h, w], "counts": _runs(m)}
                crowd = 1
            else:
                seg = [_poly(rng, h, w) for _ in range(1 if rng.random() < 0.8 else 2)]
                crowd = 0
            rle = _gt_rle({"segmentation": seg}, h, w)
            # a file's `area` is the polygon's, not the pixel count: perturb it
            area = float(pmask.area(rle)) * float(rng.uniform(0.9, 1.1))
            anns.append(
                {
                    "id": aid,
                    "image_id": i * 3,
                    "category_id": cat,
                    "segmentation": seg,
                    "area": area,
                    "bbox": pmask.toBbox(rle).tolist(),
                    "iscrowd": crowd,
                }
            )
            aid += 1
            if i % 7 and rng.random() < 0.85:
                p = (
                    np.asarray(seg[0]) + rng.normal(0, 1.5, len(seg[0]))
                    if isinstance(seg, list)
                    else np.asarray(_poly(rng, h, w))
                )
                d_rle = pmask.merge(pmask.frPyObjects([p.tolist()], h, w))
                dets.append((i * 3, cat if rng.random() < 0.9 else 1, d_rle))
        if i % 7:
            for _ in range(int(rng.integers(0, 4))):
                d_rle = pmask.merge(pmask.frPyObjects([_poly(rng, h, w)], h, w))
                dets.append((i * 3, int(rng.choice([1, 2, 5])), d_rle))
    dt = []
    for img, cat, r in dets:
        dt.append(
            {
                "image_id": img,
                "category_id": cat,
                "segmentation": {"size": r["size"], "counts": r["counts"].decode()},
                "score": float(np.round(rng.uniform(0.1, 1.0), 1)),
            }
        )
    gt = {"images": images, "categories": cats, "annotations": anns}
    return gt, dt


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_segm_streaming_equals_file_and_pycocotools(seed):
    gt, dt = make_masks_set(seed)
    assert any(a["iscrowd"] for a in gt["annotations"])
    ids = [im["id"] for im in gt["images"]]
    E = pycoco(gt, dt, "segm")
    ref = C.evaluate(gt, dt, iou_type="segm")
    same(ref, E)
    rng = np.random.default_rng(seed)
    res = stream(gt, dt, rng.permutation(ids).tolist(), batch_images=4).compute()
    same(res, E)
    # another order, two evaluators on halves merged the other way round
    perm = rng.permutation(ids).tolist()
    a = stream(gt, dt, perm[:6], batch_images=3)
    b = stream(gt, dt, perm[6:], batch_images=100)
    same(b.merge(a).compute(), E)


def test_generated_segm_params_and_usecats():
    gt, dt = make_masks_set(4)
    ids = [im["id"] for im in gt["images"]]
    for params in ({"useCats": 0}, {"maxDets": [1, 2, 3]}):
        ref = C.evaluate(gt, dt, iou_type="segm", **params)
        same(stream(gt, dt, ids[::-1], **params).compute(), ref)


def test_generated_segm_with_result_boxes_uses_box_area():
    # loadRes: results that carry a bbox get area w*h even in segm evaluation
    gt, dt = make_masks_set(2)
    rng = np.random.default_rng(9)
    for x in dt:
        bx = pmask.toBbox(x["segmentation"]).tolist()
        # a box that differs from the mask's, so the area rule is visible
        x["bbox"] = [bx[0], bx[1], bx[2] * rng.uniform(0.5, 2), bx[3]]
    ids = [im["id"] for im in gt["images"]]
    E = pycoco(gt, dt, "segm")
    same(stream(gt, dt, ids, dt_boxes=True).compute(), E)
    same(C.evaluate(gt, dt, iou_type="segm"), E)


def test_generated_boundary_streaming_equals_file_based():
    gt, dt = make_masks_set(3)
    ids = [im["id"] for im in gt["images"]]
    ref = C.evaluate(gt, dt, iou_type="boundary")
    same(stream(gt, dt, ids[::-1], "boundary", batch_images=3).compute(), ref)
    # boundary differs from segm on this set, so the plug-in really ran
    seg = C.evaluate(gt, dt, iou_type="segm")
    assert not np.array_equal(seg.precision, ref.precision)


def _canonical(arrays: dict) -> dict:
    """Records sorted by (image, category, rank): the order merge_states produces."""
    order = np.lexsort((arrays["dt_rank"], arrays["dt_category"], arrays["dt_image_id"]))
    out = dict(arrays)
    for k in ("dt_image_id", "dt_category", "dt_score", "dt_rank", "dt_flags"):
        out[k] = np.asarray(arrays[k])[order]
    return out


def test_state_arrays_identical_whatever_the_split():
    gt, dt = make_masks_set(5)
    ids = [im["id"] for im in gt["images"]]
    whole = stream(gt, dt, ids, batch_images=100)
    one = _canonical(whole.state.to_arrays())
    perm = np.random.default_rng(0).permutation(ids).tolist()
    parts = [stream(gt, dt, perm[k::3], batch_images=2) for k in range(3)]
    merged = parts[2].merge(parts[0]).merge(parts[1])
    two = _canonical(merged.state.to_arrays())
    assert one["dt_flags"].size > 0
    for k in one:
        assert np.array_equal(one[k], two[k]), k
    same(merged.compute(), whole.compute())
    with pytest.raises(DuplicateIdError):
        merged.merge(stream(gt, dt, ids[:1]))


# --------------------------------------------------------------------- errors
def _ev(iou_type="segm"):
    return C.CocoEvaluator([1, 2], iou_type)


def test_mask_size_differs_from_image_size_names_the_image():
    ev = _ev()
    with pytest.raises(ShapeMismatchError, match=r"image 42: GT mask 1 has size \[10, 12\]"):
        ev.update(
            42,
            gt_labels=[1, 1],
            gt_masks=[np.ones((10, 11), bool), np.ones((10, 12), bool)],
            image_size=(10, 11),
        )
    with pytest.raises(ShapeMismatchError, match=r"image 43: detection mask 0 has size \[8, 8\]"):
        ev.update(
            43,
            gt_labels=[1],
            gt_masks=np.ones((1, 9, 9), np.uint8),
            dt_scores=[0.5],
            dt_labels=[1],
            dt_masks=np.ones((1, 8, 8), np.uint8),
        )
    with pytest.raises(ShapeMismatchError, match="image 44: detection mask 0"):
        ev.update(
            44,
            dt_scores=[0.5],
            dt_labels=[2],
            dt_masks=[{"size": [5, 5], "counts": [25]}],
            image_size=(5, 6),
        )
    # the failed updates left nothing behind: the same ids are accepted afterwards
    ev.update(42, gt_labels=[1], gt_masks=np.ones((1, 10, 11), bool))
    assert ev.state.image_ids.tolist() == [42]


def test_mismatched_lengths_name_the_image():
    ev = _ev()
    with pytest.raises(ShapeMismatchError, match="image 7: 2 GT masks but 3 GT labels"):
        ev.update(7, gt_labels=[1, 1, 2], gt_masks=np.zeros((2, 4, 4), bool))
    with pytest.raises(ShapeMismatchError, match="image 7: 1 detection masks but 2 detection"):
        ev.update(7, dt_scores=[0.1, 0.2], dt_labels=[1, 1], dt_masks=np.zeros((1, 4, 4), bool))
    with pytest.raises(ShapeMismatchError, match="image 7: 3 detection boxes, 2 scores"):
        ev.update(
            7,
            dt_boxes=np.zeros((3, 4)),
            dt_scores=[0.1, 0.2],
            dt_labels=[1, 1],
            dt_masks=np.zeros((2, 4, 4), bool),
        )
    with pytest.raises(ShapeMismatchError, match="image 7: gt_iscrowd / gt_area lengths 1 / 2"):
        ev.update(
            7, gt_labels=[1, 2], gt_masks=np.zeros((2, 4, 4), bool), gt_iscrowd=[0], gt_area=[1, 2]
        )


def test_bad_masks_raise_named_errors():
    ev = _ev()
    with pytest.raises(InvalidParameterError, match="image 3: .*needs GT masks"):
        ev.update(3, gt_boxes=[[0, 0, 1, 1]], gt_labels=[1])
    with pytest.raises(InvalidParameterError, match="image 3: GT mask 0: polygons need"):
        ev.update(3, gt_labels=[1], gt_masks=[[[0, 0, 4, 0, 4, 4]]])
    with pytest.raises(InvalidPolygonError, match="image 3: GT mask 0"):
        ev.update(3, gt_labels=[1], gt_masks=[[[0, 0, 4]]], image_size=(5, 5))
    with pytest.raises(InvalidMaskError, match="image 3: detection masks: float masks"):
        ev.update(3, dt_scores=[0.3], dt_labels=[1], dt_masks=np.full((1, 4, 4), 0.7, np.float32))
    with pytest.raises(InvalidMaskError, match=r"image 3: GT masks must be \[n, H, W\]"):
        ev.update(3, gt_labels=[1], gt_masks=np.zeros((4, 4), bool))
    with pytest.raises(InvalidRLEError, match="image 3: detection mask"):
        ev.update(3, dt_scores=[0.3], dt_labels=[1], dt_masks=[{"counts": "0"}])
    with pytest.raises(InvalidRLEError, match="image 3: detection mask 0: 'size'"):
        ev.update(3, dt_scores=[0.3], dt_labels=[1], dt_masks=[{"size": "ab", "counts": "0"}])
    with pytest.raises(InvalidRLEError, match="image 3: detection masks"):
        ev.update(3, dt_scores=[0.3], dt_labels=[1], dt_masks=[{"size": [4, 4], "counts": "~~"}])
    with pytest.raises(InvalidParameterError, match="image 3: image_size"):
        ev.update(3, gt_labels=[1], gt_masks=np.zeros((1, 4, 4), bool), image_size=(4, 0))
    with pytest.raises(InvalidParameterError, match="unknown iou_type"):
        C.CocoEvaluator([1], "segmm")
    ev.update(3)  # an empty image is fine
    with pytest.raises(DuplicateIdError, match="image id 3"):
        ev.update(3)


def test_float_binary_masks_and_empty_images():
    # 0/1 float masks are accepted; images without GT or detections count as in COCO
    ev = _ev()
    m = np.zeros((1, 6, 6), np.float32)
    m[0, 1:5, 1:5] = 1.0
    ev.update(1, gt_labels=[2], gt_masks=m, dt_scores=[0.9], dt_labels=[2], dt_masks=m)
    ev.update(2, dt_scores=[0.8], dt_labels=[2], dt_masks=m)
    ev.update(3)
    # hand-worked: category 2 has one GT; detections 0.9 (TP) then 0.8 (FP):
    # precision 1/(1+eps) up to recall 1, so AP = 1/(1+2.2e-16) for every threshold
    r = ev.compute()
    assert r.stats[0] == pytest.approx(1.0, abs=1e-12)
    gt = {
        "images": [{"id": k, "height": 6, "width": 6} for k in (1, 2, 3)],
        "categories": [{"id": 1}, {"id": 2}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 2,
                "iscrowd": 0,
                "area": 16.0,
                "bbox": [1, 1, 4, 4],
                "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]],
            }
        ],
    }
    rle_m = pmask.encode(np.asfortranarray(m[0].astype(np.uint8)))
    rle_m["counts"] = rle_m["counts"].decode()
    dt = [
        {"image_id": 1, "category_id": 2, "score": 0.9, "segmentation": rle_m},
        {"image_id": 2, "category_id": 2, "score": 0.8, "segmentation": rle_m},
    ]
    same(r, pycoco(gt, dt, "segm"))


def test_box_format_is_a_deprecated_alias_of_fmt():
    import warnings

    from ioukit.errors import InvalidParameterError

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ev = C.CocoEvaluator([1], box_format="xywh")
    assert ev.fmt == "xywh"
    assert any(issubclass(x.category, DeprecationWarning) for x in w)
    with pytest.raises(InvalidParameterError, match="not both"):
        C.CocoEvaluator([1], fmt="xywh", box_format="xywh")


# ---------------------------------------------------------------- plug-in fields
# The streaming evaluator feeds an IoU plug-in's own geometry (IouPlugin.fields) as the
# JSON loader does: the same images through update(..., gt_fields=, dt_fields=) and
# through coco.evaluate on the equivalent JSON give identical numbers.
def _plugin_dataset(field: str, width: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    for img in range(1, 9):
        images.append({"id": img, "width": 100, "height": 100})
        for _ in range(int(rng.integers(0, 5))):
            x, y = rng.uniform(0, 60, 2)
            w, h = rng.uniform(5, 40, 2)
            geom = {
                "rbox": [x + w / 2, y + h / 2, w, h, float(rng.uniform(-1, 1))],
                "segment": [x, x + w],
                "bbox3d": [x + w / 2, y + h / 2, 1.0, w, h, 2.0, float(rng.uniform(-1, 1))],
            }[field]
            cat = int(rng.integers(1, 3))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": cat,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    field: geom,
                }
            )
            for _ in range(int(rng.integers(0, 3))):
                g = [float(v) for v in np.asarray(geom) + rng.normal(0, 0.3, width)]
                dets.append(
                    {
                        "image_id": img,
                        "category_id": cat,
                        "bbox": [x, y, w, h],
                        "score": float(rng.uniform()),
                        field: g,
                    }
                )
    cats = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    return {"images": images, "annotations": anns, "categories": cats}, dets


@pytest.mark.parametrize(
    "iou_type, field, width",
    [("rotated", "rbox", 5), ("interval", "segment", 2), ("bbox3d", "bbox3d", 7)],
)
def test_plugin_fields_stream_equals_files(iou_type, field, width):
    gt, dt = _plugin_dataset(field, width)
    ref = C.evaluate(gt, dt, iou_type=iou_type)
    ev = C.CocoEvaluator(gt["categories"], iou_type=iou_type, fmt="xywh", batch_images=3)
    for im in gt["images"]:
        g = [a for a in gt["annotations"] if a["image_id"] == im["id"]]
        d = [r for r in dt if r["image_id"] == im["id"]]
        ev.update(
            im["id"],
            gt_boxes=np.array([a["bbox"] for a in g]).reshape(-1, 4),
            gt_labels=[a["category_id"] for a in g],
            gt_area=[a["area"] for a in g],
            dt_boxes=np.array([r["bbox"] for r in d]).reshape(-1, 4),
            dt_scores=[r["score"] for r in d],
            dt_labels=[r["category_id"] for r in d],
            gt_fields={field: np.array([a[field] for a in g]).reshape(-1, width)},
            dt_fields={field: np.array([r[field] for r in d]).reshape(-1, width)},
        )
    res = ev.compute()
    assert np.array_equal(res.stats, ref.stats)
    assert np.array_equal(res.precision, ref.precision)
    assert np.array_equal(res.recall, ref.recall)


def test_plugin_fields_are_required_and_checked():
    ev = C.CocoEvaluator([1], iou_type="rotated")
    box = [[0.0, 0.0, 10.0, 10.0]]
    with pytest.raises(InvalidParameterError, match="needs the GT field 'rbox'"):
        ev.update(1, gt_boxes=box, gt_labels=[1])
    with pytest.raises(ShapeMismatchError, match=r"field 'rbox' must have shape \(1, 5\)"):
        ev.update(2, gt_boxes=box, gt_labels=[1], gt_fields={"rbox": [[5.0, 5.0, 10.0, 10.0]]})
    with pytest.raises(InvalidParameterError, match="'segment' is not one this IoU type"):
        ev.update(3, gt_boxes=box, gt_labels=[1], gt_fields={"segment": [[0.0, 1.0]]})
    with pytest.raises(InvalidParameterError, match="row 0 is not finite"):
        ev.update(4, gt_boxes=box, gt_labels=[1], gt_fields={"rbox": [[5, 5, 10, 10, np.nan]]})
    ev.update(5)  # an image without objects needs no fields
