"""ioukit.losses in use: optimisation from a disjoint start, anchor deltas, ranking score.

Oracles: the optimisation's end point (IoU with the target, measured by
ioukit.boxes.iou) and exact zero gradients where a loss has no signal;
hand-worked deltas; invariance properties checked with hypothesis.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import losses as L
from ioukit.boxes import iou as box_iou
from ioukit.errors import InvalidParameterError, ShapeMismatchError

# --------------------------------------------------------------------------- optimisation

ANCHOR = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
TARGET = torch.tensor([[5.0, 3.0, 9.0, 6.0]])  # disjoint from the anchor: IoU 0

CONVERGING = {
    "giou": (L.giou_loss, {}),
    "diou": (L.diou_loss, {}),
    "ciou": (L.ciou_loss, {}),
    "ciou-mmdet": (L.ciou_loss, {"alpha_mode": "mmdet"}),
    "eiou": (L.eiou_loss, {}),
    "siou": (L.siou_loss, {}),
    "mpdiou": (L.mpdiou_loss, {"image_size": (16, 16)}),
    "alpha-giou": (L.alpha_iou_loss, {"base": "giou"}),
    "alpha-ciou": (L.alpha_iou_loss, {"base": "ciou"}),
    "wiou-v1": (L.wiou_loss, {}),
}
# IoU is 0 on a whole neighbourhood of a disjoint pair, so these have no gradient.
NO_SIGNAL = {
    "iou": (L.iou_loss, {}),
    "iou-square": (L.iou_loss, {"mode": "square"}),
    "iou-log": (L.iou_loss, {"mode": "log"}),
    "alpha-iou": (L.alpha_iou_loss, {}),
    "focal-eiou": (L.focal_eiou_loss, {}),
}


def _optimise(loss_fn, opts, steps=200):
    # The box is parameterised by deltas from the anchor, so it stays a valid box.
    d = torch.zeros(1, 4, requires_grad=True)
    opt = torch.optim.Adam([d], lr=0.05)
    first_grad = None
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(L.decode_deltas(d, ANCHOR), TARGET, **opts).backward()
        if first_grad is None:
            first_grad = d.grad.clone()
        opt.step()
    return L.decode_deltas(d, ANCHOR).detach(), first_grad


@pytest.mark.parametrize("name", list(CONVERGING))
def test_200_steps_from_disjoint_start_converge(name):
    box, g0 = _optimise(*CONVERGING[name])
    assert torch.any(g0 != 0)
    assert box_iou(box, TARGET, aligned=True).item() > 0.9, box


@pytest.mark.parametrize("name", list(NO_SIGNAL))
def test_plain_iou_gives_no_signal_from_disjoint_start(name):
    box, g0 = _optimise(*NO_SIGNAL[name])
    assert torch.all(g0 == 0)
    torch.testing.assert_close(box, ANCHOR)  # never moved: IoU stays 0
    assert box_iou(box, TARGET, aligned=True).item() == 0.0


# --------------------------------------------------------------------------- deltas


def test_encode_hand_worked():
    # anchor centre (5, 10), size 10 x 20; box centre (15, 5), size 20 x 5:
    # dx = (15 - 5) / 10 = 1, dy = (5 - 10) / 20 = -0.25, dw = ln 2, dh = ln(1/4)
    anchor = torch.tensor([[0.0, 0.0, 10.0, 20.0]], dtype=torch.float64)
    box = torch.tensor([[5.0, 2.5, 25.0, 7.5]], dtype=torch.float64)
    want = torch.tensor([[1.0, -0.25, math.log(2), math.log(0.25)]], dtype=torch.float64)
    torch.testing.assert_close(L.encode_deltas(box, anchor), want)
    w = (10.0, 10.0, 5.0, 5.0)
    torch.testing.assert_close(L.encode_deltas(box, anchor, weights=w), want * torch.tensor(w))
    torch.testing.assert_close(L.decode_deltas(want, anchor), box)


_c = st.floats(-500, 500, allow_nan=False)
_s = st.floats(0.5, 300, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    _c,
    _c,
    _s,
    _s,
    _c,
    _c,
    _s,
    _s,
    st.floats(0.01, 100),
    _c,
    st.sampled_from(["xyxy", "xywh", "cxcywh"]),
)
def test_deltas_round_trip_and_invariance(x, y, w, h, X, Y, W, H, s, d, fmt):
    if fmt == "xyxy":
        box, anc = np.array([[x, y, x + w, y + h]]), np.array([[X, Y, X + W, Y + H]])
    else:
        box, anc = np.array([[x, y, w, h]]), np.array([[X, Y, W, H]])
    wts = (10.0, 10.0, 5.0, 5.0)
    enc = L.encode_deltas(box, anc, fmt=fmt, weights=wts)
    np.testing.assert_allclose(
        # size ratios here reach 600, beyond the default clamp of 62.5
        L.decode_deltas(enc, anc, fmt=fmt, weights=wts, max_log_ratio=50.0),
        box,
        atol=1e-8,
        rtol=1e-9,
    )
    # translation and scale: transform both boxes; the deltas do not change
    shift = np.array([[d, d, 0, 0]]) if fmt != "xyxy" else d
    enc2 = L.encode_deltas(box * s + shift, anc * s + shift, fmt=fmt, weights=wts)
    np.testing.assert_allclose(enc2, enc, atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize("scale", [0.01, 1.0, 300.0])
def test_gradient_wrt_log_size_does_not_depend_on_object_size(scale):
    # The same relative mistake on a tiny or a huge object: the gradient of an
    # IoU loss with respect to the (dx, dy, ln w, ln h) deltas is identical.
    anchor = torch.tensor([[1.0, 2.0, 4.0, 8.0]], dtype=torch.float64)
    target = torch.tensor([[1.5, 2.5, 5.0, 7.0]], dtype=torch.float64)
    d = torch.tensor([[0.1, -0.2, 0.3, 0.1]], dtype=torch.float64, requires_grad=True)
    L.ciou_loss(L.decode_deltas(d, anchor * scale), target * scale).backward()
    ref = torch.tensor([[0.1, -0.2, 0.3, 0.1]], dtype=torch.float64, requires_grad=True)
    L.ciou_loss(L.decode_deltas(ref, anchor), target).backward()
    torch.testing.assert_close(d.grad, ref.grad, rtol=1e-9, atol=1e-12)
    # ...whereas the gradient with respect to the raw width scales as 1 / size.
    wbox = (anchor * scale).clone().requires_grad_(True)
    L.ciou_loss(wbox, target * scale).backward()
    wref = anchor.clone().requires_grad_(True)
    L.ciou_loss(wref, target).backward()
    torch.testing.assert_close(wbox.grad * scale, wref.grad, rtol=1e-9, atol=1e-12)


def test_decode_clamps_and_encode_zero_size_finite():
    anchor = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    boxes = L.decode_deltas(torch.tensor([[0.0, 0.0, 1e4, 1e4]]), anchor)
    assert torch.isfinite(boxes).all()
    # clamp at ln(1000 / 16): at most 62.5 times the anchor
    assert boxes[0, 2] - boxes[0, 0] == pytest.approx(625.0, rel=1e-5)
    d = L.encode_deltas(torch.tensor([[3.0, 3.0, 3.0, 8.0]]), anchor)
    assert torch.isfinite(d).all()


def test_deltas_jax():
    jnp = pytest.importorskip("jax.numpy")
    a = jnp.asarray([[0.0, 0.0, 4.0, 4.0]])
    b = jnp.asarray([[1.0, 1.0, 5.0, 3.0]])
    np.testing.assert_allclose(L.decode_deltas(L.encode_deltas(b, a), a), b, rtol=1e-6)


def test_deltas_errors():
    with pytest.raises(ShapeMismatchError, match=r"\(1, 3\)"):
        L.encode_deltas(np.zeros((1, 3)), np.zeros((1, 4)))
    with pytest.raises(InvalidParameterError, match="weights"):
        L.decode_deltas(np.zeros((1, 4)), np.zeros((1, 4)), weights=(1, 1, 0, 1))
    with pytest.raises(InvalidParameterError, match="fmt"):
        L.encode_deltas(np.zeros((1, 4)), np.zeros((1, 4)), fmt="xyzw")


# --------------------------------------------------------------------------- ranking


def test_iou_aware_score():
    p = torch.tensor([0.9, 0.5, 0.0])
    q = torch.tensor([0.4, 0.9, 0.7])
    torch.testing.assert_close(L.iou_aware_score(p, q), torch.tensor([0.36, 0.45, 0.0]))
    # alpha = 0.25: 0.9^0.25 * 0.4^0.75 = 0.97400 * 0.50297 = 0.48990
    got = L.iou_aware_score(p, q, alpha=0.25)
    assert got[0].item() == pytest.approx(0.9**0.25 * 0.4**0.75, rel=1e-6)
    torch.testing.assert_close(L.iou_aware_score(p, q, alpha=1.0), p)  # alpha = 1: p alone
    torch.testing.assert_close(L.iou_aware_score(p, q, alpha=0.0), q)  # alpha = 0: q alone
    # TOOD alignment metric t = s^1 u^6
    torch.testing.assert_close(L.iou_aware_score(p, q, alpha=1.0, beta=6.0), p * q**6)
    # the ranking changes: by p alone the first detection wins, by p*q the second
    assert torch.argmax(p) == 0 and torch.argmax(L.iou_aware_score(p, q)) == 1


def test_iou_aware_score_errors():
    p = np.array([0.5])
    with pytest.raises(InvalidParameterError, match="alpha=1.5"):
        L.iou_aware_score(p, p, alpha=1.5)
    with pytest.raises(InvalidParameterError, match="beta"):
        L.iou_aware_score(p, p, beta=2.0)
    with pytest.raises(ShapeMismatchError, match="do not broadcast"):
        L.iou_aware_score(np.zeros(3), np.zeros(2))


def test_focal_iou_weight():
    iou = torch.tensor([0.0, 0.5, 0.9, 1.0], requires_grad=True)
    w = L.focal_iou_weight(iou, gamma=0.5)
    # (1 - IoU)^0.5: 1, sqrt(0.5), sqrt(0.1), 0
    torch.testing.assert_close(
        w, torch.tensor([1.0, 0.5**0.5, 0.1**0.5, 0.0]), rtol=1e-6, atol=1e-6
    )
    w.sum().backward()
    assert torch.isfinite(iou.grad).all()  # infinite derivative at IoU = 1 guarded
    # d/dIoU (1 - IoU)^0.5 = -0.5 (1 - IoU)^-0.5 = -0.5 / sqrt(0.5) at IoU = 0.5
    assert iou.grad[1].item() == pytest.approx(-0.5 / 0.5**0.5, rel=1e-5)
