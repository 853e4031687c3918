"""Why a detector fails: TIDE error analysis, calibration and per-image diagnostics.

- :func:`evaluate`: TIDE (tidecv 1.0.1 definitions) -> :class:`TideResult` with
  ``.ap``, ``.main_errors`` {Cls, Loc, Both, Dupe, Bkg, Miss} and ``.special_errors``
  {FalsePos, FalseNeg} as dAP fractions; :func:`summary`, :func:`compare` (models side
  by side) and :func:`plot` (matplotlib).
- :func:`calibration` / :func:`calibration_error`: ECE and MCE of detection scores
  against TP at an IoU threshold, with the reliability diagram's bins
  (:func:`plot_reliability`).
- :func:`worst_images`: the images with the most missed AP, missed GT or false
  positives, with their errors.

Example
-------
>>> from ioukit import tide
>>> from ioukit.synthetic import make_coco_dataset
>>> gt, dt = make_coco_dataset(n_images=20, n_categories=3, seed=0)
>>> r = tide.evaluate(gt, dt)
>>> sorted(r.main_errors)
['Bkg', 'Both', 'Cls', 'Dupe', 'Loc', 'Miss']
"""

from __future__ import annotations

from .calibration import Calibration, calibration, calibration_error, plot_reliability
from .diagnostics import worst_images
from .evaluate import MAIN_ERRORS, SPECIAL_ERRORS, TideResult, compare, evaluate, plot, summary

__all__ = [
    "evaluate",
    "TideResult",
    "summary",
    "compare",
    "plot",
    "MAIN_ERRORS",
    "SPECIAL_ERRORS",
    "calibration",
    "calibration_error",
    "Calibration",
    "plot_reliability",
    "worst_images",
]
