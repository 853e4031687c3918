"""Jaccard index (IoU) of plain sets and label arrays; Dice <-> IoU.

The Jaccard index of two finite sets is ``|A n B| / |A u B|`` (Jaccard 1912);
IoU is the same quantity for regions. Dice (Soerensen-Dice) is
``2 |A n B| / (|A| + |B|)``, and the two determine each other:
``Dice = 2 IoU / (1 + IoU)`` and ``IoU = Dice / (2 - Dice)`` (substitute
``|A| + |B| = |A u B| + |A n B|``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._backend import is_numpy, namespace, to_floating
from ._deprecation import UNSET, renamed
from .errors import InvalidParameterError, ShapeMismatchError

__all__ = ["jaccard", "dice_from_iou", "iou_from_dice"]


def _as_label_set(x: Any, name: str) -> Any:
    """A set, or a 1-D NumPy array of unique labels, from what the user gave."""
    if isinstance(x, (set, frozenset)):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        if not is_numpy(x):
            # torch / JAX: labels are compared on the host
            x = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        arr = np.asarray(x)
    elif isinstance(x, Iterable) and not isinstance(x, (str, bytes, dict)):
        return set(x)
    else:
        raise InvalidParameterError(
            f"{name} must be a set, a sequence or a 1-D array of labels; got {type(x).__name__}"
        )
    if arr.ndim != 1:
        raise ShapeMismatchError(f"{name} must be 1-D (a list of labels); got shape {arr.shape}")
    if arr.dtype.kind in "fc":
        bad = np.flatnonzero(np.isnan(arr))
        if bad.size:
            raise InvalidParameterError(
                f"{name}[{int(bad[0])}] is NaN, which is not a label (NaN != NaN)"
            )
    return np.unique(arr)


def jaccard(a: Any, b: Any, *, zero_division: float = 0.0, empty: float = UNSET) -> float:
    """Jaccard index ``|A n B| / |A u B|`` of two collections of labels.

    Parameters
    ----------
    a, b : set, frozenset, sequence or 1-D array (NumPy, torch, JAX)
        Each is taken as the *set* of its elements: duplicates count once
        (``[1, 1, 2]`` is ``{1, 2}``).
    zero_division : float
        The value when both are empty (union of size 0); 0 by default, like
        the zero-union convention of :func:`ioukit.boxes.iou` and
        :func:`ioukit.masks.iou`'s ``zero_division``. (``empty=`` is its deprecated
        name.)

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from ioukit.sets import jaccard
    >>> jaccard({1, 2, 3}, {2, 3, 4})  # {2, 3} / {1, 2, 3, 4}
    0.5
    >>> import numpy as np
    >>> jaccard(np.array([0, 1, 1, 5]), np.array([5, 1]))  # {1, 5} / {0, 1, 5}
    0.6666666666666666
    >>> jaccard(set(), set())
    0.0
    """
    zero_division = renamed("jaccard", "empty", "zero_division", empty, zero_division, 0.0)
    sa = _as_label_set(a, "a")
    sb = _as_label_set(b, "b")
    if isinstance(sa, np.ndarray) or isinstance(sb, np.ndarray):
        ua = sa if isinstance(sa, np.ndarray) else np.unique(np.asarray(list(sa)))
        ub = sb if isinstance(sb, np.ndarray) else np.unique(np.asarray(list(sb)))
        inter = np.intersect1d(ua, ub, assume_unique=True).size
        union = ua.size + ub.size - inter
    else:
        inter = len(sa & sb)
        union = len(sa) + len(sb) - inter
    if union == 0:
        return float(zero_division)
    return inter / union


def _check_unit_interval(x: Any, xp: Any, name: str) -> None:
    # Skipped for JAX tracers: their values are unknown under jax.jit.
    from .boxes._formats import is_tracer, to_host

    if is_tracer(x):
        return
    bad = ~((x >= 0) & (x <= 1))  # NaN fails both comparisons
    anybad = xp.any(bad)
    if not is_tracer(anybad) and bool(anybad):
        host = np.atleast_1d(to_host(x))
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(to_host(bad)))[0])
        where = "" if np.ndim(to_host(x)) == 0 else f" at index {idx[0] if len(idx) == 1 else idx}"
        raise InvalidParameterError(f"{name} must lie in [0, 1]; got {float(host[idx])!r}{where}")


def _prepare(x: Any, name: str) -> tuple[Any, Any, bool]:
    scalar = isinstance(x, (int, float, np.integer, np.floating))
    if scalar:
        if not (0 <= x <= 1) or math.isnan(x):
            raise InvalidParameterError(f"{name} must lie in [0, 1]; got {x!r}")
        return None, float(x), True
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    xp = namespace(x)
    x = to_floating(x, xp)
    _check_unit_interval(x, xp, name)
    return xp, x, False


def dice_from_iou(iou: Any) -> Any:
    """Dice coefficient from IoU: ``Dice = 2 IoU / (1 + IoU)``.

    Works elementwise on floats and on NumPy / torch / JAX arrays (same type,
    dtype and device back; differentiable). Values outside [0, 1] (or NaN)
    raise InvalidParameterError naming the index, except under ``jax.jit``.

    Examples
    --------
    >>> from ioukit.sets import dice_from_iou
    >>> dice_from_iou(0.5)  # 2 * 0.5 / 1.5
    0.6666666666666666
    >>> import numpy as np
    >>> dice_from_iou(np.array([0.0, 1.0]))
    array([0., 1.])
    """
    _, x, _ = _prepare(iou, "iou")
    # 1 + IoU >= 1: no division guard needed
    return 2.0 * x / (1.0 + x)


def iou_from_dice(dice: Any) -> Any:
    """IoU from the Dice coefficient: ``IoU = Dice / (2 - Dice)``.

    The inverse of :func:`dice_from_iou`; same conventions.

    Examples
    --------
    >>> from ioukit.sets import iou_from_dice
    >>> iou_from_dice(0.8)  # 0.8 / 1.2
    0.6666666666666667
    """
    _, x, _ = _prepare(dice, "dice")
    # 2 - Dice >= 1: no division guard needed
    return x / (2.0 - x)
