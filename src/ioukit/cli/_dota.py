"""``ioukit eval --protocol dota LABEL_DIR RESULTS_PATTERN``: DOTA Task 1 AP.

GT is a folder of DOTA label files, DT a results path in which ``{cls}`` (or the
devkit's ``{:s}``) stands for the class name. The numbers are those of
:func:`ioukit.dota.evaluate` (docs/dota.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_options", "run"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The DOTA option group; ``--metric``, ``--image-set`` and ``--classes`` are shared
    with ``--protocol voc`` (same meaning) and added here only when no other group has."""
    g = p.add_argument_group(
        "DOTA (--protocol dota LABEL_DIR RESULTS_PATTERN): --metric voc07|voc12, "
        "--image-set FILE, --classes A,B and --iou-thrs T (one value, default 0.5) as for voc"
    )
    have = getattr(p, "_option_string_actions", {})
    if "--metric" not in have:
        g.add_argument("--metric", choices=("voc07", "voc12"), default="voc07")
    if "--image-set" not in have:
        g.add_argument("--image-set", metavar="FILE")
    if "--classes" not in have:
        g.add_argument("--classes", metavar="A,B,...")


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from ._args import parse_iou_thrs
    from ._commands import UsageError

    kw: dict[str, Any] = {"metric": getattr(args, "metric", "voc07")}
    if getattr(args, "iou_thrs", None):
        thr = parse_iou_thrs(args.iou_thrs).tolist()
        if len(thr) != 1:
            raise UsageError("--protocol dota takes one --iou-thrs value")
        kw["iou_threshold"] = thr[0]
    if getattr(args, "image_set", None):
        kw["image_set"] = args.image_set
    if getattr(args, "classes", None):
        kw["classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
    return kw


def run(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate with the DOTA protocol; print the per-class table (and JSON)."""
    from .. import dota
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol dota needs LABEL_DIR and RESULTS_PATTERN (with {cls})")
    refuse_options(args, "dota")
    if not os.path.isdir(args.gt):
        raise FileNotFoundError(2, "No such label folder", args.gt)
    return evaluate_and_report(
        args,
        pr,
        "dota",
        lambda: dota.evaluate(args.gt, args.dt, **_kwargs(args)),
        lambda r: (
            f"{len(r.image_ids):,} images \u00b7 {len(r.classes)} classes \u00b7 "
            f"{int(r.num_gt.sum()):,} ground truth \u00b7 {int(r.num_dt.sum()):,} detections"
        ),
    )
