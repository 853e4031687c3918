"""``ioukit eval --protocol kitti LABEL_DIR RESULT_DIR``: KITTI 3-D / BEV / 2-D AP.

GT is a folder of KITTI label files (``label_2/000000.txt``, ...) and DT a folder of
result files (the same lines plus a score); a frame without a result file has no
detections. The numbers are those of :func:`ioukit.kitti.evaluate` (docs/kitti.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_options", "kitti_kwargs", "run"]


def add_options(p: argparse.ArgumentParser) -> None:
    """The KITTI option group of ``ioukit eval``."""
    g = p.add_argument_group("KITTI (--protocol kitti)")
    g.add_argument(
        "--kitti-classes",
        metavar="A,B,...",
        default="Car,Pedestrian,Cyclist",
        help="classes to evaluate (default: Car,Pedestrian,Cyclist)",
    )
    g.add_argument(
        "--kitti-metrics", metavar="M,...", default="bbox,bev,3d", help="any of bbox,bev,3d"
    )
    g.add_argument(
        "--min-overlap",
        metavar="T",
        default="strict",
        help="strict (Car 0.7, Pedestrian/Cyclist 0.5), loose (bev/3d 0.5/0.25/0.25) or a number",
    )
    g.add_argument(
        "--dontcare-all",
        action="store_true",
        help="DontCare regions on every metric (C++ devkit), not only bbox (python devkit)",
    )


def kitti_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.kitti.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(kitti_classes="Car", kitti_metrics="3d", min_overlap="0.5",
    ...                         dontcare_all=True)
    >>> kw = kitti_kwargs(ns)
    >>> kw["classes"], kw["metrics"], kw["min_overlap"], kw["dontcare_metrics"]
    (['Car'], ['3d'], 0.5, ('bbox', 'bev', '3d'))
    """
    mo: Any = args.min_overlap
    if mo not in ("strict", "loose"):
        from ._commands import UsageError

        try:
            mo = float(mo)
        except ValueError:
            raise UsageError(f"--min-overlap: strict, loose or a number, got {mo!r}") from None
    return {
        "classes": [c.strip() for c in args.kitti_classes.split(",") if c.strip()],
        "metrics": [m.strip() for m in args.kitti_metrics.split(",") if m.strip()],
        "min_overlap": mo,
        "dontcare_metrics": ("bbox", "bev", "3d") if args.dontcare_all else ("bbox",),
    }


def run(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate with the KITTI protocol; print the reference's AP block (and JSON)."""
    from .. import kitti
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol kitti needs LABEL_DIR and RESULT_DIR")
    refuse_options(args, "kitti")
    for path in (args.gt, args.dt):
        if not os.path.isdir(path):
            raise UsageError(f"--protocol kitti: {path} is not a folder of label files")
    return evaluate_and_report(
        args,
        pr,
        "kitti",
        lambda: kitti.evaluate(args.gt, args.dt, **kitti_kwargs(args)),
        lambda r: f"{len(r.frame_ids):,} frames \u00b7 {', '.join(r.classes)} \u00b7 AP in percent",
    )
