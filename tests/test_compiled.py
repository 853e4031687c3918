"""The kernels are compiled ahead of time: extension modules, no JIT, OpenMP threads."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ioukit
from ioukit import _threads

SRC = Path(ioukit.__file__).parent


def _pyx_modules() -> list[str]:
    return sorted(
        "ioukit." + ".".join(p.relative_to(SRC).with_suffix("").parts) for p in SRC.rglob("*.pyx")
    )


def test_every_pyx_is_a_built_extension():
    mods = _pyx_modules()
    assert len(mods) >= 5
    for name in mods:
        mod = importlib.import_module(name)
        # an extension module, not a .py of the same name shadowing it
        assert Path(mod.__file__).suffix in (".so", ".pyd"), (name, mod.__file__)


def test_nothing_imports_numba():
    # every ioukit module, in a fresh process (this one may hold the tests' stand-in)
    code = (
        "import importlib, pkgutil, sys, ioukit\n"
        "skip = ('ioukit.distributed', 'ioukit.report._plots')\n"
        "for m in pkgutil.walk_packages(ioukit.__path__, 'ioukit.'):\n"
        "    if not m.name.startswith(skip):\n"
        "        try: importlib.import_module(m.name)\n"
        "        except ImportError as e: print('optional', m.name, e)\n"
        "print('NUMBA' if any(k == 'numba' or k.startswith(('numba.', 'llvmlite'))\n"
        "                     for k in sys.modules) else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "CLEAN", out.stdout


def test_light_imports_stay_light():
    # the core imports pull in no optional heavy library (torch, jax, scipy, ...)
    code = (
        "import sys, ioukit.coco, ioukit.boxes, ioukit.nms\n"
        "heavy = ('torch', 'jax', 'scipy', 'rich', 'matplotlib', 'pandas', 'dask', 'msgspec')\n"
        "print(sorted(h for h in heavy if h in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_thread_count_setting_round_trips():
    old = _threads.get_num_threads()
    try:
        _threads.set_num_threads(1)
        assert _threads.get_num_threads() == 1
        _threads.set_num_threads(3)
        assert _threads.get_num_threads() == 3
    finally:
        _threads.set_num_threads(old)
    with pytest.raises(ValueError, match="n must be >= 1"):
        _threads.set_num_threads(0)


def test_threadpoolctl_sees_and_limits_the_kernels_openmp():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _threads.has_openmp():
        pytest.skip("built without OpenMP")
    old = _threads.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert _threads.get_num_threads() == 1
    assert _threads.get_num_threads() == old


def test_results_do_not_depend_on_thread_count(monkeypatch):
    from ioukit import boxes, coco
    from ioukit.synthetic import make_coco_dataset

    # small inputs run on one thread by design: make every kernel take its threaded path
    for mod in list(sys.modules.values()):
        name = getattr(mod, "__name__", "")
        if name.startswith("ioukit.") and hasattr(mod, "PARALLEL_MIN_ITEMS"):
            monkeypatch.setattr(mod, "PARALLEL_MIN_ITEMS", 0)

    gt, dt = make_coco_dataset(n_images=60, seed=3)
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 100, (700, 2))
    a = np.concatenate([a, a + rng.uniform(1, 30, (700, 2))], 1)
    old = _threads.get_num_threads()
    outs = []
    try:
        for n in (1, 2, 4):
            _threads.set_num_threads(n)
            r = coco.evaluate(gt, dt)
            outs.append((r.stats, r.precision, r.recall, boxes.iou(a, a[::-1])))
    finally:
        _threads.set_num_threads(old)
    for o in outs[1:]:
        for x, y in zip(outs[0], o):
            assert np.array_equal(np.asarray(x), np.asarray(y))


def test_build_without_a_compiler_names_what_is_missing(tmp_path):
    pytest.importorskip("Cython")
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "src" / "ioukit").mkdir(parents=True)
    (tmp_path / "setup.py").write_text((repo / "setup.py").read_text())
    pyx = repo / "src" / "ioukit" / "_threads.pyx"
    (tmp_path / "src" / "ioukit" / "_threads.pyx").write_text(pyx.read_text())
    env = dict(os.environ, CC="ioukit-no-such-cc")
    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode != 0
    assert "no C compiler found (looked for 'ioukit-no-such-cc')" in out.stderr + out.stdout
