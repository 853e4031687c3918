"""ioukit._numba_start: cached kernels load without Numba's registry refresh, and
Numba still compiles new code correctly afterwards (fresh processes, shared cache)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import ioukit.coco as C
    from numba.core import caching

    assert getattr(caching.Cache.load_overload, "_ioukit_light", False)
    from numba.core.runtime import nrtdynmod

    nrt_builds = []
    build_nrt = nrtdynmod.create_nrt_module

    def counted(ctx):
        nrt_builds.append(1)
        return build_nrt(ctx)

    nrtdynmod.create_nrt_module = counted
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                           "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}]
    r = C.evaluate(gt, dt)
    print("AP", round(float(r.stats[0]), 6))
    # cached kernels ran without the lowering registries: none of these are imported
    print("REFRESHED", "numba.np.npyimpl" in sys.modules)
    # the runtime library came from the cache (or was compiled and cached)
    print("NRT_BUILT", len(nrt_builds))
    # nor were numpy.ma (ndarray typing) and Numba's arraymath (env rebuild) imported
    print("EXTRA_IMPORTS", "numpy.ma" in sys.modules, "numba.np.arraymath" in sys.modules)
    from ioukit.coco._accumulate import _accumulate_kernel

    acc_lib = _accumulate_kernel.overloads[_accumulate_kernel.signatures[0]].library
    print("BITCODE_PENDING", "_ioukit_bitcode" in acc_lib.__dict__)

    # a new function compiles afterwards with the full registries (the compiler
    # refreshes the context itself): arrays, math, dicts, lists, np.sort
    import numba

    @numba.njit
    def f(x):
        d = {1: 2.5}
        lst = [np.sqrt(v) for v in np.sort(x)]
        return np.sum(x) + d[1] + lst[-1] + np.dot(x, x)

    print("NEW", f(np.array([4.0, 1.0])))

    # the engine still knows every symbol the loaded libraries define, and only those
    from numba.core.registry import cpu_target
    from ioukit.coco._accumulate import _accumulate_kernel

    eng = cpu_target.target_context.codegen()._engine
    lib = _accumulate_kernel.overloads[_accumulate_kernel.signatures[0]].library
    name = _accumulate_kernel.overloads[_accumulate_kernel.signatures[0]].fndesc.llvm_func_name
    print("SYMBOL", eng.is_symbol_defined(name), eng.is_symbol_defined("no_such_symbol"))
    print("ADDRESS", lib.get_pointer_to_function(name) != 0)
    # linking a cached library into new code parses its bitcode on demand
    print("LINKABLE", any(True for _ in lib._get_module_for_linking().functions))
    """
)


def _run(env: dict[str, str]) -> str:
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_cached_load_then_new_compile(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    first = _run(env)  # fills the cache (compiles: refreshes as usual)
    second = _run(env)  # loads from the cache: the light path
    assert "AP 0.9" in first and "AP 0.9" in second
    assert "REFRESHED True" in first
    assert "REFRESHED False" in second
    # 5 + 2.5 + sqrt(4) + 17
    assert "NEW 26.5" in first and "NEW 26.5" in second
    assert "SYMBOL True False" in second and "ADDRESS True" in second
    assert "NRT_BUILT 1" in first and "NRT_BUILT 0" in second
    assert "EXTRA_IMPORTS False False" in second
    assert "BITCODE_PENDING True" in second and "LINKABLE True" in second
