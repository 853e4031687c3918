"""The ``eval``, ``check`` and ``compare`` commands (a thin layer over the library)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ._args import eval_params, execution_kwargs
from ._format import Printer, delta, num
from ._progress import Progress

__all__ = ["cmd_eval", "cmd_check", "cmd_compare", "stat_labels", "UsageError"]


class UsageError(InvalidParameterError):
    """Arguments that do not fit together (reported like argparse errors)."""


# ------------------------------------------------------------------ helpers
# one summary line: (AP|AR) @[ IoU=... | area=... | maxDets=... ] (compiled on first use:
# ``re`` and ``json`` are imported lazily, off the path of every ``ioukit eval``)
_LINE_PATTERN = (
    r"\((AP|AR)\)\s*@\[\s*IoU=([\d.:]+)\s*\|\s*area=\s*(\S+)\s*\|\s*maxDets=\s*(\d+)\s*\]"
)


def stat_labels(summary: str) -> list[str]:
    """Short names (AP, AP50, ..., ARl) for the lines of a COCO summary.

    >>> s = (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.5\\n"
    ...      " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.6\\n"
    ...      " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.3\\n"
    ...      " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.2")
    >>> stat_labels(s)
    ['AP', 'AP50', 'AR10', 'ARs']
    """
    import re

    line_re = re.compile(_LINE_PATTERN)
    out = []
    for i, line in enumerate(summary.splitlines()):
        m = line_re.search(line)
        if not m:
            out.append(f"stat[{i}]")
            continue
        kind, iou, area, md = m.groups()
        lab = kind
        if ":" not in iou:
            t = float(iou)
            lab += f"{round(100 * t)}" if abs(100 * t - round(100 * t)) < 1e-9 else f"@{iou}"
        if area != "all":
            lab += {"small": "s", "medium": "m", "large": "l"}.get(area, f"[{area}]")
        elif kind == "AR":
            lab += md
        out.append(lab)
    return out


def _clean(o: Any) -> Any:
    """JSON-safe: NaN/inf -> None, NumPy scalars and arrays -> Python."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def _write_json(payload: Any, target: str) -> None:
    import json

    text = json.dumps(payload, default=_clean)
    if "NaN" in text or "Infinity" in text:  # rare: only then pay for the deep walk
        text = json.dumps(_clean(payload), allow_nan=False)
    if target == "-":
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def _version() -> str:
    from .. import __version__

    return __version__


def _file_progress(progress: Progress) -> Callable[[int, int], None]:
    def cb(done: int, total: int) -> None:
        progress.update(done, total, as_bytes=True)

    return cb


def _load(path: str, progress: Progress, label: str) -> Any:
    from ..check import load_json

    with progress.stage(f"reading {label} {os.path.basename(path)}"):
        return load_json(path, on_progress=_file_progress(progress))


def _sample() -> tuple[Any, Any, str]:
    """The built-in sample: (ground truth, detections, description)."""
    from ._sample import SAMPLE, sample_dataset

    gt, dt = sample_dataset()
    args = ", ".join(f"{k}={v}" for k, v in SAMPLE.items())
    return gt, dt, f"built-in sample (ioukit.synthetic.make_coco_dataset({args}))"


def _evaluate(
    gt: Any,
    dt: Any,
    iou_type: str,
    params: Mapping[str, Any],
    progress: Progress,
    args: argparse.Namespace | None = None,
    **kw: Any,
) -> Any:
    """``ioukit.coco.evaluate`` in its three stages, each with a progress line.

    With ``--scheduler`` / ``--workers`` the same evaluation runs sharded on Dask
    (:mod:`ioukit.distributed`, identical numbers).
    """
    from .. import coco
    from ..distributed import evaluate_from_cli_args, wants_distributed

    if args is not None and wants_distributed(args):
        with progress.stage("evaluating on Dask"):
            return evaluate_from_cli_args(args, gt, dt, **params)
    if kw:
        with progress.stage("evaluating"):
            return coco.evaluate(gt, dt, iou_type, **kw, **params)
    with progress.stage("loading"):
        g, d, p = coco.prepare(gt, dt, iou_type, **params)
    with progress.stage(f"matching {len(p.imgIds):,} images"):
        state = coco.evaluate_images(g, d, p)
    with progress.stage("accumulating"):
        # the printed summary needs one maxDets of precision; the per-class table,
        # JSON and report read the full arrays
        full = args is None or bool(
            getattr(args, "per_class", False)
            or getattr(args, "json", None)
            or getattr(args, "report", None)
            or getattr(args, "slice_by", None)
        )
        return coco.accumulate(state, full_arrays=full)


