"""IoU-family losses for training box regressors, with stable gradients.

Functions (any array-API library: PyTorch on CPU/CUDA with autograd, JAX with
``jax.grad``, NumPy for values), all with the arguments
``(pred, target, *, fmt="xyxy", reduction="mean", weight=None, eps=1e-7)``:

- :func:`iou_loss` (modes ``linear``, ``square``, ``log`` = UnitBox),
  :func:`giou_loss`, :func:`diou_loss`, :func:`ciou_loss`, :func:`eiou_loss`,
  :func:`focal_eiou_loss`, :func:`siou_loss`, :func:`alpha_iou_loss`,
  :func:`wiou_loss`, :func:`mpdiou_loss`;
- :func:`focal_iou_weight`: the ``(1 - IoU)**gamma`` re-weighting;
- :func:`encode_deltas` / :func:`decode_deltas`: (dx, dy, ln w, ln h) relative
  to anchors; :func:`encode_distances` / :func:`decode_distances`: (l, t, r, b)
  from points (FCOS / GFL);
- :func:`iou_aware_score`: ``p * q`` ranking score (or ``p**a q**(1 - a)``).

``torch.nn.Module`` wrappers (``IoULoss``, ``GIoULoss``, ..., ``WIoULoss`` with
its running mean as a buffer) are loaded on first access, so importing this
package does not import torch.

Each loss equals ``1 -`` the matching :mod:`ioukit.boxes` measure plus the extra
terms its docstring names; both are built from :mod:`ioukit.boxes._terms`.

Rotated boxes ``(cx, cy, w, h, angle)`` (angle counter-clockwise, radians), as
2-D Gaussians: :func:`probiou_loss` (Hellinger / Bhattacharyya distance, Llerena
et al. 2021), :func:`kld_loss` and :func:`gwd_loss` (Kullback-Leibler divergence
and Gaussian Wasserstein distance, Yang et al. 2021, mmrotate's options) and
:func:`kfiou_loss` (Yang et al. 2022), with ``ProbIoULoss``, ``KLDLoss``,
``GWDLoss``, ``KFIoULoss`` modules; they take ``(pred, target, *, angle,
reduction, weight, eps)`` and their own options (:mod:`._rotated`).

Example
-------
>>> import torch
>>> from ioukit import losses
>>> pred = torch.tensor([[0.0, 0.0, 2.0, 2.0]], requires_grad=True)
>>> loss = losses.giou_loss(pred, torch.tensor([[1.0, 0.0, 3.0, 2.0]]))
>>> loss.backward()
>>> bool(torch.isfinite(pred.grad).all())
True
"""

from __future__ import annotations

from typing import Any

from ._boxes3d import giou3d_loss, iou3d_loss  # 3-D boxes (xyzxyz, xyzlwhyaw)
from ._deltas import decode_deltas, encode_deltas
from ._distances import decode_distances, encode_distances
from ._functional import (
    alpha_iou_loss,
    ciou_loss,
    diou_loss,
    eiou_loss,
    focal_eiou_loss,
    focal_iou_weight,
    giou_loss,
    iou_loss,
    mpdiou_loss,
    siou_loss,
    wiou_loss,
)
from ._ranking import iou_aware_score
from ._rotated import gwd_loss, kfiou_loss, kld_loss, probiou_loss

_MODULES = (
    "IoULoss",
    "GIoULoss",
    "DIoULoss",
    "CIoULoss",
    "EIoULoss",
    "FocalEIoULoss",
    "SIoULoss",
    "AlphaIoULoss",
    "WIoULoss",
    "MPDIoULoss",
)
_ROTATED_MODULES = ("ProbIoULoss", "KLDLoss", "GWDLoss", "KFIoULoss")

__all__ = [
    "iou3d_loss",
    "giou3d_loss",
    "iou_loss",
    "giou_loss",
    "diou_loss",
    "ciou_loss",
    "eiou_loss",
    "focal_eiou_loss",
    "siou_loss",
    "alpha_iou_loss",
    "wiou_loss",
    "mpdiou_loss",
    "focal_iou_weight",
    "encode_deltas",
    "decode_deltas",
    "encode_distances",
    "decode_distances",
    "iou_aware_score",
    "probiou_loss",
    "kld_loss",
    "gwd_loss",
    "kfiou_loss",
    *_MODULES,
    *_ROTATED_MODULES,
]


def __getattr__(name: str) -> Any:
    # The nn.Module wrappers need torch; import it only when one is asked for.
    if name in _MODULES:
        from . import _modules

        return getattr(_modules, name)
    if name in _ROTATED_MODULES:
        from . import _rotated_modules

        return getattr(_rotated_modules, name)
    raise AttributeError(f"module 'ioukit.losses' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
