"""Tiny inline-SVG chart primitives for the HTML report (no JS, no CDN).

Each function returns one ``<svg>`` element as a string. Coordinates are
rounded to 0.1 px and runs of collinear points are dropped so that a report
with 80 per-class PR charts stays a few hundred kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

# Okabe-Ito-like palette, readable by colour-blind viewers and on a projector.
PALETTE = ("#1f6feb", "#e36209", "#2da44e", "#8250df", "#cf222e", "#0a8f8f", "#bf8700", "#57606a")


@dataclass
class Series:
    """One line of a :func:`line_chart`."""

    x: np.ndarray
    y: np.ndarray
    label: str = ""
    color: str = PALETTE[0]
    width: float = 2.0
    dash: str = ""
    opacity: float = 1.0
    title: str = ""


def _f(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _simplify(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop points lying on a straight horizontal/vertical run (PR curves are steps)."""
    if px.size <= 2:
        return px, py
    keep = np.ones(px.size, dtype=bool)
    same_y = (py[1:-1] == py[:-2]) & (py[1:-1] == py[2:])
    same_x = (px[1:-1] == px[:-2]) & (px[1:-1] == px[2:])
    keep[1:-1] = ~(same_y | same_x)
    return px[keep], py[keep]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step - 1e-9) * step
    out = []
    v = start
    while v <= hi + 1e-9 * step:
        out.append(round(v, 10))
        v += step
    return out