def _per_class_table(pr: Printer, rows: Sequence[Mapping[str, Any]]) -> None:
    cols = [
        "category",
        "AP",
        "AP50",
        "AP75",
        "APs",
        "APm",
        "APl",
        "AR@100",
        "#GT",
        "#det",
        "F1",
        "@score",
    ]
    body = []
    for r in rows:
        body.append(
            [
                str(r.get("name", r.get("category_id"))),
                num(r.get("AP")),
                num(r.get("AP50")),
                num(r.get("AP75")),
                num(r.get("APs")),
                num(r.get("APm")),
                num(r.get("APl")),
                num(r.get("AR100")),
                str(int(r.get("num_gt", 0))),
                str(int(r.get("num_dt", 0))),
                num(r.get("f1")),
                num(r.get("f1_threshold")),
            ]
        )
    pr.table(cols, body)


def _rows(result: Any) -> list[dict[str, Any]]:
    rows = result.per_class(as_frame=False)
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    return [dict(r) for r in rows]


def _counts(result: Any) -> tuple[int, int, int, int]:
    p = result.params
    return (
        len(p.imgIds),
        len(p.catIds),
        int(np.sum(result.num_gt)),
        int(np.sum(result.num_dt)),
    )


# --------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace, pr: Printer, argv: Sequence[str]) -> int:
    """``ioukit eval [GT DT]``: summary, per-class table, JSON and HTML report."""
    protocol = getattr(args, "protocol", "coco")
    if protocol != "coco":  # every other protocol has its own module (cli/_protocols.py)
        from ._protocols import protocol_module

        return protocol_module(protocol).run(args, pr)
    progress = Progress.for_terminal(args.quiet)
    params = eval_params(args)
    exec_kw = execution_kwargs(args)
    to_stdout = args.json == "-"
    t0 = time.perf_counter()
    if args.gt is None:
        if args.dt is not None:  # pragma: no cover - argparse fills gt first
            raise UsageError("give both GT.json and DT.json, or neither")
        with progress.stage("generating the sample"):
            gt, dt, source = _sample()
        inputs = {"data": source}
    elif args.dt is None:
        raise UsageError(
            "eval needs both GT.json and DT.json (or no files, for the built-in sample)"
        )
    else:
        inputs = {"GT": args.gt, "DT": args.dt}
        for path in (args.gt, args.dt):
            if not os.path.exists(path):
                raise FileNotFoundError(2, "No such file or directory", path)
        gt, dt = args.gt, args.dt
    # from paths, the evaluator's own JSON scanner is several times faster than
    # json.loads + dicts; the report reads the files again for the confusion matrix
    result = _evaluate(gt, dt, args.iou_type, params, progress, args, **exec_kw)
    elapsed = time.perf_counter() - t0
    n_img, n_cat, n_gt, n_dt = _counts(result)
    slices = None
    if getattr(args, "slice_by", None):  # one evaluation per slice (docs/slices.md)
        from ._slices import evaluate_cli_slices, print_slices, slice_rows

        slices = evaluate_cli_slices(args, gt, dt, params, progress)

    if not to_stdout:
        pr.line(
            f"ioukit eval \u00b7 {args.iou_type} \u00b7 {n_img:,} images \u00b7 {n_cat} categories "
            f"\u00b7 {n_gt:,} ground truth \u00b7 {n_dt:,} detections \u00b7 {elapsed:.2f} s",
            style="dim",
        )
        pr.raw(result.summary())
        if args.gt is None:
            pr.line("That was the built-in sample (300 synthetic images). On your files:", "dim")
            pr.line("  ioukit eval GT.json DT.json --per-class --report report.html", "dim")
        if args.per_class:
            pr.heading("Per category (AP columns at IoU 0.5:0.95; F1 at IoU 0.5)")
            _per_class_table(pr, _rows(result))
        if slices is not None:
            print_slices(pr, slices, args.slice_by)
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "eval",
            "iou_type": args.iou_type,
            "inputs": inputs,
            "elapsed_s": elapsed,
            **result.to_dict(),
        }
        if slices is not None:
            payload["slices"] = slice_rows(slices)
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    if args.report:
        from ..report import write_html

        if isinstance(gt, str):
            gt, dt = _load(gt, progress, "GT"), _load(dt, progress, "DT")
        with progress.stage("writing the report"):
            write_html(
                result,
                args.report,
                gt=gt,
                dt=dt,
                inputs=inputs,
                command="ioukit " + " ".join(argv),
                extra={"evaluation time": f"{elapsed:.2f} s"},
            )
        if not to_stdout:
            pr.line(f"wrote {args.report}", style="dim")
    return 0


