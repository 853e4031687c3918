"""ioukit.losses: values, gradients, degenerate inputs, backends, modules, errors.

Oracles: hand-worked values (arithmetic in the comments), a scalar pure-Python
transcription of each paper's formulas (``ref`` below, written independently
of ioukit.boxes._terms: it uses atan, arcsin and sqrt exactly as the papers
write them), torch.autograd.gradcheck, and central finite differences of
``ref`` for the losses that hold a factor constant for the gradient.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import losses as L
from ioukit.errors import (
    BackendError,
    InvalidFormatError,
    InvalidParameterError,
    ShapeMismatchError,
)

# --------------------------------------------------------------------------- oracle


def ref(p, t, kind, frozen=None, **kw):
    """Scalar loss of one box pair straight from the papers; returns (loss, frozen).

    ``frozen`` holds the quantities the implementations treat as constants for
    the gradient (CIoU's alpha, WIoU's c^2 and beta); pass the dict returned at
    the base point to evaluate the function whose derivative autograd gives.
    """
    x1, y1, x2, y2 = p
    X1, Y1, X2, Y2 = t
    w, h, W, H = x2 - x1, y2 - y1, X2 - X1, Y2 - Y1
    iw = max(0.0, min(x2, X2) - max(x1, X1))
    ih = max(0.0, min(y2, Y2) - max(y1, Y1))
    inter = iw * ih
    union = w * h + W * H - inter
    iou = inter / union
    cw = max(x2, X2) - min(x1, X1)
    ch = max(y2, Y2) - min(y1, Y1)
    dx = (X1 + X2) / 2 - (x1 + x2) / 2
    dy = (Y1 + Y2) / 2 - (y1 + y2) / 2
    rho2, c2 = dx * dx + dy * dy, cw * cw + ch * ch
    fr = dict(frozen or {})
    if kind == "iou":
        mode = kw.get("mode", "linear")
        val = {"linear": 1 - iou, "square": 1 - iou**2}.get(mode)
        return (val if val is not None else -math.log(iou)), fr
    if kind == "giou":  # Rezatofighi et al. 2019, Alg. 2
        return 1 - iou + (cw * ch - union) / (cw * ch), fr
    if kind == "diou":  # Zheng et al. 2020, eq. 6
        return 1 - iou + rho2 / c2, fr
    if kind in ("ciou", "ciou_mmdet"):  # Zheng et al. 2020, eq. 9-11
        v = 4 / math.pi**2 * (math.atan(W / H) - math.atan(w / h)) ** 2
        a = fr.setdefault("alpha", v / (1 - iou + v))
        if kind == "ciou_mmdet":
            a = fr.setdefault("alpha_mmdet", a if iou > 0.5 else 0.0)
        return 1 - iou + rho2 / c2 + a * v, fr
    if kind in ("eiou", "focal_eiou"):  # Zhang et al. 2021, eq. 8 and 12
        e = 1 - iou + rho2 / c2 + (w - W) ** 2 / cw**2 + (h - H) ** 2 / ch**2
        return (e if kind == "eiou" else iou ** kw.get("gamma", 0.5) * e), fr
    if kind == "siou":  # Gevorgyan 2022, eq. 1-6, written with arcsin as published
        sigma = math.sqrt(rho2)
        lam = 1 - 2 * math.sin(math.asin(abs(dy) / sigma) - math.pi / 4) ** 2
        gamma = 2 - lam
        dist = (1 - math.exp(-gamma * (dx / cw) ** 2)) + (1 - math.exp(-gamma * (dy / ch) ** 2))
        th = kw.get("theta", 4.0)
        om_w, om_h = abs(w - W) / max(w, W), abs(h - H) / max(h, H)
        shape = (1 - math.exp(-om_w)) ** th + (1 - math.exp(-om_h)) ** th
        return 1 - iou + (dist + shape) / 2, fr
    if kind == "mpdiou":  # Ma & Xu 2023, eq. 4-5
        iw_, ih_ = kw["image_size"]
        d1 = (x1 - X1) ** 2 + (y1 - Y1) ** 2
        d2 = (x2 - X2) ** 2 + (y2 - Y2) ** 2
        return 1 - iou + (d1 + d2) / (iw_**2 + ih_**2), fr
    if kind == "wiou":  # Tong et al. 2023, eq. 2-3 (v1), 8-9 (v3)
        cc = fr.setdefault("c2", c2)
        v1 = math.exp(rho2 / cc) * (1 - iou)
        if kw.get("version", "v1") == "v1":
            return v1, fr
        beta = fr.setdefault("beta", (1 - iou) / kw["iou_mean"])
        if kw["version"] == "v2":
            return beta ** kw.get("gamma", 0.5) * v1, fr
        al, de = kw.get("alpha", 1.9), kw.get("delta", 3.0)
        return beta / (de * al ** (beta - de)) * v1, fr
    if kind == "alpha":  # He et al. 2021, eq. 6-8
        a, base = kw.get("alpha", 3.0), kw.get("base", "iou")
        pen = 0.0
        if base == "giou":
            pen = ((cw * ch - union) / (cw * ch)) ** a
        elif base in ("diou", "ciou", "eiou"):
            pen = (rho2 / c2) ** a
            if base == "ciou":
                v = 4 / math.pi**2 * (math.atan(W / H) - math.atan(w / h)) ** 2
                pen += (fr.setdefault("alpha", v / (1 - iou + v)) * v) ** a
            if base == "eiou":
                pen += ((w - W) ** 2 / cw**2) ** a + ((h - H) ** 2 / ch**2) ** a
        elif base == "siou":
            s, _ = ref(p, t, "siou")
            pen = (s - (1 - iou)) ** a
        return 1 - iou**a + pen, fr
    raise AssertionError(kind)


# (name in ioukit, ref kind, options for ioukit, options for ref)
CASES = [
    ("iou_loss", "iou", {}, {}),
    ("iou_loss", "iou", {"mode": "square"}, {"mode": "square"}),
    ("iou_loss", "iou", {"mode": "log"}, {"mode": "log"}),
    ("giou_loss", "giou", {}, {}),
    ("diou_loss", "diou", {}, {}),
    ("ciou_loss", "ciou", {}, {}),
    ("ciou_loss", "ciou_mmdet", {"alpha_mode": "mmdet"}, {}),
    ("eiou_loss", "eiou", {}, {}),
    ("focal_eiou_loss", "focal_eiou", {"gamma": 0.5}, {"gamma": 0.5}),
    ("siou_loss", "siou", {}, {}),
    ("siou_loss", "siou", {"theta": 2.0}, {"theta": 2.0}),
    ("mpdiou_loss", "mpdiou", {"image_size": (64, 48)}, {"image_size": (64, 48)}),
    ("wiou_loss", "wiou", {}, {}),
    ("wiou_loss", "wiou", {"version": "v2", "iou_mean": 0.6}, {"version": "v2", "iou_mean": 0.6}),
    ("wiou_loss", "wiou", {"version": "v3", "iou_mean": 0.6}, {"version": "v3", "iou_mean": 0.6}),
]
CASES += [
    ("alpha_iou_loss", "alpha", {"alpha": a, "base": b}, {"alpha": a, "base": b})
    for b in ("iou", "giou", "diou", "ciou", "eiou", "siou")
    for a in (3.0, 0.5)
]
IDS = [f"{c[0]}-{c[1]}-" + "-".join(f"{k}={v}" for k, v in c[2].items()) for c in CASES]
# Losses whose gradient treats a factor as a constant (so plain gradcheck of the
# value would disagree by design).
FROZEN = {"ciou", "ciou_mmdet", "wiou"}


def fn(name):
    return getattr(L, name)


def random_pairs(n, seed, overlap=True):
    """Generic (non-degenerate) pairs: positive sizes, partial overlaps and disjoint."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20, (n, 2))
    wh = rng.uniform(1, 10, (n, 2))
    p = np.concatenate([xy, xy + wh], 1)
    shift = rng.uniform(-6, 6, (n, 2)) if overlap else rng.uniform(15, 20, (n, 2))
    wh2 = wh * rng.uniform(0.5, 1.5, (n, 2))
    t = np.concatenate([xy + shift, xy + shift + wh2], 1)
    return p, t


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_match_paper_formulas(case):
    name, kind, opts, ropts = case
    p, t = random_pairs(40, 1)
    p2, t2 = random_pairs(10, 2, overlap=False)
    p, t = np.concatenate([p, p2]), np.concatenate([t, t2])
    got = fn(name)(torch.from_numpy(p), torch.from_numpy(t), reduction="none", **opts)
    want = []
    for a, b in zip(p, t):
        if kind == "iou" and ropts.get("mode") == "log" and ref(a, b, "iou")[0] == 1.0:
            want.append(-math.log(1e-7))  # IoU 0: clamped to eps (documented)
        else:
            want.append(ref(a, b, kind, **ropts)[0])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


