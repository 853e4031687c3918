"""Dense masks: IoU and Dice of binary or soft masks, 2-D images or 3-D volumes.

Masks are arrays ``(..., *S)`` whose last ``spatial_dims`` axes are the pixels
(``S = (H, W)``) or voxels (``S = (D, H, W)``). Values are binary (bool, or
0/1 integers) or soft probabilities in ``[0, 1]`` (floating point); both use the
same formulas, which reduce to the set definitions on binary masks:

- intersection ``I = sum(a * b)``, sums ``A = sum(a)``, ``B = sum(b)``;
- IoU ``I / (A + B - I)`` (soft Jaccard: Rahman & Wang, ISVC 2016, Eq. 3-4);
- Dice ``2 I / (A + B)`` (soft Dice: Sudre et al., DLMIA 2017, Eq. 1 with one class).

Any Array API library works (NumPy, PyTorch on CPU or GPU, JAX); the result is
the same kind, with autograd intact, so the soft forms serve as differentiable
segmentation metrics (e.g. medical structures with fuzzy boundaries). When a
denominator is 0 (both masks empty) the result is ``zero_division`` (default
0.0, as pycocotools scores two empty masks), not NaN, and gradients stay finite.

Dtypes: floating inputs keep their dtype; bool / integer inputs are promoted
(float64 on NumPy, the library's default float elsewhere). Sums of binary masks
are exact in float64 below 2**53 pixels and in float32 below 2**24.

Example
-------
>>> import numpy as np
>>> from ioukit import masks
>>> a = np.zeros((4, 4), bool); a[:2] = True          # 8 pixels
>>> b = np.zeros((4, 4), bool); b[1:3] = True         # 8 pixels, 4 shared
>>> float(masks.iou(a, b)), float(masks.dice(a, b))   # 4/12, 8/16
(0.3333333333333333, 0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import is_numpy, namespace, to_floating
from .errors import InvalidMaskError, InvalidParameterError, ShapeMismatchError

__all__ = [
    "area",
    "iou",
    "dice",
    "pairwise_iou",
    "pairwise_dice",
    "intersection_union",
]


def _prepare(a: Any, b: Any | None, spatial_dims: int, validate: bool) -> tuple[Any, Any, Any]:
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)
    if isinstance(b, (list, tuple)):
        b = np.asarray(b)
    if not isinstance(spatial_dims, int) or spatial_dims < 1:
        raise InvalidParameterError(f"spatial_dims must be a positive int; got {spatial_dims!r}")
    xp = namespace(a) if b is None else namespace(a, b)
    arrays = [a] if b is None else [a, b]
    out = []
    for name, x in zip(("a", "b"), arrays):
        if x.ndim < spatial_dims:
            raise ShapeMismatchError(
                f"masks {name} has shape {tuple(x.shape)}: "
                f"fewer axes than spatial_dims={spatial_dims}"
            )
        if validate:
            _validate(x, xp, name)
        out.append(to_floating(x, xp))
    if b is not None and tuple(a.shape[a.ndim - spatial_dims :]) != tuple(
        b.shape[b.ndim - spatial_dims :]
    ):
        raise ShapeMismatchError(
            f"spatial shapes differ: a {tuple(a.shape[a.ndim - spatial_dims :])} vs "
            f"b {tuple(b.shape[b.ndim - spatial_dims :])}"
        )
    return xp, out[0], (out[1] if b is not None else None)


def _validate(x: Any, xp: Any, name: str) -> None:
    if xp.isdtype(x.dtype, "bool"):
        return
    if hasattr(x, "detach"):  # torch: check values without touching the graph
        x = x.detach()
    if xp.isdtype(x.dtype, "integral"):
        bad = (x != 0) & (x != 1)
        what = "integer masks must hold 0 or 1"
    elif xp.isdtype(x.dtype, "real floating"):
        bad = ~((x >= 0) & (x <= 1))  # NaN fails both comparisons
        what = "soft masks must hold values in [0, 1]"
    else:
        raise InvalidMaskError(f"masks {name}: unsupported dtype {x.dtype}")
    if bool(xp.any(bad)):
        flat = np.asarray(_to_numpy(bad)).reshape(-1)
        i = int(np.flatnonzero(flat)[0])
        idx = tuple(int(v) for v in np.unravel_index(i, tuple(x.shape)))
        val = np.asarray(_to_numpy(x)).reshape(-1)[i]
        raise InvalidMaskError(f"masks {name}: {what}; element {idx} is {val}")


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "cpu"):
        return x.cpu().numpy()
    return np.asarray(x)


def _flat(x: Any, xp: Any, spatial_dims: int) -> Any:
    lead = tuple(x.shape[: x.ndim - spatial_dims])
    return xp.reshape(x, lead + (-1,))


def _safe_divide(num: Any, den: Any, zero_division: float, xp: Any) -> Any:
    # Guard: an empty pair (den == 0) gives zero_division with a finite gradient.
    ok = den > 0
    one = xp.ones_like(den)
    return xp.where(ok, num / xp.where(ok, den, one), xp.full_like(den, zero_division))


def area(masks: Any, *, spatial_dims: int = 2) -> Any:
    """Foreground area (pixel / voxel count, or soft mass) of each mask.

    Parameters
    ----------
    masks : (..., *S) binary or soft masks.

    Returns
    -------
    (...) sums over the last ``spatial_dims`` axes.

    Example
    -------
    >>> import numpy as np
    >>> area(np.ones((2, 3, 4, 5), bool), spatial_dims=3).tolist()
    [60.0, 60.0]
    """
    xp, a, _ = _prepare(masks, None, spatial_dims, validate=True)
    return xp.sum(_flat(a, xp, spatial_dims), axis=-1)


def intersection_union(a: Any, b: Any, *, spatial_dims: int = 2) -> tuple[Any, Any]:
    """Aligned intersection ``sum(a*b)`` and union ``sum(a) + sum(b) - sum(a*b)``.

    Parameters
    ----------
    a, b : (..., *S) masks whose leading shapes broadcast.

    Returns
    -------
    (inter, union), each of the broadcast leading shape.

    Example
    -------
    >>> import numpy as np
    >>> a = np.array([[1, 1], [0, 0]]); b = np.array([[1, 0], [1, 0]])
    >>> [float(v) for v in intersection_union(a, b)]
    [1.0, 3.0]
    """
    xp, fa, fb = _prepare(a, b, spatial_dims, validate=True)
    fa = _flat(fa, xp, spatial_dims)
    fb = _flat(fb, xp, spatial_dims)
    inter = xp.sum(fa * fb, axis=-1)
    union = xp.sum(fa, axis=-1) + xp.sum(fb, axis=-1) - inter
    return inter, union


def iou(a: Any, b: Any, *, spatial_dims: int = 2, zero_division: float = 0.0) -> Any:
    """Aligned (elementwise) IoU of binary or soft masks.

    ``IoU = I / (A + B - I)`` (Rahman & Wang, ISVC 2016, Eq. 3-4 for soft masks).

    Parameters
    ----------
    a, b : (..., *S) masks (leading shapes broadcast; ``S`` equal).
    spatial_dims : 2 for (H, W) images, 3 for (D, H, W) volumes.
    zero_division : value when both masks are empty.

    Returns
    -------
    (...) IoU per mask pair, in [0, 1].

    Example
    -------
    >>> import numpy as np
    >>> p = np.array([[0.5, 1.0], [0.0, 0.0]])  # soft prediction
    >>> t = np.array([[1.0, 1.0], [0.0, 0.0]])
    >>> float(iou(p, t))  # I = 1.5, U = 1.5 + 2 - 1.5 = 2
    0.75
    """
    xp = namespace(*(x for x in (a, b) if not isinstance(x, (list, tuple))))
    inter, union = intersection_union(a, b, spatial_dims=spatial_dims)
    return _safe_divide(inter, union, zero_division, xp)


def dice(a: Any, b: Any, *, spatial_dims: int = 2, zero_division: float = 0.0) -> Any:
    """Aligned (elementwise) Dice coefficient of binary or soft masks.

    ``Dice = 2 I / (A + B)`` (Sudre et al., DLMIA 2017, Eq. 1, one class).

    Parameters
    ----------
    a, b : (..., *S) masks (leading shapes broadcast; ``S`` equal).

    Returns
    -------
    (...) Dice per mask pair, in [0, 1].

    Example
    -------
    >>> import numpy as np
    >>> a = np.zeros((1, 2, 3, 3)); a[0, :, :2, :2] = 1   # one 2x3x3 volume, 8 voxels
    >>> b = np.zeros((1, 2, 3, 3)); b[0, :1] = 1          # 9 voxels, 4 shared
    >>> dice(a, b, spatial_dims=3).tolist()               # 2*4 / (8 + 9)
    [0.47058823529411764]
    """
    xp = namespace(*(x for x in (a, b) if not isinstance(x, (list, tuple))))
    inter, union = intersection_union(a, b, spatial_dims=spatial_dims)
    total = union + inter
    return _safe_divide(2 * inter, total, zero_division, xp)


def _pairwise_terms(a: Any, b: Any, spatial_dims: int) -> tuple[Any, Any, Any, Any]:
    xp, fa, fb = _prepare(a, b, spatial_dims, validate=True)
    if fa.ndim != spatial_dims + 1 or fb.ndim != spatial_dims + 1:
        raise ShapeMismatchError(
            f"pairwise masks must be (N, *S) and (M, *S) with {spatial_dims} spatial axes; "
            f"got {tuple(fa.shape)} and {tuple(fb.shape)}"
        )
    fa = _flat(fa, xp, spatial_dims)
    fb = _flat(fb, xp, spatial_dims)
    if fa.dtype != fb.dtype:
        dt = xp.result_type(fa.dtype, fb.dtype)
        fa, fb = xp.astype(fa, dt), xp.astype(fb, dt)
    inter = fa @ xp.matrix_transpose(fb) if not is_numpy(fa) else fa @ fb.T
    sa = xp.sum(fa, axis=-1)
    sb = xp.sum(fb, axis=-1)
    return xp, inter, sa, sb


def pairwise_iou(a: Any, b: Any, *, spatial_dims: int = 2, zero_division: float = 0.0) -> Any:
    """IoU of every mask in ``a`` with every mask in ``b``.

    Parameters
    ----------
    a : (N, *S), b : (M, *S) binary or soft masks.

    Returns
    -------
    (N, M) IoU matrix (intersections by one matrix product).

    Example
    -------
    >>> import numpy as np
    >>> m = np.zeros((2, 3, 3), bool); m[0, 0] = True; m[1, :2] = True  # 3 and 6 pixels
    >>> pairwise_iou(m, m).tolist()  # 3 shared: 3 / 6
    [[1.0, 0.5], [0.5, 1.0]]
    """
    xp, inter, sa, sb = _pairwise_terms(a, b, spatial_dims)
    union = sa[:, None] + sb[None, :] - inter
    return _safe_divide(inter, union, zero_division, xp)


def pairwise_dice(a: Any, b: Any, *, spatial_dims: int = 2, zero_division: float = 0.0) -> Any:
    """Dice of every mask in ``a`` with every mask in ``b``: (N, M).

    Example
    -------
    >>> import numpy as np
    >>> m = np.zeros((2, 3, 3), bool); m[0, 0] = True; m[1, :2] = True
    >>> pairwise_dice(m, m).tolist()  # 2*3 / (3 + 6)
    [[1.0, 0.6666666666666666], [0.6666666666666666, 1.0]]
    """
    xp, inter, sa, sb = _pairwise_terms(a, b, spatial_dims)
    return _safe_divide(2 * inter, sa[:, None] + sb[None, :], zero_division, xp)
