"""ioukit.masks: hand-worked values, set-count oracle, pycocotools, torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import masks
from ioukit.errors import BackendError, InvalidMaskError, ShapeMismatchError


def test_hand_worked_2d():
    a = np.zeros((4, 5), bool)
    a[0:2, 0:3] = True  # 6 pixels
    b = np.zeros((4, 5), bool)
    b[1:4, 1:3] = True  # 6 pixels; overlap row 1, cols 1-2 = 2 pixels
    # IoU = 2 / (6 + 6 - 2) = 0.2 ; Dice = 2*2 / 12 = 1/3
    assert masks.iou(a, b) == pytest.approx(0.2, abs=0)
    assert masks.dice(a, b) == pytest.approx(1 / 3, abs=0)
    assert float(masks.area(a)) == 6.0


def test_hand_worked_3d_and_soft():
    vol_a = np.zeros((3, 4, 4))
    vol_a[:2, :2, :2] = 1  # 8 voxels
    vol_b = np.zeros((3, 4, 4))
    vol_b[1:, :2, :] = 1  # 16 voxels; shared: z=1, 2x2 = 4
    assert float(masks.iou(vol_a, vol_b, spatial_dims=3)) == 4 / 20
    assert float(masks.dice(vol_a, vol_b, spatial_dims=3)) == 8 / 24
    # Soft: p = [.2, .8, 1, 0], t = [0, 1, 1, 0]: I = .8 + 1 = 1.8, A = 2, B = 2, U = 2.2.
    p = np.array([[0.2, 0.8], [1.0, 0.0]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert float(masks.iou(p, t)) == pytest.approx(1.8 / 2.2, rel=1e-15)
    assert float(masks.dice(p, t)) == pytest.approx(3.6 / 4.0, rel=1e-15)


def test_empty_masks_zero_division():
    z = np.zeros((2, 3, 3), bool)
    np.testing.assert_array_equal(masks.iou(z, z), [0.0, 0.0])
    np.testing.assert_array_equal(masks.dice(z, z, zero_division=1.0), [1.0, 1.0])
    np.testing.assert_array_equal(masks.pairwise_iou(z, z, zero_division=1.0), np.ones((2, 2)))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.tuples(st.integers(1, 6), st.integers(1, 6)),
    st.integers(0, 2**31),
)
def test_pairwise_matches_set_counts(n, m, shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((n, *shape)) < 0.5
    b = rng.random((m, *shape)) < 0.5
    got = masks.pairwise_iou(a, b)
    got_d = masks.pairwise_dice(a, b)
    for i in range(n):
        for j in range(m):
            inter = np.logical_and(a[i], b[j]).sum()
            union = np.logical_or(a[i], b[j]).sum()
            want = inter / union if union else 0.0
            assert got[i, j] == want
            tot = a[i].sum() + b[j].sum()
            assert got_d[i, j] == (2 * inter / tot if tot else 0.0)
    # Aligned IoU is the diagonal of the pairwise matrix; IoU <= Dice; Dice = 2 IoU / (1 + IoU).
    k = min(n, m)
    al = masks.iou(a[:k], b[:k])
    np.testing.assert_array_equal(al, np.diag(got)[:k])
    assert np.all(got <= got_d + 1e-15)
    np.testing.assert_allclose(got_d, 2 * got / (1 + got), rtol=1e-12, atol=0)


def test_binary_equals_pycocotools_rle_iou():
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(3)
    m = rng.random((6, 20, 30)) < rng.random((6, 1, 1))
    r = mask_utils.encode(np.asfortranarray(np.transpose(m, (1, 2, 0)).astype(np.uint8)))
    want = mask_utils.iou(r, r, [0] * 6)
    np.testing.assert_array_equal(masks.pairwise_iou(m, m), want)


def test_soft_values_in_unit_interval_and_broadcast():
    rng = np.random.default_rng(0)
    p = rng.random((5, 2, 8, 8, 8))
    t = (rng.random((1, 2, 8, 8, 8)) < 0.3).astype(np.float32)  # broadcast over batch
    v = masks.iou(p, t.astype(np.float64), spatial_dims=3)
    assert v.shape == (5, 2)
    assert np.all((v >= 0) & (v <= 1))
    d = masks.dice(p, t.astype(np.float64), spatial_dims=3)
    assert np.all(v <= d)


def test_torch_autograd_and_dtype():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    p = torch.rand(2, 4, 5, dtype=torch.float64, generator=g).requires_grad_(True)
    t = (torch.rand(2, 4, 5, generator=g) < 0.4).to(torch.float64)
    v = masks.iou(p, t)
    assert v.dtype == torch.float64 and v.shape == (2,)
    torch.autograd.gradcheck(lambda x: masks.iou(x, t), (p,))
    torch.autograd.gradcheck(lambda x: masks.dice(x, t), (p,))
    torch.autograd.gradcheck(lambda x: masks.pairwise_iou(x, t), (p,))
    # Same numbers as NumPy.
    np.testing.assert_allclose(
        v.detach().numpy(), masks.iou(p.detach().numpy(), t.numpy()), rtol=1e-14
    )
    # Empty pair: zero_division value, finite gradient.
    z = torch.zeros(1, 4, 4, dtype=torch.float64, requires_grad=True)
    out = masks.iou(z, torch.zeros(1, 4, 4, dtype=torch.float64), zero_division=1.0)
    out.sum().backward()
    assert out.item() == 1.0 and torch.isfinite(z.grad).all()
    # bool -> float32 (torch's default float), float32 stays float32.
    assert masks.iou(t.bool(), t.bool()).dtype == torch.float32
    assert masks.pairwise_dice(p.float(), t.float()).dtype == torch.float32


def test_jax_backend():
    jnp = pytest.importorskip("jax.numpy")
    a = np.zeros((2, 4, 4))
    a[0, :2] = 1
    a[1, :, :1] = 1
    got = masks.pairwise_iou(jnp.asarray(a), jnp.asarray(a))
    np.testing.assert_allclose(np.asarray(got), masks.pairwise_iou(a, a), rtol=1e-6)


def test_errors():
    with pytest.raises(InvalidMaskError, match=r"masks a: soft masks .* element \(0, 1\) is 1.5"):
        masks.iou(np.array([[0.0, 1.5]]), np.zeros((1, 2)))
    with pytest.raises(InvalidMaskError, match=r"masks b: integer masks .*element \(1, 0\) is 2"):
        masks.iou(np.zeros((2, 2), int), np.array([[0, 1], [2, 0]]))
    with pytest.raises(InvalidMaskError, match="nan"):
        masks.dice(np.array([[np.nan]]), np.zeros((1, 1)))
    with pytest.raises(ShapeMismatchError, match="spatial shapes differ"):
        masks.iou(np.zeros((3, 4)), np.zeros((4, 3)))
    with pytest.raises(ShapeMismatchError, match=r"\(N, \*S\)"):
        masks.pairwise_iou(np.zeros((2, 2, 3, 3)), np.zeros((2, 3, 3)))
    torch = pytest.importorskip("torch")
    with pytest.raises(BackendError):
        masks.iou(np.zeros((2, 2)), torch.zeros(2, 2))
