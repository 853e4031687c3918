"""Array-library plumbing shared by every array-API module.

ioukit's geometry and losses take NumPy, PyTorch or JAX arrays and return the
same kind on the same device. ``array_api_compat`` supplies the namespace;
these helpers add the few checks ioukit needs on top (mixed libraries, integer
promotion) so that no module re-implements them.
"""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat
import numpy as np

from .errors import BackendError, InvalidParameterError, ShapeMismatchError

__all__ = [
    "as_numeric_array",
    "is_compiling",
    "namespace",
    "is_numpy",
    "is_torch",
    "is_jax",
    "to_floating",
]


def namespace(*arrays: Any) -> Any:
    """Return the array-API namespace shared by ``arrays``.

    Python scalars and ``None`` are ignored. Plain lists/tuples are not accepted
    here (convert them with ``np.asarray`` at the public boundary).

    Raises
    ------
    BackendError
        When the arrays come from different libraries (e.g. NumPy and torch).
    """
    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if arrs and all(is_torch(a) for a in arrs):
        # the namespace array_api_compat gives torch tensors, without its look-up:
        # faster, and torch.compile traces nothing of it (no graph break, no warnings)
        import array_api_compat.torch as torch_namespace

        return torch_namespace
    try:
        return array_api_compat.array_namespace(*arrs)
    except TypeError as e:  # mixed or unsupported libraries
        kinds = sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__ for a in arrs})
        raise BackendError(
            f"inputs must all come from one array library; got {', '.join(kinds)}"
        ) from e


def is_numpy(x: Any) -> bool:
    """True for NumPy arrays (and NumPy scalars)."""
    return isinstance(x, (np.ndarray, np.generic))


def is_torch(x: Any) -> bool:
    """True for ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_jax(x: Any) -> bool:
    """True for JAX arrays, tracers included (without importing jax)."""
    if "jax" not in sys.modules or is_torch(x):
        return False
    return array_api_compat.is_jax_array(x)


def to_floating(x: Any, xp: Any) -> Any:
    """Promote integer/bool arrays to the library's default float; keep floats.

    float16, bfloat16, float32 and float64 pass through unchanged so results come
    back in the caller's dtype. Integers become float64 on NumPy (exact for any
    pixel coordinate) and the library default (float32) elsewhere, matching
    torchvision's promotion.
    """
    if xp.isdtype(x.dtype, "real floating"):
        return x
    if is_numpy(x):
        return x.astype(np.float64)
    return xp.astype(x, xp.float32)


def as_numeric_array(x: Any, name: str, dtype: Any = None) -> np.ndarray:
    """``np.asarray(x, dtype)`` for a public argument, with ioukit's errors.

    The one conversion of lists (and NumPy arrays) at the public boundary of boxes,
    nms and losses: a ragged list raises :class:`ShapeMismatchError` naming
    ``name`` (NumPy's "inhomogeneous shape" ValueError otherwise), non-numbers raise
    :class:`InvalidParameterError`, and a non-native byte order (a big-endian array
    on a little-endian machine) is converted to native order, since the compiled
    kernels read native numbers only.
    """
    try:
        a = np.asarray(x, dtype=dtype)
    except ValueError as e:
        if isinstance(x, (list, tuple)) and "inhomogeneous" in str(e):
            raise ShapeMismatchError(
                f"{name} is a ragged list (its rows have different lengths); "
                "every box needs 4 coordinates"
            ) from None
        raise InvalidParameterError(f"{name} must be numbers; {e}") from None
    except TypeError as e:
        raise InvalidParameterError(f"{name} must be numbers; {e}") from None
    if a.dtype.kind in "OUSV" and dtype is None:
        raise InvalidParameterError(f"{name} must be numbers; got dtype {a.dtype}")
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def is_compiling() -> bool:
    """True while torch.compile (dynamo) traces or torch.jit scripts/traces the caller.

    Value-dependent checks (a ``bool()`` of a tensor: validation, the overflow
    test of the box measures) are skipped then, as under ``jax.jit``: they would
    break the graph. Does not import torch.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    try:
        return bool(torch.compiler.is_compiling()) or bool(torch.jit.is_tracing())
    except AttributeError:  # pragma: no cover - old torch
        return False
