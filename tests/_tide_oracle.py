"""The ``tidecv`` package (PyPI 1.0.1) as a test oracle, importable without cv2 / seaborn.

``tidecv/data.py``, ``errors/error.py`` and ``plotting.py`` import ``cv2`` at module top
(for drawing examples), and ``plotting.py`` imports ``seaborn`` and ``pandas``; none of
them is used by the error computation. Where they are not importable, minimal stand-in
modules are registered first (``cv2.FONT_HERSHEY_SIMPLEX``, the only attribute read at
import, as a default argument). ``np.float`` is set to ``float`` in case NumPy 2 is
missing the alias. ``pandas``: a stub only when absent (plotting never runs here).

:func:`load` returns the ``tidecv`` module (or None when it is not installed);
:func:`require` skips the calling test without it, except under ``CI=true``.
:func:`run` evaluates one GT / results pair (dicts, as loaded from COCO JSON) with
tidecv's own COCO loaders (written to a temporary file) and returns ``(ap, main,
special)`` in tidecv's units (AP points, 0-100).

Install: ``pip install --no-deps tidecv==1.0.1``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import tempfile
import types
from typing import Any

import numpy as np
import pytest

VERSION = "1.0.1"


def _stub(name: str, **attrs: Any) -> None:
    if name in sys.modules:
        return
    try:
        if importlib.util.find_spec(name) is not None:
            return
    except ValueError:
        pass
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod


def load() -> Any:
    """The ``tidecv`` package through the shims, or None when it is not installed."""
    if importlib.util.find_spec("tidecv") is None:
        return None
    _stub("cv2", FONT_HERSHEY_SIMPLEX=0, LINE_AA=16)
    _stub(
        "seaborn",
        set_palette=lambda *a, **k: None,
        color_palette=lambda *a, **k: [(0.5, 0.5, 0.5)] * 10,
        set=lambda *a, **k: None,
    )
    _stub("pandas")
    if "float" not in np.__dict__:
        np.float = float  # noqa: NPY001  the removed alias, in case a code path reads it
    tidecv = importlib.import_module("tidecv")
    from importlib.metadata import version

    if version("tidecv") != VERSION:
        raise RuntimeError(f"the TIDE oracle must be tidecv {VERSION}; found {version('tidecv')}")
    return tidecv


def require() -> Any:
    """:func:`load`, skipping the test when tidecv is absent (failing it under CI=true)."""
    tidecv = load()
    if tidecv is None:
        msg = f"the TIDE oracle is not installed (pip install --no-deps tidecv=={VERSION})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI=true: the oracle must be present)")
        pytest.skip(msg)
    return tidecv


def run_files(
    gt_path: str,
    dt_path: str,
    pos: float = 0.5,
    bg: float = 0.1,
    mode: str = "bbox",
    max_dets: int = 100,
) -> tuple[float, dict, dict]:
    """tidecv on two COCO JSON files: ``(ap, main_errors, special_errors)``, 0-100.

    ``max_dets``: detections kept per image (``Data.max_dets`` of the GT; its COCO
    loader sets 100)."""
    tidecv = require()
    import matplotlib as mpl

    dpi = mpl.rcParams["figure.dpi"]
    # TIDE() sets figure.dpi and makes a data folder (TIDE_PATH): both kept local
    os.environ.setdefault("TIDE_PATH", os.path.join(tempfile.gettempdir(), "ioukit-tidecv"))
    try:
        tide = tidecv.TIDE(pos_threshold=pos, background_threshold=bg, mode=mode)
    finally:
        mpl.rcParams["figure.dpi"] = dpi
    gt = tidecv.datasets.COCO(gt_path)
    gt.max_dets = max_dets
    dt = tidecv.datasets.COCOResult(dt_path)
    run = tide.evaluate(gt, dt, name="run")
    main = tide.get_main_errors()["run"]
    special = tide.get_special_errors()["run"]
    return run.ap, dict(main), dict(special)


def run(
    gt: dict,
    dt: list,
    pos: float = 0.5,
    bg: float = 0.1,
    mode: str = "bbox",
    max_dets: int = 100,
) -> tuple[float, dict, dict]:
    """:func:`run_files` on a GT dict and a results list (written to a temporary folder).

    tidecv's COCO loader needs ``width``/``height`` per image and a ``segmentation``
    per annotation (it builds masks even in box mode): absent ones get a 1000 x 1000
    image and the box as a polygon.
    """
    gt = dict(gt)
    gt["images"] = [{"width": 1000, "height": 1000, "file_name": "", **im} for im in gt["images"]]
    anns = []
    for a in gt.get("annotations", []):
        if "segmentation" not in a:
            x, y, w, h = a["bbox"]
            a = {**a, "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]}
        anns.append({"iscrowd": 0, **a})
    gt["annotations"] = anns
    with tempfile.TemporaryDirectory() as d:
        g, r = os.path.join(d, "gt.json"), os.path.join(d, "dt.json")
        with open(g, "w") as f:
            json.dump(gt, f)
        with open(r, "w") as f:
            json.dump(dt, f)
        return run_files(g, r, pos, bg, mode, max_dets)
