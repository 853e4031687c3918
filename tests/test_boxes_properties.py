"""hypothesis properties of the box measures and of iou_pairs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import boxes

SYMMETRIC = ["iou", "giou", "diou", "ciou", "eiou", "siou", "alpha_iou", "mpdiou"]
ALL = ["ioa", *SYMMETRIC]
KW = {"mpdiou": {"image_size": (300, 200)}}


def call(name, a, b, **kw):
    return getattr(boxes, name)(a, b, **{**KW.get(name, {}), **kw})


def box_arrays(min_size=0.0, max_rows=6, integer=False):
    if integer:
        coord = st.integers(-20, 20).map(float)
        size = st.integers(int(min_size), 15).map(float)
    else:
        coord = st.floats(-100, 100, allow_nan=False, allow_subnormal=False)
        size = st.floats(min_size, 80, allow_nan=False, allow_subnormal=False)
    row = st.tuples(coord, coord, size, size)
    return st.lists(row, min_size=1, max_size=max_rows).map(
        lambda r: boxes.convert(np.array(r), "xywh", "xyxy")
    )


any_boxes = st.one_of(box_arrays(), box_arrays(integer=True))
proper_boxes = st.one_of(box_arrays(min_size=1.0), box_arrays(min_size=1.0, integer=True))
SETTINGS = settings(max_examples=30, deadline=None)


@SETTINGS
@given(any_boxes, any_boxes)
def test_iou_ioa_in_unit_interval(a, b):
    for name in ("iou", "ioa"):
        out = call(name, a, b)
        assert np.all((out >= 0) & (out <= 1)), name


@SETTINGS
@given(proper_boxes, proper_boxes)
def test_giou_diou_in_open_minus_one_to_one(a, b):
    for name in ("giou", "diou"):
        out = call(name, a, b)
        assert np.all((out > -1) & (out <= 1 + 1e-12)), name


@SETTINGS
@given(any_boxes, any_boxes)
def test_symmetry(a, b):
    for name in SYMMETRIC:
        np.testing.assert_allclose(call(name, a, b), call(name, b, a).T, atol=1e-12, err_msg=name)


@SETTINGS
@given(proper_boxes)
def test_measure_of_a_box_with_itself_is_one(a):
    for name in ALL:
        np.testing.assert_allclose(call(name, a, a, aligned=True), 1.0, rtol=1e-12, err_msg=name)


@SETTINGS
@given(
    proper_boxes,
    proper_boxes,
    st.floats(-500, 500, allow_subnormal=False),
    st.floats(-500, 500, allow_subnormal=False),
)
def test_translation_invariance(a, b, dx, dy):
    shift = np.array([dx, dy, dx, dy])
    for name in ALL:
        np.testing.assert_allclose(
            call(name, a + shift, b + shift), call(name, a, b), atol=1e-7, err_msg=name
        )


@SETTINGS
@given(proper_boxes, proper_boxes, st.floats(0.01, 100))
def test_scale_invariance(a, b, s):
    for name in ALL:
        kw = {"image_size": (300 * s, 200 * s)} if name == "mpdiou" else {}
        np.testing.assert_allclose(
            call(name, a * s, b * s, **kw), call(name, a, b), atol=1e-9, err_msg=name
        )


@SETTINGS
@given(any_boxes, any_boxes)
def test_pairwise_diagonal_equals_aligned(a, b):
    n = min(len(a), len(b))
    for name in ALL:
        np.testing.assert_allclose(
            np.diagonal(call(name, a[:n], b[:n])),
            call(name, a[:n], b[:n], aligned=True),
            atol=1e-12,
            err_msg=name,
        )


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(box_arrays(max_rows=30), box_arrays(max_rows=30, integer=True)),
    st.one_of(box_arrays(max_rows=30), box_arrays(max_rows=30, integer=True)),
    st.floats(0.01, 1.0),
    st.sampled_from([np.float32, np.float64]),
)
def test_iou_pairs_equals_dense_thresholded(a, b, t, dtype):
    a, b = a.astype(dtype), b.astype(dtype)
    dense = boxes.iou(a, b)
    i, j = np.nonzero(dense >= t)
    p = boxes.iou_pairs(a, b, t)
    np.testing.assert_array_equal(p.index_a, i)
    np.testing.assert_array_equal(p.index_b, j)
    np.testing.assert_array_equal(p.iou, dense[i, j])
    assert p.iou.dtype == dtype
