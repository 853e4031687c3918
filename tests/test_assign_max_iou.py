"""ioukit.assign.max_iou_assign against torchvision's Matcher (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.assign import max_iou_assign
from ioukit.assign._max_iou import _assign_torch
from ioukit.errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError

torch = pytest.importorskip("torch")
tv_utils = pytest.importorskip("torchvision.models.detection._utils")
box_iou = pytest.importorskip("torchvision.ops").box_iou


@pytest.fixture(autouse=True)
def one_torch_thread():
    # thousands of tiny tensor ops: on a loaded machine torch's thread pool makes each
    # one wait for the others (20x slower); one thread, restored afterwards
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


SETTINGS = {"rpn": (0.7, 0.3, True), "roi": (0.5, 0.5, False), "mixed": (0.6, 0.4, True)}


def random_set(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """One anchor / GT set; the "grid" and "dup" kinds are full of exact IoU ties."""
    n, m = int(rng.integers(1, 60)), int(rng.integers(0, 8))
    if kind == "grid":  # integer boxes on a small grid: many equal IoUs
        xy = rng.integers(0, 6, (n + m, 2)).astype(float)
        wh = rng.integers(1, 4, (n + m, 2)).astype(float)
    else:
        xy = rng.uniform(0, 50, (n + m, 2))
        wh = rng.uniform(1, 25, (n + m, 2))
    b = np.concatenate([xy, xy + wh], 1)
    anchors, gt = b[:n], b[n:]
    if kind == "dup" and m:  # duplicated anchors and GTs, a GT far from everything
        anchors = np.concatenate([anchors, anchors[: n // 2]])
        gt = np.concatenate([gt, gt[:1], [[500.0, 500.0, 510.0, 510.0]]])
    return gt, anchors


def torchvision_labels(gt, anchors, pos, neg, low, dtype):
    if len(gt) == 0:
        return np.full(len(anchors), -1)  # torchvision raises; ioukit's documented answer
    matcher = tv_utils.Matcher(pos, neg, allow_low_quality_matches=low)
    q = box_iou(torch.as_tensor(gt, dtype=dtype), torch.as_tensor(anchors, dtype=dtype))
    return matcher(q).numpy()


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equals_torchvision_matcher_on_random_sets(setting, dtype):
    pos, neg, low = SETTINGS[setting]
    rng = np.random.default_rng(20 + len(setting) + len(dtype))
    tdtype = getattr(torch, dtype)
    for i in range(250):
        gt, anchors = random_set(rng, ("uniform", "grid", "dup")[i % 3])
        gt, anchors = gt.astype(dtype), anchors.astype(dtype)
        want = torchvision_labels(gt, anchors, pos, neg, low, tdtype)
        kw = dict(pos_iou_threshold=pos, neg_iou_threshold=neg, allow_low_quality_matches=low)
        got = max_iou_assign(gt, anchors, **kw)
        np.testing.assert_array_equal(got, want, err_msg=f"set {i}")
        got_t = max_iou_assign(torch.as_tensor(gt), torch.as_tensor(anchors), **kw)
        assert got_t.dtype == torch.int64
        np.testing.assert_array_equal(got_t.numpy(), want, err_msg=f"torch, set {i}")


def test_ties_at_a_gt_maximum_all_become_positive():
    # hand case: GT 0 overlaps anchors 0 and 1 equally (IoU 0.25 each, both its best);
    # anchor 2 overlaps nothing, but GT 1 overlaps nothing either (its best IoU is 0),
    # so torchvision gives every anchor with IoU 0 to GT 1 back its own best GT (GT 0)
    gt = np.array([[0.0, 0.0, 4.0, 4.0], [100.0, 100.0, 101.0, 101.0]])
    anchors = np.array([[0.0, 0.0, 1.0, 4.0], [3.0, 0.0, 4.0, 4.0], [50, 50, 60, 60.0]])
    got = max_iou_assign(gt, anchors)
    np.testing.assert_array_equal(got, [0, 0, 0])
    np.testing.assert_array_equal(
        got, torchvision_labels(gt, anchors, 0.7, 0.3, True, torch.float64)
    )
    # without the far GT only the two tied anchors are lifted
    np.testing.assert_array_equal(max_iou_assign(gt[:1], anchors), [0, 0, -1])


def test_threshold_edges_and_codes():
    gt = np.array([[0.0, 0.0, 10.0, 10.0]])
    anchors = np.array([[0, 0, 10, 5], [0, 0, 10, 3], [0, 0, 10, 7.0]])  # IoU 0.5, 0.3, 0.7
    got = max_iou_assign(gt, anchors, allow_low_quality_matches=False)
    np.testing.assert_array_equal(got, [-2, -2, 0])  # 0.3 is not below 0.3; 0.7 >= 0.7
    got = max_iou_assign(
        gt, anchors, pos_iou_threshold=0.5, neg_iou_threshold=0.5, allow_low_quality_matches=False
    )
    np.testing.assert_array_equal(got, [0, -1, 0])


def test_float32_threshold_compared_in_float32():
    # IoU 70 / 100 rounds to float32(0.7) = 0.699999988 < 0.7 (double): torch compares a
    # float32 tensor with a Python float in float32, so the anchor is positive there
    gt = np.array([[0.0, 0.0, 10.0, 10.0]], dtype=np.float32)
    anchors = np.array([[0.0, 0.0, 10.0, 7.0], [0.0, 0.0, 10.0, 3.0]], dtype=np.float32)
    want = torchvision_labels(gt, anchors, 0.7, 0.3, False, torch.float32)
    np.testing.assert_array_equal(want, [0, -2])
    got = max_iou_assign(gt, anchors, allow_low_quality_matches=False)
    np.testing.assert_array_equal(got, want)
    mask = torch.ones(1, 1, dtype=torch.bool)
    got_t = _assign_torch(
        torch.as_tensor(gt)[None], mask, torch.as_tensor(anchors), 0.7, 0.3, False
    )
    np.testing.assert_array_equal(got_t[0].numpy(), want)


def test_empty_inputs():
    anchors = np.array([[0, 0, 1, 1.0], [1, 1, 2, 2.0]])
    np.testing.assert_array_equal(max_iou_assign(np.zeros((0, 4)), anchors), [-1, -1])
    assert max_iou_assign(anchors, np.zeros((0, 4))).shape == (0,)
    t = max_iou_assign(torch.zeros(0, 4), torch.as_tensor(anchors))
    assert t.tolist() == [-1, -1]


def test_batched_with_padding_equals_per_image():
    rng = np.random.default_rng(5)
    sets = [random_set(rng, "grid") for _ in range(6)]
    sets = [(g, a[:20]) for g, a in sets if len(a) >= 20] or [(np.zeros((0, 4)), np.ones((20, 4)))]
    anchors = sets[0][1]
    m = max(len(g) for g, _ in sets)
    gt = np.zeros((len(sets), m, 4))
    mask = np.zeros((len(sets), m), dtype=bool)
    for k, (g, _) in enumerate(sets):
        gt[k, : len(g)] = g
        gt[k, len(g) :] = anchors[0]  # padding that would win if it were read
        mask[k, : len(g)] = True
    got = max_iou_assign(gt, anchors, gt_mask=mask)
    got_t = max_iou_assign(
        torch.as_tensor(gt), torch.as_tensor(anchors), gt_mask=torch.as_tensor(mask)
    )
    for k, (g, _) in enumerate(sets):
        want = max_iou_assign(g, anchors)
        np.testing.assert_array_equal(got[k], want)
        np.testing.assert_array_equal(got_t[k].numpy(), want)


def test_formats_and_lists():
    gt = [[0.0, 0.0, 10.0, 10.0]]
    anchors_xyxy = np.array([[0, 0, 10, 10], [0, 0, 10, 5.0]])
    anchors_xywh = np.array([[0, 0, 10, 10], [0, 0, 10, 5.0]])
    np.testing.assert_array_equal(
        max_iou_assign([[0.0, 0.0, 10.0, 10.0]], anchors_xywh, fmt="xywh"),
        max_iou_assign(gt, anchors_xyxy),
    )


def test_errors_name_the_argument():
    good = np.array([[0, 0, 1, 1.0]])
    with pytest.raises(InvalidParameterError, match="neg_iou_threshold"):
        max_iou_assign(good, good, pos_iou_threshold=0.3, neg_iou_threshold=0.7)
    with pytest.raises(InvalidBoxesError, match="anchors: row 1"):
        max_iou_assign(good, np.array([[0, 0, 1, 1], [0, np.nan, 1, 1.0]]))
    with pytest.raises(ShapeMismatchError, match="gt_boxes"):
        max_iou_assign(np.zeros((2, 3)), good)
    with pytest.raises(ShapeMismatchError, match="gt_mask"):
        max_iou_assign(good, good, gt_mask=np.ones(3, bool))
    with pytest.raises(InvalidParameterError, match="fmt"):
        max_iou_assign(good, good, fmt="xyxyn")


def test_device_agnostic_torch_path_equals_torchvision():
    # CPU tensors take the compiled kernels; the torch-operations path (what CUDA tensors
    # run) is called directly here so that it is checked on any machine
    rng = np.random.default_rng(9)
    for setting in sorted(SETTINGS):
        pos, neg, low = SETTINGS[setting]
        for i in range(60):
            gt, anchors = random_set(rng, ("uniform", "grid", "dup")[i % 3])
            gt32, a32 = (
                torch.as_tensor(gt, dtype=torch.float32),
                torch.as_tensor(anchors, dtype=torch.float32),
            )
            want = torchvision_labels(gt, anchors, pos, neg, low, torch.float32)
            mask = torch.ones(1, len(gt), dtype=torch.bool)
            got = _assign_torch(gt32[None], mask, a32, pos, neg, low)[0]
            np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{setting} set {i}")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    low=st.booleans(),
    thresholds=st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted),
)
def test_property_anchor_order_does_not_matter(seed, low, thresholds):
    # each anchor's label depends on its own IoU row and on every GT's maximum, never on
    # where the anchor sits in the list: permuting the anchors permutes the labels
    rng = np.random.default_rng(seed)
    gt, anchors = random_set(rng, ("uniform", "grid", "dup")[seed % 3])
    neg, pos = thresholds
    kw = dict(pos_iou_threshold=pos, neg_iou_threshold=neg, allow_low_quality_matches=low)
    perm = rng.permutation(len(anchors))
    np.testing.assert_array_equal(
        max_iou_assign(gt, anchors[perm], **kw), max_iou_assign(gt, anchors, **kw)[perm]
    )