# Hand-worked values.  p = [0,0,2,2], t = [1,0,3,2]: inter 2, union 6, IoU 1/3;
# centres (1,1) and (2,1): rho^2 = 1; enclosing [0,0,3,2]: C = 6, c^2 = 9 + 4 = 13.
# p = [0,0,2,2], q = [0,0,2,4]: inter 4, union 8, IoU 1/2; centres (1,1), (1,2):
# rho^2 = 1; enclosing [0,0,2,4]: c^2 = 4 + 16 = 20, cw = 2, ch = 4.
_P, _T, _Q = [0.0, 0, 2, 2], [1.0, 0, 3, 2], [0.0, 0, 2, 4]
_V = 4 / math.pi**2 * (math.atan(2 / 4) - math.atan(2 / 2)) ** 2  # = 0.0419564
HAND = [
    ("iou_loss", {}, _P, _T, 1 - 1 / 3),
    ("iou_loss", {"mode": "square"}, _P, _T, 1 - 1 / 9),
    ("iou_loss", {"mode": "log"}, _P, _T, math.log(3)),
    ("giou_loss", {}, _P, _T, 1 - 1 / 3 + 0.0),  # C = U = 6: no penalty
    ("giou_loss", {}, [0.0, 0, 1, 1], [2.0, 0, 3, 1], 1 + (3 - 2) / 3),  # disjoint, C = 3
    ("diou_loss", {}, _P, _T, 1 - 1 / 3 + 1 / 13),
    ("ciou_loss", {}, _P, _T, 1 - 1 / 3 + 1 / 13),  # equal aspect ratios: v = 0
    # v = 0.0419564, alpha = v / (1/2 + v) = 0.0774163; 1/2 + 1/20 + alpha v = 0.5532480
    ("ciou_loss", {}, _P, _Q, 0.5 + 1 / 20 + _V / (0.5 + _V) * _V),
    ("ciou_loss", {"alpha_mode": "mmdet"}, _P, _Q, 0.5 + 1 / 20),  # IoU = 0.5 is not > 0.5
    # EIoU: 1/2 + 1/20 + (2-2)^2/2^2 + (2-4)^2/4^2 = 0.8
    ("eiou_loss", {}, _P, _Q, 0.8),
    ("focal_eiou_loss", {"gamma": 0.5}, _P, _Q, math.sqrt(0.5) * 0.8),
    # SIoU, p vs t: dx = 1, dy = 0 -> angle cost 0, gamma = 2; rho_x = (1/3)^2,
    # rho_y = 0: Delta = 1 - e^(-2/9); same sizes: Omega = 0.
    ("siou_loss", {}, _P, _T, 1 - 1 / 3 + (1 - math.exp(-2 / 9)) / 2),
    # SIoU, p vs q: dx = 0, dy = 1 -> Lambda = 1 - 2 sin^2(pi/2 - pi/4) = 0, gamma = 2;
    # rho_y = (1/4)^2: Delta = 1 - e^(-1/8); omega_h = 2/4: Omega = (1 - e^-0.5)^4.
    ("siou_loss", {}, _P, _Q, 0.5 + (1 - math.exp(-1 / 8) + (1 - math.exp(-0.5)) ** 4) / 2),
    # SIoU at 45 degrees: p = [0,0,2,2], [1,1,3,3]: IoU 1/7, dx = dy = 1, Lambda = 1,
    # gamma = 1, enclosing 3 x 3: rho_x = rho_y = 1/9; Delta = 2 (1 - e^(-1/9)).
    ("siou_loss", {}, _P, [1.0, 1, 3, 3], 1 - 1 / 7 + (1 - math.exp(-1 / 9))),
    # MPDIoU: corners (0,0)-(1,0) and (2,2)-(3,2): d1^2 = d2^2 = 1; 100 + 100 = 200.
    ("mpdiou_loss", {"image_size": (10, 10)}, _P, _T, 1 - 1 / 3 + 2 / 200),
    ("wiou_loss", {}, _P, _T, math.exp(1 / 13) * (2 / 3)),
    # v3, mean 2/3: beta = 1, r = 1 / (3 * 1.9^(1 - 3)) = 1.9^2 / 3 = 1.20333
    (
        "wiou_loss",
        {"version": "v3", "iou_mean": 2 / 3},
        _P,
        _T,
        1.9**2 / 3 * math.exp(1 / 13) * 2 / 3,
    ),
    # v2, mean 1/3: beta = 2, sqrt(2) * v1
    (
        "wiou_loss",
        {"version": "v2", "iou_mean": 1 / 3},
        _P,
        _T,
        math.sqrt(2) * math.exp(1 / 13) * 2 / 3,
    ),
    ("alpha_iou_loss", {"alpha": 3.0}, _P, _T, 1 - (1 / 3) ** 3),
    ("alpha_iou_loss", {"alpha": 3.0, "base": "diou"}, _P, _T, 1 - (1 / 3) ** 3 + (1 / 13) ** 3),
    (
        "alpha_iou_loss",
        {"alpha": 2.0, "base": "eiou"},
        _P,
        _Q,
        1 - 0.25 + (1 / 20) ** 2 + (4 / 16) ** 2,
    ),
]


