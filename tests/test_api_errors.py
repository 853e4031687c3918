"""Issue 21, the API part: bad input gives a clear IoukitError, unusual input the right answer.

Oracles: torchvision (keep lists of nms / batched_nms, quantized nms, NaN in box_iou),
closed-form values worked by hand (IoU of boxes whose areas overflow: the ratio of
the exact areas), and NumPy's own arithmetic on byte-swapped copies.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ioukit import boxes, losses
from ioukit import nms as N
from ioukit.coco import CocoEvaluator
from ioukit.errors import (
    InvalidParameterError,
    IoukitError,
    ShapeMismatchError,
)

torch = pytest.importorskip("torch")
tvo = pytest.importorskip("torchvision.ops")

MEASURES = ("iou", "ioa", "giou", "diou", "ciou", "eiou", "siou", "alpha_iou")
LOSSES = (
    "iou_loss",
    "giou_loss",
    "diou_loss",
    "ciou_loss",
    "eiou_loss",
    "focal_eiou_loss",
    "siou_loss",
    "alpha_iou_loss",
    "wiou_loss",
)


# ------------------------------------------------------------ CocoEvaluator.update
def _evaluator() -> CocoEvaluator:
    return CocoEvaluator([1, 2])


GOOD = dict(gt_boxes=[[0, 0, 10, 10]], gt_labels=[1], dt_boxes=[[0, 0, 10, 10]], dt_scores=[0.9])


@pytest.mark.parametrize("image_id", ["img1", 1.7, float("nan"), True, None, 2**63])
def test_update_rejects_non_integer_image_ids(image_id):
    with pytest.raises(InvalidParameterError, match="image_id"):
        _evaluator().update(image_id, **GOOD, dt_labels=[1])


def test_update_accepts_integral_image_ids():
    ev = _evaluator()
    ev.update(np.int32(3), **GOOD, dt_labels=[1])
    ev.update(4.0, **GOOD, dt_labels=[1])  # integral: 4
    ev.update(torch.tensor(5), **GOOD, dt_labels=[1])
    assert sorted(int(i) for i in ev.state.image_ids) == [3, 4, 5]


@pytest.mark.parametrize("name", ["gt_labels", "dt_labels"])
def test_update_rejects_non_integral_labels(name):
    args = dict(GOOD, dt_labels=[1])
    args[name] = [1.9]  # was silently counted as category 1
    with pytest.raises(InvalidParameterError, match=rf"image 1: {name} row 0 is 1\.9"):
        _evaluator().update(1, **args)


def test_update_accepts_integral_float_labels():
    ev, ref = _evaluator(), _evaluator()
    ev.update(1, **dict(GOOD, gt_labels=[1.0]), dt_labels=np.array([1.0]))
    ref.update(1, **GOOD, dt_labels=[1])
    assert np.array_equal(ev.compute().precision, ref.compute().precision)


@pytest.mark.parametrize("shape", [(1, 5), (4, 5), (2, 3), (8,)])
def test_update_rejects_boxes_not_n_by_4(shape):
    # (4, 5) has 20 numbers: reshape(-1, 4) would have made 5 wrong boxes of it
    n = shape[0] if len(shape) == 2 else 2
    with pytest.raises(ShapeMismatchError, match=r"image 1: dt_boxes must have shape \(n, 4\)"):
        _evaluator().update(
            1, gt_boxes=[[0, 0, 1, 1]], gt_labels=[1], dt_boxes=np.zeros(shape),
            dt_scores=np.ones(n), dt_labels=np.ones(n, int),
        )  # fmt: skip


def test_update_ragged_and_text():
    with pytest.raises(ShapeMismatchError, match="gt_boxes is ragged"):
        _evaluator().update(1, gt_boxes=[[0, 0, 1, 1], [0, 0, 1]], gt_labels=[1, 1])
    with pytest.raises(InvalidParameterError, match="gt_labels must be numbers"):
        _evaluator().update(1, gt_boxes=[[0, 0, 1, 1]], gt_labels=["cat"])


# ------------------------------------------------------------------- ragged lists
RAGGED = [[0, 0, 1, 1], [0, 0, 1]]


@pytest.mark.parametrize("name", MEASURES)
def test_ragged_boxes_measures(name):
    with pytest.raises(ShapeMismatchError, match="a is a ragged list"):
        getattr(boxes, name)(RAGGED, [[0, 0, 1, 1]])


def test_ragged_boxes_everywhere():
    for call in (
        lambda: boxes.area(RAGGED),
        lambda: boxes.convert(RAGGED, "xywh", "xyxy"),
        lambda: boxes.validate(RAGGED),
        lambda: N.nms(RAGGED, [0.5, 0.4], 0.5),
        lambda: N.batched_nms(RAGGED, [0.5, 0.4], [0, 0], 0.5),
        lambda: N.soft_nms(RAGGED, [0.5, 0.4]),
        lambda: N.diou_nms(RAGGED, [0.5, 0.4], 0.5),
        lambda: losses.giou_loss(RAGGED, [[0, 0, 1, 1], [0, 0, 1, 1]]),
    ):
        with pytest.raises(ShapeMismatchError, match="ragged"):
            call()
    with pytest.raises(ShapeMismatchError, match="scores is a ragged list"):
        N.nms([[0, 0, 1, 1]], [[0.5], []], 0.5)


# ------------------------------------------------------------- nms: byte order
@pytest.mark.parametrize("dtype", ["f8", "f4"])
def test_nms_big_endian_gives_native_answer(dtype):
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50, (60, 2))
    b = np.concatenate([xy, xy + rng.uniform(5, 30, (60, 2))], 1).astype(dtype)
    s = rng.uniform(0, 1, 60).astype(dtype)
    want = tvo.nms(torch.from_numpy(b), torch.from_numpy(s), 0.4).numpy()
    got = N.nms(b.astype(">" + dtype), s.astype(">" + dtype), 0.4)
    assert np.array_equal(got, want)
    labels = rng.integers(0, 3, 60)
    want = tvo.batched_nms(
        torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(labels), 0.4
    ).numpy()
    got = N.batched_nms(b.astype(">" + dtype), s.astype(">" + dtype), labels.astype(">i8"), 0.4)
    assert np.array_equal(got, want)
    iou = boxes.iou(b.astype(">" + dtype), b.astype(">" + dtype))
    assert np.array_equal(iou, boxes.iou(b, b))


# ----------------------------------------------------------- nms: quantized tensors
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
@pytest.mark.parametrize("qdtype", ["quint8", "qint8", "qint32"])
def test_nms_quantized_matches_torchvision(qdtype):
    g = torch.Generator().manual_seed(2)
    xy = torch.rand(80, 2, generator=g) * 80
    bx = torch.cat([xy, xy + torch.rand(80, 2, generator=g) * 40 + 1], 1)
    sc = torch.rand(80, generator=g)
    qd = getattr(torch, qdtype)
    zp = 0 if qdtype != "qint8" else -100
    qb = torch.quantize_per_tensor(bx, 0.5, zp, qd)
    qs = torch.quantize_per_tensor(sc, 1 / 128, zp, qd)
    for thr in (0.2, 0.5, 0.7):
        want = tvo.nms(qb, qs, thr)
        got = N.nms(qb, qs, thr)
        assert torch.equal(got, want), thr


# ----------------------------------------------------------------- batched_nms
def test_batched_nms_empty_with_nones_as_torchvision():
    want = tvo.batched_nms(torch.empty(0), None, None, None)
    got = N.batched_nms(torch.empty(0), None, None, None)
    assert torch.equal(got, want) and got.dtype == torch.int64
    assert N.batched_nms(np.zeros((0, 4)), None, None, None).shape == (0,)


def test_nms_none_arguments_are_clear_errors():
    b, s = torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5])
    with pytest.raises(InvalidParameterError, match="iou_threshold must be a number"):
        N.batched_nms(b, s, torch.tensor([0]), None)
    with pytest.raises(InvalidParameterError, match="labels"):
        N.batched_nms(b, s, None, 0.5)
    with pytest.raises(InvalidParameterError, match="scores must be numbers"):
        N.nms(b.numpy(), None, 0.5)
    with pytest.raises(InvalidParameterError, match="iou_threshold"):
        N.nms(b, s, "0.5")


# ------------------------------------------------------------------ empty inputs
EMPTIES = {
    "list []": lambda: [],
    "np (0,)": lambda: np.zeros((0,)),
    "np (0, 4)": lambda: np.zeros((0, 4)),
    "torch (0,)": lambda: torch.empty(0),
    "torch (0, 4)": lambda: torch.empty(0, 4),
}


@pytest.mark.parametrize("kind", list(EMPTIES))
def test_empty_inputs_give_empty_results_everywhere(kind):
    e = EMPTIES[kind]
    is_t = kind.startswith("torch")

    def e1():  # empty scores / labels of the same library
        return torch.empty(0) if is_t else np.zeros(0)

    for name in MEASURES:
        f = getattr(boxes, name)
        assert tuple(f(e(), e()).shape) == (0, 0), name
        assert tuple(f(e(), e(), aligned=True).shape) == (0,), name
    assert tuple(boxes.area(e()).shape) == (0,)
    assert tuple(boxes.convert(e(), "xywh", "xyxy").shape) == (0, 4)
    assert tuple(boxes.validate(e()).shape) == (0, 4)
    assert tuple(boxes.mpdiou(e(), e(), image_size=(9, 9)).shape) == (0, 0)
    assert [tuple(x.shape) for x in boxes.iou_pairs(e(), e(), 0.5)] == [(0,)] * 3
    assert tuple(N.nms(e(), e1(), 0.5).shape) == (0,)
    assert tuple(N.batched_nms(e(), e1(), e1(), 0.5).shape) == (0,)
    assert tuple(N.diou_nms(e(), e1(), 0.5).shape) == (0,)
    assert [tuple(x.shape) for x in N.soft_nms(e(), e1())] == [(0,), (0,)]
    assert [tuple(x.shape) for x in N.matrix_nms(e(), e1())] == [(0,), (0,)]
    fused = N.weighted_boxes_fusion([e()], [e1()], [e1()])
    assert [tuple(x.shape) for x in fused] == [(0, 4), (0,), (0,)]
    assert tuple(losses.mpdiou_loss(e(), e(), image_size=(9, 9), reduction="none").shape) == (0,)
    for name in LOSSES:
        f = getattr(losses, name)
        assert tuple(f(e(), e(), reduction="none").shape) == (0,), name
        assert float(f(e(), e())) == 0.0, name  # the mean of no boxes is 0
    # the same kind comes back
    assert isinstance(boxes.iou(e(), e()), torch.Tensor) == is_t
    assert isinstance(N.nms(e(), e1(), 0.5), torch.Tensor) == is_t


def test_empty_against_torchvision():
    z = torch.empty(0, 4)
    assert torch.equal(boxes.giou(z, z), tvo.generalized_box_iou(z, z))
    assert torch.equal(N.nms(z, torch.empty(0), 0.5), tvo.nms(z, torch.empty(0), 0.5))


# ----------------------------------------------------------- areas that overflow
# the cases; the oracle is the ratio of the exact areas of the stored numbers
# (Fraction arithmetic), which is 0.5 up to the decimal inputs' rounding
OVERFLOW = {
    np.float32: ([0, 0, 1e20, 1e20], [0, 0, 5e19, 1e20]),
    np.float64: ([0, 0, 1e200, 1e200], [0, 0, 5e199, 1e200]),
}


def _exact_ratio(b: np.ndarray, a: np.ndarray) -> float:
    # |b| / |a| for b inside a (then IoU = |b| / |a|), in exact rational arithmetic
    area = [
        Fraction(float(x[2]) - float(x[0])) * Fraction(float(x[3]) - float(x[1])) for x in (a, b)
    ]
    return float(area[1] / area[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflowing_areas_give_the_exact_iou(dtype):
    a, b = (np.array([x], dtype) for x in OVERFLOW[dtype])
    want = pytest.approx(_exact_ratio(b[0], a[0]), rel=4 * float(np.finfo(dtype).eps))
    assert abs(want.expected - 0.5) < 1e-6
    assert boxes.iou(a, b)[0, 0] == want  # compiled kernel
    assert boxes.iou(a, b, aligned=True)[0] == want  # array path
    assert boxes.iou(torch.from_numpy(a), torch.from_numpy(b))[0, 0].item() == want
    assert boxes.ioa(b, a)[0, 0] == 1.0
    # GIoU: b inside a, so C = |a| = U and GIoU = IoU; DIoU/CIoU finite and below IoU
    assert boxes.giou(a, b)[0, 0] == want
    assert boxes.giou(a, b, aligned=True)[0] == want
    want = want.expected
    for name in ("diou", "ciou", "eiou", "siou"):
        v = getattr(boxes, name)(a, b)[0, 0]
        w = getattr(boxes, name)(a, b, aligned=True)[0]
        assert np.isfinite(v) and v < want and v == pytest.approx(float(w), rel=1e-6), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflow_scaling_is_exact(dtype):
    # scaled huge pairs give the bits of the same pairs at pixel scale times 2**k: a
    # power of two changes no ratio (a property, checked on random boxes)
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 100, (40, 2))
    small = np.concatenate([xy, xy + rng.uniform(1, 50, (40, 2))], 1).astype(dtype)
    # areas of these overflow (float32: ~1e46; float64: ~1e545); x 2**k is exact
    k = 70 if dtype == np.float32 else 900
    big = (small.astype(np.float64) * 2.0**k).astype(dtype)
    with np.errstate(over="ignore"):  # the areas themselves are not representable
        assert np.isinf(boxes.area(big)).all()
    for name in ("iou", "ioa", "giou", "diou"):
        f = getattr(boxes, name)
        assert np.array_equal(f(big, big), f(small, small)), name
        assert np.array_equal(f(big, big, aligned=True), f(small, small, aligned=True)), name
    # mixing huge and ordinary boxes leaves the ordinary pairs' bits alone
    mixed = np.concatenate([small, big[:3]])
    assert np.array_equal(boxes.iou(mixed, small)[:40], boxes.iou(small, small))


# ----------------------------------------------------------- NaN in, NaN out
TV_NAMES = {
    "iou": "box_iou",
    "giou": "generalized_box_iou",
    "diou": "distance_box_iou",
    "ciou": "complete_box_iou",
}


@pytest.mark.parametrize("name", ["iou", "giou", "diou", "ciou"])
def test_nan_gives_nan_with_validate_off(name):
    a = torch.tensor([[0.0, 0.0, float("nan"), 1.0], [0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 3.0]])
    ref = getattr(tvo, TV_NAMES[name])(a, b)
    f = getattr(boxes, name)
    for got in (f(a, b, validate=False), f(a.numpy(), b.numpy(), validate=False)):
        got = np.asarray(got)
        assert np.array_equal(np.isnan(got), np.isnan(ref.numpy())), name
        assert np.isnan(got[0]).all() and not np.isnan(got[1]).any()
    with pytest.raises(IoukitError, match="row 0"):
        f(a, b)  # validation stays on by default


def test_nan_aligned_and_ioa():
    a = np.array([[0.0, 0.0, 1.0, 1.0]])
    b = np.array([[0.0, np.nan, 1.0, 1.0]])
    assert np.isnan(boxes.iou(a, b, aligned=True, validate=False)).all()
    assert np.isnan(boxes.ioa(a, b, validate=False)).all()
    assert np.isnan(boxes.ioa(b, a, validate=False)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_iou_pairs_with_overflowing_areas(dtype):
    # the sparse sweep sees the same scaled boxes: same pairs and bits as at pixel scale
    rng = np.random.default_rng(6)
    xy = rng.uniform(0, 100, (200, 2))
    small = np.concatenate([xy, xy + rng.uniform(1, 50, (200, 2))], 1)
    big = (small * 2.0 ** (70 if dtype == np.float32 else 900)).astype(dtype)
    want = boxes.iou_pairs(small.astype(dtype), small.astype(dtype), 0.3)
    got = boxes.iou_pairs(big, big, 0.3)
    assert len(want.iou) > 200
    for x, y in zip(got, want):
        assert np.array_equal(x, y)
    a, b = (np.array([x], dtype) for x in OVERFLOW[dtype])
    p = boxes.iou_pairs(a, b, 0.4)
    assert p.iou.tolist() == [boxes.iou(a, b)[0, 0]] and abs(p.iou[0] - 0.5) < 1e-6
