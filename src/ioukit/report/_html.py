"""The self-contained HTML report: one file, inline CSS, inline SVG, a few lines of JS."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import sys
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from . import _svg
from ._svg import PALETTE, Series
from .confusion import ConfusionMatrix, confusion_matrix
from .curves import ap_by_area, ap_by_iou, f1_confidence, iou_index, pr_curves

_CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--acc:#1f6feb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:#fff}
header{background:linear-gradient(135deg,#0d1b2a,#1b3a5c);color:#fff;padding:22px 32px 18px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .sub{color:#b6c6d8;font-size:13px}
header .sub code{color:#e6edf3}
nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);
padding:8px 32px;display:flex;gap:18px;flex-wrap:wrap;font-size:13px}
nav a{color:var(--muted);text-decoration:none}nav a:hover{color:var(--acc)}
main{max-width:1240px;margin:0 auto;padding:8px 32px 48px}
section{margin-top:30px}
h2{font-size:17px;font-weight:600;margin:0 0 4px;padding-bottom:6px;
border-bottom:1px solid var(--line)}
p.note{color:var(--muted);margin:6px 0 12px;font-size:13px;max-width:900px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:16px}
.card{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.15);border-radius:8px;
padding:8px 16px;min-width:104px}
.card .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
.card .k{font-size:12px;color:#b6c6d8}
.card.count .v{font-size:18px;padding-top:5px}
.row{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}
figure{margin:0}figure figcaption{font-size:12px;color:var(--muted);margin-top:2px;max-width:370px}
pre.summary{flex:1 1 540px;align-self:stretch;background:var(--bg);border:1px solid var(--line);
border-radius:6px;padding:12px 14px;
font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:8px 0;overflow:auto}
.chart-svg{font-family:inherit;overflow:visible}
.chart-svg text{fill:#3d444d}.chart-svg .ct{fill:var(--fg)}
.chart-svg .grid line{stroke:#eaeef2;stroke-width:1}.chart-svg .frame{stroke:#d0d7de}
.chart-svg .axis{stroke:#8c959f}.chart-svg .al{fill:var(--muted)}
.chart-svg .legend-bg{fill:#fff;fill-opacity:.9;stroke:#d0d7de}
.chart-svg .muted{fill:#8c959f}.chart-svg .hm-bg{fill:#fbfcfd;stroke:#d0d7de}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:4px 9px;text-align:right;border-bottom:1px solid #eaeef2;white-space:nowrap}
th{position:sticky;top:37px;background:#fff;font-weight:600;border-bottom:2px solid var(--line)}
th:first-child,td:first-child{text-align:left}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{color:var(--acc)}
th[aria-sort=descending]::after{content:" \\25BE"}th[aria-sort=ascending]::after{content:" \\25B4"}
td.bar{background-repeat:no-repeat;background-size:var(--w) 70%;background-position:left center;
background-image:linear-gradient(#cfe2ff,#cfe2ff)}
td.na{color:#afb8c1}tbody tr:hover{background:#f6f8fa}
.tablewrap{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:6px;
margin-top:8px}
.tablewrap table{width:100%}.tablewrap th{top:0}
input.filter{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;
width:220px}
.grid-pr{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px 12px;
margin-top:8px}
.grid-pr figure{border:1px solid #eaeef2;border-radius:6px;padding:4px 2px 0}
.legend-inline span{display:inline-block;margin-right:14px;font-size:12px;color:var(--muted)}
.legend-inline i{display:inline-block;width:18px;height:0;border-top:2.5px solid;
vertical-align:middle;margin-right:5px}
table.kv td:first-child{color:var(--muted);padding-right:18px}table.kv td{text-align:left}
footer{color:var(--muted);font-size:12px;text-align:center;padding:20px}
"""

