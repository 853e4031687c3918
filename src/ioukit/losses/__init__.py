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
  to anchors;
- :func:`iou_aware_score`: ``p * q`` ranking score (or ``p**a q**(1 - a)``).

``torch.nn.Module`` wrappers (``IoULoss``, ``GIoULoss``, ..., ``WIoULoss`` with
its running mean as a buffer) are loaded on first access, so importing this
package does not import torch.

Each loss equals ``1 -`` the matching :mod:`ioukit.boxes` measure plus the extra
terms its docstring names; both are built from :mod:`ioukit.boxes._terms`.

Rotated boxes (reserved place)
------------------------------
Losses for rotated boxes ``(cx, cy, w, h, angle)`` belong with the rotated
geometry in ``ioukit.rotated`` and will be re-exported here under these names
when that work lands: ``probiou_loss`` (Bhattacharyya / Hellinger distance of
the boxes' Gaussians, Llerena et al. 2021), ``kld_loss`` (Kullback-Leibler
divergence of the Gaussians, Yang et al. 2021) and ``gwd_loss`` (Gaussian
Wasserstein distance, Yang et al. 2021). They will take the same keyword
arguments as the losses here. Nothing of them exists yet.

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

from ._deltas import decode_deltas, encode_deltas
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

__all__ = [
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
    "iou_aware_score",
    *_MODULES,
]


def __getattr__(name: str) -> Any:
    # The nn.Module wrappers need torch; import it only when one is asked for.
    if name in _MODULES:
        from . import _modules

        return getattr(_modules, name)
    raise AttributeError(f"module 'ioukit.losses' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
