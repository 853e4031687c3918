"""ioukit.io._jsonseg: segmentations from JSON bytes vs json.loads + pycocotools (exact)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ioukit.coco import _load
from ioukit.errors import InvalidRLEError
from ioukit.io import _jsonscan as js
from ioukit.io._jsonseg import KIND_LIST, KIND_POLY, KIND_STR, FlatSegments, parse_segmentations
from ioukit.rle._table import table_from_flat, table_from_objects

mask_util = pytest.importorskip("pycocotools.mask")


def _parse(text: str) -> FlatSegments | None:
    """Scan a root list of {"segmentation": ...} records, then parse the spans."""
    buf = text.encode()
    r = js.scan_records(buf, (), {"segmentation": js.FieldSpec("span")})
    return parse_segmentations(buf, r["segmentation"], r.first_byte["segmentation"])


def _number(rng: np.random.Generator) -> str:
    """A JSON number token in one of the spellings files contain."""
    k = rng.integers(7)
    v = rng.uniform(-50, 700)
    if k == 0:
        return str(int(v))
    if k == 1:
        return repr(float(v))
    if k == 2:
        return f"{v:.2f}"
    if k == 3:
        return f"{v:.6e}"
    if k == 4:
        return f"{v:.25f}"  # over 19 significant digits: Python's float() decides
    if k == 5:
        return repr(float(np.float32(v)))
    return f"{abs(v):.1f}E+0"


def _random_polygons(rng: np.random.Generator) -> str:
    polys = []
    for _ in range(int(rng.integers(1, 4))):
        m = 2 * int(rng.integers(3, 12))
        polys.append("[" + ", ".join(_number(rng) for _ in range(m)) + "]")
    return "[" + ",".join(polys) + "]"


def test_polygons_equal_json_loads_bit_for_bit():
    rng = np.random.default_rng(0)
    texts = [_random_polygons(rng) for _ in range(300)]
    doc = "[" + ",\n".join(f'{{"segmentation": {t}}}' for t in texts) + "]"
    s = _parse(doc)
    assert s is not None
    ref = [json.loads(t) for t in texts]
    assert (s.kind == KIND_POLY).all()
    got = np.concatenate([s.xy[s.poly_off[p] : s.poly_off[p + 1]] for p in range(s.ann_off[-1])])
    want = np.array([v for polys in ref for p in polys for v in p], np.float64)
    # bit patterns, so -0.0 vs 0.0 and every last-place difference would show
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    assert [len(p) for p in ref] == np.diff(s.ann_off).tolist()
    assert [s[i] for i in range(len(texts))] == [[[float(v) for v in p] for p in q] for q in ref]


def _random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8, order="F")
    for _ in range(int(rng.integers(0, 4))):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        m[y0 : y0 + rng.integers(1, h), x0 : x0 + rng.integers(1, w)] = 1
    m[rng.random((h, w)) < 0.05] ^= 1
    return m


def test_rle_rows_carry_area_and_box_as_pycocotools():
    """All-RLE documents (results): the parser's rleArea / rleToBbox per row."""
    rng = np.random.default_rng(2)
    objs = []
    for i in range(60):
        h, w = int(rng.integers(2, 40)), int(rng.integers(2, 40))
        r = mask_util.encode(_random_mask(rng, h, w) * (i % 7 != 0))  # some empty masks
        objs.append({"size": r["size"], "counts": r["counts"].decode()})
    s = _parse(json.dumps([{"segmentation": o} for o in objs]))
    assert s is not None and s.rle_area is not None
    enc = [{"size": o["size"], "counts": o["counts"].encode()} for o in objs]
    assert s.rle_area.tolist() == [int(a) for a in mask_util.area(enc)]
    assert np.array_equal(s.rle_bbox, mask_util.toBbox(enc))
    # a row that is not a valid RLE (or a polygon) leaves the measuring to the table
    bad = json.dumps([{"segmentation": objs[0]}, {"segmentation": [[0, 0, 4, 0, 4, 4]]}])
    assert _parse(bad).rle_area is None


def test_rles_and_polygons_match_pycocotools():
    rng = np.random.default_rng(1)
    h, w = 37, 53
    objs, want = [], []
    for i in range(120):
        k = i % 3
        if k == 0:
            r = mask_util.encode(_random_mask(rng, h, w))
            objs.append({"size": r["size"], "counts": r["counts"].decode()})
            want.append(r)
        elif k == 1:
            m = _random_mask(rng, h, w).ravel(order="F")
            change = np.flatnonzero(np.diff(np.r_[0, m, 1 - m[-1]]))  # run starts
            counts = np.diff(np.r_[0, change[change < m.size], m.size]).tolist()
            if m[0]:
                counts = [0, *counts]
            objs.append({"counts": counts, "size": [h, w]})
            want.append(mask_util.frPyObjects(objs[-1], h, w))
        else:
            polys = json.loads(_random_polygons(rng).replace("-", ""))
            objs.append(polys)
            want.append(mask_util.merge(mask_util.frPyObjects(polys, h, w)))
    # json.dumps escapes the backslash of COCO's alphabet: the parser must undo it
    doc = json.dumps([{"segmentation": o} for o in objs])
    assert "\\\\" in doc
    s = _parse(doc)
    assert s is not None
    assert s.kind.tolist() == [[KIND_STR, KIND_LIST, KIND_POLY][i % 3] for i in range(120)]
    t = table_from_flat(s, np.full(120, h), np.full(120, w))
    ref = table_from_objects(objs, np.full(120, h), np.full(120, w))
    assert np.array_equal(t.counts, ref.counts) and np.array_equal(t.offsets, ref.offsets)
    assert np.array_equal(t.heights, ref.heights) and np.array_equal(t.widths, ref.widths)
    for i, r in enumerate(want):
        dec = mask_util.decode(r)
        c = t.counts[t.offsets[i] : t.offsets[i + 1]]
        mine = np.repeat(np.arange(c.size) % 2, c).reshape((h, w), order="F")
        assert np.array_equal(mine, dec), i
    for i in (0, 1):
        assert s[i]["size"] == [h, w] and s[i]["counts"] == objs[i]["counts"]


