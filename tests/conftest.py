"""Shared test fixtures.

Reference data lives in ``../shared/data`` beside the repository (never copied
in). A test that needs it skips with a reason when it is absent, except under
``CI=true`` where a missing data set is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("IOUKIT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _plain_python_numba() -> None:
    """Let ensemble-boxes (a test oracle) import without Numba.

    ensemble-boxes decorates some of its NumPy functions with ``numba.jit`` for speed.
    ioukit does not depend on Numba, so CI installs ensemble-boxes without it
    (``pip install --no-deps``); this stand-in's ``jit`` returns each function as
    written, so the oracle runs as the plain Python it is. Real Numba, where
    installed, is left alone.
    """
    if "numba" in sys.modules or importlib.util.find_spec("numba") is not None:
        return

    def jit(*args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda fn: fn

    stand_in = types.ModuleType("numba")
    stand_in.jit = stand_in.njit = jit
    stand_in.prange = range
    stand_in.__ioukit_test_stand_in__ = True
    sys.modules["numba"] = stand_in


_plain_python_numba()


def _require(path: Path) -> Path:
    if path.exists():
        return path
    msg = f"reference data not found at {path}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " (CI=true: the shared data must be present)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of ``../shared/data``."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def coco100(shared_data: Path) -> Path:
    """The COCO val2014 100-image subset with detections and pycocotools outputs."""
    return _require(shared_data / "coco-val2014-100")
