"""Argument handling shared by every loss: formats, dtypes, weights, reductions.

Every loss in :mod:`ioukit.losses` takes ``(pred, target, *, fmt, reduction, weight,
eps)``; this module is the one place those arguments are checked and applied, so
the losses themselves contain only their formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import as_numeric_array, is_jax, is_torch, namespace
from .._lossrules import REDUCTIONS, reduce_loss, working_pair
from ..boxes._formats import to_xyxy
from ..errors import InvalidFormatError, InvalidParameterError, ShapeMismatchError

__all__ = [
    "FORMATS",
    "Columns",
    "REDUCTIONS",
    "prepare",
    "reduce_loss",
    "stop_gradient",
    "check_choice",
    "check_positive",
]

#: Box layouts a loss accepts. Normalized forms need an image size and are
#: converted by the caller with :func:`ioukit.boxes.convert`.
FORMATS = ("xyxy", "xywh", "cxcywh")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(f"{name}={value!r} is not one of {', '.join(choices)}")


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is a finite number > 0."""
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name}={value!r} must be a finite number {bound}")


def _asarray(x: Any, name: str = "input") -> Any:
    # Lists and tuples are accepted at the public boundary only (architecture.md);
    # a ragged list or a big-endian array gets ioukit's conversion (one helper)
    if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and not x.dtype.isnative):
        return as_numeric_array(x, name)
    return x


def _as_boxes(x: Any, name: str) -> Any:
    # an empty 1-D input is zero boxes, (0, 4), as in ioukit.boxes and ioukit.nms
    x = _asarray(x, name)
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) == 1 and shape[0] == 0:
        x = x.reshape((0, 4))
    return x


class Columns:
    """xyxy boxes held as their four coordinate arrays, indexable as ``b[..., k]``.

    :mod:`ioukit.boxes._terms` reads boxes only through ``b[..., k]``. Giving it
    the columns split once (and, on torch, contiguous), instead of the [..., 4]
    array, makes autograd record one ``unbind`` rather than ~20 ``select``
    nodes, each of whose backward allocates, zero-fills and accumulates a full
    [..., 4] gradient. Measured for CIoU on 1M pairs, one thread: 196 -> 170 ms
    of CPU time for forward+backward; more under memory contention.
    """

    __slots__ = ("_cols",)

    def __init__(self, xp: Any, boxes: Any):
        if is_torch(boxes):
            # contiguous columns: the ~40 elementwise ops then stream memory
            # instead of striding over it (one copy forward, one backward)
            self._cols = boxes.movedim(-1, 0).contiguous().unbind(0)
        else:
            self._cols = tuple(boxes[..., k] for k in range(4))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 2 and key[0] is Ellipsis:
            return self._cols[key[1]]
        raise TypeError(f"Columns supports only b[..., k] indexing; got {key!r}")


def _to_xyxy(xp: Any, b: Any, fmt: str) -> Any:
    # ioukit.boxes' conversion without its validation: validating would force a
    # device sync on every training step.
    return to_xyxy(xp, b, fmt)


def prepare(pred: Any, target: Any, fmt: str, weight: Any = None) -> tuple[Any, Any, Any, Any]:
    """Check and normalise the two box arrays of a loss.

    Returns ``(xp, pred_xyxy, target_xyxy, out_dtype)``, the boxes as
    :class:`Columns` (for :mod:`ioukit.boxes._terms`), both in one floating
    dtype: float16 and bfloat16 are computed in float32 (areas of pixel boxes
    overflow float16's 65504) and the loss is cast back to ``out_dtype`` by
    :func:`reduce_loss`.

    Raises
    ------
    InvalidFormatError
        Unknown ``fmt``.
    ShapeMismatchError
        Last axis is not 4, or ``pred`` and ``target`` do not broadcast.
    BackendError
        ``pred``, ``target`` and ``weight`` come from different array libraries.
    """
    if fmt not in FORMATS:
        raise InvalidFormatError(
            f"fmt={fmt!r} is not one of {', '.join(FORMATS)} (convert normalized boxes "
            "with ioukit.boxes.convert first)"
        )
    pred, target = _as_boxes(pred, "pred"), _as_boxes(target, "target")
    weight = _asarray(weight, "weight")
    xp = namespace(pred, target, weight)
    for name, arr in (("pred", pred), ("target", target)):
        if arr.ndim == 0 or arr.shape[-1] != 4:
            raise ShapeMismatchError(
                f"{name} must have shape [..., 4]; got shape {tuple(arr.shape)}"
            )
    pred, target, out_dtype = working_pair(xp, pred, target)
    p = Columns(xp, _to_xyxy(xp, pred, fmt))
    return xp, p, Columns(xp, _to_xyxy(xp, target, fmt)), out_dtype


def stop_gradient(xp: Any, x: Any) -> Any:
    """``x`` as a constant for autograd (torch ``detach``, JAX ``stop_gradient``)."""
    if is_torch(x):
        return x.detach()
    if is_jax(x):
        import jax

        return jax.lax.stop_gradient(x)
    return x
