"""Issue 21: bad input gives a clear error or the right answer, never a traceback.

Files and the CLI (deep JSON, ids outside int64, huge polygon coordinates, option
values), silent wrong answers in ``ioukit.rle``, and the messages that named the wrong
thing. Numbers are compared with pycocotools where it evaluates the same input.
"""

from __future__ import annotations

import contextlib
import io
import json
import time

import numpy as np
import pytest

from _malformed_coco import clean_dt, clean_gt
from ioukit import coco, rle
from ioukit.cli._main import run
from ioukit.errors import DatasetError, InvalidParameterError, InvalidRLEError, IoukitError

pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = run(list(argv))
    return rc, err.getvalue()


def _files(tmp_path, gt, dt) -> tuple[str, str]:
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_bytes(gt if isinstance(gt, bytes) else json.dumps(gt).encode())
    d.write_bytes(dt if isinstance(dt, bytes) else json.dumps(dt).encode())
    return str(g), str(d)


def _pycocotools_stats(gt: dict, dt: list, iou_type: str = "bbox") -> np.ndarray:
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = json.loads(json.dumps(gt))
        c.createIndex()
        e = COCOeval(c, c.loadRes(json.loads(json.dumps(dt))), iou_type)
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e.stats


# ------------------------------------------------------------------ CLI options
@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--area-rng", "all=0:2**2000", "too large"),
        ("--area-rng", "x=-2**0.5:4", "must be >= 0"),
        ("--area-rng", "x=0:nan", "finite"),
        ("--max-dets", "1,10," + "9" * 30, "at most 2147483647"),
        ("--max-dets", "1," + "1" * 5000, "at most 2147483647"),
        ("--iou-thrs", "0:1:1e-6", "at most 1000"),
        ("--iou-thrs", "0:1:1e-300", "at most 1000"),
        ("--iou-thrs", ",".join(["0.5"] * 1001), "at most 1000"),
        ("--iou-thrs", "nan:1:0.1", "expected start:stop:step"),
        ("--scheduler", "nonsense", "expected an address"),
        ("--scheduler", "tcp://host:99999", "expected an address"),
    ],
)
def test_bad_option_values_are_one_line_errors(tmp_path, option, value, words):
    g, d = _files(tmp_path, clean_gt(), clean_dt())
    t0 = time.perf_counter()
    rc, err = _cli("eval", g, d, "-q", option, value)
    assert time.perf_counter() - t0 < 5  # refused before any large allocation
    assert rc == 2
    assert err.startswith("ioukit: error: ") and err.count("\n") == 1, err
    assert words in err and "Traceback" not in err


def test_memory_estimate_refuses_arrays_larger_than_the_machine():
    with pytest.raises(InvalidParameterError, match="GiB"):
        coco.make_params(
            gt_cat_ids=range(80),
            iouThrs=np.linspace(0, 1, 1000),
            areaRng=[[0, 1e10]] * 100,
            areaRngLbl=[str(i) for i in range(100)],
            maxDets=list(range(1, 101)),
        )