_JS = """
(function(){
  var tbl=document.getElementById('per-class-table');
  if(tbl){
    var ths=tbl.tHead.rows[0].cells, body=tbl.tBodies[0];
    var key=function(td){var v=td.getAttribute('data-v');
      return v===null?td.textContent.trim().toLowerCase():parseFloat(v);};
    var sortBy=function(i,dir){
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        var c=x<y?-1:x>y?1:0;return dir==='ascending'?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
      for(var j=0;j<ths.length;j++)ths[j].removeAttribute('aria-sort');
      ths[i].setAttribute('aria-sort',dir);
    };
    Array.prototype.forEach.call(ths,function(th,i){th.addEventListener('click',function(){
      var d=th.getAttribute('aria-sort')==='descending'?'ascending':'descending';
      if(i===0&&!th.hasAttribute('aria-sort'))d='ascending';sortBy(i,d);});});
    var init=tbl.getAttribute('data-sort');if(init!==null)sortBy(+init,'descending');
    var f=document.getElementById('class-filter');
    if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();
      Array.prototype.forEach.call(body.rows,function(r){
        r.style.display=r.cells[0].textContent.toLowerCase().indexOf(q)<0?'none':'';});});
    document.body.setAttribute('data-table-rows',body.rows.length);
  }
  var figs=document.querySelectorAll('figure.chart'),ok=0;
  Array.prototype.forEach.call(figs,function(fg){var s=fg.querySelector('svg'),good=false;
    if(s){var b=s.getBBox();good=b.width>0&&b.height>0&&
      s.querySelectorAll('path,rect,circle').length>0;}
    fg.setAttribute('data-rendered',good?'1':'0');if(good)ok++;});
  document.body.setAttribute('data-charts',ok+'/'+figs.length);
  document.body.setAttribute('data-rendered','true');
})();
"""

_IOU_STYLE = {
    "0.5": ("IoU 0.5", PALETTE[0], ""),
    "0.75": ("IoU 0.75", PALETTE[1], ""),
    "0.5:0.95": ("IoU 0.5:0.95", PALETTE[2], "5 3"),
}


