"""Box parameterisation by distances from a point: (l, t, r, b) of FCOS / GFL.

Beside :mod:`._deltas` (anchor-relative deltas): anchor-free heads regress, from each
location (point) of a feature map, the distances to the four sides of its box, usually
in units of the level's stride.
"""

from __future__ import annotations

from typing import Any

from .._backend import namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError
from ._common import FORMATS, _asarray, _to_xyxy, check_choice

__all__ = ["encode_distances", "decode_distances"]


def _check_points(points: Any) -> None:
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ShapeMismatchError(f"points must have shape [..., 2]; got {tuple(points.shape)}")


def _check4(name: str, arr: Any) -> None:
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise ShapeMismatchError(f"{name} must have shape [..., 4]; got shape {tuple(arr.shape)}")


def _strides(xp: Any, strides: Any, like: Any) -> Any:
    if strides is None:
        return None
    s = _asarray(strides)
    if isinstance(s, (int, float)):
        if not s > 0:
            raise InvalidParameterError(f"strides={strides!r} must be > 0")
        return s
    return to_floating(s, namespace(s))[..., None]


def encode_distances(
    points: Any,
    boxes: Any,
    *,
    fmt: str = "xyxy",
    strides: Any = None,
    max_distance: float | None = None,
) -> Any:
    """Encode ``boxes`` as distances ``(l, t, r, b)`` from ``points`` to their sides.

    Tian et al. 2019 (FCOS, eq. 1): ``l = x - x1, t = y - y1, r = x2 - x, b = y2 - y``,
    divided by ``strides`` when given (FCOS with ``norm_on_bbox``, GFL, YOLOv8's
    ``bbox2dist``). A point outside its box gives negative distances (not clamped unless
    ``max_distance`` is set).

    Parameters
    ----------
    points : array [..., 2]
        Locations (x, y), broadcastable with ``boxes[..., :2]``.
    boxes : array [..., 4]
        Target boxes in ``fmt``.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of ``boxes``.
    strides : float or array [...], optional
        Each point's stride; distances are divided by it.
    max_distance : float, optional
        Clamp the (divided) distances to ``[0, max_distance]``: GFL / YOLOv8 clamp to
        ``reg_max - 0.01`` for their discretised distributions.

    Returns
    -------
    array [..., 4]
        Same library, device and floating dtype as the inputs; differentiable.

    Example
    -------
    >>> import numpy as np
    >>> encode_distances(np.array([[4.0, 3.0]]), np.array([[0.0, 0.0, 10.0, 5.0]]))
    array([[4., 3., 6., 2.]])
    >>> print(decode_distances(np.array([[4.0, 3.0]]), np.array([[4.0, 3.0, 6.0, 2.0]])))
    [[ 0.  0. 10.  5.]]
    """
    check_choice("fmt", fmt, FORMATS)
    points, boxes = _asarray(points), _asarray(boxes)
    xp = namespace(points, boxes)
    _check_points(points)
    _check4("boxes", boxes)
    points, boxes = to_floating(points, xp), to_floating(boxes, xp)
    b = _to_xyxy(xp, boxes, fmt)
    x, y = points[..., 0], points[..., 1]
    d = xp.stack([x - b[..., 0], y - b[..., 1], b[..., 2] - x, b[..., 3] - y], axis=-1)
    s = _strides(xp, strides, d)
    if s is not None:
        d = d / s
    if max_distance is not None:
        if not max_distance > 0:
            raise InvalidParameterError(f"max_distance={max_distance!r} must be > 0")
        d = xp.clip(d, min=0.0, max=float(max_distance))
    return d


def decode_distances(
    points: Any,
    distances: Any,
    *,
    fmt: str = "xyxy",
    strides: Any = None,
) -> Any:
    """Decode distances ``(l, t, r, b)`` from ``points`` into boxes.

    The inverse of :func:`encode_distances` (FCOS eq. 1 solved for the box):
    ``x1 = x - l s, y1 = y - t s, x2 = x + r s, y2 = y + b s``, ``s`` the stride (1 when
    not given). Differentiable with respect to ``distances``.

    Parameters
    ----------
    points : array [..., 2]
    distances : array [..., 4]
        Predicted distances (non-negative for a box that contains its point).
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of the returned boxes.
    strides : float or array [...], optional

    Returns
    -------
    array [..., 4]
        Boxes in ``fmt``.

    Example
    -------
    >>> import torch
    >>> d = torch.tensor([[1.0, 1.0, 2.0, 3.0]], requires_grad=True)
    >>> decode_distances(torch.tensor([[8.0, 8.0]]), d, strides=torch.tensor([8.0]))
    tensor([[ 0.,  0., 24., 32.]], grad_fn=<StackBackward0>)
    """
    check_choice("fmt", fmt, FORMATS)
    points, distances = _asarray(points), _asarray(distances)
    xp = namespace(points, distances)
    _check_points(points)
    _check4("distances", distances)
    points, distances = to_floating(points, xp), to_floating(distances, xp)
    s = _strides(xp, strides, distances)
    if s is not None:
        distances = distances * s
    x, y = points[..., 0], points[..., 1]
    x1, y1 = x - distances[..., 0], y - distances[..., 1]
    x2, y2 = x + distances[..., 2], y + distances[..., 3]
    if fmt == "xyxy":
        return xp.stack([x1, y1, x2, y2], axis=-1)
    if fmt == "xywh":
        return xp.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)
