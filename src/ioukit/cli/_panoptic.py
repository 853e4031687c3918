"""``ioukit eval --protocol panoptic``: panoptic quality from panopticapi's PNG + JSON files.

``ioukit eval --protocol panoptic GT.json PRED.json [--gt-folder D] [--pred-folder D]``
prints panopticapi's PQ / SQ / RQ table (All, Things, Stuff; ``--per-class`` adds one
row per category) with the numbers of :func:`ioukit.panoptic.evaluate` (docs/panoptic.md).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

__all__ = ["add_options", "cmd_eval_panoptic", "panoptic_kwargs", "run"]

# COCO-only options and their defaults: any other value is a usage error here
_COCO_ONLY = {"iou_type": "bbox", "max_dets": None, "area_rng": None, "iou_thrs": None}


def add_options(p: argparse.ArgumentParser) -> None:
    """The panoptic option group of ``ioukit eval``."""
    g = p.add_argument_group("panoptic quality (--protocol panoptic)")
    g.add_argument(
        "--gt-folder", metavar="DIR", help="GT PNG folder (default: GT.json without .json)"
    )
    g.add_argument(
        "--pred-folder",
        metavar="DIR",
        help="predicted PNG folder (default: PRED.json without .json)",
    )
    g.add_argument(
        "--gt-area",
        choices=("json", "pixels"),
        default="json",
        help="GT segment areas from the JSON (panopticapi, default) or counted in the PNG",
    )
    g.add_argument(
        "--reference-processes",
        type=int,
        metavar="N",
        default=1,
        help="add IoUs as pq_compute does on an N-core machine (last-bit reproduction)",
    )


def panoptic_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.panoptic.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(gt_folder="g", pred_folder=None, gt_area="pixels",
    ...                         reference_processes=4)
    >>> sorted(panoptic_kwargs(ns).items())
    [('gt_area', 'pixels'), ('gt_folder', 'g'), ('reference_processes', 4)]
    """
    kw: dict[str, Any] = {
        "gt_area": args.gt_area,
        "reference_processes": int(args.reference_processes),
    }
    if args.gt_folder:
        kw["gt_folder"] = args.gt_folder
    if args.pred_folder:
        kw["pred_folder"] = args.pred_folder
    return kw


def cmd_eval_panoptic(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate panoptic quality; print the PQ/SQ/RQ table (and JSON)."""
    from .. import panoptic
    from ._commands import UsageError, _version, _write_json

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol panoptic needs GT.json and PRED.json (panopticapi's format)")
    from ..distributed import wants_distributed

    if wants_distributed(args):
        raise UsageError("--protocol panoptic runs in one process (no --scheduler / --workers)")
    for name, default in _COCO_ONLY.items():
        if getattr(args, name, default) != default:
            raise UsageError(
                f"--{name.replace('_', '-')} is a COCO option, not used by --protocol panoptic"
            )
    if getattr(args, "report", None):
        raise UsageError("--report is a COCO option, not used by --protocol panoptic")
    for path in (args.gt, args.dt):
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
    t0 = time.perf_counter()
    result = panoptic.evaluate(args.gt, args.dt, **panoptic_kwargs(args))
    elapsed = time.perf_counter() - t0
    to_stdout = args.json == "-"
    if not to_stdout:
        pr.line(
            f"ioukit eval \u00b7 panoptic \u00b7 {result.num_images:,} images \u00b7 "
            f"{len(result.category_ids)} categories \u00b7 {int(result.tp.sum()):,} TP \u00b7 "
            f"{int(result.fp.sum()):,} FP \u00b7 {int(result.fn.sum()):,} FN \u00b7 "
            f"{elapsed:.2f} s",
            style="dim",
        )
        pr.raw(result.summary(per_class=bool(getattr(args, "per_class", False))))
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "eval",
            "protocol": "panoptic",
            "inputs": {"GT": args.gt, "DT": args.dt},
            "elapsed_s": elapsed,
            **result.to_dict(),
        }
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    return 0


#: the protocol entry point (``ioukit.cli._protocols``)
run = cmd_eval_panoptic
