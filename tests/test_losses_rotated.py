"""Rotated-box Gaussian losses: matrix-form oracles (the references' formulas with torch
det / inverse / matrix square roots), hand-worked values, gradcheck, finite gradients at
degenerate boxes, and symmetry / invariance properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import losses as L
from ioukit.errors import InvalidParameterError, ShapeMismatchError

ROTATED = (L.probiou_loss, L.kld_loss, L.gwd_loss, L.kfiou_loss)


def _boxes(n, seed, *, spread=3.0):
    g = torch.Generator().manual_seed(seed)
    ctr = torch.rand(n, 2, generator=g, dtype=torch.float64) * 10
    wh = 0.5 + torch.rand(n, 2, generator=g, dtype=torch.float64) * 5
    ang = (torch.rand(n, 1, generator=g, dtype=torch.float64) - 0.5) * 2 * math.pi
    b = torch.cat([ctr, wh, ang], 1)
    t = b + torch.cat(
        [
            torch.randn(n, 2, generator=g, dtype=torch.float64) * spread,
            torch.randn(n, 2, generator=g, dtype=torch.float64).clamp(-0.4, 2),
            torch.randn(n, 1, generator=g, dtype=torch.float64),
        ],
        1,
    )
    return b, t


# ------------------------------------------------------------- matrix-form oracles
def _gauss(b, s):
    """mu [N, 2], Sigma [N, 2, 2] = R diag(s w^2, s h^2) R^T by matrix products."""
    c, sn = torch.cos(b[:, 4]), torch.sin(b[:, 4])
    R = torch.stack([c, -sn, sn, c], -1).reshape(-1, 2, 2)
    D = torch.diag_embed(torch.stack([s * b[:, 2] ** 2, s * b[:, 3] ** 2], -1))
    return b[:, :2], R @ D @ R.transpose(1, 2)


def _sqrtm_spd(S):
    w, V = torch.linalg.eigh(S)
    return V @ torch.diag_embed(w.sqrt()) @ V.transpose(1, 2)


def _post(d, fun, tau):
    d = {"log1p": torch.log1p, "sqrt": torch.sqrt, "none": lambda x: x}[fun](d)
    return 1 - 1 / (tau + d) if tau >= 1 else d


def oracle_probiou(p, t, mode, s=1 / 12):
    mp, Sp = _gauss(p, s)
    mt, St = _gauss(t, s)
    S = (Sp + St) / 2
    dm = (mp - mt)[:, :, None]
    bd = (dm.transpose(1, 2) @ torch.linalg.inv(S) @ dm)[:, 0, 0] / 8
    bd = bd + 0.5 * torch.log(torch.det(S) / torch.sqrt(torch.det(Sp) * torch.det(St)))
    return bd if mode == "l2" else torch.sqrt(1 - torch.exp(-bd))


def oracle_kld(p, t, fun, tau, alpha, sqrt):
    mp, Sp = _gauss(p, 0.25)
    mt, St = _gauss(t, 0.25)
    Pinv = torch.linalg.inv(Sp)
    dm = (mp - mt)[:, :, None]
    xy = 0.5 * (dm.transpose(1, 2) @ Pinv @ dm)[:, 0, 0]
    # KL(N_t || N_p): the divergence of the target from the prediction
    whr = 0.5 * torch.diagonal(Pinv @ St, dim1=1, dim2=2).sum(-1)
    whr = whr + 0.5 * torch.log(torch.det(Sp) / torch.det(St)) - 1
    d = xy / alpha**2 + whr
    return _post(d.clamp(min=0).sqrt() if sqrt else d, fun, tau)


def oracle_gwd(p, t, fun, tau, alpha, normalize):
    mp, Sp = _gauss(p, 0.25)
    mt, St = _gauss(t, 0.25)
    rp = _sqrtm_spd(Sp)
    cross = _sqrtm_spd(rp @ St @ rp)  # the Wasserstein coupling, by eigendecomposition
    tr = lambda M: torch.diagonal(M, dim1=1, dim2=2).sum(-1)  # noqa: E731
    w2 = ((mp - mt) ** 2).sum(-1) + alpha**2 * (tr(Sp) + tr(St) - 2 * tr(cross))
    d = w2.clamp(min=0).sqrt()
    if normalize:
        d = d / (2 * (torch.det(Sp) * torch.det(St)) ** (1 / 8))
    return _post(d, fun, tau)


def oracle_kfiou(p, t, fun, beta):
    mp, Sp = _gauss(p, 0.25)
    mt, St = _gauss(t, 0.25)
    K = Sp @ torch.linalg.inv(Sp + St)  # Kalman gain
    S = Sp - K @ Sp
    v, vp, vt = (4 * torch.det(M).sqrt() for M in (S, Sp, St))
    kf = v / (vp + vt - v)
    loss = {"none": 1 - kf, "ln": -torch.log(kf), "exp": torch.exp(1 - kf) - 1}[fun]
    d = (mp - mt).abs()
    return loss + torch.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta).sum(-1)


CASES = [
    (L.probiou_loss, {"mode": "l1"}, lambda p, t: oracle_probiou(p, t, "l1")),
    (L.probiou_loss, {"mode": "l2"}, lambda p, t: oracle_probiou(p, t, "l2")),
    (
        L.probiou_loss,
        {"variance_scale": 0.25},
        lambda p, t: oracle_probiou(p, t, "l1", s=0.25),
    ),
    (L.kld_loss, {}, lambda p, t: oracle_kld(p, t, "log1p", 1.0, 1.0, True)),
    (
        L.kld_loss,
        {"fun": "none", "tau": 0.0, "sqrt": False, "alpha": 2.0},
        lambda p, t: oracle_kld(p, t, "none", 0.0, 2.0, False),
    ),
    (
        L.kld_loss,
        {"fun": "sqrt", "tau": 2.0},
        lambda p, t: oracle_kld(p, t, "sqrt", 2.0, 1.0, True),
    ),
    (L.gwd_loss, {}, lambda p, t: oracle_gwd(p, t, "log1p", 1.0, 1.0, True)),
    (
        L.gwd_loss,
        {"fun": "none", "tau": 0.0, "normalize": False, "alpha": 0.5},
        lambda p, t: oracle_gwd(p, t, "none", 0.0, 0.5, False),
    ),
    (L.kfiou_loss, {}, lambda p, t: oracle_kfiou(p, t, "none", 1 / 9)),
    (L.kfiou_loss, {"fun": "ln", "beta": 0.5}, lambda p, t: oracle_kfiou(p, t, "ln", 0.5)),
    (L.kfiou_loss, {"fun": "exp"}, lambda p, t: oracle_kfiou(p, t, "exp", 1 / 9)),
]


@pytest.mark.parametrize(("fn", "opts", "oracle"), CASES)
def test_matches_matrix_form(fn, opts, oracle):
    p, t = _boxes(400, 1)
    got = fn(p, t, reduction="none", **opts)
    np.testing.assert_allclose(got.numpy(), oracle(p, t).numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("fn", "opts", "oracle"), CASES)
def test_gradcheck(fn, opts, oracle):
    p, t = _boxes(6, 2)
    p.requires_grad_(True)
    t.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: fn(a, b, reduction="none", **opts), (p, t))


# ------------------------------------------------------------------ degenerate boxes
DEGENERATE = [
    ([1.0, 2.0, 3.0, 4.0, 0.3], [1.0, 2.0, 3.0, 4.0, 0.3]),  # identical
    ([1.0, 2.0, 3.0, 3.0, 0.3], [1.0, 2.0, 3.0, 3.0, -1.2]),  # identical squares, any angle
    ([1.0, 2.0, 3.0, 3.0, 0.0], [2.0, 1.0, 5.0, 2.0, 0.4]),  # w == h: angle undetermined
    ([1.0, 2.0, 0.0, 4.0, 0.3], [1.5, 2.0, 3.0, 4.0, 0.1]),  # zero width (clamped at eps)
    ([1.0, 2.0, 0.0, 0.0, 0.3], [1.0, 2.0, 0.0, 0.0, 0.3]),  # two zero-size points
    ([1.0, 2.0, 3.0, 4.0, math.pi / 2], [1.0, 2.0, 4.0, 3.0, 0.0]),  # sides swapped
    ([0.0, 0.0, 3.0, 4.0, math.pi], [0.0, 0.0, 3.0, 4.0, 0.0]),  # a half turn
]
ALL_OPTS = [
    (L.probiou_loss, {}),
    (L.probiou_loss, {"mode": "l2"}),
    (L.kld_loss, {}),
    (L.kld_loss, {"sqrt": False, "fun": "sqrt", "tau": 0.0}),
    (L.gwd_loss, {}),
    (L.gwd_loss, {"fun": "sqrt", "normalize": False}),
    (L.kfiou_loss, {}),
    (L.kfiou_loss, {"fun": "ln"}),
]


@pytest.mark.parametrize(("fn", "opts"), ALL_OPTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_gradients_at_degenerate_boxes(fn, opts, dtype):
    p = torch.tensor([d[0] for d in DEGENERATE], dtype=dtype, requires_grad=True)
    t = torch.tensor([d[1] for d in DEGENERATE], dtype=dtype, requires_grad=True)
    loss = fn(p, t, reduction="none", **opts)
    assert torch.isfinite(loss).all(), loss
    loss.sum().backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(t.grad).all(), (p.grad, t.grad)


def test_same_gaussian_gives_zero_distance():
    # identical boxes, squares at any angle, swapped sides with a quarter turn, a half
    # turn: the same Gaussian, so every distance is 0 (rows 0, 1, 5, 6 of DEGENERATE)
    rows = [0, 1, 5, 6]
    p = torch.tensor([DEGENERATE[i][0] for i in rows], dtype=torch.float64)
    t = torch.tensor([DEGENERATE[i][1] for i in rows], dtype=torch.float64)
    for fn in (L.probiou_loss, L.kld_loss, L.gwd_loss):
        np.testing.assert_allclose(fn(p, t, reduction="none").numpy(), 0.0, atol=1e-7)
    assert torch.all(L.probiou_loss(p, p, reduction="none") == 0)
    kf = L.kfiou_loss(p, t, reduction="none")
    np.testing.assert_allclose(kf.numpy(), 2 / 3, atol=1e-12)  # KFIoU of one box is 1/3


# ------------------------------------------------------------------ hand-worked values
def _t(*rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_probiou_hand_values():
    # concentric squares of sides 2 and 4: S = s diag(4, 4), s diag(16, 16); B_D =
    # 1/2 ln(det((S1 + S2)/2) / sqrt(det S1 det S2)) = 1/2 ln((10 s)^2 / (64 s^2 ... )):
    # = 1/2 ln(100 / 64) = ln 1.25, any s; H_D = sqrt(1 - 1/1.25) = sqrt(0.2)
    a, b = _t([0, 0, 2, 2, 0]), _t([0, 0, 4, 4, 0.7])
    assert L.probiou_loss(a, b, mode="l2").item() == pytest.approx(math.log(1.25), rel=1e-14)
    assert L.probiou_loss(a, b).item() == pytest.approx(math.sqrt(0.2), rel=1e-14)
    # 2x4 against 4x2, concentric: ((4+16)/2 s)^2 / sqrt(4*16*16*4 s^4) = 100/64 again
    c, d = _t([0, 0, 2, 4, 0]), _t([0, 0, 4, 2, 0])
    assert L.probiou_loss(c, d, mode="l2").item() == pytest.approx(math.log(1.25), rel=1e-14)
    # equal unit covariances (s = 1/4, 2x2 squares) moved by 2: B_D = 1/8 * 4 = 0.5
    e, f = _t([0, 0, 2, 2, 0]), _t([2, 0, 2, 2, 0])
    got = L.probiou_loss(e, f, variance_scale=0.25).item()
    assert got == pytest.approx(math.sqrt(1 - math.exp(-0.5)), rel=1e-14)


def test_kld_gwd_kfiou_hand_values():
    unit = _t([0, 0, 2, 2, 0])  # s = 1/4: Sigma = I
    moved = _t([3, 4, 2, 2, 1.1])  # the same Gaussian, centre moved by (3, 4)
    # KL = 1/2 |dmu|^2 = 12.5; W = |dmu| = 5
    assert L.kld_loss(unit, moved, fun="none", tau=0, sqrt=False).item() == pytest.approx(12.5)
    assert L.kld_loss(unit, moved).item() == pytest.approx(1 - 1 / (1 + math.log1p(12.5**0.5)))
    assert L.gwd_loss(unit, moved, fun="none", tau=0, normalize=False).item() == pytest.approx(5)
    # W^2 of commuting covariances: sum of squared std differences: (2-1)^2 + (3-1)^2
    big = _t([0, 0, 4, 6, 0])
    w = L.gwd_loss(unit, big, fun="none", tau=0, normalize=False).item()
    assert w == pytest.approx(math.sqrt(5), rel=1e-14)
    # normalised: / (2 (det I det diag(4, 9))^(1/8)) = / (2 * 36^(1/8))
    w_n = L.gwd_loss(unit, big, fun="none", tau=0).item()
    assert w_n == pytest.approx(math.sqrt(5) / (2 * 36 ** (1 / 8)), rel=1e-14)
    # KFIoU of isotropic a I and b I (a = 1, b = 4): V = 4ab/(a+b), KFIoU = V/(4a+4b-V)
    sq4 = _t([0, 0, 4, 4, 0.3])
    kf = 0.8 / (5 - 0.8)
    assert L.kfiou_loss(unit, sq4).item() == pytest.approx(1 - kf, rel=1e-14)
    assert L.kfiou_loss(unit, sq4, fun="ln").item() == pytest.approx(-math.log(kf), rel=1e-14)
    # smooth-L1 centre term with beta = 1/9: |3| - 1/18 + |4| - 1/18
    both = L.kfiou_loss(unit, moved).item()
    assert both == pytest.approx(2 / 3 + 7 - 1 / 9, rel=1e-14)
    assert L.kfiou_loss(unit, moved, center=False).item() == pytest.approx(2 / 3, rel=1e-14)


# ------------------------------------------------------------------ properties
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(-3.0, 3.0))
def test_symmetry_and_invariances(seed, phi):
    p, t = _boxes(8, seed)
    for fn in (L.probiou_loss, L.gwd_loss, L.kfiou_loss):
        np.testing.assert_allclose(
            fn(p, t, reduction="none").numpy(), fn(t, p, reduction="none").numpy(), rtol=1e-9
        )

    def rigid(b):  # rotate the scene by phi about the origin and shift it
        c, s = math.cos(phi), math.sin(phi)
        x = c * b[:, 0] - s * b[:, 1] + 7.0
        y = s * b[:, 0] + c * b[:, 1] - 2.0
        return torch.stack([x, y, b[:, 2], b[:, 3], b[:, 4] + phi], 1)

    def same_gaussian(b):  # sides swapped with a quarter turn, plus a half turn
        return torch.stack([b[:, 0], b[:, 1], b[:, 3], b[:, 2], b[:, 4] + 1.5 * math.pi], 1)

    for fn in (L.probiou_loss, L.kld_loss, L.gwd_loss):
        ref = fn(p, t, reduction="none").numpy()
        np.testing.assert_allclose(fn(rigid(p), rigid(t), reduction="none"), ref, rtol=1e-8)
        got = fn(same_gaussian(p), t, reduction="none").numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)
    # KFIoU's centre term is per axis (not rotation invariant); its overlap part is
    ref = L.kfiou_loss(p, t, center=False, reduction="none").numpy()
    got = L.kfiou_loss(rigid(p), rigid(t), center=False, reduction="none").numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    # the bounded forms stay in range
    assert torch.all(L.kld_loss(p, t, reduction="none") >= 0)
    assert torch.all(L.kld_loss(p, t, reduction="none") < 1)
    kf = 1 - L.kfiou_loss(p, t, center=False, reduction="none")
    assert torch.all((kf >= 0) & (kf <= 1 / 3 + 1e-12))


def test_kld_is_not_symmetric():
    a, b = _t([0, 0, 2, 2, 0]), _t([0, 0, 4, 6, 0])
    assert L.kld_loss(a, b).item() != pytest.approx(L.kld_loss(b, a).item())


# ------------------------------------------------------------------ arguments, backends
def test_reductions_weight_degrees_and_modules():
    p, t = _boxes(10, 3)
    w = torch.linspace(0, 1, 10, dtype=torch.float64)
    for fn in ROTATED:
        per = fn(p, t, reduction="none")
        assert per.shape == (10,)
        assert fn(p, t).item() == pytest.approx(per.mean().item(), rel=1e-14)
        assert fn(p, t, reduction="sum", weight=w).item() == pytest.approx((per * w).sum().item())
        deg = fn(
            torch.cat([p[:, :4], torch.rad2deg(p[:, 4:])], 1),
            torch.cat([t[:, :4], torch.rad2deg(t[:, 4:])], 1),
            angle="deg",
            reduction="none",
        )
        np.testing.assert_allclose(deg.numpy(), per.numpy(), rtol=1e-12)
    pairs = [
        (L.ProbIoULoss("l2"), L.probiou_loss, {"mode": "l2"}),
        (L.KLDLoss(fun="none"), L.kld_loss, {"fun": "none"}),
        (L.GWDLoss(normalize=False), L.gwd_loss, {"normalize": False}),
        (L.KFIoULoss(fun="exp"), L.kfiou_loss, {"fun": "exp"}),
    ]
    for mod, fn, opts in pairs:
        assert mod(p, t, w).item() == fn(p, t, weight=w, **opts).item()
    assert "mode='l2'" in repr(L.ProbIoULoss("l2"))


def test_empty_batch_and_dtypes():
    e = torch.zeros((0, 5), requires_grad=True)
    for fn in ROTATED:
        out = fn(e, e)
        assert out.item() == 0.0
        out.backward()
    h = torch.tensor([[0.0, 0.0, 2.0, 3.0, 0.2]], dtype=torch.float16)
    for fn in ROTATED:
        assert fn(h, h + 0.5).dtype == torch.float16


def test_numpy_and_jax_match_torch():
    p, t = _boxes(20, 4)
    for fn in ROTATED:
        ref = fn(p, t, reduction="none").numpy()
        np.testing.assert_allclose(fn(p.numpy(), t.numpy(), reduction="none"), ref, rtol=1e-12)
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    try:
        for fn in ROTATED:
            got = fn(jnp.asarray(p.numpy()), jnp.asarray(t.numpy()), reduction="none")
            np.testing.assert_allclose(np.asarray(got), fn(p, t, reduction="none"), rtol=1e-12)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_errors():
    b4 = torch.zeros((2, 4))
    b5 = torch.zeros((2, 5))
    with pytest.raises(ShapeMismatchError, match=r"pred must have shape \[\.\.\., 5\]"):
        L.kld_loss(b4, b5)
    with pytest.raises(ShapeMismatchError, match="broadcast"):
        L.gwd_loss(torch.zeros((2, 5)), torch.zeros((3, 5)))
    with pytest.raises(InvalidParameterError, match="mode"):
        L.probiou_loss(b5, b5, mode="l3")
    with pytest.raises(InvalidParameterError, match="fun"):
        L.kfiou_loss(b5, b5, fun="log1p")
    with pytest.raises(InvalidParameterError, match="angle"):
        L.kld_loss(b5, b5, angle="grad")
    with pytest.raises(InvalidParameterError, match="variance_scale"):
        L.gwd_loss(b5, b5, variance_scale=0)
