"""``ioukit eval --protocol voc``: Pascal VOC AP from an XML folder and results files.

GT is a VOC annotation folder (``Annotations/``) and DT a results path in which
``{cls}`` stands for the class name (devkit files), or GT and DT are a COCO-style JSON
pair. The numbers are those of :func:`ioukit.voc.evaluate` (docs/voc.md).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from ._args import parse_iou_thrs

__all__ = ["add_options", "cmd_eval_voc", "run", "voc_kwargs"]

# COCO-only options and their defaults: any other value is a usage error with VOC
_COCO_ONLY = {"iou_type": "bbox", "max_dets": None, "area_rng": None, "report": None}


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
    from ._commands import UsageError, _version, _write_json

    if args.gt is None or args.dt is None:
        raise UsageError(
            "--protocol voc needs GT (an annotation folder or COCO-style JSON) and DT "
            "(a results path with {cls}, or COCO-style JSON)"
        )
    from ..distributed import wants_distributed

    if wants_distributed(args):
        raise UsageError("--protocol voc runs in one process (no --scheduler / --workers)")
    for name, default in _COCO_ONLY.items():
        if getattr(args, name, default) != default:
            raise UsageError(
                f"--{name.replace('_', '-')} is a COCO option, not used by --protocol voc"
            )
    if not os.path.exists(args.gt):
        raise FileNotFoundError(2, "No such file or directory", args.gt)
    t0 = time.perf_counter()
    result = voc.evaluate(args.gt, args.dt, **voc_kwargs(args))
    elapsed = time.perf_counter() - t0
    to_stdout = args.json == "-"
    if not to_stdout:
        pr.line(
            f"ioukit eval \u00b7 voc \u00b7 {len(result.image_ids):,} images \u00b7 "
            f"{len(result.classes)} classes \u00b7 {int(result.num_gt.sum()):,} ground truth "
            f"\u00b7 {int(result.num_dt.sum()):,} detections \u00b7 {elapsed:.2f} s",
            style="dim",
        )
        pr.raw(result.summary())
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "eval",
            "protocol": "voc",
            "inputs": {"GT": args.gt, "DT": args.dt},
            "elapsed_s": elapsed,
            **result.to_dict(),
        }
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    return 0


#: the protocol entry point (``ioukit.cli._protocols``)
run = cmd_eval_voc
