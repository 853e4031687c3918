"""ioukit.sets: Jaccard of sets and label arrays, Dice <-> IoU."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.errors import InvalidParameterError, ShapeMismatchError
from ioukit.sets import dice_from_iou, iou_from_dice, jaccard


def test_jaccard_hand_values():
    # {2, 3} / {1, 2, 3, 4} = 2 / 4
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard({"cat", "dog"}, frozenset({"dog"})) == 0.5
    assert jaccard({1}, {2}) == 0.0
    assert jaccard({1, 2}, {2, 1}) == 1.0
    # duplicates count once: {0, 1, 5} vs {1, 5} -> 2 / 3
    assert jaccard(np.array([0, 1, 1, 5]), np.array([5, 1])) == pytest.approx(2 / 3)
    assert jaccard([1, 2, 2], (2, 3)) == pytest.approx(1 / 3)
    # mixed: a Python set against a label array
    assert jaccard({1, 2}, np.array([2, 3, 4])) == pytest.approx(1 / 4)


def test_jaccard_empty_convention():
    assert jaccard(set(), set()) == 0.0
    assert jaccard([], np.array([], dtype=np.int64)) == 0.0
    assert jaccard(set(), set(), zero_division=1.0) == 1.0
    with pytest.warns(DeprecationWarning, match="zero_division"):
        assert jaccard(set(), set(), empty=1.0) == 1.0
    assert jaccard(set(), {1}) == 0.0


def test_jaccard_torch_and_jax_labels():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    assert jaccard(torch.tensor([1, 2, 3]), torch.tensor([3, 4])) == 0.25
    assert jaccard(jnp.asarray([1, 2]), jnp.asarray([2])) == 0.5


label_lists = st.lists(st.integers(-5, 12), max_size=15)


@settings(max_examples=60, deadline=None)
@given(label_lists, label_lists)
def test_jaccard_matches_python_sets_and_properties(x, y):
    sx, sy = set(x), set(y)
    ref = len(sx & sy) / len(sx | sy) if sx | sy else 0.0
    assert jaccard(np.array(x, dtype=np.int64), np.array(y, dtype=np.int64)) == pytest.approx(ref)
    assert jaccard(sx, sy) == pytest.approx(ref)
    assert jaccard(x, y) == jaccard(y, x)
    assert 0.0 <= jaccard(x, y) <= 1.0
    if sx:
        assert jaccard(x, x) == 1.0


def test_jaccard_errors():
    with pytest.raises(ShapeMismatchError, match="1-D"):
        jaccard(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(InvalidParameterError, match=r"b\[1\] is NaN"):
        jaccard(np.array([1.0]), np.array([1.0, np.nan]))
    with pytest.raises(InvalidParameterError, match="a must be"):
        jaccard(3, {1})
    with pytest.raises(InvalidParameterError, match="b must be"):
        jaccard({1}, "abc")


def test_dice_iou_hand_values():
    # Dice = 2 IoU / (1 + IoU): 2 * 0.5 / 1.5 = 2/3; IoU = D / (2 - D): 0.8 / 1.2 = 2/3
    assert dice_from_iou(0.5) == pytest.approx(2 / 3)
    assert iou_from_dice(0.8) == pytest.approx(2 / 3)
    assert dice_from_iou(0) == 0.0 and dice_from_iou(1) == 1.0
    assert iou_from_dice(0.0) == 0.0 and iou_from_dice(1.0) == 1.0


def test_dice_matches_its_definition_on_sets():
    # Dice = 2 |A n B| / (|A| + |B|) computed directly on sets
    a, b = {1, 2, 3, 4}, {3, 4, 5}
    dice = 2 * len(a & b) / (len(a) + len(b))  # 4 / 7
    assert dice_from_iou(jaccard(a, b)) == pytest.approx(dice)
    assert iou_from_dice(dice) == pytest.approx(jaccard(a, b))


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1))
def test_round_trip_and_order(x):
    assert iou_from_dice(dice_from_iou(x)) == pytest.approx(x, abs=1e-12)
    assert dice_from_iou(x) >= x - 1e-15  # Dice >= IoU


def test_arrays_keep_type_and_dtype():
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    out = dice_from_iou(np.array([0.0, 0.5, 1.0], dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 2 / 3, 1.0], rtol=1e-6)
    t = torch.tensor([0.25, 0.5], requires_grad=True)
    d = dice_from_iou(t)
    assert isinstance(d, torch.Tensor) and d.requires_grad
    # d/dx 2x/(1+x) = 2/(1+x)^2 = 2/1.5625 at 0.25
    (g,) = torch.autograd.grad(d[0], t)
    assert g[0].item() == pytest.approx(1.28)
    assert iou_from_dice(torch.tensor([0.5], dtype=torch.bfloat16)).dtype == torch.bfloat16
    j = jax.jit(iou_from_dice)(jnp.asarray([0.5, 1.0]))
    np.testing.assert_allclose(np.asarray(j), [1 / 3, 1.0], rtol=1e-6)
    assert dice_from_iou([0.5, 0.5]).shape == (2,)
    assert dice_from_iou(np.array([1, 0])).dtype == np.float64  # ints promoted


def test_dice_iou_errors_name_the_value():
    with pytest.raises(InvalidParameterError, match="iou must lie in"):
        dice_from_iou(1.5)
    with pytest.raises(InvalidParameterError, match="dice must lie in"):
        iou_from_dice(-0.1)
    with pytest.raises(InvalidParameterError, match="nan"):
        dice_from_iou(float("nan"))
    with pytest.raises(InvalidParameterError, match="index 2"):
        dice_from_iou(np.array([0.1, 0.2, 1.2]))
    with pytest.raises(InvalidParameterError, match="index 1"):
        iou_from_dice(np.array([0.1, np.nan]))