# ---------------------------------------------------------------- deep JSON
def _with_deep_key(obj, depth=100_000) -> bytes:
    text = json.dumps(obj).encode()
    return text[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + text[-1:]


def test_deep_nesting_in_an_ignored_key_is_skipped(tmp_path):
    gt, dt = clean_gt(), clean_dt()
    g, d = _files(tmp_path, _with_deep_key(gt), dt)
    # pycocotools' json.load gives up on this file (RecursionError); without the key:
    want = _pycocotools_stats(gt, dt)
    assert np.array_equal(coco.evaluate(g, d).stats, want)
    for cmd in (["eval", g, d], ["check", g, d], ["compare", g, d, d]):
        rc, err = _cli(*cmd, "-q")
        assert rc == 0, err


def test_nesting_beyond_the_scanner_is_a_clear_error(tmp_path):
    g, d = _files(tmp_path, _with_deep_key(clean_gt(), 2**20 + 2), clean_dt())
    with pytest.raises(IoukitError, match="nested too deeply"):
        coco.evaluate(g, d)
    rc, err = _cli("check", g, d)
    assert rc == 2 and "nested too deeply" in err


# ----------------------------------------------------------------------- ids
def test_ids_up_to_int64_max_match_pycocotools(tmp_path):
    gt, dt = clean_gt(), clean_dt()
    gt["annotations"][0]["id"] = 2**63 - 1
    gt["images"][1]["id"] = -(2**63)
    gt["annotations"][1]["image_id"] = dt[1]["image_id"] = -(2**63)
    g, d = _files(tmp_path, gt, dt)
    assert np.array_equal(coco.evaluate(g, d).stats, _pycocotools_stats(gt, dt))


@pytest.mark.parametrize(
    ("where", "value", "named"),
    [
        ("annotation id", 2**63, "annotation entry 0 has id 9223372036854775808"),
        ("result image_id", 2**64, "result 0 has image_id 18446744073709551616"),
        ("image id", -(2**63) - 1, "image entry 0 has id -9223372036854775809"),
    ],
)
def test_ids_outside_int64_are_refused_naming_the_record(tmp_path, where, value, named):
    gt, dt = clean_gt(), clean_dt()
    if where == "annotation id":
        gt["annotations"][0]["id"] = value
    elif where == "image id":
        gt["images"][0]["id"] = value
    else:
        dt[0]["image_id"] = value
    g, d = _files(tmp_path, gt, dt)
    with pytest.raises(DatasetError, match="outside the int64 range") as e:
        coco.evaluate(g, d)
    assert named in str(e.value)
    assert str(e.value).startswith(d if where.startswith("result") else g)


# ----------------------------------------------------------- huge polygons
@pytest.mark.parametrize("far", [1e9, 5e9, 1e12, 1e300])
def test_far_polygon_coordinates_cost_the_image_not_the_coordinates(far):
    # an axis-aligned rectangle running far to the right: inside a 48 x 64 image it
    # is the rectangle ending just past the image (pycocotools on that one)
    t0 = time.perf_counter()
    got = rle.from_polygons([[10, 10, far, 10, far, 40, 10, 40]], 48, 64)[0]
    assert time.perf_counter() - t0 < 1
    want = mask_utils.frPyObjects([[10, 10, 70, 10, 70, 40, 10, 40]], 48, 64)[0]
    assert got["counts"] == want["counts"]


def test_polygons_beyond_the_image_stay_identical_to_pycocotools():
    rng = np.random.default_rng(21)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        p = rng.uniform(-400, 400, 2 * int(rng.integers(3, 9))).tolist()
        want = mask_utils.frPyObjects([p], h, w)[0]["counts"]
        assert rle.from_polygons([p], h, w)[0]["counts"] == want, (p, h, w)


def test_segm_eval_with_a_far_gt_polygon(tmp_path):
    gt, dt = clean_gt(), clean_dt()
    gt["annotations"][0]["segmentation"] = [[10, 10, 5e9, 10, 5e9, 40, 10, 40]]
    g, d = _files(tmp_path, gt, dt)
    near = clean_gt()
    near["annotations"][0]["segmentation"] = [[10, 10, 70, 10, 70, 40, 10, 40]]
    want = _pycocotools_stats(near, dt, "segm")
    assert np.array_equal(coco.evaluate(g, d, "segm").stats, want)


# ------------------------------------------------------- ioukit.rle inputs
@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: rle.decode({"size": ["3", "4"], "counts": b"39"}),
            InvalidRLEError,
            "two integers",
        ),
        (lambda: rle.decode({"size": [3.0, 4], "counts": [12]}), InvalidRLEError, "two integers"),
        (lambda: rle.decode({"size": [3, 4], "counts": None}), InvalidRLEError, "'counts' must"),
        (lambda: rle.decode({"size": [3, 4], "counts": [1.5, 10.5]}), InvalidRLEError, "'counts'"),
        (lambda: rle.from_polygons([[0, 0, 4, 0, 4, 4]], -3, 40), InvalidParameterError, "h must"),
        (lambda: rle.from_polygons([[0, 0, 4, 0, 4, 4]], 3, "40"), InvalidParameterError, "w must"),
        (lambda: rle.from_bbox([[0, 0, 2, 2]], 3, -1), InvalidParameterError, "w must"),
        (lambda: rle.from_string(b"39", -3, 4), InvalidParameterError, "h must"),
    ],
)
def test_rle_rejects_what_pycocotools_would_misread(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_rle_integer_sizes_still_decode_like_pycocotools():
    r = {"size": [np.int64(3), 4], "counts": [1, 2, 9]}
    want = mask_utils.decode(mask_utils.frPyObjects([{"size": [3, 4], "counts": [1, 2, 9]}], 3, 4))
    assert np.array_equal(rle.decode([r]), want)


# ---------------------------------------------------------------- messages
def test_polygon_results_use_the_gt_image_sizes_like_loadres(tmp_path):
    # pycocotools' loadRes takes RLE-only results (maskUtils.area of a polygon list is
    # a TypeError there); polygons are rasterised at their GT image's size (annToRLE),
    # so the oracle is pycocotools on those RLEs.
    gt, dt = clean_gt(), clean_dt()
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    as_rle = []
    for r in dt:
        r.pop("bbox")
        h, w = sizes[r["image_id"]]
        m = mask_utils.merge(mask_utils.frPyObjects(r["segmentation"], h, w))
        as_rle.append({**r, "segmentation": {"size": m["size"], "counts": m["counts"].decode()}})
    g, d = _files(tmp_path, gt, dt)
    for iou_type in ("segm", "bbox"):
        want = _pycocotools_stats(gt, as_rle, iou_type)
        assert np.array_equal(coco.evaluate(g, d, iou_type).stats, want), iou_type


def test_gt_images_without_size_say_so(tmp_path):
    gt, dt = clean_gt(), clean_dt()
    for im in gt["images"]:
        im.pop("width")
        im.pop("height")
    g, d = _files(tmp_path, gt, dt)
    with pytest.raises(DatasetError, match="has no 'width' / 'height'") as e:
        coco.evaluate(g, d, "segm")
    assert str(e.value).startswith((g, d)) and "GT image id 1" in str(e.value)


def test_loader_errors_name_the_results_file(tmp_path):
    gt, dt = clean_gt(), clean_dt()
    for r in dt:
        r.pop("bbox")
    dt[1]["segmentation"] = {"size": [32, 32], "counts": [5, 6]}
    g, d = _files(tmp_path, gt, dt)
    with pytest.raises(InvalidRLEError) as e:
        coco.evaluate(g, d, "segm")
    assert str(e.value).startswith(f"{d}: result 1 (image id 2): counts add up to 11")


def test_no_traceback_reaches_the_cli_user_for_unexpected_errors(monkeypatch, tmp_path):
    g, d = _files(tmp_path, clean_gt(), clean_dt())
    import ioukit.cli._commands as commands

    def boom(*a, **k):
        raise RuntimeError("something deep")

    monkeypatch.setattr(commands, "_evaluate", boom)
    rc, err = _cli("eval", g, d, "-q")
    assert rc == 2 and err.startswith("ioukit: error: RuntimeError: something deep")