def _tick_label(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:.0f}"
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def line_chart(
    series: Sequence[Series],
    *,
    xlim: tuple[float, float] = (0.0, 1.0),
    ylim: tuple[float, float] = (0.0, 1.0),
    xlabel: str = "",
    ylabel: str = "",
    width: int = 420,
    height: int = 300,
    legend: bool = True,
    small: bool = False,
    title: str = "",
    markers: Sequence[tuple[float, float, str, str]] = (),
    legend_at: str = "lower right",
) -> str:
    """An SVG line chart; ``markers`` are ``(x, y, color, tooltip)`` dots.

    ``legend_at``: ``"lower right"``, ``"lower left"``, ``"upper right"`` or
    ``"upper left"``.
    """
    ml, mr, mt, mb = (30, 6, 18 if title else 6, 20) if small else (48, 12, 12, 40)
    pw, ph = width - ml - mr, height - mt - mb
    x0, x1 = xlim
    y0, y1 = ylim
    sx = pw / (x1 - x0 or 1.0)
    sy = ph / (y1 - y0 or 1.0)

    def X(v: np.ndarray | float) -> np.ndarray | float:
        return np.round(ml + (np.asarray(v, dtype=float) - x0) * sx, 1)

    def Y(v: np.ndarray | float) -> np.ndarray | float:
        return np.round(mt + ph - (np.asarray(v, dtype=float) - y0) * sy, 1)

    fs = 9 if small else 11
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart-svg" role="img">'
    ]
    if title:
        parts.append(
            f'<text x="{ml}" y="12" font-size="{fs + 1}" font-weight="600" '
            f'class="ct">{escape(title)}</text>'
        )
    # grid and axes
    g = ['<g class="grid">']
    for t in _ticks(y0, y1, 4 if small else 5):
        y = _f(float(Y(t)))
        g.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y}" y2="{y}"/>')
        g.append(
            f'<text x="{ml - 4}" y="{y}" dy="0.32em" text-anchor="end" '
            f'font-size="{fs}">{_tick_label(t)}</text>'
        )
    for t in _ticks(x0, x1, 4 if small else 5):
        x = _f(float(X(t)))
        g.append(f'<line x1="{x}" x2="{x}" y1="{mt}" y2="{mt + ph}"/>')
        g.append(
            f'<text x="{x}" y="{mt + ph + fs + 3}" text-anchor="middle" '
            f'font-size="{fs}">{_tick_label(t)}</text>'
        )
    g.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" class="frame"/></g>')
    parts.extend(g)
    if xlabel and not small:
        parts.append(
            f'<text x="{ml + pw / 2:.0f}" y="{height - 6}" text-anchor="middle" '
            f'font-size="{fs}" class="al">{escape(xlabel)}</text>'
        )
    if ylabel and not small:
        parts.append(
            f'<text transform="translate(12 {mt + ph / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" font-size="{fs}" class="al">{escape(ylabel)}</text>'
        )
    parts.append('<g fill="none" stroke-linejoin="round">')
    for s in series:
        x = np.asarray(s.x, dtype=float)
        y = np.asarray(s.y, dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        # Clamp rather than clip-path: ids would have to be unique across the page.
        xs, ys = np.clip(x[ok], min(xlim), max(xlim)), np.clip(y[ok], min(ylim), max(ylim))
        px, py = _simplify(np.asarray(X(xs)), np.asarray(Y(ys)))
        d = "M" + "L".join(f"{_f(a)} {_f(b)}" for a, b in zip(px, py))
        attrs = f'stroke="{s.color}" stroke-width="{s.width:g}"'
        if s.dash:
            attrs += f' stroke-dasharray="{s.dash}"'
        if s.opacity < 1:
            attrs += f' stroke-opacity="{s.opacity:g}"'
        tip = s.title or s.label
        tip_el = f"<title>{escape(tip)}</title>" if tip else ""
        parts.append(f'<path d="{d}" {attrs}>{tip_el}</path>')
    parts.append("</g>")
    for mx, my, color, tip in markers:
        parts.append(
            f'<circle cx="{_f(float(X(mx)))}" cy="{_f(float(Y(my)))}" r="{3 if small else 4.5}" '
            f'fill="{color}" stroke="#fff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
        )
    labelled = [s for s in series if s.label]
    if legend and labelled:
        w = max(len(s.label) for s in labelled) * 6.4 + 34
        lx = ml + w + 8 if "left" in legend_at else ml + pw - 8
        if "upper" in legend_at:
            ly = mt + 20
        else:
            ly = mt + ph - 10 - 16 * (len(labelled) - 1)
        parts.append(
            f'<rect x="{lx - w:.0f}" y="{ly - 11}" width="{w:.0f}" '
            f'height="{16 * len(labelled) + 6}" rx="4" class="legend-bg"/>'
        )
        for i, s in enumerate(labelled):
            y = ly + 16 * i
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            parts.append(
                f'<line x1="{lx - w + 8:.0f}" x2="{lx - w + 26:.0f}" y1="{y - 3}" y2="{y - 3}" '
                f'stroke="{s.color}" stroke-width="2.5"{dash}/>'
                f'<text x="{lx - w + 31:.0f}" y="{y + 1}" font-size="{fs}">{escape(s.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    *,
    ylim: tuple[float, float] = (0.0, 1.0),
    ylabel: str = "",
    width: int = 420,
    height: int = 300,
) -> str:
    """Grouped vertical bars: ``series`` is ``[(name, values per group, color)]``.

    Negative values (COCO's -1 for "no ground truth") are drawn as an empty slot
    labelled "n/a".
    """
    ml, mr, mt, mb = 48, 12, 12, 40
    pw, ph = width - ml - mr, height - mt - mb
    y0, y1 = ylim
    sy = ph / (y1 - y0 or 1.0)
    ng, ns = len(groups), max(len(series), 1)
    gw = pw / max(ng, 1)
    bw = min(34.0, gw * 0.75 / ns)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart-svg" role="img"><g class="grid">'
    ]
    for t in _ticks(y0, y1, 5):
        y = _f(mt + ph - (t - y0) * sy)
        parts.append(
            f'<line x1="{ml}" x2="{ml + pw}" y1="{y}" y2="{y}"/>'
            f'<text x="{ml - 4}" y="{y}" dy="0.32em" text-anchor="end" '
            f'font-size="11">{_tick_label(t)}</text>'
        )
    parts.append("</g>")
    if ylabel:
        parts.append(
            f'<text transform="translate(12 {mt + ph / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" font-size="11" class="al">{escape(ylabel)}</text>'
        )
    for gi, gname in enumerate(groups):
        cx = ml + gw * (gi + 0.5)
        parts.append(
            f'<text x="{_f(cx)}" y="{mt + ph + 15}" text-anchor="middle" '
            f'font-size="11">{escape(gname)}</text>'
        )
        for si, (sname, vals, color) in enumerate(series):
            v = float(vals[gi])
            bx = cx - bw * ns / 2 + bw * si
            if not math.isfinite(v) or v < 0:
                parts.append(
                    f'<text x="{_f(bx + bw / 2)}" y="{mt + ph - 4}" text-anchor="middle" '
                    f'font-size="9" class="muted">n/a</text>'
                )
                continue
            top = mt + ph - (min(v, y1) - y0) * sy
            parts.append(
                f'<rect x="{_f(bx + 1)}" y="{_f(top)}" width="{_f(bw - 2)}" '
                f'height="{_f(mt + ph - top)}" fill="{color}" rx="2">'
                f"<title>{escape(sname)} {escape(gname)}: {v:.3f}</title></rect>"
                f'<text x="{_f(bx + bw / 2)}" y="{_f(top - 3)}" text-anchor="middle" '
                f'font-size="9">{v:.2f}</text>'
            )
    # legend along the top-right
    lx = ml + pw
    for sname, _, color in reversed(series):
        w = len(sname) * 6.4 + 20
        lx -= w
        parts.append(
            f'<rect x="{_f(lx)}" y="{mt}" width="10" height="10" fill="{color}" rx="2"/>'
            f'<text x="{_f(lx + 14)}" y="{mt + 9}" font-size="11">{escape(sname)}</text>'
        )
    parts.append(
        f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" class="axis"/></svg>'
    )
    return "".join(parts)


