"""ioukit.rle against pycocotools.mask (the oracle), byte for byte and bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import rle
from ioukit.errors import InvalidPolygonError, InvalidRLEError, ShapeMismatchError

mask_utils = pytest.importorskip("pycocotools.mask")

# pycocotools 2.0.11 decode warns about NumPy 2's __array__(copy=) protocol.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _random_masks(rng: np.random.Generator, h: int, w: int, n: int) -> np.ndarray:
    """Blobby masks: random rectangles and noise, with full / empty / edge cases."""
    out = np.zeros((h, w, n), np.uint8)
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out[:, :, i] = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        elif kind == 1:
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            out[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1), i] = 1
        elif kind == 2:
            out[:, :, i] = 1 if rng.random() < 0.5 else 0
        elif kind == 3:
            yy, xx = np.mgrid[:h, :w]
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1, max(h, w))
            out[:, :, i] = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            out[rng.integers(0, h), rng.integers(0, w), i] = 1
    return np.asfortranarray(out)


@pytest.fixture(scope="module")
def masks() -> np.ndarray:
    return _random_masks(np.random.default_rng(0), 23, 17, 40)


def test_encode_bytes_match(masks):
    assert rle.encode(masks) == mask_utils.encode(masks)
    assert rle.encode(masks[:, :, 3]) == mask_utils.encode(masks[:, :, 3])
    # C-ordered and bool input encode the same pixels.
    assert rle.encode(np.ascontiguousarray(masks).astype(bool)) == mask_utils.encode(masks)


def test_decode_roundtrip(masks):
    r = mask_utils.encode(masks)
    dec = rle.decode(r)
    assert dec.dtype == np.uint8 and dec.flags.f_contiguous
    np.testing.assert_array_equal(dec, mask_utils.decode(r))
    np.testing.assert_array_equal(rle.decode(r[5]), masks[:, :, 5])
    # str counts (as in JSON files) decode like bytes.
    s = {"size": r[0]["size"], "counts": r[0]["counts"].decode()}
    np.testing.assert_array_equal(rle.decode(s), masks[:, :, 0])


def test_area_bbox_match(masks):
    r = mask_utils.encode(masks)
    np.testing.assert_array_equal(rle.area(r), mask_utils.area(r))
    assert rle.area(r).dtype == np.uint32
    np.testing.assert_array_equal(rle.to_bbox(r), mask_utils.toBbox(r))
    np.testing.assert_array_equal(rle.to_bbox(r[1]), mask_utils.toBbox(r[1]))


def test_merge_match(masks):
    r = mask_utils.encode(masks)
    for ix in ([0, 1], [2, 3, 4], [5], list(range(10, 20)), [7, 7]):
        sub = [r[i] for i in ix]
        for inter in (False, True):
            assert rle.merge(sub, inter) == mask_utils.merge(sub, inter)


def test_iou_match(masks):
    r = mask_utils.encode(masks)
    dt, gt = r[:25], r[25:]
    crowd = np.arange(len(gt)) % 3 == 0
    want = mask_utils.iou(dt, gt, crowd.astype(np.uint8).tolist())
    got = rle.iou(dt, gt, crowd)
    assert got.shape == (25, 15)
    np.testing.assert_array_equal(got, want)  # bit for bit


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_iou_property_vs_pycocotools(h, w, seed):
    # the interval merge against maskApi.c's run walk: empty and full masks, masks
    # starting with foreground (a zero first count), single pixels, crowd GT
    rng = np.random.default_rng(seed)
    m = _random_masks(rng, h, w, 12)
    m[:, :, 0] = 0
    m[:, :, 1] = 1
    m[0, 0, 2] = 1
    r = mask_utils.encode(m)
    crowd = rng.random(6) < 0.4
    want = mask_utils.iou(r[:6], r[6:], crowd.astype(np.uint8).tolist())
    np.testing.assert_array_equal(rle.iou(r[:6], r[6:], crowd), want)
    np.testing.assert_array_equal(rle.iou(r, r, np.zeros(12, bool)), mask_utils.iou(r, r, [0] * 12))


def test_iou_boxes_overload():
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 50, (7, 4))
    g = rng.uniform(0, 50, (5, 4))
    crowd = [0, 1, 0, 1, 0]
    np.testing.assert_array_equal(rle.iou(d, g, crowd), mask_utils.iou(d, g, crowd))
    np.testing.assert_array_equal(
        rle.iou(d.tolist(), g.tolist(), crowd), mask_utils.iou(d.tolist(), g.tolist(), crowd)
    )


def test_iou_empty_and_mixed_forms():
    assert rle.iou([], [], []).shape == (0, 0)
    poly = [[1.0, 1.0, 8.0, 1.5, 6.0, 7.0]]
    uncompressed = {"size": [10, 12], "counts": [30, 20, 70]}
    dense = np.zeros((10, 12), np.uint8)
    dense[2:6, 3:9] = 1
    ref = [
        mask_utils.merge(mask_utils.frPyObjects(poly, 10, 12)),
        mask_utils.frPyObjects(uncompressed, 10, 12),
        mask_utils.encode(np.asfortranarray(dense)),
    ]
    want = mask_utils.iou(ref, ref, [0, 0, 1])
    got = rle.iou(
        [poly, uncompressed, dense], [poly, uncompressed, dense], [0, 0, 1], size=(10, 12)
    )
    np.testing.assert_array_equal(got, want)


def _polygons(rng: np.random.Generator, h: int, w: int) -> list[list[float]]:
    polys = []
    for _ in range(60):
        k = int(rng.integers(3, 12))
        cx, cy = rng.uniform(-3, w + 3), rng.uniform(-3, h + 3)
        r = rng.uniform(0.2, max(h, w))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.3, 1.0, k)  # concave star shapes
        polys.append(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).ravel().tolist())
    # Convex, touching the image edge, sub-pixel, integer and half-integer vertices.
    polys += [
        [0, 0, w, 0, w, h, 0, h],
        [-1, -1, w + 1, -1, w + 1, h + 1, -1, h + 1],
        [0.2, 0.2, 0.4, 0.2, 0.3, 0.45],
        [2.5, 2.5, 6.5, 2.5, 6.5, 5.5, 2.5, 5.5],
        [w - 1, 0, w - 0.5, h / 2, w - 1, h - 1],
        [1, 1, 5, 1, 5, 5, 3, 3, 1, 5],  # self-touching notch
        [1, 1, 6, 6, 1, 6, 6, 1],  # self-intersecting bow-tie
        [3, 3, 3, 3, 3, 3],  # degenerate point
        [-0.3, 2, -0.1, 5, -0.25, 7],  # just outside, negative truncation
        [0.1, 0.1, 9.9, 0.1, 9.9, 0.3, 0.1, 0.3],  # thin sliver
    ]
    return polys


@pytest.mark.parametrize("hw", [(20, 30), (31, 7), (1, 1)])
def test_from_polygons_same_pixels(hw):
    h, w = hw
    polys = _polygons(np.random.default_rng(h * 100 + w), h, w)
    got = rle.from_polygons(polys, h, w)
    want = mask_utils.frPyObjects(polys, h, w)
    assert got == want  # same bytes, hence the same pixels
    np.testing.assert_array_equal(rle.decode(got), mask_utils.decode(want))


def test_from_bbox_and_objects():
    bb = np.array([[0, 0, 5, 5], [1.3, 2.7, 4.1, 0.4], [-2, -2, 40, 40], [3, 3, 0, 0]], float)
    assert rle.from_bbox(bb, 12, 9) == mask_utils.frPyObjects(bb, 12, 9)
    assert rle.from_objects(bb, 12, 9) == mask_utils.frPyObjects(bb, 12, 9)
    poly = [1, 1, 7, 2, 4, 8]
    assert rle.from_objects(poly, 12, 9) == mask_utils.frPyObjects([poly], 12, 9)[0]
    assert rle.from_objects([poly, poly], 12, 9) == mask_utils.frPyObjects([poly, poly], 12, 9)
    unc = {"size": [3, 4], "counts": [2, 5, 1, 4]}
    assert rle.from_objects(unc, 3, 4) == mask_utils.frPyObjects(unc, 3, 4)
    assert rle.from_uncompressed([unc]) == mask_utils.frPyObjects([unc], 3, 4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=40),
    st.integers(1, 50),
)
def test_string_codec_roundtrip(runs, h):
    # Any count list: pycocotools' string, and back, exactly (deltas may go negative).
    total = sum(runs)
    w = -(-total // h) if total else 1
    runs = runs + [h * w - total] if h * w > total else runs
    unc = {"size": [h, w], "counts": runs}
    s = mask_utils.frPyObjects(unc, h, w)["counts"]
    assert rle.to_string(runs) == s
    np.testing.assert_array_equal(rle.from_string(s, h, w), np.asarray(runs, np.uint32))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.integers(0, 2**32 - 1))
def test_encode_word_path_any_nonzero_value(h, w, seed):
    # the eight-pixels-at-a-time path: long runs, runs starting anywhere in a word,
    # masks starting at unaligned offsets, and nonzero values other than 1
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w, 4), np.uint8)
    for i in range(4):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        m[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1), i] = rng.choice(
            [1, 7, 128, 255]
        )
    m[rng.integers(0, h, 5), rng.integers(0, w, 5), rng.integers(0, 4, 5)] = 255
    ref = mask_utils.encode(np.asfortranarray((m != 0).astype(np.uint8)))
    assert rle.encode(np.asfortranarray(m)) == ref  # word path
    assert rle.encode(np.ascontiguousarray(m)) == ref  # strided path
    assert rle.encode(np.asfortranarray(m.view(np.int8))) == ref  # -1 etc. are foreground


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_encode_property(h, w, seed):
    rng = np.random.default_rng(seed)
    m = np.asfortranarray((rng.random((h, w, 3)) < rng.random()).astype(np.uint8))
    r = rle.encode(m)
    assert r == mask_utils.encode(m)
    np.testing.assert_array_equal(rle.decode(r), m)
    # Properties: area = pixel count; IoU with itself is 1 (or 0 when empty).
    np.testing.assert_array_equal(rle.area(r), m.reshape(-1, 3).sum(0))
    d = np.diag(rle.iou(r, r, [0, 0, 0]))
    np.testing.assert_array_equal(d, (m.reshape(-1, 3).sum(0) > 0).astype(float))


# --- errors name the offending RLE / polygon ------------------------------------------


def test_corrupt_strings_raise():
    with pytest.raises(InvalidRLEError, match=r"rle\[0\].*character 1"):
        rle.decode({"size": [3, 3], "counts": b"0~"})
    with pytest.raises(InvalidRLEError, match="truncated"):
        rle.area({"size": [3, 3], "counts": b"0P"})  # 'P' = 48 + 0x20: more follows
    with pytest.raises(InvalidRLEError, match="add up to 5, not h\\*w = 9"):
        rle.area({"size": [3, 3], "counts": b"05"})
    with pytest.raises(InvalidRLEError, match="negative"):
        rle.decode({"size": [3, 3], "counts": b"111N"})  # 1 - 2 < 0
    with pytest.raises(InvalidRLEError, match=r"rle\[1\]"):
        rle.iou([{"size": [2, 2], "counts": b"4"}], [{"size": [2, 2], "counts": [1, 1]}, 1], [0, 0])


def test_bad_uncompressed_and_polygons_raise():
    with pytest.raises(InvalidRLEError, match="not h\\*w = 6"):
        rle.from_uncompressed([{"size": [2, 3], "counts": [1, 2]}])
    with pytest.raises(InvalidPolygonError, match="2 points; at least 3"):
        rle.from_polygons([[0, 0, 1, 1, 2, 2], [0, 0, 1, 1]], 5, 5)
    with pytest.raises(InvalidPolygonError, match="odd number"):
        rle.from_polygons([[0, 0, 1, 1, 2, 2, 3]], 5, 5)
    with pytest.raises(InvalidPolygonError, match="NaN"):
        rle.from_polygons([[0, 0, 1, float("nan"), 2, 2]], 5, 5)
    with pytest.raises(InvalidPolygonError, match="image size"):
        rle.iou([[[0, 0, 1, 1, 2, 0]]], [[[0, 0, 1, 1, 2, 0]]], [0])


def test_size_mismatch_raises():
    a = rle.encode(np.ones((3, 4), np.uint8))
    b = rle.encode(np.ones((4, 3), np.uint8))
    with pytest.raises(ShapeMismatchError, match=r"dt\[0\] size \[3, 4\].*gt\[0\] size \[4, 3\]"):
        rle.iou([a], [b], [0])
    with pytest.raises(ShapeMismatchError, match=r"rle\[1\]"):
        rle.merge([a, b])
    with pytest.raises(ShapeMismatchError, match="does not match the image size"):
        rle.iou([a], [a], [0], size=(4, 3))


def test_streaming_rasteriser_equals_line_by_line_port():
    # poly_to_counts skips steps that cannot cross a pixel centre; the literal port
    # of maskApi.c rleFrPoly keeps every step. Negative, half-integer and repeated
    # vertices exercise C's truncation toward zero and its 0/0 edge.
    from ioukit.rle import _kernels

    rng = np.random.default_rng(7)
    for it in range(1500):
        h, w = int(rng.integers(1, 50)), int(rng.integers(1, 50))
        xy = rng.uniform(-6, max(h, w) + 6, 2 * int(rng.integers(3, 10)))
        if it % 3 == 0:
            xy = np.round(xy * 2) / 2
        if it % 7 == 0:
            xy[2:4] = xy[0:2]
        np.testing.assert_array_equal(
            _kernels.poly_to_counts(xy, h, w), _kernels.poly_to_counts_reference(xy, h, w)
        )


def test_boundary_bands_equal_faster_coco_eval_on_random_masks():
    # faster-coco-eval erodes with a (2d+1)^2 window over column-major indices and
    # rejects wrapped rows by |row difference| <= d, which detects the top/bottom
    # border only while h > 2d; there both are the zero-border square erosion.
    fce_mask = pytest.importorskip("faster_coco_eval.core.mask")
    masks = _random_masks(np.random.default_rng(5), 37, 29, 30)
    rles = mask_utils.encode(masks)
    for ratio in (0.001, 0.02, 0.1, 0.2):
        d = rle.dilation_width(37, 29, ratio)
        assert 37 > 2 * d
        want = [fce_mask.rleToBoundary(r, ratio)["counts"] for r in rles]
        assert [b["counts"] for b in rle.boundary(rles, ratio)] == want
    # Hand-worked: a full 5x5 mask with d = 1 keeps its 3x3 centre (25 - 9 = 16 band pixels).
    full = rle.encode(np.ones((5, 5), np.uint8))
    assert int(rle.area(rle.boundary(full, 0.1))) == 16
