"""Interval parameterisation relative to anchors: (centre offset, log duration) deltas.

The 1-D form of the box coding of R-CNN / Faster R-CNN (``ioukit.losses.encode_deltas``),
as temporal detectors use it against anchor segments: why log durations, see there (a
loss on ``ln(d / d_a)`` treats short and long events alike).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._backend import namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError

__all__ = ["encode_offsets", "decode_offsets", "DEFAULT_MAX_LOG_RATIO"]

#: Clamp on decoded log-duration ratios so ``exp`` cannot overflow: ln(1000 / 16), the
#: value ``ioukit.losses.decode_deltas`` (torchvision, detectron2) uses.
DEFAULT_MAX_LOG_RATIO = math.log(1000.0 / 16)


def _arr(name: str, x: Any) -> Any:
    x = np.asarray(x) if isinstance(x, (list, tuple)) else x
    if getattr(x, "ndim", 0) == 0 or x.shape[-1] != 2:
        raise ShapeMismatchError(
            f"{name} must have shape [..., 2]; got shape {tuple(getattr(x, 'shape', ()))}"
        )
    return x


def _weights(weights: Sequence[float]) -> tuple[float, float]:
    w = tuple(float(v) for v in weights)
    if len(w) != 2 or not all(math.isfinite(v) and v > 0 for v in w):
        raise InvalidParameterError(f"weights={weights!r} must be 2 finite numbers > 0")
    return w  # type: ignore[return-value]


def _centre_duration(xp: Any, iv: Any, eps: float) -> tuple[Any, Any]:
    d = iv[..., 1] - iv[..., 0]
    c = iv[..., 0] + 0.5 * d
    # a zero-length interval would give ln 0 = -inf; eps keeps the delta finite
    return c, xp.clip(d, min=eps)


def encode_offsets(
    intervals: Any,
    anchors: Any,
    *,
    weights: Sequence[float] = (1.0, 1.0),
    eps: float = 1e-7,
) -> Any:
    """Encode ``(start, end)`` intervals as ``(dc, dd)`` offsets relative to ``anchors``.

    Ren et al. 2015 (Faster R-CNN, eq. 2) in 1-D: ``dc = wc (c - c_a) / d_a`` and
    ``dd = wd ln(d / d_a)``, with ``c`` the centre and ``d`` the duration.

    Parameters
    ----------
    intervals : array [..., 2]
        Target intervals ``(start, end)``.
    anchors : array [..., 2]
        Anchor segments, broadcastable with ``intervals``.
    weights : 2 floats
        ``(wc, wd)`` multipliers.
    eps : float
        Durations are clamped to at least ``eps`` before the division and the log.

    Returns
    -------
    array [..., 2]: ``(dc, dd)``, the inputs' library, device and floating dtype.

    Example
    -------
    >>> import numpy as np
    >>> anchor = np.array([[0.0, 10.0]])
    >>> d = encode_offsets(np.array([[10.0, 30.0]]), anchor)  # centre +15, twice as long
    >>> print(np.round(d, 4))
    [[1.5    0.6931]]
    >>> print(decode_offsets(d, anchor))
    [[10. 30.]]
    """
    wc, wd = _weights(weights)
    intervals, anchors = _arr("intervals", intervals), _arr("anchors", anchors)
    xp = namespace(intervals, anchors)
    intervals, anchors = to_floating(intervals, xp), to_floating(anchors, xp)
    gc, gd = _centre_duration(xp, intervals, eps)
    ac, ad = _centre_duration(xp, anchors, eps)
    return xp.stack([wc * (gc - ac) / ad, wd * xp.log(gd / ad)], axis=-1)


def decode_offsets(
    offsets: Any,
    anchors: Any,
    *,
    weights: Sequence[float] = (1.0, 1.0),
    max_log_ratio: float = DEFAULT_MAX_LOG_RATIO,
    eps: float = 1e-7,
) -> Any:
    """Decode ``(dc, dd)`` offsets relative to ``anchors`` into ``(start, end)`` intervals.

    The inverse of :func:`encode_offsets`: ``c = c_a + d_a dc / wc``,
    ``d = d_a exp(min(dd / wd, max_log_ratio))``. Differentiable in ``offsets``.

    Parameters
    ----------
    offsets : array [..., 2]
    anchors : array [..., 2], broadcastable with ``offsets``
    weights : the ``(wc, wd)`` given to :func:`encode_offsets`
    max_log_ratio : float
        ``dd / wd`` is clamped to at most this before ``exp`` (default ln(1000/16)).
    eps : float
        Anchor durations are clamped to at least ``eps``.

    Returns
    -------
    array [..., 2]: intervals ``(start, end)``.

    Example
    -------
    >>> import torch
    >>> decode_offsets(torch.zeros(1, 2), torch.tensor([[2.0, 4.0]]))  # the anchor back
    tensor([[2., 4.]])
    """
    wc, wd = _weights(weights)
    offsets, anchors = _arr("offsets", offsets), _arr("anchors", anchors)
    xp = namespace(offsets, anchors)
    offsets, anchors = to_floating(offsets, xp), to_floating(anchors, xp)
    ac, ad = _centre_duration(xp, anchors, eps)
    c = ac + offsets[..., 0] / wc * ad
    d = ad * xp.exp(xp.clip(offsets[..., 1] / wd, max=max_log_ratio))
    start = c - 0.5 * d
    return xp.stack([start, start + d], axis=-1)
