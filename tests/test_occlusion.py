"""ioukit.occlusion: the visible fraction, the IoU ceiling 1 - alpha of visible-only
predictions (properties checked with hypothesis), and AP by occlusion bins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import coco, occlusion
from ioukit.boxes import iou
from ioukit.errors import InvalidParameterError, MissingFieldError, ShapeMismatchError

unit = st.floats(0.0, 1.0, allow_nan=False)


def _inside(outer: np.ndarray, f: list[float]) -> np.ndarray:
    # a box inside `outer` (xyxy) from four fractions
    x1, y1, x2, y2 = outer
    a, b = sorted(f[:2])
    c, d = sorted(f[2:])
    return np.array(
        [x1 + a * (x2 - x1), y1 + c * (y2 - y1), x1 + b * (x2 - x1), y1 + d * (y2 - y1)]
    )


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.5, 80), st.floats(0.5, 80)),
    st.lists(unit, min_size=4, max_size=4),
    st.lists(unit, min_size=4, max_size=4),
)
def test_visible_only_boxes_never_beat_one_minus_alpha(a, fv, fp):
    amodal = np.array([a[0], a[1], a[0] + a[2], a[1] + a[3]])
    visible = _inside(amodal, fv)
    pred = _inside(visible, fp)  # boxes only (part of) the visible region
    bound = occlusion.amodal_iou_bound(visible[None], amodal[None])[0]
    alpha = occlusion.hidden_fraction(visible[None], amodal[None])[0]
    assert bound == pytest.approx(1 - alpha, abs=1e-15)
    assert iou(pred[None], amodal[None], aligned=True)[0] <= bound + 1e-12
    # the visible box itself reaches the bound (it lies inside the amodal box)
    assert iou(visible[None], amodal[None], aligned=True)[0] == pytest.approx(bound, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.5, 80), st.floats(0.5, 80)),
    st.tuples(st.floats(-80, 80), st.floats(-80, 80), st.floats(0.5, 80), st.floats(0.5, 80)),
    st.lists(unit, min_size=4, max_size=4),
)
def test_bound_holds_when_the_visible_box_sticks_out(a, v, fp):
    amodal = np.array([a[0], a[1], a[0] + a[2], a[1] + a[3]])
    visible = np.array([v[0], v[1], v[0] + v[2], v[1] + v[3]])
    pred = _inside(visible, fp)
    bound = occlusion.amodal_iou_bound(visible[None], amodal[None])[0]
    assert iou(pred[None], amodal[None], aligned=True)[0] <= bound + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_visible_only_masks_never_beat_one_minus_alpha(seed, nested):
    rng = np.random.default_rng(seed)
    amodal = rng.random((12, 12)) < 0.6
    visible = (amodal & (rng.random((12, 12)) < 0.7)) if nested else rng.random((12, 12)) < 0.5
    pred = visible & (rng.random((12, 12)) < 0.8)
    bound = occlusion.amodal_iou_bound(visible[None], amodal[None], kind="mask")[0]
    # hand count: |V n A| / |A|
    want = (visible & amodal).sum() / amodal.sum() if amodal.sum() else 0.0
    assert bound == pytest.approx(want, abs=1e-15)
    union = (pred | amodal).sum()
    assert (pred & amodal).sum() / union <= bound + 1e-12 if union else True
    if nested and amodal.sum():
        assert (visible & amodal).sum() / (visible | amodal).sum() == pytest.approx(bound)


def test_visible_fraction_by_hand_and_formats():
    v = np.array([[0.0, 0.0, 10.0, 4.0], [5.0, 5.0, 15.0, 15.0]])
    a = np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    np.testing.assert_allclose(occlusion.visible_fraction(v, a), [0.4, 0.25])
    xywh = np.array([[0.0, 0.0, 10.0, 4.0]]), np.array([[0.0, 0.0, 10.0, 10.0]])
    np.testing.assert_allclose(occlusion.visible_fraction(*xywh, fmt="xywh"), [0.4])
    np.testing.assert_allclose(occlusion.visible_fraction(v[:1], np.zeros((1, 4))), [0.0])
    torch = pytest.importorskip("torch")
    got = occlusion.visible_fraction(torch.tensor(v), torch.tensor(a))
    assert isinstance(got, torch.Tensor) and got.tolist() == pytest.approx([0.4, 0.25])
    with pytest.raises(InvalidParameterError):
        occlusion.visible_fraction(v, a, kind="polygon")
    with pytest.raises(ShapeMismatchError):
        occlusion.visible_fraction(np.zeros((2, 3), bool), np.zeros((3, 3), bool), kind="mask")


def _gt():
    # one image, one category, 4 objects with visibility 1, 0.9, 0.5, 0.2
    anns = []
    for i, h in enumerate((10, 9, 5, 2)):
        anns.append(
            {
                "id": i + 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": 100,
                "bbox": [20.0 * i, 0, 10, 10],
                "visible_bbox": [20.0 * i, 0, 10, h],
                "occluded": [0, 0, 1, 2][i],
            }
        )
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": anns}
    # the detector boxes the visible parts of objects 1, 2, 3 (IoU 1, 0.9, 0.5 against
    # the amodal boxes) and nothing else
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": a["visible_bbox"], "score": 0.9 - 0.1 * k}
        for k, a in enumerate(anns[:3])
    ]
    return gt, dt


def test_ap_by_occlusion_by_hand():
    gt, dt = _gt()
    r = occlusion.evaluate_by_occlusion(gt, dt)
    assert list(r) == ["heavy", "partial", "none"]
    # "none" (v >= 0.8): objects 1, 2; detections 1, 2 are TP at IoU 0.5 (and 3 is
    # matched to the ignored object 3): AP50 = 1
    assert r["none"].num_gt.tolist() == [2] and r["none"].stats[1] == pytest.approx(1, abs=1e-12)
    # "partial" (0.35 <= v <= 0.8): object 3 only; ranked: ignored, ignored, TP (IoU 0.5
    # exactly, COCO's >=): AP50 = 1; at IoU 0.75 the visible-only box (bound 0.5) fails
    assert r["partial"].num_gt.tolist() == [1]
    assert r["partial"].stats[1] == pytest.approx(1, abs=1e-12) and r["partial"].stats[2] == 0
    # "heavy" (v <= 0.35): object 4 (v = 0.2), never found: AP 0
    assert r["heavy"].num_gt.tolist() == [1] and r["heavy"].stats[1] == 0
    # KITTI-style levels: one slice per level, the same as slicing by the field
    k = occlusion.evaluate_by_occlusion(gt, dt, visibility="occluded")
    s = coco.evaluate_slices(gt, dt, "occluded")
    assert list(k) == ["0", "1", "2"]
    for name in k:
        np.testing.assert_array_equal(k[name].stats, s[name].stats)


def test_one_bin_for_everything_is_the_whole_set():
    gt, dt = _gt()
    r = occlusion.evaluate_by_occlusion(gt, dt, bins={"all": (0.0, 1.0)})["all"]
    whole = coco.evaluate(gt, dt)
    np.testing.assert_array_equal(r.stats, whole.stats)
    np.testing.assert_array_equal(r.precision, whole.precision)
    with pytest.raises(MissingFieldError):
        occlusion.evaluate_by_occlusion(gt, dt, visibility="truncated")
