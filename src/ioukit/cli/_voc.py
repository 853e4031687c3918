"""``ioukit eval --protocol voc``: Pascal VOC AP from an XML folder and results files.

GT is a VOC annotation folder (``Annotations/``) and DT a results path in which
``{cls}`` stands for the class name (devkit files), or GT and DT are a COCO-style JSON
pair. The numbers are those of :func:`ioukit.voc.evaluate` (docs/voc.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ._args import parse_iou_thrs

__all__ = ["add_options", "cmd_eval_voc", "run", "voc_kwargs"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The Pascal VOC option group of ``ioukit eval``."""
    g = p.add_argument_group("Pascal VOC (--protocol voc)")
    g.add_argument(
        "--metric",
        choices=("voc07", "voc12"),
        default="voc07",
        help="voc07: 11-point AP (default); voc12: all-point AP",
    )
    g.add_argument(
        "--image-set", metavar="FILE", help="ImageSets/Main/<set>.txt (default: all XML)"
    )
    g.add_argument("--classes", metavar="A,B,...", help="classes to evaluate (default: all in GT)")
    g.add_argument(
        "--use-difficult", action="store_true", help="count difficult objects as regular GT"
    )
    g.add_argument(
        "--inclusive",
        action="store_true",
        help="match at IoU >= threshold (MATLAB devkit) instead of > (py-faster-rcnn)",
    )


def voc_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.voc.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(metric="voc12", iou_thrs="0.5,0.7", image_set=None,
    ...                         classes="dog,cat", use_difficult=False, inclusive=True)
    >>> kw = voc_kwargs(ns)
    >>> kw["metric"], kw["iou_threshold"], kw["classes"], kw["threshold_rule"]
    ('voc12', [0.5, 0.7], ['dog', 'cat'], '>=')
    """
    kw: dict[str, Any] = {
        "metric": args.metric,
        "use_difficult": bool(args.use_difficult),
        "threshold_rule": ">=" if args.inclusive else ">",
    }
    if args.iou_thrs:
        kw["iou_threshold"] = parse_iou_thrs(args.iou_thrs).tolist()
    if args.image_set:
        kw["image_set"] = args.image_set
    if args.classes:
        kw["classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
    return kw


def cmd_eval_voc(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate with the VOC protocol; print the per-class table (and JSON)."""
    from .. import voc
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError(
            "--protocol voc needs GT (an annotation folder or COCO-style JSON) and DT "
            "(a results path with {cls}, or COCO-style JSON)"
        )
    refuse_options(args, "voc")
    if not os.path.exists(args.gt):
        raise FileNotFoundError(2, "No such file or directory", args.gt)
    return evaluate_and_report(
        args,
        pr,
        "voc",
        lambda: voc.evaluate(args.gt, args.dt, **voc_kwargs(args)),
        lambda r: (
            f"{len(r.image_ids):,} images \u00b7 {len(r.classes)} classes \u00b7 "
            f"{int(r.num_gt.sum()):,} ground truth \u00b7 {int(r.num_dt.sum()):,} detections"
        ),
    )


#: the protocol entry point (``ioukit.cli._protocols``)
run = cmd_eval_voc
