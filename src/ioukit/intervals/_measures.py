"""Overlap measures of intervals ``(start, end)``: IoU, GIoU, DIoU, pairwise or aligned.

- pairwise (default): ``a`` [..., N, 2], ``b`` [..., M, 2] -> [..., N, M]; the leading
  dimensions broadcast.
- aligned: ``a`` [..., 2], ``b`` [..., 2] (broadcasting) -> [...].

NumPy pairwise IoU runs the compiled kernel (:mod:`._kernels`, the interval arithmetic
of ``geometry/_primitives.pxd``); everything else (NumPy aligned, GIoU/DIoU, torch on
any device, JAX) runs the array-API expressions below, so autograd and tracing work.
``eps`` is a threshold, never added: a denominator ``<= eps`` makes its ratio 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import is_jax, is_numpy, namespace, to_floating
from .._threads import PARALLEL_MIN_WORK, get_num_threads
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from . import _kernels

__all__ = ["iou", "giou", "diou", "length", "validate", "DEFAULT_EPS"]

DEFAULT_EPS = 1e-12
Array = Any


# ------------------------------------------------------------------ checks
def as_interval_array(x: Any, name: str) -> Array:
    """Lists/tuples -> NumPy float64; check the last axis is 2. Arrays pass through."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0 and x.ndim == 1:
            x = x.reshape(0, 2)
    shape = getattr(x, "shape", None)
    if shape is None:
        raise ShapeMismatchError(f"{name} must be an array of intervals [..., 2]; got {type(x)}")
    if len(shape) == 0 or shape[-1] != 2:
        raise ShapeMismatchError(
            f"{name} must have a last axis of 2 (start, end); got shape {tuple(shape)}"
        )
    return x


def _to_host(x: Any) -> np.ndarray:
    if is_numpy(x):
        return np.asarray(x)
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_intervals(xp: Any, x: Array, name: str) -> None:
    """Raise InvalidBoxesError naming the first row with NaN/inf or end < start.

    Skipped for JAX tracers (values unknown under ``jax.jit``).
    """
    if is_jax(x):
        import jax

        if isinstance(x, jax.core.Tracer):
            return
    bad = (~xp.all(xp.isfinite(x), axis=-1)) | (x[..., 1] < x[..., 0])
    anybad = xp.any(bad)
    if is_jax(anybad):
        import jax

        if isinstance(anybad, jax.core.Tracer):
            return
    if not bool(anybad):
        return
    idx = tuple(int(i) for i in np.argwhere(_to_host(bad))[0])
    row = _to_host(x)[idx]
    why = "has a NaN or infinite bound" if not np.all(np.isfinite(row)) else "has end < start"
    where = idx[0] if len(idx) == 1 else idx
    raise InvalidBoxesError(
        f"{name} row {where} {why}: start={float(row[0])!r}, end={float(row[1])!r}"
    )