def _fmt(v: Any, nd: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return escape(str(v))
    if f < 0:
        return "\u2013"
    return f"{f:.{nd}f}"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _kernels_line() -> str:
    """How ioukit's compiled kernels run here (threads), for the versions table."""
    from .. import _threads

    omp = "OpenMP" if _threads.has_openmp() else "no OpenMP"
    return f"Cython, {omp}, {_threads.get_num_threads()} threads"


def _figure(svg: str, caption: str = "", name: str = "") -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure class="chart" data-chart="{escape(name)}">{svg}{cap}</figure>'


def _per_class_rows(result: Any) -> list[dict[str, Any]]:
    rows = result.per_class(as_frame=False)
    if hasattr(rows, "to_dict"):  # a DataFrame despite as_frame=False
        rows = rows.to_dict("records")
    return list(rows)


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    cols = [
        ("name", "Category", None),
        ("AP", "AP", 3),
        ("AP50", "AP50", 3),
        ("AP75", "AP75", 3),
        ("APs", "AP<sub>S</sub>", 3),
        ("APm", "AP<sub>M</sub>", 3),
        ("APl", "AP<sub>L</sub>", 3),
        ("AR100", "AR@100", 3),
        ("num_gt", "#GT", 0),
        ("num_dt", "#det", 0),
        ("f1", "best F1", 3),
        ("f1_threshold", "@ score", 3),
    ]
    head = "".join(f"<th>{label}</th>" for _, label, _ in cols)
    body = []
    for r in rows:
        tds = []
        for key, _, nd in cols:
            v = r.get(key)
            if nd is None:
                tds.append(f"<td>{escape(str(v))}</td>")
                continue
            if v is None or (isinstance(v, float) and not np.isfinite(v)):
                tds.append('<td class="na" data-v="-1">\u2013</td>')
                continue
            fv = float(v)
            if nd == 0:
                tds.append(f'<td data-v="{fv:g}">{int(fv)}</td>')
            elif fv < 0 or (key.startswith("f1") and r.get("num_gt", 1) == 0):
                tds.append('<td class="na" data-v="-1">\u2013</td>')
            elif key == "AP":
                tds.append(
                    f'<td class="bar" style="--w:{100 * min(fv, 1):.0f}%" data-v="{fv:.6f}">'
                    f"{fv:.3f}</td>"
                )
            else:
                tds.append(f'<td data-v="{fv:.6f}">{fv:.{nd}f}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        '<div class="tablewrap"><table id="per-class-table" class="sortable" data-sort="1">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _pr_section(result: Any, names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    pc = pr_curves(result)
    rec = pc["recall"]
    keys = [k for k in ("0.5", "0.75", "0.5:0.95") if k in pc]
    series = []
    for k in keys:
        label, color, dash = _IOU_STYLE[k]
        y = pc[k + "/all"]
        if np.all(y < 0):
            continue
        ap = float(np.mean(y))
        series.append(
            Series(rec, y, f"{label}  AP {ap:.3f}", color, 2.4, dash, title=f"{label}: AP {ap:.3f}")
        )
    overall = _figure(
        _svg.line_chart(
            series,
            xlabel="Recall",
            ylabel="Precision",
            width=370,
            height=300,
            legend_at="lower left",
        ),
        "Mean over categories of COCO's interpolated precision at 101 recall points "
        "(maxDets 100, all areas); the mean height of each curve is its AP.",
        "pr-all",
    )
    f1 = f1_confidence(result)
    fser = []
    for k in range(f1["f1"].shape[0]):
        if np.all(np.isnan(f1["f1"][k])):
            continue
        fser.append(
            Series(f1["confidence"], f1["f1"][k], "", "#8c959f", 1.0, opacity=0.35, title=names[k])
        )
    bc, bf = f1["best"]
    fser.append(Series(f1["confidence"], f1["mean"], "mean over categories", PALETTE[4], 2.6))
    lo, hi = float(f1["confidence"][0]), float(f1["confidence"][-1])
    fchart = _figure(
        _svg.line_chart(
            fser,
            xlim=(lo, hi),
            xlabel="Score threshold",
            ylabel="F1 at IoU 0.5",
            width=370,
            height=300,
            markers=[(bc, bf, PALETTE[4], f"best mean F1 {bf:.3f} at score {bc:.3f}")],
            legend_at="upper right",
        ),
        f"F1 of each category (grey) and their mean (red) as the score threshold rises; "
        f"the mean peaks at <b>{bf:.3f}</b> for score &ge; <b>{bc:.3f}</b>.",
        "f1-confidence",
    )
    # per-class small multiples, best AP first
    ap_of = {r["category_id"]: float(r.get("AP", -1)) for r in rows}
    order = sorted(
        range(len(result.params.catIds)),
        key=lambda k: -ap_of.get(result.params.catIds[k], -1.0),
    )
    smalls, without = [], []
    for k in order:
        if all(np.all(pc[key][k] < 0) for key in keys):
            without.append(names[k])
            continue
        ss = []
        for key in keys:
            label, color, dash = _IOU_STYLE[key]
            y = pc[key][k]
            ss.append(Series(rec, y, "", color, 1.6, dash, title=f"{label}: AP {np.mean(y):.3f}"))
        ap = ap_of.get(result.params.catIds[k], -1.0)
        smalls.append(
            _figure(
                _svg.line_chart(
                    ss,
                    width=190,
                    height=140,
                    small=True,
                    legend=False,
                    title=f"{names[k]} \u00b7 AP {ap:.3f}" if ap >= 0 else names[k],
                ),
                name=f"pr-class-{result.params.catIds[k]}",
            )
        )
    legend = "".join(
        f'<span><i style="border-color:{c};{"border-top-style:dashed" if d else ""}"></i>{lab}'
        "</span>"
        for lab, c, d in (_IOU_STYLE[k] for k in keys)
    )
    no_gt = (
        f'<p class="note">No ground truth, so no curve: {escape(", ".join(without))}.</p>'
        if without
        else ""
    )
    return (
        '<section id="curves"><h2>Precision\u2013recall and F1</h2>'
        f'<div class="row">{overall}{fchart}{_iou_chart(result)}</div></section>'
        "<!--PERCLASS-->"
        '<section id="pr-per-class"><h2>Precision\u2013recall per category</h2>'
        '<p class="note">Sorted by AP. Recall on x, precision on y, both 0 to 1. '
        f'</p><div class="legend-inline">{legend}</div>'
        f'<div class="grid-pr">{"".join(smalls)}</div>{no_gt}</section>'
    )


def _iou_chart(result: Any) -> str:
    """AP and AR against the IoU threshold: how well the boxes are placed."""
    d = ap_by_iou(result)
    t = d["iou"]
    lo, hi = (float(t.min()), float(t.max())) if t.size > 1 else (0.0, 1.0)
    ser = [
        Series(t, d["AP"], "AP", PALETTE[0], 2.4, title="AP per IoU threshold"),
        Series(t, d["AR"], "AR@100", PALETTE[2], 2.4, "5 3", title="AR@100 per IoU threshold"),
    ]
    marks = [
        (x, y, PALETTE[0], f"AP at IoU {x:.2f}: {y:.3f}") for x, y in zip(t, d["AP"]) if y >= 0
    ]
    return _figure(
        _svg.line_chart(
            ser,
            xlim=(lo, hi),
            xlabel="IoU threshold",
            ylabel="AP / AR (all categories)",
            width=370,
            height=300,
            markers=marks,
            legend_at="lower left",
        ),
        "AP and AR@100 at each IoU threshold; a steep fall means boxes found but loosely placed.",
        "ap-by-iou",
    )


def _size_chart(result: Any) -> str:
    """AP and AR per area range, as grouped bars."""
    area = ap_by_area(result)
    labels = [str(s) for s in area["labels"]]
    return _figure(
        _svg.bar_chart(
            labels,
            [("AP", area["AP"], PALETTE[0]), ("AR@100", area["AR"], PALETTE[2])],
            ylabel="AP / AR (IoU 0.5:0.95)",
            width=380,
            height=250,
        ),
        "AP and AR by object size (COCO area ranges of the ground truth).",
        "ap-by-area",
    )


def _confusion_section(cm: ConfusionMatrix) -> str:
    M = cm.matrix
    K = len(cm.category_ids)
    used = [i for i in range(K) if M[i, :].sum() or M[:, i].sum()] + [K]
    sub = M[np.ix_(used, used)]
    labs = [cm.names[i] for i in used]
    cell = 9 if len(used) > 50 else 12 if len(used) > 25 else 18
    hm = _figure(
        _svg.heatmap(
            sub, labs, labs, xlabel="Predicted class", ylabel="Ground-truth class", cell=cell
        ),
        "Rows: ground-truth class; columns: predicted class; colour: share of the row "
        "(square-root scale); green outline: correct class. Hover a cell for its count.",
        "confusion",
    )
    tp = int(np.trace(M[:K, :K]))
    wrong = int(M[:K, :K].sum()) - tp
    missed = int(M[:K, K].sum())
    fa = int(M[K, :K].sum())
    top = cm.top_confusions(12)
    trs = "".join(
        f"<tr><td>{escape(g)}</td><td>{escape(p)}</td><td>{n}</td></tr>" for g, p, n in top
    )
    top_tbl = (
        "<table><thead><tr><th>Ground truth</th><th>Predicted as</th><th>#</th></tr></thead>"
        f"<tbody>{trs}</tbody></table>"
        if top
        else '<p class="note">No detection matched a box of another class.</p>'
    )
    stats = (
        '<table class="kv"><tbody>'
        f"<tr><td>matched, right class</td><td>{tp}</td></tr>"
        f"<tr><td>matched, wrong class</td><td>{wrong}</td></tr>"
        f"<tr><td>missed ground truth</td><td>{missed}</td></tr>"
        f"<tr><td>false alarms (background)</td><td>{fa}</td></tr></tbody></table>"
    )
    return (
        f'<section id="confusion"><h2>Class confusion at IoU {cm.iou_threshold:g}</h2>'
        f'<p class="note">Detections with score &ge; {cm.score_threshold:.3f} (the threshold '
        "of best mean F1) are matched greedily, highest score first, to the unmatched "
        f"ground-truth box of highest IoU &ge; {cm.iou_threshold:g} <em>whatever its class</em>. "
        "Crowd regions absorb the detections inside them. Only categories that occur are shown."
        f'</p><div class="row">{hm}<div>{stats}<h3 style="font-size:14px;margin:18px 0 6px">'
        f"Most frequent confusions</h3>{top_tbl}</div></div></section>"
    )


def _params_section(
    result: Any, inputs: Mapping[str, Any] | None, command: str | None, extra: Mapping[str, Any]
) -> str:
    p = result.params
    thr = np.asarray(p.iouThrs, dtype=float)
    rec = np.asarray(p.recThrs, dtype=float)
    area = ", ".join(
        f"{lab} [{lo:g}, {hi:g}]" for lab, (lo, hi) in zip(p.areaRngLbl, np.asarray(p.areaRng))
    )
    kv: list[tuple[str, str]] = []
    if command:
        kv.append(("command", f"<code>{escape(command)}</code>"))
    for k, v in (inputs or {}).items():
        kv.append((escape(str(k)), f"<code>{escape(str(v))}</code>"))
    kv += [
        ("iouType", escape(str(p.iouType))),
        ("iouThrs", escape(", ".join(f"{t:.2f}" for t in thr))),
        ("recThrs", f"{rec.size} points, {rec[0]:g} to {rec[-1]:g}" if rec.size else "none"),
        ("maxDets", escape(", ".join(str(m) for m in p.maxDets))),
        ("areaRng", escape(area)),
        ("useCats", escape(str(p.useCats))),
        ("images", str(len(p.imgIds))),
        ("categories", str(len(p.catIds))),
    ]
    for k, v in extra.items():
        kv.append((escape(str(k)), escape(str(v))))
    versions = [
        ("ioukit", _version("ioukit")),
        ("python", platform.python_version()),
        ("numpy", _version("numpy")),
        ("kernels", _kernels_line()),
        ("platform", platform.platform()),
    ]
    left = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in kv)
    right = "".join(f"<tr><td>{k}</td><td>{escape(v)}</td></tr>" for k, v in versions)
    return (
        '<section id="params"><h2>Run parameters and versions</h2><div class="row">'
        f'<table class="kv"><tbody>{left}</tbody></table>'
        f'<table class="kv"><tbody>{right}</tbody></table></div></section>'
    )


def _diagnostic_sections(
    result: Any, gt: Any, dt: Any, tide: Any, calibration: Any, worst: int
) -> list[str]:
    """TIDE (with the worst images) and calibration, when asked (ioukit.report._diagnostics)."""
    if tide is None and calibration is None:
        return []
    from . import _diagnostics as D

    out = []
    runs = D.resolve_tide(tide, result, gt, dt)
    if runs is not None:
        out.append(D.tide_section(runs, worst))
    cal = D.resolve_calibration(calibration, result, gt, dt)
    if cal is not None:
        out.append(D.calibration_section(cal))
    return out


def render_html(
    result: Any,
    *,
    gt: Mapping[str, Any] | None = None,
    dt: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    command: str | None = None,
    extra: Mapping[str, Any] | None = None,
    confusion: ConfusionMatrix | None = None,
    confusion_iou: float = 0.5,
    tide: Any = None,
    calibration: Any = None,
    worst_images: int = 10,
) -> str:
    """The report as one HTML string (see :func:`ioukit.report.write_html`).

    >>> from ioukit.coco import evaluate
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=10, n_categories=2, seed=0)
    >>> html = render_html(evaluate(gt, dt), gt=gt, dt=dt)
    >>> html.count('<figure class="chart"') >= 6, "<script src" in html
    (True, False)
    """
    p = result.params
    names_by_id = dict(getattr(result, "category_names", {}) or {})
    names = [str(names_by_id.get(c, c)) for c in p.catIds]
    rows = _per_class_rows(result)
    stats = np.asarray(result.stats, dtype=float)
    kpi = [("AP", stats[0]), ("AP50", stats[1]), ("AP75", stats[2]), ("AR@100", stats[8])]
    if iou_index(p, 0.5) is None or iou_index(p, 0.75) is None or len(p.maxDets) != 3:
        # custom thresholds: the fixed summary slots may not mean what their names say
        kpi = [("AP", stats[0])]
    cards = "".join(
        f'<div class="card"><div class="v">{_fmt(v)}</div><div class="k">{k}</div></div>'
        for k, v in kpi
    )
    n_gt = int(np.sum(getattr(result, "num_gt", [])))
    n_dt = int(np.sum(getattr(result, "num_dt", [])))
    counts = [("images", len(p.imgIds)), ("categories", len(p.catIds))]
    counts += [("ground truth", n_gt), ("detections", n_dt)]
    cards += "".join(
        f'<div class="card count"><div class="v">{v:,}</div><div class="k">{k}</div></div>'
        for k, v in counts
    )
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sub_parts = [f"iouType <code>{escape(str(p.iouType))}</code>"]
    for k, v in (inputs or {}).items():
        sub_parts.append(f"{escape(str(k))} <code>{escape(str(v))}</code>")
    sub_parts.append(when)
    heading = title or f"ioukit evaluation report \u00b7 {p.iouType}"

    sep = " \u00b7 "
    summary_txt = result.summary() if hasattr(result, "summary") else ""
    body = [
        f"<header><h1>{escape(heading)}</h1><div class='sub'>{sep.join(sub_parts)}</div>"
        f'<div class="cards">{cards}</div></header>',
        '<nav><a href="#summary">Summary</a><a href="#curves">PR &amp; F1</a>'
        '<a href="#sizes">AP by size</a><a href="#per-class">Per category</a>'
        '<a href="#pr-per-class">PR per category</a><a href="#confusion">Confusion</a>'
        '<a href="#params">Parameters</a></nav><main>',
        '<section id="summary"><h2>Summary</h2><p class="note">The 12 COCO numbers, '
        "identical to pycocotools' <code>summarize()</code>, and AP / AR by object size.</p>"
        f'<div class="row"><pre class="summary">{escape(summary_txt)}</pre>'
        f'<div id="sizes">{_size_chart(result)}</div></div></section>',
    ]
    pr = _pr_section(result, names, rows)
    table = (
        '<section id="per-class"><h2>Per category</h2><p class="note">Click a column to '
        "sort. AP columns average IoU 0.5:0.95 unless named; best F1 is at IoU 0.5, with "
        'the score threshold that reaches it. <input id="class-filter" class="filter" '
        'type="search" placeholder="filter categories\u2026"></p>'
        f"{_table(rows)}</section>"
    )
    body.append(pr.replace("<!--PERCLASS-->", table))
    if confusion is None and gt is not None and dt is not None:
        best = float(f1_confidence(result)["best"][0])
        confusion = confusion_matrix(
            gt, dt, iou_threshold=confusion_iou, score_threshold=best, iou_type=str(p.iouType)
        )
    if confusion is not None:
        body.append(_confusion_section(confusion))
    else:
        body.append(
            f'<section id="confusion"><h2>Class confusion at IoU {confusion_iou:g}</h2>'
            '<p class="note">'
            "Not available: the report was written without the ground-truth and detection "
            "annotations (pass <code>gt=</code> and <code>dt=</code>).</p></section>"
        )
    diag = _diagnostic_sections(result, gt, dt, tide, calibration, worst_images)
    if diag:
        links = "".join(
            f'<a href="#{sid}">{label}</a>'
            for sid, label in (("tide", "TIDE"), ("worst-images", "Worst images"),
                               ("calibration", "Calibration"))
            if any(f'<section id="{sid}"' in d for d in diag)
        )  # fmt: skip
        body[1] = body[1].replace('<a href="#params">', links + '<a href="#params">', 1)
        body.extend(diag)
    body.append(_params_section(result, inputs, command, dict(extra or {})))
    body.append(
        f"</main><footer>Generated by ioukit {escape(_version('ioukit'))} on {when} "
        f"\u00b7 Python {escape(sys.version.split()[0])} \u00b7 works offline</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + f"<script>{_JS}</script></body></html>\n"
    )
