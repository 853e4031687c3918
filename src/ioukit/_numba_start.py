"""Trim Numba's one-time start-up cost when ioukit's kernels load from the cache.

A short job (one COCO evaluation in a fresh process) is dominated by what Numba does
once per process before the first cached kernel runs, not by the kernels. Three
pieces of that work are not needed to *load* compiled code, only to *compile* it:

1. ``numba.np.arraymath`` probes for BLAS at import by importing ``scipy.linalg``
   (0.2 s, 14 MB). No ioukit kernel calls BLAS.
2. Every cache load first calls ``target_context.refresh()``, which imports and
   installs all of Numba's typing and lowering registries (~0.07-0.2 s). A cached
   kernel is finished machine code; it needs only the runtime (NRT) that its code
   calls into.
3. Every cache load lists all symbols the loaded library defines (walking its LLVM
   module, three FFI calls per function: ~2000 functions over the COCO segm path)
   into the JIT engine's ``_defined_symbols`` set, which is only asked a handful of
   questions later (entry points, unresolved-symbol stubs).

:func:`light_numba_start` defers all three to where they are needed: the BLAS
probe is answered by whether scipy is installed; a cache load on the CPU target
initialises the NRT but skips the refresh (Numba's compiler refreshes the context
itself in ``CompilerBase.__init__``, so a cache miss or any later compilation sees
the full registries as before); and the engine answers "is this symbol defined?"
for cache-loaded modules by looking that one name up in them. Each change checks
the Numba internals it touches and leaves Numba as it is where those differ (other
versions keep their own behaviour, just slower).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

__all__ = ["light_numba_start"]

_DONE = False


def light_numba_start() -> None:
    """Apply the three start-up trims (idempotent; call before the first kernel loads).

    >>> light_numba_start()
    >>> light_numba_start()  # a second call changes nothing
    """
    global _DONE
    if _DONE:
        return
    _DONE = True
    _defer_blas_probe()
    _load_cached_without_refresh()
    _lazy_symbol_lookup()


def _defer_blas_probe() -> None:
    """Let Numba's first kernel load skip importing ``scipy.linalg``.

    Numba's first compile or cache load imports ``numba.np.arraymath``, whose
    module-level BLAS probe (``_HAVE_BLAS``, only read when typing ``np.dot``-like
    calls) imports ``scipy.linalg``. This answers that one module-level probe by
    whether scipy is installed; every other call (Numba's check when a BLAS call is
    compiled) goes to the real ``ensure_blas``, restored on first use. A no-op once
    scipy.linalg or arraymath is imported, and on Numba versions without these names.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        import numba.np.linalg as linalg
    except ImportError:  # pragma: no cover - other Numba layouts keep their own probe
        return
    real = getattr(linalg, "ensure_blas", None)
    if real is None or getattr(real, "_ioukit_probe", False):  # pragma: no cover
        return

    def probe() -> None:
        linalg.ensure_blas = real
        am = sys.modules.get("numba.np.arraymath")
        if am is None or hasattr(am, "_HAVE_BLAS"):
            return real()  # not arraymath's import-time probe: the real check
        am.ensure_blas = real
        if importlib.util.find_spec("scipy") is None:
            raise ImportError("scipy is required for BLAS")

    probe._ioukit_probe = True  # type: ignore[attr-defined]
    linalg.ensure_blas = probe


def _patchable(cls: Any, target: str, *needed: str) -> bool:
    """``cls.target`` exists and is Numba's own (not patched yet), and so do ``needed``."""
    fn = getattr(cls, target, None)
    if fn is None or getattr(fn, "_ioukit_light", False):
        return False
    return all(hasattr(cls, name) for name in needed)


def _load_cached_without_refresh() -> None:
    """Make CPU cache loads initialise the NRT instead of refreshing the whole context.

    Replaces ``numba.core.caching.Cache.load_overload`` (which is ``refresh()`` then
    ``_load_overload`` under an I/O guard) with ``rtsys.initialize`` then the same
    guarded ``_load_overload``, for the CPU target only. Skipped when the names it
    relies on are missing.
    """
    try:
        from numba.core import caching
        from numba.core.cpu import CPUContext
        from numba.core.runtime import rtsys
    except ImportError:  # pragma: no cover - other Numba layouts
        return
    cache_cls = getattr(caching, "Cache", None)
    if not _patchable(
        cache_cls, "load_overload", "_load_overload", "_guard_against_spurious_io_errors"
    ) or not hasattr(rtsys, "initialize"):  # pragma: no cover - other Numba versions
        return
    original = cache_cls.load_overload

    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        if type(target_context) is not CPUContext:
            return original(self, sig, target_context)
        # the compiled code calls into the NRT (allocation, reference counts)
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
        return None  # pragma: no cover - the guard swallowed an I/O error

    load_overload._ioukit_light = True  # type: ignore[attr-defined]
    cache_cls.load_overload = load_overload


def _lazy_symbol_lookup() -> None:
    """Answer ``JitEngine.is_symbol_defined`` for cache-loaded modules on demand.

    ``JitEngine._load_defined_symbols(mod)`` (called by ``add_module`` for compiled
    code and by ``CPUCodeLibrary._unserialize`` for cached code) becomes "remember
    ``mod``"; ``add_module`` keeps the eager listing (the engine takes ownership of
    that module). ``is_symbol_defined(name)`` checks the eager set, then looks
    ``name`` up in each remembered module (``get_function`` /
    ``get_global_variable``, defined ones only) and caches a hit: the same answers
    as the full listing. The remembered modules are also held by their libraries;
    the list keeps them alive regardless.
    """
    try:
        from numba.core.codegen import JitEngine
    except ImportError:  # pragma: no cover - other Numba layouts
        return
    if not _patchable(JitEngine, "_load_defined_symbols", "add_module", "is_symbol_defined"):
        return  # pragma: no cover - other Numba versions
    eager = JitEngine._load_defined_symbols

    def defines(mod: Any, name: str) -> bool:
        for getter in (mod.get_function, mod.get_global_variable):
            try:
                if not getter(name).is_declaration:
                    return True
            except NameError:
                pass
        return False

    def load_defined_symbols(self: Any, mod: Any) -> None:
        self.__dict__.setdefault("_ioukit_pending", []).append(mod)

    def add_module(self: Any, module: Any) -> Any:
        eager(self, module)
        return self._ee.add_module(module)

    def is_symbol_defined(self: Any, name: str) -> bool:
        if name in self._defined_symbols:
            return True
        for mod in self.__dict__.get("_ioukit_pending", ()):
            if defines(mod, name):
                self._defined_symbols.add(name)
                return True
        return False

    load_defined_symbols._ioukit_light = True  # type: ignore[attr-defined]
    JitEngine._load_defined_symbols = load_defined_symbols
    JitEngine.add_module = add_module
    JitEngine.is_symbol_defined = is_symbol_defined
