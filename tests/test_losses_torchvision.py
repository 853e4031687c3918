"""Parity of ioukit.losses with torchvision's box losses and BoxCoder.

torchvision is optional: this module is skipped with a reason when it is absent
(the benchmark environment .bench-venv has it). Oracle: torchvision.ops'
generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss and
torchvision.models.detection._utils.BoxCoder.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ioukit import losses as L

tv_ops = pytest.importorskip(
    "torchvision.ops", reason="torchvision is not installed (optional test oracle)"
)

PAIRS = [
    (L.giou_loss, tv_ops.generalized_box_iou_loss),
    (L.diou_loss, tv_ops.distance_box_iou_loss),
    (L.ciou_loss, tv_ops.complete_box_iou_loss),
]


def _boxes(n, seed, dtype):
    # pixel-sized boxes: torchvision adds eps = 1e-7 to its denominators, we
    # threshold with it, so the two agree to ~eps / area
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2, 2))
    wh = rng.uniform(1, 60, (n, 2, 2))
    b = np.concatenate([xy, xy + wh], -1)
    b[: n // 4, 1] = b[: n // 4, 0] + rng.uniform(-3, 3, (n // 4, 4))  # near-identical
    b[: n // 4, 1, 2:] = np.maximum(b[: n // 4, 1, 2:], b[: n // 4, 1, :2] + 0.5)
    return (torch.tensor(b[:, 0], dtype=dtype), torch.tensor(b[:, 1], dtype=dtype))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("ours,theirs", PAIRS, ids=["giou", "diou", "ciou"])
def test_values_and_gradients_match_torchvision(ours, theirs, reduction):
    for dtype, tol in ((torch.float64, 1e-6), (torch.float32, 1e-5)):
        p, t = _boxes(2000, 0, dtype)
        p1, p2 = p.clone().requires_grad_(True), p.clone().requires_grad_(True)
        t1, t2 = t.clone().requires_grad_(True), t.clone().requires_grad_(True)
        a = ours(p1, t1, reduction=reduction)
        b = theirs(p2, t2, reduction=reduction)
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)
        g = torch.randn_like(a)
        (a * g).sum().backward()
        (b * g).sum().backward()
        # the gradient reaches the target too (both treat boxes symmetrically)
        torch.testing.assert_close(p1.grad, p2.grad, atol=tol, rtol=tol)
        torch.testing.assert_close(t1.grad, t2.grad, atol=tol, rtol=tol)


def test_zero_height_matches_torchvision_value_with_finite_gradient():
    # h = 0: torchvision's atan(w / h) = atan(inf) = pi/2 gives the same value;
    # ioukit's atan2 form also keeps the gradient finite there.
    p = torch.tensor([[0.0, 0.0, 4.0, 0.0]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[0.0, 0.0, 4.0, 4.0]], dtype=torch.float64)
    ours = L.ciou_loss(p, t)
    ours.backward()
    torch.testing.assert_close(ours, tv_ops.complete_box_iou_loss(p.detach(), t, reduction="mean"))
    assert torch.isfinite(p.grad).all()


def test_deltas_match_torchvision_boxcoder():
    from torchvision.models.detection._utils import BoxCoder

    wts = (10.0, 10.0, 5.0, 5.0)
    coder = BoxCoder(wts)
    anchors, boxes = _boxes(500, 1, torch.float64)
    torch.testing.assert_close(
        L.encode_deltas(boxes, anchors, weights=wts), coder.encode_single(boxes, anchors)
    )
    deltas = torch.randn(500, 4, dtype=torch.float64)
    torch.testing.assert_close(
        L.decode_deltas(deltas, anchors, weights=wts), coder.decode_single(deltas, anchors)
    )
