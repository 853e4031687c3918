"""ioukit.boxes on PyTorch and JAX: agreement with NumPy, jit, autograd, dtypes, devices."""

from __future__ import annotations

import numpy as np
import pytest

from ioukit import boxes
from ioukit.errors import InvalidBoxesError

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

MEASURES = ["iou", "ioa", "giou", "diou", "ciou", "eiou", "siou", "alpha_iou", "mpdiou"]
KW = {"mpdiou": {"image_size": (60, 50)}}


def call(name, a, b, **kw):
    return getattr(boxes, name)(a, b, **{**KW.get(name, {}), **kw})


def make_boxes(seed, n):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 30, (n, 2))
    wh = rng.uniform(0, 20, (n, 2))
    wh[: n // 8] = 0  # some zero-area boxes
    out = np.concatenate([xy, xy + wh], 1)
    return np.round(out, 1)  # rounding creates touching and identical edges


A = make_boxes(0, 24)
B = make_boxes(1, 17)
B[:3] = A[:3]


@pytest.mark.parametrize("name", MEASURES)
def test_torch_and_jax_agree_with_numpy(name):
    ref = call(name, A, B)  # float64 compiled kernel
    ref_al = call(name, A[:17], B, aligned=True)
    t64 = call(name, torch.tensor(A), torch.tensor(B))
    np.testing.assert_allclose(t64.numpy(), ref, atol=1e-12)
    t32 = call(name, torch.tensor(A, dtype=torch.float32), torch.tensor(B, dtype=torch.float32))
    assert t32.dtype == torch.float32
    np.testing.assert_allclose(t32.numpy(), ref, atol=2e-5)
    tal = call(name, torch.tensor(A[:17]), torch.tensor(B), aligned=True)
    np.testing.assert_allclose(tal.numpy(), ref_al, atol=1e-12)


@pytest.mark.parametrize("name", ["iou", "ciou", "siou"])
def test_jax_eager_agrees_with_numpy(name):
    # eager JAX compiles every primitive separately (slow); the jit test below
    # covers every measure
    ja, jb = jnp.asarray(A, dtype=jnp.float32), jnp.asarray(B, dtype=jnp.float32)
    j = call(name, ja, jb)
    assert isinstance(j, jax.Array) and j.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(j), call(name, A, B), atol=2e-5)
    jal = call(name, ja[:17], jb, aligned=True)
    np.testing.assert_allclose(np.asarray(jal), call(name, A[:17], B, aligned=True), atol=2e-5)


@pytest.mark.parametrize("name", MEASURES)
def test_jax_jit(name):
    ja, jb = jnp.asarray(A, dtype=jnp.float32), jnp.asarray(B, dtype=jnp.float32)
    f = jax.jit(lambda x, y: call(name, x, y))
    np.testing.assert_allclose(np.asarray(f(ja, jb)), call(name, A, B), atol=2e-5)
    g = jax.jit(lambda x, y: call(name, x, y, aligned=True, fmt="xywh"))
    ref = call(name, A[:17], B, aligned=True, fmt="xywh")
    np.testing.assert_allclose(np.asarray(g(ja[:17], jb)), ref, atol=2e-5)


def test_jax_jit_skips_value_checks_but_eager_does_not():
    bad = jnp.asarray([[0.0, 0.0, jnp.nan, 1.0]])
    good = jnp.asarray([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(InvalidBoxesError, match="a: row 0"):
        boxes.iou(bad, good)
    out = jax.jit(boxes.iou)(bad, good)  # tracer: no data-dependent check
    assert out.shape == (1, 1)


@pytest.mark.parametrize("name", ["giou", "ciou", "siou"])
def test_jax_grad_finite_at_degenerate_and_identical(name):
    # the formulas are shared with torch, where every measure is checked; here
    # the ones with the most guarded operations (atan2, exp, powers)
    pts = jnp.asarray([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 0.0, 2.0]])
    g = jax.grad(lambda x: call(name, x, pts, aligned=True).sum())(pts)
    assert bool(jnp.all(jnp.isfinite(g)))


DEGENERATE = [
    # (a, b): identical, identical points, point vs box, zero-height, same centre,
    # touching, nested
    ([0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]),
    ([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]),
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]),
    ([0.0, 1.0, 3.0, 1.0], [0.0, 0.0, 3.0, 2.0]),
    ([0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0]),
    ([0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]),
    ([0.0, 0.0, 0.0, 0.0], [3.0, 4.0, 3.0, 4.0]),
]


@pytest.mark.parametrize("name", MEASURES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_gradients_finite_at_degenerate_and_identical(name, dtype):
    a = torch.tensor([p[0] for p in DEGENERATE], dtype=dtype, requires_grad=True)
    b = torch.tensor([p[1] for p in DEGENERATE], dtype=dtype, requires_grad=True)
    for aligned in (True, False):
        out = call(name, a, b, aligned=aligned)
        assert torch.isfinite(out).all()
        ga, gb = torch.autograd.grad(out.sum(), (a, b))
        assert torch.isfinite(ga).all() and torch.isfinite(gb).all(), (name, aligned)


@pytest.mark.parametrize("name", MEASURES)
def test_torch_gradcheck_against_finite_differences(name):
    # generic positions (no ties in min/max), where every measure is smooth
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10, (6, 2))
    wh = rng.uniform(1, 5, (6, 2))
    a = torch.tensor(np.concatenate([xy, xy + wh], 1), requires_grad=True)
    xy2 = xy + rng.uniform(-2, 2, (6, 2))
    b = torch.tensor(np.concatenate([xy2, xy2 + rng.uniform(1, 5, (6, 2))], 1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: call(name, x, y, aligned=True), (a, b))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("aligned", [False, True])
def test_torch_dtypes_round_trip(dtype, aligned):
    a = torch.tensor(A, dtype=dtype)
    b = torch.tensor(B[:24] if aligned else B, dtype=dtype)
    a2 = a[:17] if aligned else a
    for name in ("iou", "ciou"):
        out = call(name, a2, b, aligned=aligned)
        assert out.dtype == dtype
        ref = call(name, a2.double(), b.double(), aligned=aligned)
        tol = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2}.get(dtype, 2e-5)
        # the inputs were rounded to dtype too, so compare from the rounded boxes
        torch.testing.assert_close(out.double(), ref, atol=tol, rtol=tol)


