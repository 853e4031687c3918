"""``ioukit eval --protocol openimages``: the Open Images challenge detection metric.

GT is the challenge's box CSV and DT the predictions CSV; ``--labels`` names the
verified image-level labels CSV and ``--hierarchy`` the class hierarchy JSON. The
numbers are those of :func:`ioukit.openimages.evaluate` (docs/openimages.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_options", "openimages_kwargs", "run"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The Open Images option group of ``ioukit eval`` (``--classes`` shared with voc)."""
    g = p.add_argument_group(
        "Open Images (--protocol openimages BOXES.csv PREDICTIONS.csv); --iou-thrs T "
        "(one value, default 0.5), --classes A,B as for voc"
    )
    g.add_argument("--labels", metavar="LABELS.csv", help="verified image-level labels")
    g.add_argument("--hierarchy", metavar="H.json", help="class hierarchy (expands GT labels)")
    g.add_argument(
        "--group-of-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="weight of a group-of box (default 1, the challenge; 0: ignore detections in it)",
    )
    if "--classes" not in getattr(p, "_option_string_actions", {}):
        g.add_argument("--classes", metavar="A,B,...")


def openimages_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.openimages.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(labels="l.csv", hierarchy=None, group_of_weight=1.0,
    ...                         classes="a,b", iou_thrs="0.6")
    >>> kw = openimages_kwargs(ns)
    >>> kw["labels"], kw["classes"], kw["iou_threshold"]
    ('l.csv', ['a', 'b'], 0.6)
    """
    from ._args import parse_iou_thrs
    from ._commands import UsageError

    kw: dict[str, Any] = {"group_of_weight": float(args.group_of_weight)}
    for name in ("labels", "hierarchy"):
        value = getattr(args, name, None)
        if value:
            kw[name] = value
    if getattr(args, "iou_thrs", None):
        thr = parse_iou_thrs(args.iou_thrs)
        if thr.size != 1:
            raise UsageError("--protocol openimages takes one IoU threshold (--iou-thrs 0.5)")
        kw["iou_threshold"] = float(thr[0])
    if getattr(args, "classes", None):
        kw["classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
    return kw


def run(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate with the Open Images protocol; print the per-class table (and JSON)."""
    from .. import openimages
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol openimages needs BOXES.csv and PREDICTIONS.csv")
    refuse_options(args, "openimages")
    kw = openimages_kwargs(args)
    for path in (args.gt, args.dt, kw.get("labels"), kw.get("hierarchy")):
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
    inputs = {"GT": args.gt, "DT": args.dt}
    inputs.update({k: kw[k] for k in ("labels", "hierarchy") if k in kw})
    return evaluate_and_report(
        args,
        pr,
        "openimages",
        lambda: openimages.evaluate(args.gt, args.dt, **kw),
        lambda r: (
            f"{len(r.image_ids):,} images \u00b7 {len(r.classes)} classes \u00b7 "
            f"{int(r.outcome.size):,} predictions"
        ),
        inputs=inputs,
    )
