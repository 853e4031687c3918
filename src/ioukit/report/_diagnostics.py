"""The report's diagnostic sections: TIDE errors, calibration, the worst images.

Each function returns one ``<section>`` of the self-contained HTML report
(:func:`ioukit.report.write_html` with ``tide=`` / ``calibration=``), drawn with the
report's own inline-SVG primitives (``_svg``): no JS, no external files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from . import _svg
from ._svg import PALETTE, Series

__all__ = ["tide_section", "calibration_section", "resolve_tide", "resolve_calibration"]


def _figure(svg: str, caption: str, name: str) -> str:
    return (
        f'<figure class="chart" data-chart="{escape(name)}">{svg}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def resolve_tide(tide: Any, result: Any, gt: Any, dt: Any) -> list[Any] | None:
    """``write_html(tide=...)``: True (run TIDE on ``gt`` / ``dt``), one ``TideResult``,
    or a sequence / mapping of them (models side by side); None: no section."""
    if tide is None or tide is False:
        return None
    if tide is True:
        if gt is None or dt is None:
            return []  # the section says what is missing
        from ..tide import evaluate

        return [evaluate(gt, dt, iou_type=str(result.params.iouType), name="model")]
    if isinstance(tide, Mapping):
        return list(tide.values())
    if isinstance(tide, Sequence):
        return list(tide)
    return [tide]


def resolve_calibration(calibration: Any, result: Any, gt: Any, dt: Any) -> Any:
    """``write_html(calibration=...)``: True (from the result's match records when it
    kept them, else from ``gt`` / ``dt``; TP at IoU 0.5), a ``Calibration``, or None."""
    if calibration is None or calibration is False:
        return None
    if calibration is not True:
        return calibration
    from ..tide import calibration as calibrate

    if getattr(getattr(result, "state", None), "matches", None) is not None:
        try:
            return calibrate(result, iou_threshold=0.5)
        except Exception:  # 0.5 not among the result's thresholds: evaluate it below
            pass
    if gt is None or dt is None:
        return "missing"
    return calibrate(gt, dt, iou_threshold=0.5, iou_type=str(result.params.iouType))


def _missing(sid: str, title: str, what: str) -> str:
    return (
        f'<section id="{sid}"><h2>{title}</h2><p class="note">Not available: {what}</p></section>'
    )


def tide_section(runs: list[Any], worst: int = 10) -> str:
    """TIDE: dAP bars (one colour per model), the table, and the worst images."""
    if not runs:
        return _missing(
            "tide",
            "TIDE error analysis",
            "pass <code>gt=</code> and <code>dt=</code> with <code>tide=True</code>, or a "
            "<code>TideResult</code> from <code>ioukit.tide.evaluate</code>.",
        )
    from ..tide import MAIN_ERRORS, SPECIAL_ERRORS

    names = [*MAIN_ERRORS, *SPECIAL_ERRORS]
    series = []
    top = 0.0
    for i, r in enumerate(runs):
        vals = [100 * r.main_errors[e] for e in MAIN_ERRORS]
        vals += [100 * r.special_errors[e] for e in SPECIAL_ERRORS]
        top = max(top, *vals)
        series.append((f"{r.name}", vals, PALETTE[i % len(PALETTE)]))
    ymax = max(5.0, float(np.ceil(top / 5.0) * 5.0))
    chart = _figure(
        _svg.bar_chart(names, series, ylim=(0.0, ymax), ylabel="dAP (AP points)", width=560),
        "AP gained by fixing each error type alone (TIDE's oracle); FalsePos / FalseNeg: "
        "perfect precision / recall. tidecv 1.0.1 definitions.",
        "tide",
    )
    head = "".join(f"<th>{h}</th>" for h in ["model", "AP", *names, "errors"])
    rows = ""
    for r in runs:
        vals = [r.ap, *(r.main_errors[e] for e in MAIN_ERRORS)]
        vals += [r.special_errors[e] for e in SPECIAL_ERRORS]
        n_err = sum(r.counts.values())
        rows += (
            f"<tr><td>{escape(str(r.name))}</td>"
            + "".join(f"<td>{100 * v:.2f}</td>" for v in vals)
            + f"<td>{n_err:,}</td></tr>"
        )
    counts = "".join(
        f"<tr><td>{e}</td>" + "".join(f"<td>{r.counts[e]:,}</td>" for r in runs) + "</tr>"
        for e in MAIN_ERRORS
    )
    count_head = "".join(f"<th>{escape(str(r.name))}</th>" for r in runs)
    table = (
        f'<table id="tide-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        '<h3 style="font-size:14px;margin:18px 0 6px">Errors counted</h3>'
        f"<table><thead><tr><th>type</th>{count_head}</tr></thead><tbody>{counts}</tbody>"
        "</table>"
    )
    r0 = runs[0]
    p = (
        f"IoU {r0.pos_threshold:g} (foreground) / {r0.background_threshold:g} (background), "
        f"iouType <code>{escape(str(r0.iou_type))}</code>; values in AP points."
    )
    worst_html = _worst_images(runs, worst) if worst > 0 else ""
    return (
        '<section id="tide"><h2>TIDE error analysis</h2>'
        f'<p class="note">Where the missing AP goes: classification (Cls), localisation '
        f"(Loc), both (Both), duplicates (Dupe), background (Bkg) and missed ground truth "
        f'(Miss). {p}</p><div class="row">{chart}<div>{table}</div></div></section>' + worst_html
    )


def _worst_images(runs: list[Any], n: int) -> str:
    from ..tide import worst_images

    blocks = []
    for r in runs:
        rows = ""
        for w in worst_images(r, n):
            errs = ", ".join(f"{k} {v}" for k, v in w["errors"].items()) or "\u2013"
            rows += (
                f"<tr><td>{w['image_id']}</td><td>{w['missed_ap']:.3f}</td><td>{w['n_gt']}</td>"
                f"<td>{w['tp']}</td><td>{w['fp']}</td><td>{w['fn']}</td>"
                f"<td style='text-align:left'>{escape(errs)}</td></tr>"
            )
        blocks.append(
            f'<div><h3 style="font-size:14px;margin:10px 0 6px">{escape(str(r.name))}</h3>'
            '<table class="worst-images"><thead><tr><th>image</th><th>missed AP</th>'
            "<th>GT</th><th>TP</th><th>FP</th><th>FN</th><th>errors</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )
    return (
        '<section id="worst-images"><h2>Worst images</h2><p class="note">The images with '
        "the most missed AP (1 &minus; the image's own TIDE AP, averaged over its "
        "categories), with their TIDE errors; ties in image order. "
        "<code>ioukit.tide.worst_images</code> also ranks by FN or FP count.</p>"
        f'<div class="row">{"".join(blocks)}</div></section>'
    )


def calibration_section(cal: Any) -> str:
    """Reliability diagram (accuracy per score bin against the diagonal), ECE, MCE."""
    if cal is None or isinstance(cal, str):
        return _missing(
            "calibration",
            "Calibration",
            "evaluate with <code>keep_matches=True</code> or pass <code>gt=</code> and "
            "<code>dt=</code> (or a <code>Calibration</code>).",
        )
    e = np.asarray(cal.bin_edges, dtype=float)
    full = np.asarray(cal.count) > 0
    acc = np.asarray(cal.accuracy, dtype=float)
    conf = np.asarray(cal.confidence, dtype=float)
    markers = [
        (float(c), float(a), PALETTE[0], f"{e[i]:.2f}\u2013{e[i + 1]:.2f}: {a:.3f} correct, "
         f"mean score {c:.3f}, {int(cal.count[i]):,} detections")
        for i, (c, a) in enumerate(zip(conf, acc)) if full[i]
    ]  # fmt: skip
    series = [
        Series(np.array([0.0, 1.0]), np.array([0.0, 1.0]), "perfect calibration",
               PALETTE[7], 1.2, "5 3"),
        Series(conf[full], acc[full], "accuracy per bin", PALETTE[0], 2.0),
    ]  # fmt: skip
    chart = _figure(
        _svg.line_chart(
            series,
            xlabel="mean score in the bin",
            ylabel="fraction correct",
            markers=markers,
            legend_at="upper left",
            width=380,
            height=320,
        ),
        f"Reliability diagram: {len(e) - 1} equal-width score bins; a detection is correct "
        f"when it is a TP at IoU {cal.iou_threshold if cal.iou_threshold is not None else '-'}"
        " (COCO matching; crowd-ignored detections left out).",
        "reliability",
    )
    kv = (
        '<table class="kv"><tbody>'
        f"<tr><td>ECE</td><td>{cal.ece:.4f}</td></tr>"
        f"<tr><td>MCE</td><td>{cal.mce:.4f}</td></tr>"
        f"<tr><td>detections</td><td>{cal.n:,}</td></tr></tbody></table>"
    )
    rows = "".join(
        f"<tr><td>[{e[i]:.2f}, {e[i + 1]:.2f}{']' if i == len(e) - 2 else ')'}</td>"
        f"<td>{int(cal.count[i]):,}</td>"
        + (f"<td>{conf[i]:.3f}</td><td>{acc[i]:.3f}</td>" if full[i] else "<td>\u2013</td>" * 2)
        + "</tr>"
        for i in range(len(e) - 1)
    )
    bins = (
        '<table id="calibration-bins"><thead><tr><th>score bin</th><th>#</th>'
        f"<th>mean score</th><th>accuracy</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return (
        '<section id="calibration"><h2>Calibration</h2><p class="note">Do the scores mean '
        "what they say? ECE = &sum; (n<sub>b</sub>/N)&middot;|accuracy<sub>b</sub> &minus; "
        "confidence<sub>b</sub>|, MCE = max<sub>b</sub> |accuracy<sub>b</sub> &minus; "
        f'confidence<sub>b</sub>| (Guo et al. 2017).</p><div class="row">{chart}'
        f"<div>{kv}{bins}</div></div></section>"
    )
