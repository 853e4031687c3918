"""Box parameterisation relative to anchors: (dx, dy, ln w, ln h) deltas.

Why log sizes: a regression loss on ``tw = ln(w / w_a)`` has a gradient with
respect to ``tw`` that does not depend on the object's size (scaling the box and
its anchor by ``s`` leaves every delta unchanged), whereas a loss on ``w`` itself
pushes large boxes ``s`` times harder than small ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._backend import namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError
from ._common import FORMATS, _asarray, _to_xyxy, check_choice

__all__ = ["encode_deltas", "decode_deltas", "DEFAULT_MAX_LOG_RATIO"]

#: Clamp on decoded ``tw``/``th`` so ``exp`` cannot overflow: ln(1000 / 16), the
#: value torchvision's BoxCoder and detectron2 use (a box at most 62.5x its anchor).
DEFAULT_MAX_LOG_RATIO = math.log(1000.0 / 16)


def _check(name: str, arr: Any) -> None:
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise ShapeMismatchError(f"{name} must have shape [..., 4]; got shape {tuple(arr.shape)}")


def _check_weights(weights: Sequence[float]) -> tuple[float, float, float, float]:
    w = tuple(float(v) for v in weights)
    if len(w) != 4 or not all(math.isfinite(v) and v > 0 for v in w):
        raise InvalidParameterError(f"weights={weights!r} must be 4 finite numbers > 0")
    return w  # type: ignore[return-value]


def _centre_size(xp: Any, b: Any, eps: float) -> tuple[Any, Any, Any, Any]:
    w = b[..., 2] - b[..., 0]
    h = b[..., 3] - b[..., 1]
    cx = b[..., 0] + 0.5 * w
    cy = b[..., 1] + 0.5 * h
    # A zero-size box would give ln 0 = -inf; eps keeps the delta finite.
    return cx, cy, xp.clip(w, min=eps), xp.clip(h, min=eps)


def encode_deltas(
    boxes: Any,
    anchors: Any,
    *,
    fmt: str = "xyxy",
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    eps: float = 1e-7,
) -> Any:
    """Encode ``boxes`` as (dx, dy, ln w, ln h) deltas relative to ``anchors``.

    Girshick et al. 2014 (R-CNN, appendix C) / Ren et al. 2015 (Faster R-CNN, eq. 2):
    ``dx = wx (x - x_a) / w_a``, ``dy = wy (y - y_a) / h_a``,
    ``dw = ww ln(w / w_a)``, ``dh = wh ln(h / h_a)`` with ``(x, y)`` the box centre.

    Parameters
    ----------
    boxes : array [..., 4]
        Target boxes in ``fmt``.
    anchors : array [..., 4]
        Anchors / priors / proposals in ``fmt``, broadcastable with ``boxes``.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of both arrays.
    weights : 4 floats
        ``(wx, wy, ww, wh)`` multipliers, e.g. ``(10, 10, 5, 5)`` as in
        torchvision's Faster R-CNN.
    eps : float
        Widths and heights are clamped to at least ``eps`` before the division
        and the logarithm, so zero-size boxes encode to finite deltas.

    Returns
    -------
    array [..., 4]
        The deltas, same library, device and (floating) dtype as the inputs.

    Example
    -------
    >>> import numpy as np
    >>> anchor = np.array([[0.0, 0.0, 10.0, 10.0]])
    >>> box = np.array([[5.0, 0.0, 25.0, 10.0]])  # centre +10 in x, twice as wide
    >>> d = encode_deltas(box, anchor)
    >>> print(np.round(d, 4))
    [[1.     0.     0.6931 0.    ]]
    >>> print(decode_deltas(d, anchor))
    [[ 5.  0. 25. 10.]]
    """
    check_choice("fmt", fmt, FORMATS)
    wx, wy, ww, wh = _check_weights(weights)
    boxes, anchors = _asarray(boxes), _asarray(anchors)
    xp = namespace(boxes, anchors)
    _check("boxes", boxes)
    _check("anchors", anchors)
    boxes, anchors = to_floating(boxes, xp), to_floating(anchors, xp)
    gx, gy, gw, gh = _centre_size(xp, _to_xyxy(xp, boxes, fmt), eps)
    ax, ay, aw, ah = _centre_size(xp, _to_xyxy(xp, anchors, fmt), eps)
    return xp.stack(
        [
            wx * (gx - ax) / aw,
            wy * (gy - ay) / ah,
            ww * xp.log(gw / aw),
            wh * xp.log(gh / ah),
        ],
        axis=-1,
    )


def decode_deltas(
    deltas: Any,
    anchors: Any,
    *,
    fmt: str = "xyxy",
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    max_log_ratio: float = DEFAULT_MAX_LOG_RATIO,
    eps: float = 1e-7,
) -> Any:
    """Decode (dx, dy, ln w, ln h) ``deltas`` relative to ``anchors`` into boxes.

    The inverse of :func:`encode_deltas` (Ren et al. 2015, eq. 2 solved for the
    box): ``x = x_a + w_a dx / wx``, ``w = w_a exp(dw / ww)``, and likewise for
    y and h. Differentiable with respect to ``deltas``.

    Parameters
    ----------
    deltas : array [..., 4]
        Predicted deltas.
    anchors : array [..., 4]
        Anchors in ``fmt``, broadcastable with ``deltas``.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of ``anchors`` and of the returned boxes.
    weights : 4 floats
        The same ``(wx, wy, ww, wh)`` given to :func:`encode_deltas`.
    max_log_ratio : float
        ``dw / ww`` and ``dh / wh`` are clamped to at most this before ``exp``
        (default ln(1000/16), as torchvision and detectron2), so an untrained
        network cannot produce inf boxes.
    eps : float
        Anchor widths and heights are clamped to at least ``eps``.

    Returns
    -------
    array [..., 4]
        Boxes in ``fmt``.

    Example
    -------
    >>> import torch
    >>> anchor = torch.tensor([[0.0, 0.0, 10.0, 20.0]])
    >>> decode_deltas(torch.zeros(1, 4), anchor)  # zero deltas give the anchor back
    tensor([[ 0.,  0., 10., 20.]])
    """
    check_choice("fmt", fmt, FORMATS)
    wx, wy, ww, wh = _check_weights(weights)
    deltas, anchors = _asarray(deltas), _asarray(anchors)
    xp = namespace(deltas, anchors)
    _check("deltas", deltas)
    _check("anchors", anchors)
    deltas, anchors = to_floating(deltas, xp), to_floating(anchors, xp)
    ax, ay, aw, ah = _centre_size(xp, _to_xyxy(xp, anchors, fmt), eps)
    x = ax + deltas[..., 0] / wx * aw
    y = ay + deltas[..., 1] / wy * ah
    w = aw * xp.exp(xp.clip(deltas[..., 2] / ww, max=max_log_ratio))
    h = ah * xp.exp(xp.clip(deltas[..., 3] / wh, max=max_log_ratio))
    if fmt == "cxcywh":
        return xp.stack([x, y, w, h], axis=-1)
    x1, y1 = x - 0.5 * w, y - 0.5 * h
    if fmt == "xywh":
        return xp.stack([x1, y1, w, h], axis=-1)
    return xp.stack([x1, y1, x1 + w, y1 + h], axis=-1)
