"""The ``lvis`` package (PyPI 0.5.3) as a test oracle, importable without cv2 / matplotlib.

``lvis/__init__.py`` runs ``from lvis.vis import LVISVis``, and ``vis.py`` imports cv2
and matplotlib, which evaluation never uses: a stand-in ``lvis.vis`` module is
registered first. ``lvis/eval.py`` (lines 361-362) calls ``.astype(np.float)``, an
alias NumPy removed in 1.24: ``np.float`` is set to ``float`` (what the alias was)
before the import. Neither touches the evaluation arithmetic.

:func:`load` returns the ``lvis`` module (or None when it is not installed);
:func:`require` skips the calling test without it, except under ``CI=true``, where a
missing oracle is a failure (as tests/conftest.py does for the shared data).

Install: ``pip install --no-deps lvis==0.5.3`` (the wheel; its declared dependencies,
opencv-python and matplotlib among them, are not needed: numpy and pycocotools are).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

import numpy as np
import pytest

VERSION = "0.5.3"


def load() -> Any:
    """The ``lvis`` package through the shim, or None when it is not installed."""
    if importlib.util.find_spec("lvis") is None:
        return None
    stub = types.ModuleType("lvis.vis")
    stub.LVISVis = None
    sys.modules.setdefault("lvis.vis", stub)
    if "float" not in np.__dict__:
        np.float = float  # noqa: NPY001  the removed alias lvis 0.5.3 still uses (eval.py:361-362)
    lvis = importlib.import_module("lvis")
    from importlib.metadata import version

    if version("lvis") != VERSION:
        raise RuntimeError(f"the LVIS oracle must be lvis {VERSION}; found {version('lvis')}")
    return lvis


def require() -> Any:
    """:func:`load`, skipping the test when lvis is absent (failing it under CI=true)."""
    lvis = load()
    if lvis is None:
        msg = f"the LVIS oracle is not installed (pip install --no-deps lvis=={VERSION})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI=true: the oracle must be present)")
        pytest.skip(msg)
    return lvis


def run(gt: dict, dt: list, iou_type: str = "bbox", max_dets: int = 300) -> Any:
    """``LVISEval(...).run()`` on deep copies of ``gt`` / ``dt`` (lvis edits them in place)."""
    import copy
    import json
    import logging
    import tempfile
    import warnings

    lvis = require()
    logging.getLogger("lvis").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gt.json")
        with open(path, "w") as f:
            json.dump(gt, f)
        g = lvis.LVIS(path)  # the constructor reads a file only
    with warnings.catch_warnings():
        # lvis 0.5.3 calls the deprecated Logger.warn
        warnings.simplefilter("ignore", DeprecationWarning)
        r = lvis.LVISResults(g, copy.deepcopy(dt), max_dets=max_dets)
        e = lvis.LVISEval(g, r, iou_type=iou_type)
        e.run()
    return e
