"""3-D IoU / GIoU losses: values equal 1 - ioukit.boxes3d's exact measures, gradients by
torch.autograd.gradcheck (finite differences)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ioukit import boxes3d, losses  # noqa: E402
from ioukit.errors import InvalidFormatError, ShapeMismatchError  # noqa: E402


def _pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = np.concatenate(
        [rng.uniform(-1, 1, (n, 3)), rng.uniform(0.5, 3, (n, 3)), rng.uniform(-3, 3, (n, 1))], 1
    )
    b = np.concatenate(
        [rng.uniform(-1, 1, (n, 3)), rng.uniform(0.5, 3, (n, 3)), rng.uniform(-3, 3, (n, 1))], 1
    )
    return a, b


@pytest.mark.parametrize(
    "loss, measure", [(losses.iou3d_loss, boxes3d.iou), (losses.giou3d_loss, boxes3d.giou)]
)
def test_values_equal_one_minus_the_exact_measure(loss, measure):
    a, b = _pairs(1, 400)
    got = loss(torch.tensor(a), torch.tensor(b), reduction="none", eps=0.0).numpy()
    np.testing.assert_allclose(got, 1 - measure(a, b, aligned=True), atol=1e-9, rtol=0)
    # axis-aligned
    lo = a[:, :3]
    aa = np.concatenate([lo, lo + a[:, 3:6]], 1)
    bb = np.concatenate([b[:, :3], b[:, :3] + b[:, 3:6]], 1)
    got = loss(torch.tensor(aa), torch.tensor(bb), fmt="xyzxyz", reduction="none", eps=0.0).numpy()
    np.testing.assert_allclose(got, 1 - measure(aa, bb, fmt="xyzxyz", aligned=True), atol=1e-12)


def test_hand_cases_and_degenerate():
    a = torch.tensor([[0.0, 0, 0, 2, 2, 2, 0]], dtype=torch.float64)
    assert float(losses.iou3d_loss(a, a)) == pytest.approx(0.0, abs=1e-12)
    assert float(losses.giou3d_loss(a, a)) == pytest.approx(0.0, abs=1e-12)
    far = torch.tensor([[100.0, 0, 0, 2, 2, 2, 0]], dtype=torch.float64)
    assert 1.9 < float(losses.giou3d_loss(a, far)) < 2.0
    # identical boxes: a finite gradient
    p = a.clone().requires_grad_(True)
    losses.giou3d_loss(p, a).backward()
    assert torch.isfinite(p.grad).all()


@pytest.mark.parametrize("loss", [losses.iou3d_loss, losses.giou3d_loss])
def test_gradcheck(loss):
    a, b = _pairs(7, 6)
    b[:, :3] = a[:, :3] + 0.3 * (b[:, :3] - a[:, :3])  # overlapping, generic positions
    p = torch.tensor(a, requires_grad=True)
    t = torch.tensor(b)
    assert torch.autograd.gradcheck(
        lambda x: loss(x, t, reduction="none"), (p,), eps=1e-6, atol=1e-5
    )
    pa = torch.tensor(np.concatenate([a[:, :3], a[:, :3] + a[:, 3:6]], 1), requires_grad=True)
    ta = torch.tensor(np.concatenate([b[:, :3], b[:, :3] + b[:, 3:6]], 1))
    assert torch.autograd.gradcheck(
        lambda x: loss(x, ta, fmt="xyzxyz", reduction="none"), (pa,), eps=1e-6, atol=1e-5
    )


def test_reductions_weights_and_errors():
    a, b = _pairs(3, 5)
    ta, tb = torch.tensor(a), torch.tensor(b)
    per = losses.iou3d_loss(ta, tb, reduction="none")
    w = torch.arange(5, dtype=torch.float64)
    assert float(losses.iou3d_loss(ta, tb, weight=w, reduction="sum")) == pytest.approx(
        float((per * w).sum())
    )
    assert float(losses.iou3d_loss(ta, tb)) == pytest.approx(float(per.mean()))
    with pytest.raises(InvalidFormatError):
        losses.iou3d_loss(ta, tb, fmt="corners")
    with pytest.raises(ShapeMismatchError):
        losses.iou3d_loss(ta, tb[:, :6])