@pytest.mark.parametrize(
    "seg",
    [
        "[]",  # empty polygon list
        "[[1, 2, 3, 4]]",  # 2 points
        "[[1, 2, 3, 4, 5, 6, 7]]",  # odd coordinates
        '[[1, 2, 3, 4, 5, "6"]]',  # a string
        "[1, 2, 3, 4, 5, 6]",  # not nested
        '{"size": [2, 2], "counts": "0\\u0034"}',  # \\u escape
        '{"size": [2, 2], "counts": "04", "extra": 1}',  # another key
        '{"size": [2, 2], "counts": "04", "counts": "04"}',  # repeated key
        '{"size": [2, 2]}',  # no counts
        '{"size": [2.0, 2], "counts": "04"}',  # float size
        '{"size": [2, 2], "counts": [-1, 5]}',  # negative count
        '{"size": [2, 2], "counts": "0~"}',  # '~' is outside '0'..'o'
        '{"size": [2, 2], "counts": "0a"}',  # 'a' announces another character
        '{"size": [2, 2], "counts": "0000O"}',  # 4th count 0 + (-1): negative
        "null",
    ],
)
def test_unusual_values_fall_back(seg):
    assert _parse(f'[{{"segmentation": [[0, 0, 1, 0, 1, 1]]}}, {{"segmentation": {seg}}}]') is None


@pytest.mark.parametrize("with_box", [False, True])
def test_loader_fast_path_equals_object_path(tmp_path, with_box):
    rng = np.random.default_rng(2)
    h, w = 40, 60
    anns, res = [], []
    for i in range(30):
        polys = json.loads(_random_polygons(rng).replace("-", ""))
        crowd = i % 10 == 0
        seg = polys
        if crowd:
            seg = {"counts": [h * w - 7, 7], "size": [h, w]}
        anns.append(
            {"id": i + 1, "image_id": 1 + i % 3, "category_id": 1, "bbox": [1, 2, 3, 4],
             "area": 12.0, "iscrowd": int(crowd), "segmentation": seg}
        )  # fmt: skip
        r = mask_util.encode(_random_mask(rng, h, w))
        res.append(
            {"image_id": 1 + i % 3, "category_id": 1, "score": float(rng.random()),
             "segmentation": {"size": [h, w], "counts": r["counts"].decode()}}
        )  # fmt: skip
        if with_box:  # loadRes box mode: area = w * h, the mask only for the IoU
            res[-1]["bbox"] = [float(v) for v in rng.uniform(0, 20, 4)]
    gt = {
        "images": [{"id": k, "height": h, "width": w} for k in (1, 2, 3)],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": anns,
    }
    gp, dp = tmp_path / "gt.json", tmp_path / "dt.json"
    gp.write_text(json.dumps(gt))
    dp.write_text(json.dumps(res))
    from ioukit.coco import evaluate
    from ioukit.coco._geometry import get_iou_type

    plug = get_iou_type("segm")
    g_file = _load.load_gt(gp, needs_segmentation=True)
    assert isinstance(g_file.ann_segmentation, FlatSegments)
    d_file = _load.load_dt(dp, g_file, needs_segmentation=True, segm_area_bbox=plug.segm_area_bbox)
    assert isinstance(d_file.segmentation, FlatSegments)
    g_obj = _load.load_gt(gt, needs_segmentation=True)
    d_obj = _load.load_dt(res, g_obj, needs_segmentation=True, segm_area_bbox=plug.segm_area_bbox)
    assert np.array_equal(d_file.area, d_obj.area) and np.array_equal(d_file.bbox, d_obj.bbox)
    assert [d_file.segmentation[i] for i in range(30)] == d_obj.segmentation
    a, b = evaluate(gp, dp, iou_type="segm"), evaluate(gt, res, iou_type="segm")
    assert np.array_equal(a.precision, b.precision) and np.array_equal(a.stats, b.stats)


def test_corrupt_counts_named_like_object_path(tmp_path):
    gt = {
        "images": [{"id": 1, "height": 2, "width": 2}],
        "categories": [{"id": 1}],
        "annotations": [],
    }
    res = [
        {"image_id": 1, "category_id": 1, "score": 0.5,
         "segmentation": {"size": [2, 2], "counts": c}}
        for c in ("04", "0\\5")  # 0 + 4 = h*w; '\\' + 5 decodes to a run past the image
    ]  # fmt: skip
    dp = tmp_path / "dt.json"
    dp.write_text(json.dumps(res))
    from ioukit.coco import evaluate

    with pytest.raises(InvalidRLEError) as from_file:
        evaluate(gt, str(dp), iou_type="segm")
    with pytest.raises(InvalidRLEError) as from_list:
        evaluate(gt, res, iou_type="segm")
    # the same words; each names its own source (the file, or "<results list>")
    assert str(from_file.value) == str(from_list.value).replace("<results list>", str(dp))
    assert "result 1" in str(from_file.value)
