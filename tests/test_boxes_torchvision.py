"""ioukit.boxes against torchvision.ops (runs where torchvision is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from ioukit import boxes

torch = pytest.importorskip("torch")
tv_ops = pytest.importorskip("torchvision.ops", reason="torchvision is not installed")


def random_boxes(rng, n):
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(1, 60, (n, 2))
    return torch.tensor(np.concatenate([xy, xy + wh], 1))


@pytest.mark.parametrize(
    ("ours", "theirs", "tol"),
    [
        ("iou", "box_iou", 1e-12),
        ("giou", "generalized_box_iou", 1e-12),
        # torchvision adds eps = 1e-7 to c^2 and to CIoU's alpha denominator
        ("diou", "distance_box_iou", 1e-7),
        ("ciou", "complete_box_iou", 1e-7),
    ],
)
def test_matches_torchvision_on_proper_boxes(ours, theirs, tol):
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 40), random_boxes(rng, 30)
    b[:5] = a[:5]
    np.testing.assert_allclose(
        getattr(boxes, ours)(a, b).numpy(), getattr(tv_ops, theirs)(a, b).numpy(), atol=tol
    )
    np.testing.assert_allclose(
        boxes.iou(a.numpy(), b.numpy()), tv_ops.box_iou(a, b).numpy(), atol=1e-12
    )


def test_zero_union_is_zero_here_nan_there():
    z = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    assert torch.isnan(tv_ops.box_iou(z, z)).all()
    assert boxes.iou(z, z).item() == 0.0
