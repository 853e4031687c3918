"""Build of ioukit's compiled kernels (Cython -> C -> one extension module per .pyx).

Every ``src/ioukit/**/*.pyx`` becomes an extension module of the same dotted name,
compiled ahead of time with OpenMP (``prange``) and without fast-math (results stay
bit-identical to the references' C arithmetic). The kernels use typed memoryviews
only, so NumPy's C headers are not needed to build them.

Rebuild after editing a ``.pyx``/``.pxd``: ``pip install -e . --no-build-isolation``
(or ``python setup.py build_ext --inplace -j 2``); see docs/architecture.md.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SRC = ROOT / "src"

# -O3 for vectorised loops; no -ffast-math and no FMA contraction, so every float
# operation rounds as written (pycocotools' and torchvision's C arithmetic).
COMPILE_ARGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-Wno-unreachable-code"]
OPENMP_ARGS = ["-fopenmp"]
# Cython's utility code (memoryviews and the rest), compiled once into this module and
# imported by every kernel module instead of copied into each of them
SHARED_UTILITY = "ioukit._cyutility"

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "nonecheck": False,
    "embedsignature": True,
}


def _extensions() -> list[Extension]:
    use_openmp = os.environ.get("IOUKIT_NO_OPENMP", "") in ("", "0")
    # IOUKIT_BUILD_ONLY=ioukit.nms._kernels,ioukit.rle: rebuild just those modules in place
    only = [m for m in os.environ.get("IOUKIT_BUILD_ONLY", "").split(",") if m]
    exts = []
    for pyx in sorted(SRC.rglob("*.pyx")):
        rel = pyx.relative_to(SRC).with_suffix("")
        if only and not any(".".join(rel.parts).startswith(m) for m in only):
            continue
        exts.append(
            Extension(
                ".".join(rel.parts),
                [str(pyx.relative_to(ROOT))],
                extra_compile_args=COMPILE_ARGS + (OPENMP_ARGS if use_openmp else []),
                extra_link_args=OPENMP_ARGS if use_openmp else [],
            )
        )
    return exts


class BuildKernels(build_ext):
    """build_ext that names what is missing instead of failing deep inside a compiler call."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:  # compile the modules side by side
            self.parallel = os.cpu_count() or 1

    def build_extensions(self) -> None:
        cc = getattr(self.compiler, "compiler_so", None) or getattr(self.compiler, "compiler", None)
        exe = cc[0] if cc else None
        if exe and shutil.which(exe) is None:
            raise SystemExit(
                f"ioukit: no C compiler found (looked for {exe!r}). ioukit compiles its "
                "kernels at install time; install a C compiler with OpenMP support "
                "(Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc) and retry."
            )
        include = sysconfig.get_paths()["include"]
        if not Path(include, "Python.h").exists():
            raise SystemExit(
                f"ioukit: Python's C headers are missing (no Python.h in {include}). "
                "Install them (Debian/Ubuntu: apt-get install python3-dev) and retry."
            )
        super().build_extensions()

    def run(self) -> None:
        super().run()
        if self.inplace:
            # An editable install leaves the .py files in place and, unlike a regular
            # install, does not byte-compile them: the first import would then compile
            # ~80 modules (~50 ms on the first `ioukit eval`, and on every run where
            # PYTHONDONTWRITEBYTECODE is set). Compile them here, with the kernels.
            import compileall

            compileall.compile_dir(str(SRC / "ioukit"), quiet=1)


def _cythonize(exts: list[Extension]) -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError as e:  # pip installs it from [build-system]; a bare setup.py may not
        raise SystemExit("ioukit: building needs Cython>=3.1 (pip install cython)") from e
    shared = Extension(
        SHARED_UTILITY,
        sources=["src/" + SHARED_UTILITY.replace(".", "/") + ".c"],
        extra_compile_args=COMPILE_ARGS,
    )
    return cythonize(
        exts + [shared],
        shared_utility_qualified_name=SHARED_UTILITY,
        compiler_directives=CYTHON_DIRECTIVES,
        include_path=[str(SRC)],
        nthreads=os.cpu_count() or 1,
        quiet=True,
    )


setup(ext_modules=_cythonize(_extensions()), cmdclass={"build_ext": BuildKernels})