# -------------------------------------------------------------------- check
def cmd_check(args: argparse.Namespace, pr: Printer, argv: Sequence[str]) -> int:
    """``ioukit check GT [DT]``: every problem with its id; exit 1 on errors."""
    from ..check import check_loaded, summarize

    progress = Progress.for_terminal(args.quiet)
    gt = _load(args.gt, progress, "GT")
    dt = _load(args.dt, progress, "DT") if args.dt else None
    with progress.stage("checking"):
        # the paths: the evaluation's own loader has the last word (check_loaded)
        report = check_loaded(gt, dt, bool(args.dt), args.iou_type, args.gt, args.dt)
    if args.json:
        _write_json({"ioukit": _version(), "command": "check", **report.to_dict()}, args.json)
        if args.json == "-":
            return 0 if report.ok else 1
    c = report.counts
    what = [
        f"{c.get('images', 0):,} images",
        f"{c.get('categories', 0)} categories",
        f"{c.get('annotations', 0):,} annotations",
    ]
    if "results" in c:
        what.append(f"{c['results']:,} results")
    pr.line(f"ioukit check \u00b7 {', '.join(what)}", style="dim")
    shown = report.errors if args.errors_only else report.problems
    for p in shown:
        tag = "dt" if p.source == "dt" else "gt"
        pr.line(f"{p.severity:<7} {tag}  {p.message}", style=p.severity)
    if report.problems:
        codes = ", ".join(f"{k} {v}" for k, v in report.by_code().items())
        pr.line(f"by kind: {codes}", style="dim")
    pr.line(
        ("FAILED: " if not report.ok else "OK: ") + summarize(report.problems),
        style="bad" if not report.ok else "good",
    )
    return 0 if report.ok else 1