def _blend(frac: float) -> str:
    """White -> deep blue on a square-root scale, so 1-count cells stay visible."""
    t = math.sqrt(max(0.0, min(1.0, frac)))
    lo, hi = (247, 250, 255), (8, 48, 107)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    counts: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    xlabel: str = "",
    ylabel: str = "",
    cell: int = 10,
    normalize_rows: bool = True,
    diagonal_color: str = "#2da44e",
) -> str:
    """A count matrix as a heatmap; only non-zero cells are drawn (lean files).

    Colour is the row-normalised fraction; every cell's tooltip gives the count.
    Diagonal cells get a green outline so correct predictions read at a glance.
    """
    counts = np.asarray(counts)
    nr, nc = counts.shape
    lw = int(max((len(s) for s in row_labels), default=4) * 5.6) + 10
    th = int(max((len(s) for s in col_labels), default=4) * 5.6) + 10
    ml, mt = lw + 16, th + 16
    width, height = ml + nc * cell + 8, mt + nr * cell + 8
    fs = max(6, min(10, cell - 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart-svg heatmap" role="img">',
        f'<rect x="{ml}" y="{mt}" width="{nc * cell}" height="{nr * cell}" class="hm-bg"/>',
    ]
    if ylabel:
        parts.append(
            f'<text transform="translate(10 {mt + nr * cell / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" font-size="11" class="al">{escape(ylabel)}</text>'
        )
    if xlabel:
        parts.append(
            f'<text x="{ml + nc * cell / 2:.0f}" y="11" text-anchor="middle" '
            f'font-size="11" class="al">{escape(xlabel)}</text>'
        )
    for i, s in enumerate(row_labels):
        parts.append(
            f'<text x="{ml - 3}" y="{mt + i * cell + cell / 2:.1f}" dy="0.32em" '
            f'text-anchor="end" font-size="{fs}">{escape(s)}</text>'
        )
    for j, s in enumerate(col_labels):
        x = ml + j * cell + cell / 2
        parts.append(
            f'<text transform="translate({x:.1f} {mt - 3}) rotate(-90)" dy="0.32em" '
            f'font-size="{fs}">{escape(s)}</text>'
        )
    totals = counts.sum(axis=1)
    gmax = counts.max() if counts.size else 1
    for i, j in zip(*np.nonzero(counts)):
        c = int(counts[i, j])
        frac = c / totals[i] if normalize_rows and totals[i] else c / max(gmax, 1)
        stroke = f' stroke="{diagonal_color}" stroke-width="1.2"' if i == j else ""
        parts.append(
            f'<rect x="{ml + j * cell}" y="{mt + i * cell}" width="{cell}" height="{cell}" '
            f'fill="{_blend(frac)}"{stroke}><title>{escape(row_labels[i])} \u2192 '
            f"{escape(col_labels[j])}: {c} ({100 * frac:.0f}% of row)</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)
