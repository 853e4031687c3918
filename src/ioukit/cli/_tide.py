"""``ioukit tide GT DT [DT2]``: TIDE error analysis of one model, or two side by side.

The numbers are those of :func:`ioukit.tide.evaluate` (tidecv 1.0.1's definitions);
the tables are tidecv's ``summarize()`` layout, in AP points (0-100), plus one
side-by-side row per model. ``--json`` writes fractions.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

__all__ = ["add_options", "cmd_tide"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The arguments of ``ioukit tide`` (nothing heavy imported)."""
    p.add_argument("gt", metavar="GT.json")
    p.add_argument("dt", metavar="DT.json", help="results of the model")
    p.add_argument("dt2", nargs="?", metavar="DT2.json", help="a second model, side by side")
    g = p.add_argument_group("TIDE")
    g.add_argument(
        "--iou-type", default="bbox", help="bbox (default), segm or another COCO IoU type"
    )
    g.add_argument("--pos-threshold", type=float, default=0.5, help="foreground IoU (default 0.5)")
    g.add_argument(
        "--background-threshold", type=float, default=0.1, help="background IoU (default 0.1)"
    )
    g.add_argument(
        "--max-dets", type=int, default=100, help="detections kept per image (default 100)"
    )
    g.add_argument("--names", metavar="A,B", help="labels of the models (default: file stems)")
    o = p.add_argument_group("output")
    o.add_argument(
        "--worst", type=int, default=0, metavar="N", help="list the N worst images of each model"
    )
    o.add_argument(
        "--by",
        choices=("missed_ap", "fn", "fp"),
        default="missed_ap",
        help="how --worst ranks images (default missed_ap)",
    )
    o.add_argument("--plot", metavar="OUT.png", help="save the dAP bar chart (needs matplotlib)")
    o.add_argument("--json", metavar="OUT.json", help="write the results as JSON ('-': stdout)")
    o.add_argument(
        "--report",
        metavar="OUT.html",
        help="HTML report of the first model (COCO evaluation) with the TIDE, worst-images "
        "and calibration sections",
    )
    o.add_argument("-q", "--quiet", action="store_true", help="no header line")


def cmd_tide(args: argparse.Namespace, pr: Any, argv: Any = None) -> int:
    """Evaluate each results file, print the tables (and JSON, plot)."""
    from ..tide import compare, evaluate, plot, summary, worst_images
    from ._commands import UsageError, _version, _write_json

    paths = [args.dt] + ([args.dt2] if args.dt2 else [])
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
        if len(names) != len(paths):
            raise UsageError(f"--names {args.names!r}: give {len(paths)} comma-separated names")
    else:
        names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
        if len(set(names)) < len(names):
            names = [f"{n} ({i + 1})" for i, n in enumerate(names)]
    if not 0.0 <= args.background_threshold <= args.pos_threshold <= 1.0:
        raise UsageError(
            "need 0 <= --background-threshold <= --pos-threshold <= 1, got "
            f"{args.background_threshold} and {args.pos_threshold}"
        )
    if args.max_dets < 1:
        raise UsageError(f"--max-dets {args.max_dets}: must be >= 1")
    t0 = time.perf_counter()
    results = [
        evaluate(
            args.gt,
            p,
            iou_type=args.iou_type,
            pos_threshold=args.pos_threshold,
            background_threshold=args.background_threshold,
            max_dets=args.max_dets,
            name=n,
        )
        for p, n in zip(paths, names)
    ]
    elapsed = time.perf_counter() - t0
    to_stdout = args.json == "-"
    if not to_stdout:
        if not args.quiet:
            pr.line(
                f"ioukit tide \u00b7 {args.iou_type} \u00b7 IoU {args.pos_threshold:g} / "
                f"{args.background_threshold:g} \u00b7 {elapsed:.2f} s (dAP in AP points)",
                style="dim",
            )
        pr.raw(summary(results))
        if len(results) > 1:
            pr.raw(compare(results) + "\n")
        for r in results if args.worst > 0 else ():
            pr.line(f"worst images of {r.name} by {args.by}:")
            for w in worst_images(r, args.worst, by=args.by):
                errs = " ".join(f"{k}={v}" for k, v in w["errors"].items()) or "-"
                pr.line(
                    f"  image {w['image_id']}: missed AP {w['missed_ap']:.3f}  "
                    f"TP {w['tp']}  FP {w['fp']}  FN {w['fn']}  errors {errs}"
                )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = plot(results)
        ax.figure.savefig(args.plot, bbox_inches="tight", dpi=120)
        if not to_stdout:
            pr.line(f"wrote {args.plot}", style="dim")
    if args.report:
        _write_report(args, paths[0], results)
        if not to_stdout:
            pr.line(f"wrote {args.report}", style="dim")
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "tide",
            "inputs": {"GT": args.gt, **{f"DT{i + 1}": p for i, p in enumerate(paths)}},
            "elapsed_s": elapsed,
            "models": [r.to_dict() for r in results],
        }
        if args.worst > 0:
            for m, r in zip(payload["models"], results):
                m["worst_images"] = worst_images(r, args.worst, by=args.by)
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    return 0


def _write_report(args: argparse.Namespace, dt_path: str, results: list) -> None:
    """COCO evaluation of the first model, written with the diagnostic sections."""
    import json

    from ..coco import evaluate as coco_evaluate
    from ..report import write_html
    from ..tide import calibration

    res = coco_evaluate(args.gt, dt_path, iou_type=args.iou_type, keep_matches=True)
    with open(args.gt, encoding="utf-8") as f:
        gt = json.load(f)
    with open(dt_path, encoding="utf-8") as f:
        dt = json.load(f)
    write_html(
        res,
        args.report,
        gt=gt,
        dt=dt,
        inputs={"GT": args.gt, "DT": dt_path},
        command="ioukit tide",
        tide=results,
        calibration=calibration(res, iou_threshold=0.5),
        worst_images=max(args.worst, 10),
    )