# ------------------------------------------------------------------ compare
def cmd_compare(args: argparse.Namespace, pr: Printer, argv: Sequence[str]) -> int:
    """``ioukit compare GT A B``: summary deltas and per-category AP deltas."""
    progress = Progress.for_terminal(args.quiet)
    params = eval_params(args)
    exec_kw = execution_kwargs(args)
    if args.top < 0:
        raise UsageError(f"--top must be >= 0, got {args.top}")
    names = [os.path.splitext(os.path.basename(x))[0] for x in (args.a, args.b)]
    if args.names:
        parts = [s.strip() for s in args.names.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UsageError(f"--names {args.names!r}: expected two labels, e.g. base,new")
        names = parts
    if names[0] == names[1]:
        names = [names[0] + " (A)", names[1] + " (B)"]
    for path in (args.gt, args.a, args.b):
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
    gt = _load(args.gt, progress, "GT")
    ra = _evaluate(gt, args.a, args.iou_type, params, progress, args, **exec_kw)
    rb = _evaluate(gt, args.b, args.iou_type, params, progress, args, **exec_kw)

    labels = stat_labels(ra.summary())
    sa, sb = np.asarray(ra.stats, float), np.asarray(rb.stats, float)
    d = np.where((sa >= 0) & (sb >= 0), sb - sa, np.nan)
    rows_a, rows_b = _rows(ra), _rows(rb)
    by_b = {r["category_id"]: r for r in rows_b}
    per = []
    for r in rows_a:
        q = by_b.get(r["category_id"])
        if q is None:
            continue
        a_ap, b_ap = float(r.get("AP", -1)), float(q.get("AP", -1))
        if a_ap < 0 or b_ap < 0:
            continue
        per.append(
            {
                "category_id": r["category_id"],
                "name": r.get("name", str(r["category_id"])),
                "num_gt": int(r.get("num_gt", 0)),
                "AP_a": a_ap,
                "AP_b": b_ap,
                "delta": b_ap - a_ap,
                "AP50_a": float(r.get("AP50", -1)),
                "AP50_b": float(q.get("AP50", -1)),
            }
        )
    per.sort(key=lambda x: (-x["delta"], str(x["name"])))

    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "compare",
            "names": names,
            "inputs": {"GT": args.gt, "A": args.a, "B": args.b},
            "summary": [
                {"metric": lab, "a": float(x), "b": float(y), "delta": float(z)}
                for lab, x, y, z in zip(labels, sa, sb, d)
            ],
            "per_class": per,
        }
        _write_json(payload, args.json)
        if args.json == "-":
            return 0

    n_img, n_cat, n_gt, _ = _counts(ra)
    gt_name = os.path.basename(args.gt)
    pr.line(
        f"ioukit compare \u00b7 {args.iou_type} \u00b7 {gt_name}: {n_img:,} images, "
        f"{n_cat} categories, {n_gt:,} ground truth \u00b7 A = {names[0]} "
        f"({int(np.sum(ra.num_dt)):,} det), B = {names[1]} ({int(np.sum(rb.num_dt)):,} det)",
        style="dim",
    )
    styles = [None if not z == z or abs(z) < 5e-4 else ("good" if z > 0 else "bad") for z in d]
    pr.table(
        ["metric", names[0], names[1], "\u0394 (B - A)"],
        [[lab, num(x), num(y), delta(z)] for lab, x, y, z in zip(labels, sa, sb, d)],
        styles=styles,
    )

    def cat_table(title: str, items: Sequence[Mapping[str, Any]]) -> None:
        if not items:
            return
        pr.heading(title)
        pr.table(
            ["category", "#GT", f"AP {names[0]}", f"AP {names[1]}", "\u0394 AP"],
            [
                [
                    str(x["name"]),
                    str(x["num_gt"]),
                    num(x["AP_a"]),
                    num(x["AP_b"]),
                    delta(x["delta"]),
                ]
                for x in items
            ],
            styles=["good" if x["delta"] > 0 else "bad" if x["delta"] < 0 else None for x in items],
        )

    if args.per_class:
        cat_table("AP per category, sorted by \u0394 (B - A)", per)
    else:
        k = args.top
        better = [x for x in per if x["delta"] > 0][:k]
        worse = [x for x in reversed(per) if x["delta"] < 0][:k]
        cat_table(f"Where {names[1]} gains most over {names[0]}", better)
        cat_table(f"Where {names[1]} loses most to {names[0]}", worse)
        same = sum(1 for x in per if x["delta"] == 0)
        pr.line(
            f"{len(per)} categories compared: {sum(x['delta'] > 0 for x in per)} better, "
            f"{sum(x['delta'] < 0 for x in per)} worse, {same} unchanged "
            "(--per-class lists them all)",
            style="dim",
        )
    return 0
