"""The public overlap measures: IoU and its variants, pairwise and aligned.

Every measure has the signature ``f(a, b, *, aligned=False, fmt="xyxy",
eps=1e-12, validate=True, image_size=None, ...)``:

- pairwise (default): ``a`` [..., N, 4], ``b`` [..., M, 4] -> [..., N, M]; the
  leading dimensions broadcast.
- aligned: ``a`` [..., 4], ``b`` [..., 4] (broadcasting) -> [...], the measure
  of ``a[i]`` with ``b[i]``.

NumPy pairwise calls run as compiled kernels (:mod:`._kernels`: one pass, no
N x M temporaries); everything else (NumPy aligned, torch on any device, JAX, also
under ``jax.jit``) runs the array-API expressions of :mod:`._terms`, so
autograd and tracing work. float16/bfloat16 are computed in float32 and cast
back (areas of pixel boxes overflow float16); the result has the dtype of
``a`` and ``b`` promoted together (integers -> float64 on NumPy, float32
elsewhere).

``eps`` is a threshold, never added: a denominator ``<= eps`` makes its ratio
exactly 0. So a zero union (two zero-area boxes) gives IoU 0, never NaN.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .._backend import is_compiling, is_numpy, namespace, to_floating
from ..errors import InvalidParameterError, ShapeMismatchError
from . import _kernels
from . import _terms as T
from ._formats import (
    as_box_array,
    check_boxes,
    check_format,
    check_image_size,
    is_tracer,
    to_xyxy,
)

__all__ = ["iou", "ioa", "giou", "diou", "ciou", "eiou", "siou", "alpha_iou", "mpdiou"]

DEFAULT_EPS = 1e-12

# the compiled kernels built for AVX2 where the CPU runs it (twice the SIMD lanes, the
# same bits), else their baseline build; see _kernels_avx2. _pairs uses them too.
if _kernels.cpu_has_avx2():
    from . import _kernels_avx2 as _cpu_kernels
else:
    _cpu_kernels = _kernels

Array = Any


def _broadcast(sa: tuple, sb: tuple, what: str) -> tuple:
    try:
        return tuple(np.broadcast_shapes(tuple(sa), tuple(sb)))
    except ValueError:
        raise ShapeMismatchError(
            f"{what} of a {tuple(sa)} and b {tuple(sb)} do not broadcast"
        ) from None


def _prepare(a: Any, b: Any, aligned: bool, fmt: str, validate: bool) -> tuple:
    """Checks shared by every measure; returns ``(xp, a, b, out_dtype)``."""
    a = as_box_array(a, "a")
    b = as_box_array(b, "b")
    check_format(fmt)
    xp = namespace(a, b)
    a = to_floating(a, xp)
    b = to_floating(b, xp)
    if aligned:
        _broadcast(a.shape[:-1], b.shape[:-1], "aligned: the box shapes (without the last axis)")
    else:
        for name, x in (("a", a), ("b", b)):
            if len(x.shape) < 2:
                raise ShapeMismatchError(
                    f"pairwise: {name} must be [..., N, 4]; got shape {tuple(x.shape)} "
                    "(use aligned=True for box-by-box measures)"
                )
        _broadcast(a.shape[:-2], b.shape[:-2], "pairwise: the leading batch dimensions")
    if validate:
        check_boxes(xp, a, fmt, "a")
        check_boxes(xp, b, fmt, "b")
    return xp, a, b, xp.result_type(a, b)


def _compute_dtype(xp: Any, dtype: Any) -> Any:
    # float16 overflows at 65504 (a 256 x 256 pixel area); bfloat16 has 8 bits
    # of mantissa. Both are computed in float32 and cast back at the end.
    if dtype == xp.float16 or str(dtype).endswith("bfloat16"):
        return xp.float32
    return dtype


def _check_eps(eps: Any) -> float:
    if not isinstance(eps, (int, float)) or not (eps >= 0 and math.isfinite(eps)):
        raise InvalidParameterError(f"eps must be a finite number >= 0; got {eps!r}")
    return float(eps)


def _measure(
    kind: str,
    a: Any,
    b: Any,
    aligned: bool,
    fmt: str,
    eps: float,
    validate: bool,
    image_size: Any,
    params: dict,
) -> Array:
    eps = _check_eps(eps)
    xp, a, b, out_dtype = _prepare(a, b, aligned, fmt, validate)
    _, normalized = check_format(fmt)
    if normalized:
        # fmt's normalization is undone first so that distance-based penalties
        # (DIoU, MPDIoU, ...) are measured in pixels.
        check_image_size(image_size, f"for fmt={fmt!r}")
    cdt = _compute_dtype(xp, out_dtype)
    if a.dtype != cdt:
        a = xp.astype(a, cdt)
    if b.dtype != cdt:
        b = xp.astype(b, cdt)
    a = to_xyxy(xp, a, fmt, image_size)
    b = to_xyxy(xp, b, fmt, image_size)
    out = None
    if not aligned and is_numpy(a):
        out = _pairwise_numpy(kind, a, b, eps, params)
    if out is None:
        a, b, eps, params = _rescale(xp, a, b, eps, params, cdt)
        if not aligned:
            a = a[..., :, None, :]
            b = b[..., None, :, :]
        out = _MEASURES[kind](xp, a, b, eps, **params)
    if out.dtype != out_dtype:
        out = xp.astype(out, out_dtype)
    return out


# Coordinates up to 2**e (e by compute dtype) cannot overflow an intermediate of
# any measure (areas <= 4 L^2, sums of areas or squared distances <= 16 L^2); the
# compiled kernels use the same limits (_dense.pxi).
_LIMIT_EXP = {32: 60, 64: 508}


def _rescale(xp: Any, a: Array, b: Array, eps: float, params: dict, cdt: Any) -> tuple:
    """``a`` and ``b`` scaled by a power of two when a finite coordinate is huge.

    Finite boxes whose areas overflow ([0, 0, 1e20, 1e20] in float32) would give 0
    or NaN. The array path scales both inputs by the smallest power of two that
    brings every finite coordinate under the limit: exact, so ratios keep their
    bits, and inputs that need no scaling (the common case) are returned as they
    are after one max-reduction. ``eps`` (an area) and MPDIoU's image size scale
    with them. Skipped where values are unknown (``jax.jit``, ``torch.compile``).
    """
    if is_tracer(a) or is_tracer(b) or is_compiling():
        return a, b, eps, params
    if math.prod(a.shape) == 0 or math.prod(b.shape) == 0:
        return a, b, eps, params
    limit_exp = _LIMIT_EXP.get(xp.finfo(cdt).bits, 60)
    biggest = float(xp.maximum(xp.max(xp.abs(a)), xp.max(xp.abs(b))))
    if biggest <= 2.0**limit_exp:
        return a, b, eps, params
    # NaN or infinite coordinates: the largest finite one decides
    fa = xp.where(xp.isfinite(a), xp.abs(a), 0.0)
    fb = xp.where(xp.isfinite(b), xp.abs(b), 0.0)
    biggest = float(xp.maximum(xp.max(fa), xp.max(fb)))
    if biggest <= 2.0**limit_exp:
        return a, b, eps, params
    scale = 2.0 ** (limit_exp - math.frexp(biggest)[1])
    params = dict(params)
    if "width" in params:
        params["width"] = params["width"] * scale
        params["height"] = params["height"] * scale
    return a * scale, b * scale, eps * scale * scale, params


def _pairwise_numpy(kind: str, a: np.ndarray, b: np.ndarray, eps: float, params: dict) -> Any:
    """Pairwise ``kind`` of xyxy float32/float64 arrays [..., N, 4] x [..., M, 4] -> [..., N, M].

    Runs the compiled dense kernels (:mod:`._kernels`): IoU and IoA in the inputs'
    dtype, the other measures in float64 (float32 results are rounded from
    them). Returns None when a parameter is not a plain number (e.g. per-image
    ``image_size`` arrays for MPDIoU); the caller then uses the array path.
    """
    p0 = p1 = 0.0
    base = 0
    if kind == "siou":
        p0 = params["theta"]
    elif kind == "alpha_iou":
        p0 = params["alpha"]
        base = _cpu_kernels.ALPHA_BASES[params["base"]]
    elif kind == "mpdiou":
        p0, p1 = params["width"], params["height"]
        if not all(isinstance(v, (int, float, np.number)) for v in (p0, p1)):
            return None
    out_dtype = np.result_type(a, b)
    if out_dtype not in (np.float32, np.float64):
        out_dtype = np.dtype(np.float64)
    overlap = kind in ("iou", "ioa")
    dtype = out_dtype if overlap else np.dtype(np.float64)
    # the kernels' layout: a (K, N, 4); b's columns bt (K, 4, M), contiguous per
    # coordinate so that the inner loop is unit-stride and vectorises; out (K, N, M)
    lead = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    n, m = a.shape[-2], b.shape[-2]
    nk = math.prod(lead)
    a3 = np.ascontiguousarray(np.broadcast_to(a, lead + (n, 4)).reshape(nk, n, 4), dtype=dtype)
    b3 = np.broadcast_to(b, lead + (m, 4)).reshape(nk, m, 4)
    bt = np.ascontiguousarray(b3.transpose(0, 2, 1), dtype=dtype)
    out = np.empty((nk, n, m), dtype=dtype)
    if out.size and overlap:
        _cpu_kernels.pairwise_overlap(a3, bt, out, kind == "ioa", eps)
    elif out.size:
        mode = _cpu_kernels.MODES[kind]
        _cpu_kernels.pairwise_measure(a3, bt, out, mode, eps, float(p0), float(p1), base)
    return out.reshape(lead + (n, m)).astype(out_dtype, copy=False)


# ---------------------------------------------------------------- formulas


def _iou(xp: Any, a: Array, b: Array, eps: float) -> Array:
    inter, union = T.inter_union(xp, a, b)
    return T.safe_divide(xp, inter, union, eps)


def _ioa(xp: Any, a: Array, b: Array, eps: float) -> Array:
    inter, _ = T.inter_union(xp, a, b)
    return T.safe_divide(xp, inter, T.box_area(xp, a), eps)


def _giou(xp: Any, a: Array, b: Array, eps: float) -> Array:
    inter, union = T.inter_union(xp, a, b)
    # Rezatofighi et al. 2019 (arXiv:1902.09630), Algorithm 1: GIoU = IoU - |C \ (A u B)| / |C|
    return T.safe_divide(xp, inter, union, eps) - T.giou_penalty(xp, a, b, union, eps)


def _diou(xp: Any, a: Array, b: Array, eps: float) -> Array:
    # Zheng et al. 2020 (arXiv:1911.08287), penalty R_DIoU: DIoU = IoU - rho^2(b, b_gt) / c^2
    return _iou(xp, a, b, eps) - T.diou_penalty(xp, a, b, eps)


def _ciou(xp: Any, a: Array, b: Array, eps: float) -> Array:
    iou = _iou(xp, a, b, eps)
    # Zheng et al. 2020 (arXiv:1911.08287), R_CIoU with v, alpha: CIoU = IoU - rho^2 / c^2 - alpha v
    return iou - T.ciou_penalty(xp, a, b, iou, eps)


def _eiou(xp: Any, a: Array, b: Array, eps: float) -> Array:
    # Zhang et al. 2021 (arXiv:2101.08158), L_EIoU: EIoU = IoU - rho^2/c^2 - dw^2/cw^2 - dh^2/ch^2
    return _iou(xp, a, b, eps) - T.eiou_penalty(xp, a, b, eps)


def _siou(xp: Any, a: Array, b: Array, eps: float, theta: float) -> Array:
    # Gevorgyan 2022 (arXiv:2205.12740), L_box: SIoU = IoU - (Delta + Omega) / 2
    return _iou(xp, a, b, eps) - T.siou_penalty(xp, a, b, theta, eps)


def _alpha_iou(xp: Any, a: Array, b: Array, eps: float, alpha: float, base: str) -> Array:
    inter, union = T.inter_union(xp, a, b)
    iou = T.safe_divide(xp, inter, union, eps)
    # He et al. 2021 (arXiv:2110.13675), L_alpha-IoU: IoU^alpha - R^alpha, the penalty powered too
    out = T.safe_pow(xp, iou, alpha)
    if base == "giou":
        out = out - T.safe_pow(xp, T.giou_penalty(xp, a, b, union, eps), alpha)
    elif base == "diou":
        out = out - T.safe_pow(xp, T.diou_penalty(xp, a, b, eps), alpha)
    elif base == "ciou":
        v = T.aspect_consistency_v(xp, a, b, eps)
        beta = T.ciou_alpha(xp, iou, v, eps)
        # alpha-CIoU: (rho^2 / c^2)^alpha + (beta v)^alpha, beta from the plain IoU
        out = (
            out
            - T.safe_pow(xp, T.diou_penalty(xp, a, b, eps), alpha)
            - T.safe_pow(xp, beta * v, alpha)
        )
    return out


def _mpdiou(xp: Any, a: Array, b: Array, eps: float, width: Any, height: Any) -> Array:
    # Ma & Xu 2023 (arXiv:2307.07662): MPDIoU = IoU - d1^2/(w^2+h^2) - d2^2/(w^2+h^2)
    return _iou(xp, a, b, eps) - T.mpdiou_penalty(xp, a, b, width, height, eps)


_MEASURES = {
    "iou": _iou,
    "ioa": _ioa,
    "giou": _giou,
    "diou": _diou,
    "ciou": _ciou,
    "eiou": _eiou,
    "siou": _siou,
    "alpha_iou": _alpha_iou,
    "mpdiou": _mpdiou,
}

# ---------------------------------------------------------------- public API

_ARGS_DOC = """
    Parameters
    ----------
    a : array [..., N, 4] (pairwise) or [..., 4] (aligned)
    b : array [..., M, 4] (pairwise) or [..., 4] broadcasting with ``a`` (aligned)
        NumPy, torch (any device) or JAX arrays, both from the same library;
        lists are converted with ``np.asarray``.
    aligned : bool
        False: every box of ``a`` against every box of ``b`` -> [..., N, M].
        True: ``a[i]`` against ``b[i]`` -> [...].
    fmt : str
        Layout of both inputs: xyxy, xywh, cxcywh, or a normalized form
        (xyxyn, xywhn, cxcywhn, which need ``image_size``).
    eps : float, default 1e-12
        Denominators ``<= eps`` make their ratio 0 (never added to them).
    validate : bool
        Raise InvalidBoxesError for NaN/inf or negative sizes (naming the row
        and a or b). False skips the check (one reduction) in hot loops.
        Under ``jax.jit`` the values are unknown and the check is skipped.
    image_size : (width, height), optional
        Needed for normalized formats (boxes are scaled to pixels first).
