"""ioukit.boxes: convert, area, validate, and their error paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import boxes
from ioukit.errors import (
    InvalidBoxesError,
    InvalidFormatError,
    InvalidParameterError,
    ShapeMismatchError,
)

XYWH = np.array([[10.0, 20.0, 30.0, 40.0], [0.0, 0.0, 0.0, 0.0]])
# hand-converted: x2 = x1 + w, y2 = y1 + h; cx = x1 + w/2, cy = y1 + h/2
XYXY = np.array([[10.0, 20.0, 40.0, 60.0], [0.0, 0.0, 0.0, 0.0]])
CXCYWH = np.array([[25.0, 40.0, 30.0, 40.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    ("src", "dst", "x", "expected"),
    [
        ("xywh", "xyxy", XYWH, XYXY),
        ("xyxy", "xywh", XYXY, XYWH),
        ("xyxy", "cxcywh", XYXY, CXCYWH),
        ("cxcywh", "xyxy", CXCYWH, XYXY),
        ("xywh", "cxcywh", XYWH, CXCYWH),
        ("cxcywh", "xywh", CXCYWH, XYWH),
    ],
)
def test_convert_hand_values(src, dst, x, expected):
    np.testing.assert_array_equal(boxes.convert(x, src, dst), expected)


def test_convert_normalized():
    # image 200 x 100: x / 200, y / 100 -> (10/200, 20/100, 40/200, 60/100)
    xyxyn = np.array([[0.05, 0.2, 0.2, 0.6]])
    got = boxes.convert(XYXY[:1], "xyxy", "xyxyn", image_size=(200, 100))
    np.testing.assert_allclose(got, xyxyn)
    np.testing.assert_allclose(
        boxes.convert(xyxyn, "xyxyn", "xyxy", image_size=(200, 100)), XYXY[:1]
    )
    # normalized -> normalized needs no image size: cx = (0.05 + 0.2) / 2, w = 0.15
    np.testing.assert_allclose(boxes.convert(xyxyn, "xyxyn", "cxcywhn"), [[0.125, 0.4, 0.15, 0.4]])
    # cxcywhn (YOLO) to pixels: (0.5*640 - 0.25*640/2, ...)
    got = boxes.convert(np.array([0.5, 0.5, 0.25, 0.5]), "cxcywhn", "xyxy", image_size=(640, 480))
    np.testing.assert_allclose(got, [240.0, 120.0, 400.0, 360.0])


def test_convert_same_format_and_int_promotion():
    x = np.array([[1, 2, 3, 4]])
    out = boxes.convert(x, "xyxy", "xyxy")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, x)
    out32 = boxes.convert(x.astype(np.float32), "xyxy", "xywh")
    assert out32.dtype == np.float32


coord = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
size = st.floats(0, 1e3, allow_nan=False, allow_subnormal=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(coord, coord, size, size), min_size=1, max_size=5),
    st.sampled_from(boxes.FORMATS),
    st.sampled_from(boxes.FORMATS),
)
def test_convert_round_trip(rows, src, dst):
    xywh = np.array(rows)
    x = boxes.convert(xywh, "xywh", src, image_size=(640, 480))
    back = boxes.convert(
        boxes.convert(x, src, dst, image_size=(640, 480)), dst, src, image_size=(640, 480)
    )
    np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-9)


def test_area():
    # (40-10) * (60-20) = 1200; zero box 0
    np.testing.assert_array_equal(boxes.area(XYXY), [1200.0, 0.0])
    np.testing.assert_array_equal(boxes.area(XYWH, "xywh"), [1200.0, 0.0])
    np.testing.assert_array_equal(boxes.area(CXCYWH, "cxcywh"), [1200.0, 0.0])
    # normalized: 0.15 * 0.4 of the image, 0.06 * 200 * 100 = 1200 pixels
    n = np.array([[0.05, 0.2, 0.2, 0.6]])
    np.testing.assert_allclose(boxes.area(n, "xyxyn"), [0.06])
    np.testing.assert_allclose(boxes.area(n, "xyxyn", image_size=(200, 100)), [1200.0])
    assert boxes.area(np.zeros((2, 3, 4))).shape == (2, 3)


def test_validate_accepts_zero_size_and_empty():
    x = np.array([[1.0, 1.0, 1.0, 1.0]])
    assert boxes.validate(x) is x
    assert boxes.validate(np.zeros((0, 4))).shape == (0, 4)
    assert boxes.validate([]).shape == (0, 4)


@pytest.mark.parametrize(
    ("row", "fmt", "why"),
    [
        ([5.0, 0.0, 2.0, 1.0], "xyxy", "x2 < x1"),
        ([0.0, 5.0, 2.0, 1.0], "xyxy", "y2 < y1"),
        ([0.0, 0.0, np.nan, 1.0], "xyxy", "NaN or infinite"),
        ([0.0, -np.inf, 2.0, 1.0], "xyxy", "NaN or infinite"),
        ([0.0, 0.0, -1.0, 1.0], "xywh", "negative width"),
        ([0.0, 0.0, 1.0, -1.0], "cxcywh", "negative height"),
    ],
)
def test_validate_names_the_row(row, fmt, why):
    x = np.array([[0.0, 0.0, 1.0, 1.0]] * 3 + [row])
    with pytest.raises(InvalidBoxesError, match=f"row 3 .*{why}"):
        boxes.validate(x, fmt)


def test_validate_batched_row_index_and_name():
    x = np.zeros((2, 3, 4))
    x[1, 2] = [3.0, 0.0, 1.0, 1.0]
    with pytest.raises(InvalidBoxesError, match=r"gt: row \(1, 2\) has x2 < x1"):
        boxes.validate(x, name="gt")


def test_format_and_shape_errors():
    with pytest.raises(InvalidFormatError, match="xyzw"):
        boxes.convert(XYXY, "xyzw", "xyxy")
    with pytest.raises(InvalidFormatError, match="dst"):
        boxes.convert(XYXY, "xyxy", "XYXY")
    with pytest.raises(InvalidFormatError):
        boxes.area(XYXY, "yolo")
    with pytest.raises(InvalidFormatError):
        boxes.validate(XYXY, "ltrb")
    with pytest.raises(ShapeMismatchError, match="last axis of 4"):
        boxes.convert(np.zeros((3, 5)), "xyxy", "xywh")
    with pytest.raises(ShapeMismatchError):
        boxes.area(np.float64(3.0))
    with pytest.raises(ShapeMismatchError):
        boxes.validate("not boxes")


def test_image_size_errors():
    with pytest.raises(InvalidParameterError, match="image_size"):
        boxes.convert(XYXY, "xyxy", "xyxyn")
    with pytest.raises(InvalidParameterError, match="pair"):
        boxes.convert(XYXY, "xyxy", "xyxyn", image_size=640)
    with pytest.raises(InvalidParameterError, match="width"):
        boxes.convert(XYXY, "xyxy", "xyxyn", image_size=(0, 480))
    with pytest.raises(InvalidParameterError, match="height"):
        boxes.convert(XYXY, "xyxy", "xyxyn", image_size=(640, float("nan")))
