"""``ioukit track-eval GT_DIR TRACKER_DIR``: HOTA / CLEAR / Identity of a MOT tracker.

Layout (docs/tracking.md): every folder ``GT_DIR/<seq>`` with ``gt/gt.txt``
(MOTChallenge) or ``gt.txt`` is a sequence, with ``seqinfo.ini``'s ``seqLength`` when
present; its tracker output is ``TRACKER_DIR/<seq>.txt`` (TrackEval's layout), or
``TRACKER_DIR/<seq>/NAME`` with ``--tracker-file NAME`` (for instance the shared
``mot-tud/<seq>/gt.txt`` + ``test.txt``). The numbers are those of
:func:`ioukit.tracking.evaluate`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

__all__ = ["add_options", "cmd_track_eval"]

_METRICS = ("HOTA", "CLEAR", "Identity", "Count")


def add_options(p: argparse.ArgumentParser) -> None:
    """The arguments of ``ioukit track-eval`` (nothing heavy imported)."""
    p.add_argument("gt_dir", metavar="GT_DIR", help="one folder per sequence: <seq>/gt/gt.txt")
    p.add_argument(
        "tracker_dir", metavar="TRACKER_DIR", help="<seq>.txt per sequence (or see --tracker-file)"
    )
    g = p.add_argument_group("tracking evaluation")
    g.add_argument(
        "--tracker-file",
        metavar="NAME",
        help="read TRACKER_DIR/<seq>/NAME instead of TRACKER_DIR/<seq>.txt",
    )
    g.add_argument(
        "--benchmark",
        choices=("MOT15", "MOT16", "MOT17", "MOT20"),
        default="MOT17",
        help="MOT16/17/20: pedestrian class only, distractor matches removed (default "
        "MOT17); MOT15: files without classes",
    )
    g.add_argument(
        "--no-preproc", action="store_true", help="skip the class preprocessing (DO_PREPROC)"
    )
    g.add_argument(
        "--metrics",
        default="HOTA,CLEAR,Identity",
        metavar="A,B",
        help=f"any of {','.join(_METRICS)} (default: HOTA,CLEAR,Identity)",
    )
    g.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="IoU of a CLEAR / Identity match (default 0.5)",
    )
    g.add_argument("--json", metavar="OUT.json", help="write all results as JSON ('-': stdout)")
    g.add_argument("-q", "--quiet", action="store_true", help="no header line")


def cmd_track_eval(args: argparse.Namespace, pr: Any, argv: Any = None) -> int:
    """Evaluate every sequence, print the table (and JSON)."""
    from ..tracking import evaluate, find_sequences
    from ._commands import UsageError, _version, _write_json

    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    unknown = [m for m in metrics if m not in _METRICS]
    if unknown or not metrics:
        raise UsageError(f"--metrics {args.metrics!r}: expected some of {','.join(_METRICS)}")
    if not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold}: must lie in [0, 1]")
    t0 = time.perf_counter()
    gts, trs, lengths = find_sequences(args.gt_dir, args.tracker_dir, args.tracker_file)
    result = evaluate(
        gts,
        trs,
        metrics=metrics,
        benchmark=args.benchmark,
        preprocess=not args.no_preproc,
        threshold=args.threshold,
        num_frames=lengths,
    )
    elapsed = time.perf_counter() - t0
    to_stdout = args.json == "-"
    if not to_stdout:
        if not args.quiet:
            pr.line(
                f"ioukit track-eval \u00b7 {args.benchmark} \u00b7 {len(gts)} sequences "
                f"\u00b7 {elapsed:.2f} s (values are fractions)",
                style="dim",
            )
        pr.raw(result.summary())
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "track-eval",
            "inputs": {"GT_DIR": args.gt_dir, "TRACKER_DIR": args.tracker_dir},
            "benchmark": args.benchmark,
            "elapsed_s": elapsed,
            **result.to_dict(),
        }
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    return 0