@pytest.mark.parametrize("name,opts,p,t,want", HAND)
def test_hand_worked_values(name, opts, p, t, want):
    got = fn(name)(
        torch.tensor([p], dtype=torch.float64), torch.tensor([t], dtype=torch.float64), **opts
    )
    assert got.item() == pytest.approx(want, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_identical_boxes_cost_zero(case):
    name, _, opts, _ = case
    b = torch.tensor([[1.0, 2.0, 5.0, 9.0], [0.0, 0.0, 3.0, 1.0]], dtype=torch.float64)
    assert fn(name)(b, b.clone(), reduction="sum", **opts).item() == pytest.approx(0.0, abs=1e-12)


MEASURES = [
    ("iou_loss", "iou", {}, {}),
    ("giou_loss", "giou", {}, {}),
    ("diou_loss", "diou", {}, {}),
    ("ciou_loss", "ciou", {}, {}),
    ("eiou_loss", "eiou", {}, {}),
    ("siou_loss", "siou", {"theta": 3.0}, {"theta": 3.0}),
    ("mpdiou_loss", "mpdiou", {"image_size": (40, 30)}, {"image_size": (40, 30)}),
] + [
    ("alpha_iou_loss", "alpha_iou", {"alpha": 3.0, "base": b}, {"alpha": 3.0, "base": b})
    for b in ("iou", "giou", "diou", "ciou")
]


@pytest.mark.parametrize("loss,measure,lopts,mopts", MEASURES)
def test_losses_equal_one_minus_boxes_measures(loss, measure, lopts, mopts):
    from ioukit import boxes

    p, t = random_pairs(40, 3)
    p2, t2 = random_pairs(10, 13, overlap=False)
    p = torch.from_numpy(np.concatenate([p, p2]))
    t = torch.from_numpy(np.concatenate([t, t2]))
    got = fn(loss)(p, t, reduction="none", **lopts)
    want = 1 - getattr(boxes, measure)(p, t, aligned=True, eps=1e-7, **mopts)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_formats(fmt):
    p, t = (torch.from_numpy(a) for a in random_pairs(20, 4))

    def conv(b):
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        if fmt == "xywh":
            return torch.stack([b[:, 0], b[:, 1], w, h], 1)
        return torch.stack([b[:, 0] + w / 2, b[:, 1] + h / 2, w, h], 1)

    for name in ("giou_loss", "ciou_loss", "siou_loss"):
        want = fn(name)(p, t, reduction="none")
        got = fn(name)(conv(p), conv(t), fmt=fmt, reduction="none")
        torch.testing.assert_close(got, want)


def test_reduction_and_weight():
    p, t = (torch.from_numpy(a) for a in random_pairs(30, 5))
    w = torch.linspace(0, 2, 30, dtype=torch.float64)
    per = L.diou_loss(p, t, reduction="none")
    assert per.shape == (30,)
    torch.testing.assert_close(L.diou_loss(p, t, reduction="sum", weight=w), (per * w).sum())
    torch.testing.assert_close(L.diou_loss(p, t, weight=w), (per * w).sum() / 30)
    # leading batch dimensions and broadcasting of target
    pb = p.reshape(5, 6, 4)
    assert L.giou_loss(pb, t[:6], reduction="none").shape == (5, 6)


def test_empty_input_mean_is_zero_and_differentiable():
    p = torch.zeros((0, 4), requires_grad=True)
    loss = L.ciou_loss(p, torch.zeros((0, 4)))
    loss.backward()
    assert loss.item() == 0.0 and p.grad.shape == (0, 4)


# --------------------------------------------------------------------------- gradients


def _grad(name, opts, p, t):
    x = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    fn(name)(x[None], torch.tensor([t], dtype=torch.float64), reduction="sum", **opts).backward()
    return x.grad.numpy()


def _numgrad(f, x, h=1e-6):
    g = np.zeros(4)
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_generic_points(case):
    name, kind, opts, ropts = case
    p, t = random_pairs(12, 6)
    pt = torch.from_numpy(p).requires_grad_(True)
    tt = torch.from_numpy(t)
    if kind in FROZEN or (kind == "alpha" and ropts["base"] == "ciou"):
        # Autograd differentiates the loss with the documented factor held
        # constant: compare with central differences of ref() with that factor
        # frozen at the base point.
        for a, b in zip(p, t):
            _, fr = ref(a, b, kind, **ropts)
            want = _numgrad(lambda x, b=b, fr=fr: ref(x, b, kind, frozen=fr, **ropts)[0], a)
            np.testing.assert_allclose(_grad(name, opts, list(a), list(b)), want, atol=1e-6)
    else:
        f = lambda x: fn(name)(x, tt, reduction="none", **opts)  # noqa: E731
        assert torch.autograd.gradcheck(f, (pt,), eps=1e-6, atol=1e-6)


DEGENERATE = {
    "identical": ([1.0, 2.0, 5.0, 7.0], [1.0, 2.0, 5.0, 7.0]),
    "zero-width-pred": ([3.0, 3.0, 3.0, 8.0], [2.0, 2.0, 6.0, 6.0]),
    "zero-height-both": ([0.0, 1.0, 4.0, 1.0], [1.0, 1.0, 5.0, 1.0]),
    "point-boxes": ([2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0]),
    "far-apart": ([0.0, 0.0, 1.0, 1.0], [9000.0, 9000.0, 9002.0, 9003.0]),
    "same-centre": ([0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0]),
    "ciou-h0": ([0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 4.0, 4.0]),
    "touching": ([0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0]),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_finite_at_degenerate_points(case, dtype):
    name, _, opts, _ = case
    p = torch.tensor([v[0] for v in DEGENERATE.values()], dtype=dtype, requires_grad=True)
    t = torch.tensor([v[1] for v in DEGENERATE.values()], dtype=dtype)
    loss = fn(name)(p, t, reduction="none", **opts)
    assert loss.dtype == dtype
    bad = [k for k, ok in zip(DEGENERATE, torch.isfinite(loss.float())) if not ok]
    assert not bad, f"non-finite value at {bad}"
    loss.sum().backward()
    bad = [k for k, ok in zip(DEGENERATE, torch.isfinite(p.grad.float()).all(1)) if not ok]
    assert not bad, f"non-finite gradient at {bad}"


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_finite_on_integer_grid_boxes(seed):
    # Coordinates on a 0..3 grid make ties, zero sizes, nested, touching and
    # identical boxes and coincident centres common: every kink of min/max/abs
    # and every guarded division gets hit.
    rng = np.random.default_rng(seed)
    a = np.sort(rng.integers(0, 4, (64, 2, 2)), axis=1)  # x1 <= x2, y1 <= y2
    b = np.sort(rng.integers(0, 4, (64, 2, 2)), axis=1)
    p0 = a.transpose(0, 2, 1).reshape(64, 4)[:, [0, 2, 1, 3]]
    t0 = b.transpose(0, 2, 1).reshape(64, 4)[:, [0, 2, 1, 3]]
    for name, _, opts, _ in CASES:
        p = torch.tensor(p0, dtype=torch.float32, requires_grad=True)
        t = torch.tensor(t0, dtype=torch.float32, requires_grad=True)
        loss = fn(name)(p, t, reduction="none", **opts)
        loss.sum().backward()
        rows = (
            (~torch.isfinite(loss))
            | ~torch.isfinite(p.grad).all(1)
            | ~torch.isfinite(t.grad).all(1)
        )
        assert not rows.any(), (name, opts, p0[rows.numpy()], t0[rows.numpy()])


def test_half_precision_close_to_float32():
    p, t = (torch.from_numpy(a).float() * 20 for a in random_pairs(50, 7))  # areas > 65504
    for name in ("giou_loss", "ciou_loss", "eiou_loss"):
        want = fn(name)(p, t, reduction="none")
        got = fn(name)(p.half(), t.half(), reduction="none")
        torch.testing.assert_close(got.float(), want, atol=5e-3, rtol=5e-3)


def test_iou_gives_no_gradient_for_disjoint_boxes_but_giou_does():
    p = torch.tensor([[0.0, 0.0, 1.0, 1.0]], requires_grad=True)
    t = torch.tensor([[3.0, 0.0, 4.0, 1.0]])
    L.iou_loss(p, t).backward()
    assert torch.all(p.grad == 0)
    p.grad = None
    L.giou_loss(p, t).backward()
    # GIoU pulls the right edge towards the target: (C - U)/C = (4 - 2)/4 falls as x2 grows.
    assert p.grad[0, 2] < 0


# --------------------------------------------------------------------------- properties


_coord = st.floats(-100, 100, allow_nan=False, width=64)
_size = st.floats(0.5, 50, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None)
@given(_coord, _coord, _size, _size, _coord, _coord, _size, _size, st.floats(0.1, 10), _coord)
def test_translation_and_scale_invariance(x, y, w, h, X, Y, W, H, s, d):
    p = torch.tensor([[x, y, x + w, y + h]], dtype=torch.float64)
    t = torch.tensor([[X, Y, X + W, Y + H]], dtype=torch.float64)
    # upper bounds: 1 - IoU <= 1; each penalty ratio < 1 (EIoU has three, SIoU's
    # (Delta + Omega) / 2 < 2, CIoU's alpha v <= 1)
    bounds = {"iou": 1, "giou": 2, "diou": 2, "ciou": 3, "eiou": 4, "siou": 3}
    for short, bound in bounds.items():
        name = f"{short}_loss"
        base = fn(name)(p, t).item()
        assert 0.0 <= base <= bound
        assert fn(name)(p * s + d, t * s + d).item() == pytest.approx(base, rel=1e-7, abs=1e-9)


# --------------------------------------------------------------------------- JAX, NumPy


# one case per loss and option family (JAX's eager grad is slow per case)
JAX_CASES = [c for i, c in enumerate(CASES) if c[0] != "alpha_iou_loss" or c[2]["alpha"] == 3.0]
JAX_CASES = [c for c in JAX_CASES if c[2].get("theta") != 2.0 and c[2].get("mode") != "square"]


@pytest.mark.parametrize("case", JAX_CASES, ids=[IDS[CASES.index(c)] for c in JAX_CASES])
def test_jax_grad_matches_torch(case):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    name, _, opts, _ = case
    p, t = random_pairs(16, 8)
    f = functools.partial(fn(name), target=jnp.asarray(t, jnp.float32), reduction="sum", **opts)
    gj = jax.grad(f)(jnp.asarray(p, jnp.float32))
    x = torch.from_numpy(p).requires_grad_(True)
    fn(name)(x, torch.from_numpy(t), reduction="sum", **opts).backward()
    np.testing.assert_allclose(np.asarray(gj), x.grad.numpy(), atol=2e-4, rtol=2e-3)


def test_jax_jit_and_degenerate_grad_finite():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    p = jnp.asarray([v[0] for v in DEGENERATE.values()])
    t = jnp.asarray([v[1] for v in DEGENERATE.values()])
    for name in ("ciou_loss", "siou_loss", "wiou_loss", "alpha_iou_loss", "focal_eiou_loss"):
        g = jax.jit(jax.grad(lambda x, name=name: fn(name)(x, t, reduction="sum")))(p)
        assert bool(jnp.isfinite(g).all()), name


def test_numpy_values():
    p, t = random_pairs(10, 9)
    np.testing.assert_allclose(
        L.giou_loss(p, t, reduction="none"),
        L.giou_loss(torch.from_numpy(p), torch.from_numpy(t), reduction="none").numpy(),
    )
    assert isinstance(L.diou_loss(p.tolist(), t.tolist(), reduction="none"), np.ndarray)


# --------------------------------------------------------------------------- modules


def test_modules_match_functions():
    p, t = (torch.from_numpy(a) for a in random_pairs(20, 10))
    w = torch.rand(20, dtype=torch.float64)
    pairs = [
        (L.IoULoss("log"), lambda: L.iou_loss(p, t, mode="log", weight=w)),
        (L.GIoULoss(), lambda: L.giou_loss(p, t, weight=w)),
        (L.DIoULoss(reduction="sum"), lambda: L.diou_loss(p, t, reduction="sum", weight=w)),
        (L.CIoULoss("mmdet"), lambda: L.ciou_loss(p, t, alpha_mode="mmdet", weight=w)),
        (L.EIoULoss(), lambda: L.eiou_loss(p, t, weight=w)),
        (L.FocalEIoULoss(0.7), lambda: L.focal_eiou_loss(p, t, gamma=0.7, weight=w)),
        (L.SIoULoss(3.0), lambda: L.siou_loss(p, t, theta=3.0, weight=w)),
        (
            L.AlphaIoULoss(2.0, "giou"),
            lambda: L.alpha_iou_loss(p, t, alpha=2.0, base="giou", weight=w),
        ),
        (L.MPDIoULoss((32, 32)), lambda: L.mpdiou_loss(p, t, image_size=(32, 32), weight=w)),
        (L.WIoULoss("v1"), lambda: L.wiou_loss(p, t, weight=w)),
    ]
    for mod, f in pairs:
        torch.testing.assert_close(mod(p, t, w), f(), msg=repr(mod))


def test_wiou_v3_running_mean_is_module_state():
    p, t = (torch.from_numpy(a) for a in random_pairs(20, 11))
    a, b = L.WIoULoss("v3", momentum=0.1), L.WIoULoss("v3", momentum=0.1)
    batch_mean = L.iou_loss(p, t).item()
    out = a(p, t)
    # mean <- 0.9 * 1 + 0.1 * batch mean, then used by the loss
    expect_mean = 0.9 * 1.0 + 0.1 * batch_mean
    assert a.iou_mean.item() == pytest.approx(expect_mean, rel=1e-6)
    torch.testing.assert_close(out, L.wiou_loss(p, t, version="v3", iou_mean=a.iou_mean))
    assert b.iou_mean.item() == 1.0  # another instance is untouched: no global state
    a.eval()
    a(p, t)
    assert a.iou_mean.item() == pytest.approx(expect_mean, rel=1e-6)  # eval: read only
    assert "iou_mean" in a.state_dict()


# --------------------------------------------------------------------------- errors


def test_errors_name_the_problem():
    p = torch.zeros((3, 4))
    with pytest.raises(InvalidFormatError, match="xyzw"):
        L.giou_loss(p, p, fmt="xyzw")
    with pytest.raises(ShapeMismatchError, match=r"\(3, 5\)"):
        L.giou_loss(torch.zeros((3, 5)), p)
    with pytest.raises(ShapeMismatchError, match="do not broadcast"):
        L.giou_loss(p, torch.zeros((2, 4)))
    with pytest.raises(ShapeMismatchError, match="weight shape"):
        L.giou_loss(p, p, weight=torch.ones(2))
    with pytest.raises(InvalidParameterError, match="reduction='avg'"):
        L.giou_loss(p, p, reduction="avg")
    with pytest.raises(InvalidParameterError, match="mode='cube'"):
        L.iou_loss(p, p, mode="cube")
    with pytest.raises(InvalidParameterError, match="alpha_mode"):
        L.ciou_loss(p, p, alpha_mode="x")
    with pytest.raises(InvalidParameterError, match="iou_mean"):
        L.wiou_loss(p, p, version="v3")
    with pytest.raises(InvalidParameterError, match="gamma=-1"):
        L.focal_eiou_loss(p, p, gamma=-1)
    with pytest.raises(InvalidParameterError, match="base='foo'"):
        L.alpha_iou_loss(p, p, base="foo")
    with pytest.raises(InvalidParameterError, match="image_size"):
        L.mpdiou_loss(p, p, image_size=(0, 5))
    with pytest.raises(InvalidParameterError, match="momentum"):
        L.WIoULoss(momentum=0.0)
    with pytest.raises(BackendError):
        L.giou_loss(p, np.zeros((3, 4)))