"""

_RETURNS_DOC = """
    Returns
    -------
    array [..., N, M] (pairwise) or [...] (aligned)
        Same library and device as the inputs, dtype of ``a`` and ``b``
        promoted together (integers promoted to floating); differentiable.
"""


def _doc(f: Any) -> Any:
    doc = f.__doc__.replace("{ARGS}", _ARGS_DOC).replace("{RETURNS}", _RETURNS_DOC)
    # the placeholders sit on their own indented lines: drop the blank lines
    # they leave inside the Parameters section
    f.__doc__ = re.sub(r"\n[ \t]*\n(?=    [a-z_]+ : )", "\n", doc)
    return f


@_doc
def iou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Intersection over Union, ``|A n B| / |A u B|``, in [0, 1].

    Two zero-area boxes (zero union) give 0.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import iou
    >>> a = np.array([[0.0, 0.0, 2.0, 2.0]])
    >>> b = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0]])
    >>> iou(a, b)  # overlap 1, union 4 + 4 - 1 = 7
    array([[0.14285714, 1.        ]])
    >>> iou(a, b[:1], aligned=True)
    array([0.14285714])
    """
    return _measure("iou", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def ioa(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Intersection over the area of ``a``, ``|A n B| / |A|``, in [0, 1] (mmcv's "iof").

    Not symmetric. A zero-area ``a`` gives 0.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import ioa
    >>> ioa(np.array([[0.0, 0.0, 2.0, 2.0]]), np.array([[1.0, 0.0, 5.0, 5.0]]))  # 2 / 4
    array([[0.5]])
    """
    return _measure("ioa", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def giou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Generalized IoU (Rezatofighi et al. 2019), ``IoU - (C - U) / C``, in (-1, 1].

    C is the area of the smallest enclosing box, U the union.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import giou
    >>> # disjoint: IoU 0, C = 3 x 1 = 3, U = 2 -> 0 - 1/3
    >>> giou(np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([[2.0, 0.0, 3.0, 1.0]]))
    array([[-0.33333333]])
    """
    return _measure("giou", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def diou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Distance IoU (Zheng et al. 2020), ``IoU - rho^2 / c^2``, in (-1, 1].

    rho: distance of the centres; c: diagonal of the enclosing box.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import diou
    >>> # IoU 0, rho^2 = 2^2 = 4, c^2 = 3^2 + 1^2 = 10 -> -0.4
    >>> diou(np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([[2.0, 0.0, 3.0, 1.0]]))
    array([[-0.4]])
    """
    return _measure("diou", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def ciou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Complete IoU (Zheng et al. 2020), ``IoU - rho^2 / c^2 - alpha v``.

    ``v = 4 / pi^2 (atan(w_b / h_b) - atan(w_a / h_a))^2`` and
    ``alpha = v / ((1 - IoU) + v)`` (the paper's; 0 when both vanish).
    torchvision and ultralytics give the same value up to the 1e-7 they add
    to denominators (they also stop alpha's gradient, which matters for
    losses only); mmdet sets alpha = 0 where IoU <= 0.5.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import ciou
    >>> a, b = np.array([[0.0, 0.0, 2.0, 2.0]]), np.array([[0.0, 0.0, 2.0, 2.0]])
    >>> ciou(a, b)  # identical boxes
    array([[1.]])
    """
    return _measure("ciou", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def eiou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
) -> Array:
    """Efficient IoU (Zhang et al. 2021, Focal-EIoU; not mmdet's Extended IoU).

    ``EIoU = IoU - rho^2 / c^2 - (w_a - w_b)^2 / cw^2 - (h_a - h_b)^2 / ch^2``,
    with cw, ch, c the width, height and diagonal of the enclosing box.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import eiou
    >>> # IoU 1/2; centres (1, 1), (0.5, 1): rho^2 = 0.25, c^2 = 2^2 + 2^2 = 8;
    >>> # dw^2 / cw^2 = 1 / 4, dh = 0 -> 0.5 - 0.03125 - 0.25 = 0.21875
    >>> eiou(np.array([[0.0, 0.0, 2.0, 2.0]]), np.array([[0.0, 0.0, 1.0, 2.0]]))
    array([[0.21875]])
    """
    return _measure("eiou", a, b, aligned, fmt, eps, validate, image_size, {})


@_doc
def siou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
    theta: float = 4.0,
) -> Array:
    """SCYLLA-IoU (Gevorgyan 2022), ``IoU - (Delta + Omega) / 2``.

    Angle cost ``Lambda = sin(2 alpha)`` (= the paper's
    ``1 - 2 sin^2(arcsin(c_h / sigma) - pi/4)``), distance cost
    ``Delta = sum_t (1 - exp(-gamma rho_t))`` with the paper's
    ``gamma = 2 - Lambda``, shape cost
    ``Omega = sum_t (1 - exp(-omega_t))^theta``. See docs/boxes.md.
    {ARGS}
    theta : float
        Shape-cost exponent (the paper uses 4; its suggested range is 2 to 6).
    {RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import siou
    >>> a = np.array([[0.0, 0.0, 2.0, 2.0]])
    >>> float(siou(a, a)[0, 0])
    1.0
    """
    if not isinstance(theta, (int, float)) or not theta > 0:
        raise InvalidParameterError(f"theta must be a number > 0; got {theta!r}")
    return _measure("siou", a, b, aligned, fmt, eps, validate, image_size, {"theta": float(theta)})


_ALPHA_BASES = ("iou", "giou", "diou", "ciou")


@_doc
def alpha_iou(
    a: Any,
    b: Any,
    *,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
    image_size: Any = None,
    alpha: float = 3.0,
    base: str = "iou",
) -> Array:
    """Alpha-IoU (He et al. 2021): ``IoU^alpha - R^alpha`` for a base measure ``IoU - R``.

    base="iou": ``IoU^alpha``; "giou": ``IoU^a - ((C-U)/C)^a``; "diou":
    ``IoU^a - (rho^2/c^2)^a``; "ciou": ``IoU^a - (rho^2/c^2)^a - (beta v)^a`` with
    CIoU's ``beta = v / ((1 - IoU) + v)`` from the plain IoU (as the paper
    writes it; the authors' code uses IoU^alpha there). Loss: ``1 - alpha_iou``.
    {ARGS}
    alpha : float
        Power, > 0 (the paper recommends 3; alpha = 1 recovers the base measure).
    base : str
        One of "iou", "giou", "diou", "ciou".
    {RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import alpha_iou
    >>> # IoU = 1/2 -> (1/2)^3
    >>> alpha_iou(np.array([[0.0, 0.0, 2.0, 2.0]]), np.array([[0.0, 0.0, 1.0, 2.0]]))
    array([[0.125]])
    """
    if not isinstance(alpha, (int, float)) or not (alpha > 0 and math.isfinite(alpha)):
        raise InvalidParameterError(f"alpha must be a finite number > 0; got {alpha!r}")
    if base not in _ALPHA_BASES:
        raise InvalidParameterError(
            f"base={base!r} is not supported; expected one of {', '.join(_ALPHA_BASES)}"
        )
    return _measure(
        "alpha_iou",
        a,
        b,
        aligned,
        fmt,
        eps,
        validate,
        image_size,
        {"alpha": float(alpha), "base": base},
    )


@_doc
def mpdiou(
    a: Any,
    b: Any,
    *,
    image_size: Any,
    aligned: bool = False,
    fmt: str = "xyxy",
    eps: float = DEFAULT_EPS,
    validate: bool = True,
) -> Array:
    """Minimum Point Distance IoU (Ma & Xu 2023), ``IoU - (d1^2 + d2^2) / (w^2 + h^2)``.

    d1, d2: distances between the top-left and between the bottom-right
    corners; (w, h) = ``image_size``, the input image's size, required here.
    {ARGS}{RETURNS}
    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import mpdiou
    >>> # IoU 1/2, d1^2 = 0, d2^2 = 1, w^2 + h^2 = 16 + 9 = 25 -> 0.5 - 0.04
    >>> a, b = np.array([[0.0, 0.0, 2.0, 2.0]]), np.array([[0.0, 0.0, 1.0, 2.0]])
    >>> mpdiou(a, b, image_size=(4, 3))
    array([[0.46]])
    """
    width, height = check_image_size(image_size, "for mpdiou")
    return _measure(
        "mpdiou",
        a,
        b,
        aligned,
        fmt,
        eps,
        validate,
        image_size,
        {"width": width, "height": height},
    )
