"""The rules every loss shares: the (pred, target) pair and the weight / reduction.

Box losses (:mod:`ioukit.losses`), rotated-box and 3-D losses, and the interval losses
of :mod:`ioukit.intervals` (a geometry module, below the losses layer) all check their
pair, pick their working dtype and reduce the same way; this base module is the one
place those rules are written.

- A pair broadcasts, or it is a :class:`~ioukit.errors.ShapeMismatchError` naming
  both shapes.
- Integers become floating point (:func:`ioukit._backend.to_floating`); the output
  dtype is the pair's result type; float16 / bfloat16 run in float32.
- ``weight`` multiplies each element's loss; ``"mean"`` is the mean of the weighted
  losses over all elements (mmdet's rule without ``avg_factor``), 0 over zero elements
  with the graph kept connected; ``"sum"`` and ``"none"`` as named.

Example:
    >>> import numpy as np
    >>> xp = np
    >>> p, t, dt = working_pair(xp, np.array([[1, 2]]), np.array([[0.5, 2.0]]))
    >>> p.dtype, dt
    (dtype('float64'), dtype('float64'))
    >>> float(reduce_loss(xp, np.array([1.0, 3.0]), [1.0, 0.5], "mean", np.float64))
    1.25
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import as_numeric_array, to_floating
from .errors import InvalidParameterError, ShapeMismatchError

__all__ = ["REDUCTIONS", "check_reduction", "working_pair", "reduce_loss"]

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    """Raise :class:`InvalidParameterError` unless ``reduction`` is one of REDUCTIONS."""
    if reduction not in REDUCTIONS:
        raise InvalidParameterError(
            f"reduction={reduction!r} is not one of {', '.join(REDUCTIONS)}"
        )


def working_pair(xp: Any, pred: Any, target: Any) -> tuple[Any, Any, Any]:
    """``(pred, target, out_dtype)`` in the working floating dtype, after checking that
    the two shapes broadcast."""
    try:
        np.broadcast_shapes(tuple(pred.shape), tuple(target.shape))
    except ValueError as e:
        raise ShapeMismatchError(
            f"pred shape {tuple(pred.shape)} and target shape {tuple(target.shape)} "
            "do not broadcast"
        ) from e
    pred, target = to_floating(pred, xp), to_floating(target, xp)
    out_dtype = xp.result_type(pred.dtype, target.dtype)
    work = xp.float32 if xp.finfo(out_dtype).bits < 32 else out_dtype
    if pred.dtype != work:
        pred = xp.astype(pred, work)
    if target.dtype != work:
        target = xp.astype(target, work)
    return pred, target, out_dtype


def reduce_loss(
    xp: Any, loss: Any, weight: Any, reduction: str, out_dtype: Any, unit: str = "box"
) -> Any:
    """Apply the per-element ``weight`` and the ``reduction``; cast to ``out_dtype``.

    ``unit`` names an element in the messages ("box", "pair").
    """
    check_reduction(reduction)
    if weight is not None:
        # lists and foreign byte orders get ioukit's conversion (one helper)
        if isinstance(weight, (list, tuple)) or (
            isinstance(weight, np.ndarray) and not weight.dtype.isnative
        ):
            weight = as_numeric_array(weight, "weight")
        weight = to_floating(weight, xp)
        try:
            shape = np.broadcast_shapes(tuple(weight.shape), tuple(loss.shape))
        except ValueError:
            shape = None
        if shape != tuple(loss.shape):
            raise ShapeMismatchError(
                f"weight shape {tuple(weight.shape)} does not broadcast to the per-{unit} "
                f"loss shape {tuple(loss.shape)}"
            )
        loss = loss * xp.astype(weight, loss.dtype)
    if reduction == "sum":
        loss = xp.sum(loss)
    elif reduction == "mean":
        n = 1
        for d in loss.shape:
            n *= d
        loss = xp.sum(loss) / n if n > 0 else xp.sum(loss) * 0
    return loss if loss.dtype == out_dtype else xp.astype(loss, out_dtype)