def check_eps(eps: Any) -> float:
    """``eps``: a finite number >= 0 (a threshold, never added)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    if not (eps >= 0 and math.isfinite(eps)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    return float(eps)


def _broadcast(sa: tuple, sb: tuple, what: str) -> None:
    try:
        np.broadcast_shapes(tuple(sa), tuple(sb))
    except ValueError:
        raise ShapeMismatchError(
            f"{what} of a {tuple(sa)} and b {tuple(sb)} do not broadcast"
        ) from None


def _prepare(a: Any, b: Any, aligned: bool, validate: bool) -> tuple:
    a = as_interval_array(a, "a")
    b = as_interval_array(b, "b")
    xp = namespace(a, b)
    a, b = to_floating(a, xp), to_floating(b, xp)
    if aligned:
        _broadcast(a.shape[:-1], b.shape[:-1], "aligned: the interval shapes")
    else:
        for name, x in (("a", a), ("b", b)):
            if len(x.shape) < 2:
                raise ShapeMismatchError(
                    f"pairwise: {name} must be [..., N, 2]; got shape {tuple(x.shape)} "
                    "(use aligned=True for interval-by-interval measures)"
                )
        _broadcast(a.shape[:-2], b.shape[:-2], "pairwise: the leading batch dimensions")
    if validate:
        check_intervals(xp, a, "a")
        check_intervals(xp, b, "b")
    out_dtype = xp.result_type(a, b)
    # float16 / bfloat16 are computed in float32 and cast back (as ioukit.boxes)
    work = xp.float32 if xp.finfo(out_dtype).bits < 32 else out_dtype
    if a.dtype != work:
        a = xp.astype(a, work)
    if b.dtype != work:
        b = xp.astype(b, work)
    if not aligned:
        a = a[..., :, None, :]
        b = b[..., None, :, :]
    return xp, a, b, out_dtype


# ------------------------------------------------------------------ terms
def safe_divide(xp: Any, num: Array, den: Array, eps: float) -> Array:
    """``num / den`` where ``den > eps``, else exactly 0, with finite gradients."""
    ok = den > eps
    return xp.where(ok, num / xp.where(ok, den, xp.ones_like(den)), xp.zeros_like(num))


def inter_union(xp: Any, a: Array, b: Array) -> tuple[Array, Array]:
    """Intersection and union lengths of broadcasting intervals ``[..., 2]``."""
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    inter = xp.clip(xp.minimum(a1, b1) - xp.maximum(a0, b0), min=0)
    return inter, (a1 - a0) + (b1 - b0) - inter


def enclosing_length(xp: Any, a: Array, b: Array) -> Array:
    """Length of the smallest interval holding both."""
    return xp.maximum(a[..., 1], b[..., 1]) - xp.minimum(a[..., 0], b[..., 0])


def iou_terms(xp: Any, a: Array, b: Array, eps: float) -> Array:
    inter, union = inter_union(xp, a, b)
    return safe_divide(xp, inter, union, eps)


def giou_terms(xp: Any, a: Array, b: Array, eps: float) -> Array:
    inter, union = inter_union(xp, a, b)
    c = enclosing_length(xp, a, b)
    # Rezatofighi et al. 2019 (arXiv:1902.09630), Algorithm 1, in 1-D: IoU - |C \ (A u B)| / |C|
    return safe_divide(xp, inter, union, eps) - safe_divide(xp, c - union, c, eps)


def diou_terms(xp: Any, a: Array, b: Array, eps: float) -> Array:
    c = enclosing_length(xp, a, b)
    d = (a[..., 0] + a[..., 1]) * 0.5 - (b[..., 0] + b[..., 1]) * 0.5
    # Zheng et al. 2020 (arXiv:1911.08287), R_DIoU in 1-D: IoU - rho^2 / c^2 (centre distance)
    return iou_terms(xp, a, b, eps) - safe_divide(xp, d * d, c * c, eps)


_TERMS = {"iou": iou_terms, "giou": giou_terms, "diou": diou_terms}


def _pairwise_numpy_iou(a: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    # a [..., N, 1, 2], b [..., 1, M, 2] views from _prepare; the kernel wants (K, N, 2)
    a2, b2 = a[..., :, 0, :], b[..., 0, :, :]
    lead = tuple(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]))
    n, m = a2.shape[-2], b2.shape[-2]
    nk = math.prod(lead)
    dt = a2.dtype
    a3 = np.ascontiguousarray(np.broadcast_to(a2, lead + (n, 2)).reshape(nk, n, 2))
    b3 = np.ascontiguousarray(np.broadcast_to(b2, lead + (m, 2)).reshape(nk, m, 2), dtype=dt)
    out = np.empty((nk, n, m), dtype=dt)
    if out.size:
        nt = get_num_threads() if out.size >= PARALLEL_MIN_WORK else 1
        _kernels.pairwise_iou(a3, b3, out, eps, nt)
    return out.reshape(lead + (n, m))


def _measure(kind: str, a: Any, b: Any, aligned: bool, eps: float, validate: bool) -> Array:
    eps = check_eps(eps)
    xp, a, b, out_dtype = _prepare(a, b, aligned, validate)
    if kind == "iou" and not aligned and is_numpy(a) and a.dtype in (np.float32, np.float64):
        out = _pairwise_numpy_iou(a, b, eps)
    else:
        out = _TERMS[kind](xp, a, b, eps)
    return out if out.dtype == out_dtype else xp.astype(out, out_dtype)


# ------------------------------------------------------------------ public
def iou(
    a: Any, b: Any, *, aligned: bool = False, eps: float = DEFAULT_EPS, validate: bool = True
) -> Array:
    """Temporal IoU of intervals, ``|A n B| / |A u B|``, in [0, 1].

    Parameters
    ----------
    a : array [..., N, 2] (pairwise) or [..., 2] (aligned), ``(start, end)``
    b : array [..., M, 2] (pairwise) or [..., 2] broadcasting with ``a`` (aligned)
        NumPy, torch (any device, autograd intact) or JAX arrays, both from one
        library; lists are converted with ``np.asarray``.
    aligned : bool
        False: every interval of ``a`` against every one of ``b`` -> [..., N, M].
        True: ``a[i]`` against ``b[i]`` -> [...].
    eps : float, default 1e-12
        A union ``<= eps`` (two zero-length intervals) gives 0 (never added).
    validate : bool
        Raise InvalidBoxesError for NaN/inf bounds or end < start (naming the row).

    Returns
    -------
    array [..., N, M] (pairwise) or [...] (aligned), the inputs' library, device and
    promoted floating dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.intervals import iou
    >>> iou(np.array([[0.0, 4.0]]), np.array([[2.0, 6.0], [1.0, 2.0], [5.0, 9.0]]))
    array([[0.33333333, 0.25      , 0.        ]])
    >>> iou(np.array([0.0, 4.0]), np.array([2.0, 6.0]), aligned=True)
    array(0.33333333)
    """
    return _measure("iou", a, b, aligned, eps, validate)


def giou(
    a: Any, b: Any, *, aligned: bool = False, eps: float = DEFAULT_EPS, validate: bool = True
) -> Array:
    """Generalized IoU of intervals: ``IoU - (|C| - |A u B|) / |C|``, in [-1, 1].

    ``C`` is the smallest interval holding both (Rezatofighi et al. 2019, in 1-D). Unlike
    IoU it keeps decreasing as disjoint intervals move apart. Arguments and shapes as
    :func:`iou`.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.intervals import giou
    >>> giou(np.array([[0.0, 2.0]]), np.array([[4.0, 6.0]]))  # 0 - (6 - 4) / 6
    array([[-0.33333333]])
    """
    return _measure("giou", a, b, aligned, eps, validate)


def diou(
    a: Any, b: Any, *, aligned: bool = False, eps: float = DEFAULT_EPS, validate: bool = True
) -> Array:
    """Distance IoU of intervals: ``IoU - d^2 / |C|^2``, in [-1, 1].

    ``d`` is the distance of the two centres and ``C`` the smallest interval holding
    both (Zheng et al. 2020, in 1-D). Arguments and shapes as :func:`iou`.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.intervals import diou
    >>> diou(np.array([[0.0, 2.0]]), np.array([[4.0, 6.0]]))  # 0 - 4^2 / 6^2
    array([[-0.44444444]])
    """
    return _measure("diou", a, b, aligned, eps, validate)


def length(intervals: Any) -> Array:
    """Durations ``end - start`` of intervals [..., 2] -> [...].

    >>> import numpy as np
    >>> length(np.array([[1.0, 3.5], [2.0, 2.0]]))
    array([2.5, 0. ])
    """
    x = as_interval_array(intervals, "intervals")
    return x[..., 1] - x[..., 0]


def validate(intervals: Any) -> Any:
    """Return ``intervals`` unchanged, or raise InvalidBoxesError naming the first bad row
    (NaN/inf bound, or end < start).

    >>> import numpy as np
    >>> validate(np.array([[0.0, 1.0]]))
    array([[0., 1.]])
    """
    x = as_interval_array(intervals, "intervals")
    check_intervals(namespace(x), x, "intervals")
    return x
