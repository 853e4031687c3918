"""Scores that rank detections by classification confidence *and* localisation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError
from ._common import _asarray

__all__ = ["iou_aware_score"]


def iou_aware_score(
    p: Any, q: Any, *, alpha: float | None = None, beta: float | None = None
) -> Any:
    """IoU-aware ranking score from confidence ``p`` and predicted IoU ``q``.

    - default: ``s = p * q`` (IoU-aware detectors, e.g. Wu et al. 2020, IoU-aware
      single-stage detector; the predicted IoU rescales the class score);
    - ``alpha`` only: ``s = p**alpha * q**(1 - alpha)``, the geometric blend
      (``alpha = 1`` ranks by ``p`` alone, ``alpha = 0`` by ``q`` alone);
    - ``alpha`` and ``beta``: ``s = p**alpha * q**beta``, TOOD's task-alignment
      metric ``t = s^alpha u^beta`` (Feng et al. 2021, eq. 3; they use
      ``alpha = 1, beta = 6``).

    Parameters
    ----------
    p : array [...]
        Classification confidence in [0, 1].
    q : array [...]
        Predicted (or measured) IoU in [0, 1], broadcastable with ``p``.
    alpha : float, optional
        Exponent on ``p``; in [0, 1] when ``beta`` is not given, else >= 0.
    beta : float, optional
        Exponent on ``q`` (needs ``alpha``), >= 0.

    Returns
    -------
    array
        The broadcast score, same library, device and dtype as the inputs. Negative
        inputs are clamped to 0 first so fractional powers stay real.

    Example
    -------
    >>> import numpy as np
    >>> p, q = np.array([0.9, 0.5]), np.array([0.4, 0.9])
    >>> print(iou_aware_score(p, q))
    [0.36 0.45]
    >>> print(np.round(iou_aware_score(p, q, alpha=0.5), 4))  # sqrt(0.36), sqrt(0.45)
    [0.6    0.6708]
    """
    if beta is not None and alpha is None:
        raise InvalidParameterError(f"beta={beta!r} needs alpha as well")
    for name, v in (("alpha", alpha), ("beta", beta)):
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise InvalidParameterError(f"{name}={v!r} must be a finite number >= 0")
    if alpha is not None and beta is None and alpha > 1:
        raise InvalidParameterError(f"alpha={alpha!r} must lie in [0, 1] when beta is not given")
    p, q = _asarray(p), _asarray(q)
    xp = namespace(p, q)
    p, q = to_floating(p, xp), to_floating(q, xp)
    try:
        np.broadcast_shapes(tuple(p.shape), tuple(q.shape))
    except ValueError as e:
        raise ShapeMismatchError(
            f"p shape {tuple(p.shape)} and q shape {tuple(q.shape)} do not broadcast"
        ) from e
    if alpha is None:
        return p * q
    if beta is None:
        beta = 1.0 - alpha
    p, q = xp.clip(p, min=0.0), xp.clip(q, min=0.0)
    return (p**alpha) * (q**beta)
