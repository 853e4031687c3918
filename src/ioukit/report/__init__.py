"""Reports on a COCO evaluation: a self-contained HTML file and matplotlib plots.

- :func:`write_html` writes one offline HTML file (inline CSS and SVG, a few
  lines of JS for the sortable table; no CDN): the summary, the per-category
  table, precision-recall curves (all categories, and per category at IoU 0.5,
  0.75 and 0.5:0.95), F1 against the score threshold, AP by object size, the
  class confusion matrix at IoU 0.5 (``confusion_iou``), on request the TIDE error
  analysis with the worst images (``tide=``) and calibration (``calibration=``), and
  the run's parameters and versions.
- :func:`plot_pr` draws precision-recall curves with matplotlib (optional
  dependency, in the ``report`` extra).
- :func:`confusion_matrix` is the class confusion matrix on its own.

The functions read a result object with the attributes of
``ioukit.coco.CocoResult``: ``params``, ``stats``, ``precision``, ``recall``,
``scores``, ``category_names``, ``num_gt``, ``num_dt``, ``summary()`` and
``per_class()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, UnknownIdError
from ..metrics import find_threshold
from ._html import render_html
from .confusion import ConfusionMatrix, confusion_matrix
from .curves import ap_by_area, f1_confidence, pr_curves

__all__ = [
    "write_html",
    "render_html",
    "plot_pr",
    "confusion_matrix",
    "ConfusionMatrix",
    "pr_curves",
    "f1_confidence",
    "ap_by_area",
]


def write_html(
    result: Any,
    path: str | os.PathLike[str],
    *,
    gt: Mapping[str, Any] | None = None,
    dt: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    command: str | None = None,
    extra: Mapping[str, Any] | None = None,
    confusion: ConfusionMatrix | None = None,
    confusion_iou: float = 0.5,
    tide: Any = None,
    calibration: Any = None,
    worst_images: int = 10,
) -> Path:
    """Write the evaluation report as one self-contained HTML file.

    Parameters
    ----------
    result : a ``CocoResult`` (see the module docstring for what is read).
    path : where to write the ``.html`` file; parent folders must exist.
    gt, dt : the loaded ground truth dict and results list; needed only for the
        class confusion matrix (without them that section says so).
    title : the page heading (default "ioukit evaluation report · <iouType>").
    inputs : labelled input descriptions shown in the header, e.g.
        ``{"GT": "val.json", "DT": "model.json"}``.
    command : the command line that produced the result, shown in the parameters.
    extra : more ``name: value`` rows for the parameters table (timings ...).
    confusion : a precomputed :func:`confusion_matrix` to show instead.
    confusion_iou : the IoU tau of the class confusion matrix (default 0.5).
    tide : adds the TIDE section (error dAP bars and table, error counts) and the worst
        images: ``True`` runs :func:`ioukit.tide.evaluate` on ``gt`` / ``dt``; or give
        one ``TideResult``, or a list / dict of them (models side by side).
    calibration : adds the calibration section (reliability diagram, ECE, MCE, bins):
        ``True`` uses the result's match records (``keep_matches=True``) or else
        ``gt`` / ``dt``, TP at IoU 0.5; or give a ``ioukit.tide.Calibration``.
    worst_images : rows of the worst-images table per model (0: no table).

    Returns
    -------
    The path written.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=20, n_categories=3, seed=0)
    >>> out = write_html(evaluate(gt, dt), pathlib.Path(tempfile.mkdtemp()) / "r.html",
    ...                  gt=gt, dt=dt)
    >>> out.read_text().startswith("<!DOCTYPE html>")
    True
    """
    html = render_html(
        result,
        gt=gt,
        dt=dt,
        title=title,
        inputs=inputs,
        command=command,
        extra=extra,
        confusion=confusion,
        confusion_iou=confusion_iou,
        tide=tide,
        calibration=calibration,
        worst_images=worst_images,
    )
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path


def plot_pr(
    result: Any,
    category_id: Any = None,
    *,
    iou: Sequence[float | str] = (0.5, 0.75, "0.5:0.95"),
    area: str = "all",
    max_dets: int = 100,
    ax: Any = None,
) -> Any:
    """Plot precision-recall curves with matplotlib; returns the ``Axes``.

    Parameters
    ----------
    result : a ``CocoResult``.
    category_id : one category's curves, or ``None`` for the mean over
        categories with ground truth (the curves whose mean height is the AP).
    iou : IoU thresholds to draw, each a float among ``params.iouThrs`` or the
        string ``"0.5:0.95"`` (mean over all thresholds).
    area : the area-range label (``"all"``, ``"small"`` ...).
    max_dets : the maxDets setting (the last one when absent).
    ax : an existing matplotlib ``Axes``; a new figure when ``None``.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install 'ioukit[report]'``).
    InvalidParameterError, UnknownIdError
        For an IoU, area label or category id that the result does not hold.

    Example
    -------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> res = evaluate(*make_coco_dataset(n_images=20, n_categories=3, seed=0))
    >>> ax = plot_pr(res)
    >>> len(ax.lines)
    3
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_pr needs matplotlib: pip install 'ioukit[report]' (or matplotlib)"
        ) from e
    params = result.params
    labels = list(params.areaRngLbl)
    if area not in labels:
        raise InvalidParameterError(f"area {area!r} is not one of {labels}")
    a = labels.index(area)
    curves = pr_curves(result, area=a, max_dets=max_dets)
    cats = list(params.catIds)
    if category_id is not None and category_id not in cats:
        raise UnknownIdError(f"category_id {category_id!r} is not among the evaluated catIds")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    rec = curves["recall"]
    for spec in iou:
        if isinstance(spec, str):
            key = spec
        else:
            named = find_threshold((0.5, 0.75), float(spec))
            key = None if named is None else ("0.5", "0.75")[named]
        if key is None or key not in curves:
            # any other evaluated threshold, read straight from the precision array
            from .curves import iou_index, max_dets_index

            t = iou_index(params, float(spec))
            if t is None:
                raise InvalidParameterError(
                    f"IoU {spec!r} was not evaluated; iouThrs are {list(params.iouThrs)}"
                )
            P = np.asarray(result.precision)[t, :, :, a, max_dets_index(params, max_dets)].T
            y = P[cats.index(category_id)] if category_id is not None else None
            if y is None:
                valid = P > -1
                y = np.where(valid, P, 0).sum(0) / np.maximum(valid.sum(0), 1)
            label = f"IoU {float(spec):g}"
        else:
            y = curves[key][cats.index(category_id)] if category_id is not None else None
            if y is None:
                y = curves[key + "/all"]
            label = f"IoU {key}"
        if np.all(y < 0):
            continue
        ax.plot(rec, y, label=f"{label} (AP {np.mean(y):.3f})")
    names = getattr(result, "category_names", {}) or {}
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(
        str(names.get(category_id, category_id)) if category_id is not None else "all categories"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return ax
