"""Trim Numba's one-time start-up cost when ioukit's kernels load from the cache.

A short job (one COCO evaluation in a fresh process) is dominated by what Numba does
once per process before the first cached kernel runs, not by the kernels. Several
pieces of that work are needed to *compile* code, not to *load* compiled code:

1. ``numba.np.arraymath`` probes for BLAS at import by importing ``scipy.linalg``
   (0.2 s, 14 MB). No ioukit kernel calls BLAS.
2. Every cache load first calls ``target_context.refresh()``, which imports and
   installs all of Numba's typing and lowering registries (~0.07-0.2 s). A cached
   kernel is finished machine code; it needs only the runtime (NRT) that its code
   calls into.
3. Every cache load parses the kernel's LLVM bitcode (kept for linking it into
   other code later; ~6 ms for a large kernel) and lists all symbols it defines
   (three FFI calls per function) into the JIT engine's ``_defined_symbols`` set,
   which is only asked a handful of questions later.
4. The runtime itself (a small LLVM module of reference-count helpers) is compiled
   on every process start (~25 ms of LLVM passes and code generation).
5. Typing a plain ``np.ndarray`` argument on a dispatcher's first call imports
   ``numpy.ma`` (Numba's masked-array check; ~7 ms on NumPy 2).

:func:`light_numba_start` defers or caches each of them: the BLAS probe is answered
by whether scipy is installed; a cache load on the CPU target initialises the NRT
but skips the refresh (Numba's compiler refreshes the context itself in
``CompilerBase.__init__``, so a cache miss or any later compilation sees the full
registries as before); cached bitcode is parsed when something links against it,
and "is this symbol defined?" is answered by the engine's own symbol table; the
compiled runtime library is cached beside the kernels; exact ndarrays are typed
without the masked-array check. Each change checks the Numba internals it touches
and leaves Numba as it is where those differ (other versions keep their own
behaviour, just slower).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
from typing import Any

__all__ = ["light_numba_start"]

_DONE = False


def light_numba_start() -> None:
    """Apply the start-up trims (idempotent; call before the first kernel loads).

    >>> light_numba_start()
    >>> light_numba_start()  # a second call changes nothing
    """
    global _DONE
    if _DONE:
        return
    _DONE = True
    _defer_blas_probe()
    _load_cached_without_refresh()
    _lazy_object_load()
    _cache_runtime_library()
    _typeof_plain_ndarray()


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


def _lazy_object_load() -> None:
    """Load cached object code without parsing its linking bitcode; look symbols up lazily.

    A cache entry holds the kernel's machine code and, for linking it into *other*
    code later, its LLVM bitcode. ``CPUCodeLibrary._unserialize`` parses that bitcode
    (~6 ms per large kernel) and lists every symbol it defines into the JIT engine's
    ``_defined_symbols`` set (``JitEngine._load_defined_symbols``). Running a cached
    kernel needs neither: here the bitcode is kept as bytes and parsed the first time
    ``_shared_module`` is read (linking into a new compilation), and
    ``JitEngine.is_symbol_defined`` answers names outside its eager set by asking the
    engine for the symbol's address, which it has for every loaded object (MCJIT
    looks only in loaded objects and its own modules, never in the process). Eager
    listing stays for modules compiled in this process (``add_module``).
    """
    try:
        from llvmlite import binding as ll
        from numba.core.codegen import CPUCodeLibrary, JitEngine
    except ImportError:  # pragma: no cover - other Numba layouts
        return
    if not _patchable(
        CPUCodeLibrary, "_unserialize", "_set_compiled_object", "_finalize_final_module"
    ) or not _patchable(JitEngine, "is_symbol_defined", "_load_defined_symbols"):
        return  # pragma: no cover - other Numba versions
    if "_shared_module" in vars(CPUCodeLibrary):  # pragma: no cover - a class attribute
        return
    original = CPUCodeLibrary._unserialize.__func__

    def _unserialize(cls: Any, codegen: Any, state: Any) -> Any:
        name, kind, data = state
        if kind != "object":
            return original(cls, codegen, state)
        object_code, shared_bitcode = data
        self = codegen.create_library(name)
        self.enable_object_caching()
        self._set_compiled_object(object_code)
        self.__dict__["_ioukit_bitcode"] = shared_bitcode
        self._finalize_final_module()
        codegen._engine.__dict__["_ioukit_objects"] = True
        return self

    def get_shared(self: Any) -> Any:
        d = self.__dict__
        bitcode = d.pop("_ioukit_bitcode", None)
        if bitcode is not None:
            d["_ioukit_shared"] = ll.parse_bitcode(bitcode)
        return d.get("_ioukit_shared")

    def set_shared(self: Any, module: Any) -> None:
        self.__dict__.pop("_ioukit_bitcode", None)
        self.__dict__["_ioukit_shared"] = module

    def is_symbol_defined(self: Any, name: str) -> bool:
        if name in self._defined_symbols:
            return True
        if self.__dict__.get("_ioukit_objects") and self._ee.get_global_value_address(name):
            self._defined_symbols.add(name)
            return True
        return False

    _unserialize._ioukit_light = True  # type: ignore[attr-defined]
    CPUCodeLibrary._unserialize = classmethod(_unserialize)
    CPUCodeLibrary._shared_module = property(get_shared, set_shared)  # type: ignore[attr-defined]
    JitEngine.is_symbol_defined = is_symbol_defined


def _runtime_cache_file(codegen: Any) -> str | None:
    """Where the compiled NRT library is cached: beside ioukit's kernel caches.

    Numba's own cache locators pick the directory (``NUMBA_CACHE_DIR``, the package's
    ``__pycache__``, or the user-wide cache), as for a kernel defined in this module;
    the name carries everything the machine code depends on. None when no locator
    gives a writable directory.
    """
    import llvmlite
    import numba
    from numba.core import caching

    impl = caching.CompileResultCacheImpl(_runtime_cache_file)
    locator = impl.locator
    locator.ensure_cache_path()
    key = repr((numba.__version__, llvmlite.__version__, codegen.magic_tuple()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return os.path.join(locator.get_cache_path(), f"ioukit_nrt-{digest}.nbc")


def _cache_runtime_library() -> None:
    """Load Numba's runtime (NRT) library from a cache instead of compiling it per process.

    ``rtsys.initialize`` compiles a small LLVM module of reference-count and
    memory helpers on every process start (~25 ms of LLVM passes and code
    generation), cached kernels included. This wraps ``nrtdynmod.compile_nrt_functions``:
    the first process compiles it as before with object caching on and stores the
    library's serialised form; later processes unserialise it like any cached kernel.
    Any failure to read or write the cache falls back to compiling.
    """
    try:
        from numba.core.runtime import nrtdynmod
    except ImportError:  # pragma: no cover - other Numba layouts
        return
    real = getattr(nrtdynmod, "compile_nrt_functions", None)
    if (
        real is None
        or getattr(real, "_ioukit_light", False)
        or not hasattr(nrtdynmod, "create_nrt_module")
    ):
        return  # pragma: no cover - other Numba versions

    def compile_nrt_functions(ctx: Any) -> Any:
        codegen = ctx.codegen()
        try:
            path = _runtime_cache_file(codegen)
        except Exception:  # noqa: BLE001 - no cache directory: compile as Numba does
            return real(ctx)
        try:
            with open(path, "rb") as f:
                return codegen.unserialize_library(pickle.load(f))
        except Exception:  # noqa: BLE001 - missing or unreadable entry: compile below
            pass
        ir_mod, library = nrtdynmod.create_nrt_module(ctx)
        library.enable_object_caching()
        library.add_ir_module(ir_mod)
        library.finalize()
        try:
            state = library.serialize_using_object_code()
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: a concurrent reader sees all or nothing
        except Exception:  # noqa: BLE001 - read-only cache: still works, compiles next time
            pass
        return library

    compile_nrt_functions._ioukit_light = True  # type: ignore[attr-defined]
    nrtdynmod.compile_nrt_functions = compile_nrt_functions


def _typeof_plain_ndarray() -> None:
    """Type exact ``np.ndarray`` arguments without importing ``numpy.ma``.

    A dispatcher's first call types its arguments in Python; Numba's ndarray rule
    first rejects masked arrays with ``isinstance(val, np.ma.MaskedArray)``, and on
    NumPy 2 that attribute access imports ``numpy.ma`` (~7 ms, once per process).
    An object whose type *is* ``np.ndarray`` is no masked array, so for those this
    rule gives Numba's answer (the same dtype, ndim, layout and read-only flag)
    without the check; every other object goes to Numba's own rule.
    """
    try:
        import numpy as np
        from numba.core import errors, types
        from numba.core.typing import typeof as typeof_module
        from numba.np import numpy_support
    except ImportError:  # pragma: no cover - other Numba layouts
        return
    numba_rule = getattr(typeof_module, "_typeof_ndarray", None)
    registry = getattr(typeof_module, "typeof_impl", None)
    if numba_rule is None or registry is None or registry.dispatch(np.ndarray) is not numba_rule:
        return  # pragma: no cover - other Numba versions, or already replaced
    if not all(hasattr(numpy_support, n) for n in ("from_dtype", "map_layout")):
        return  # pragma: no cover

    def typeof_ndarray(val: Any, c: Any) -> Any:
        if type(val) is not np.ndarray:
            return numba_rule(val, c)
        try:
            dtype = numpy_support.from_dtype(val.dtype)
        except errors.NumbaNotImplementedError:
            return numba_rule(val, c)  # Numba words the error
        layout = numpy_support.map_layout(val)
        return types.Array(dtype, val.ndim, layout, readonly=not val.flags.writeable)

    registry.register(np.ndarray)(typeof_ndarray)
