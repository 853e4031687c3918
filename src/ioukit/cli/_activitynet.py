"""``ioukit eval --protocol activitynet``: temporal detection mAP from ActivityNet JSON.

GT is an ActivityNet ground-truth JSON (``database``) and DT a results JSON
(``results``). The numbers are those of :func:`ioukit.activitynet.evaluate`
(docs/activitynet.md); ``--thumos14`` uses THUMOS14's tIoU 0.3:0.7.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ._args import parse_iou_thrs

__all__ = ["add_options", "activitynet_kwargs", "run"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The ActivityNet option group of ``ioukit eval``."""
    g = p.add_argument_group("ActivityNet / THUMOS14 (--protocol activitynet)")
    g.add_argument("--thumos14", action="store_true", help="THUMOS14 tIoU thresholds 0.3:0.7:0.1")
    g.add_argument(
        "--subset",
        default="validation",
        help="ground-truth subset to evaluate (default: validation; 'all' for every video)",
    )
    g.add_argument(
        "--ignore-unknown-labels",
        action="store_true",
        help="skip predictions whose label has no ground truth (default: an error)",
    )


def activitynet_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.activitynet.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(thumos14=True, iou_thrs=None, subset="all",
    ...                         ignore_unknown_labels=False)
    >>> kw = activitynet_kwargs(ns)
    >>> kw["tiou_thresholds"], kw["subset"], kw["unknown_labels"]
    ('thumos14', None, 'error')
    """
    kw: dict[str, Any] = {
        "subset": None if args.subset == "all" else args.subset,
        "unknown_labels": "ignore" if args.ignore_unknown_labels else "error",
        "tiou_thresholds": "thumos14" if args.thumos14 else "activitynet",
    }
    if getattr(args, "iou_thrs", None):
        kw["tiou_thresholds"] = parse_iou_thrs(args.iou_thrs).tolist()
    return kw


def run(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate with the ActivityNet protocol; print the mAP table (and JSON)."""
    from .. import activitynet
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol activitynet needs GT.json (database) and PRED.json (results)")
    refuse_options(args, "activitynet")
    if args.thumos14 and getattr(args, "iou_thrs", None):
        raise UsageError("--thumos14 and --iou-thrs both set the tIoU thresholds: give one")
    for path in (args.gt, args.dt):
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
    return evaluate_and_report(
        args,
        pr,
        "activitynet",
        lambda: activitynet.evaluate(args.gt, args.dt, **activitynet_kwargs(args)),
        lambda r: f"{len(r.labels)} classes \u00b7 {len(r.map)} tIoU thresholds",
    )