def test_torch_big_float16_boxes_do_not_overflow():
    big = torch.tensor([[0.0, 0.0, 1000.0, 1000.0]], dtype=torch.float16)
    assert boxes.iou(big, big).item() == 1.0


def test_jax_dtypes_and_int_promotion():
    giou = jax.jit(boxes.giou)
    for dt in (jnp.float16, jnp.bfloat16, jnp.float32):
        out = giou(jnp.asarray(A, dtype=dt), jnp.asarray(B, dtype=dt))
        assert out.dtype == dt
        ref = boxes.giou(np.asarray(jnp.asarray(A, dtype=dt), dtype=np.float64),
                         np.asarray(jnp.asarray(B, dtype=dt), dtype=np.float64))  # fmt: skip
        tol = 1.6e-2 if dt == jnp.bfloat16 else 2e-3
        np.testing.assert_allclose(np.asarray(out, dtype=np.float64), ref, atol=tol)
    ia = jnp.asarray([[0, 0, 4, 2]], dtype=jnp.int32)
    ib = jnp.asarray([[2, 1, 5, 5]], dtype=jnp.int32)
    out = boxes.iou(ia, ib)
    assert out.dtype == jnp.float32 and float(out[0, 0]) == pytest.approx(1 / 9, rel=1e-6)


def test_torch_int_promotion():
    out = boxes.iou(torch.tensor([[0, 0, 4, 2]]), torch.tensor([[2, 1, 5, 5]]))
    assert out.dtype == torch.float32 and out.item() == pytest.approx(1 / 9, rel=1e-6)


def test_torch_batched_and_autograd_kept():
    a = torch.tensor(A.reshape(2, 12, 4), requires_grad=True)
    out = boxes.diou(a, torch.tensor(B))
    assert out.shape == (2, 12, 17) and out.requires_grad
    np.testing.assert_allclose(out.detach().numpy(), boxes.diou(A.reshape(2, 12, 4), B), atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_torch_cuda_device_kept():
    a = torch.tensor(A, device="cuda", requires_grad=True)
    b = torch.tensor(B, device="cuda")
    for name in MEASURES:
        out = call(name, a, b)
        assert out.device == a.device
        np.testing.assert_allclose(out.detach().cpu().numpy(), call(name, A, B), atol=1e-9)
    p = boxes.iou_pairs(a, b, 0.3)
    assert p.iou.device == a.device


def test_torch_validation_errors_name_the_row():
    good = torch.zeros(3, 4)
    bad = good.clone()
    bad[1, 0] = float("inf")
    with pytest.raises(InvalidBoxesError, match="b: row 1 has a NaN or infinite"):
        boxes.iou(good, bad)
    bad = torch.zeros(3, 4, dtype=torch.bfloat16)
    bad[2] = torch.tensor([0.0, 2.0, 1.0, 1.0])
    with pytest.raises(InvalidBoxesError, match="a: row 2 has y2 < y1"):
        boxes.giou(bad, good.bfloat16())


def test_terms_api_is_stable():
    # ioukit.losses builds on these names and argument orders
    import inspect

    from ioukit.boxes import _terms

    expected = {
        "safe_divide": ["xp", "num", "den", "eps"],
        "safe_pow": ["xp", "x", "p"],
        "inter_union": ["xp", "a", "b"],
        "enclosing_box": ["xp", "a", "b"],
        "enclosing_wh": ["xp", "a", "b"],
        "center_distance_sq": ["xp", "a", "b"],
        "aspect_consistency_v": ["xp", "a", "b", "eps"],
        "ciou_alpha": ["xp", "iou", "v", "eps"],
        "giou_penalty": ["xp", "a", "b", "union", "eps"],
        "siou_penalty": ["xp", "a", "b", "theta", "eps"],
        "mpdiou_penalty": ["xp", "a", "b", "width", "height", "eps"],
    }
    for name, params in expected.items():
        assert list(inspect.signature(getattr(_terms, name)).parameters) == params, name
    assert set(expected) <= set(_terms.__all__)


def test_safe_divide_zero_denominator_value_and_gradient():
    from ioukit.boxes import _terms

    xp = boxes._measures.namespace(torch.zeros(1))
    num = torch.tensor([1.0, 0.0, 3.0], requires_grad=True)
    den = torch.tensor([0.0, 0.0, 2.0], requires_grad=True)
    out = _terms.safe_divide(xp, num, den, 1e-12)
    assert out.tolist() == [0.0, 0.0, 1.5]
    gn, gd = torch.autograd.grad(out.sum(), (num, den))
    # d(n/d)/dn = 1/d = 0.5, d(n/d)/dd = -n/d^2 = -0.75; masked entries get 0
    assert gn.tolist() == [0.0, 0.0, 0.5] and gd.tolist() == [0.0, 0.0, -0.75]
