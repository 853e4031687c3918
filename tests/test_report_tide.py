"""The report's TIDE, worst-images and calibration sections (render_html and Chromium)."""

from __future__ import annotations

import re

import pytest

from ioukit import tide
from ioukit.coco import evaluate
from ioukit.report import render_html, write_html
from ioukit.synthetic import make_coco_dataset
from test_report_browser import DT, GT, _artifacts, _browser, _chromium


@pytest.fixture(scope="module")
def data():
    gt, dt = make_coco_dataset(n_images=30, n_categories=4, seed=3, polygons=False)
    return gt, dt, evaluate(gt, dt, keep_matches=True)


def test_sections_only_when_asked(data):
    gt, dt, res = data
    html = render_html(res, gt=gt, dt=dt)
    assert 'id="tide"' not in html and 'id="calibration"' not in html
    html = render_html(res, gt=gt, dt=dt, tide=True, calibration=True)
    for sid in ("tide", "worst-images", "calibration"):
        assert f'<section id="{sid}"' in html and f'href="#{sid}"' in html


def test_tide_numbers_side_by_side(data):
    gt, dt, res = data
    a, b = tide.evaluate(gt, dt, name="alpha"), tide.evaluate(gt, dt[::3], name="beta")
    html = render_html(res, tide={"alpha": a, "beta": b}, worst_images=4)
    table = html.split('id="tide-table"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(\w+)</td>((?:<td>[^<]*</td>)+)</tr>", table)
    assert [r[0] for r in rows] == ["alpha", "beta"]
    for (_, cells), r in zip(rows, (a, b)):
        vals = re.findall(r"<td>([^<]*)</td>", cells)
        want = [r.ap, *(r.main_errors[e] for e in tide.MAIN_ERRORS)]
        want += [r.special_errors[e] for e in tide.SPECIAL_ERRORS]
        assert vals[:-1] == [f"{100 * v:.2f}" for v in want]
    worst = html.split('id="worst-images"')[1].split("</section>")[0]
    assert worst.count('class="worst-images"') == 2
    first = tide.worst_images(a, 4)
    ids = re.findall(r"<tr><td>(\d+)</td><td>([\d.]+)</td>", worst)[:4]
    assert [(int(i), float(m)) for i, m in ids] == [
        (w["image_id"], round(w["missed_ap"], 3)) for w in first
    ]


def test_calibration_section_values(data):
    gt, dt, res = data
    cal = tide.calibration(res, iou_threshold=0.5, n_bins=5)
    html = render_html(res, calibration=cal)
    sec = html.split('id="calibration"')[1].split("</section>")[0]
    assert f"<td>ECE</td><td>{cal.ece:.4f}</td>" in sec
    assert f"<td>MCE</td><td>{cal.mce:.4f}</td>" in sec
    assert sec.count("<tr><td>[") == 5 and "[0.80, 1.00]" in sec
    # calibration=True reads the same match records
    assert f"{cal.ece:.4f}" in render_html(res, calibration=tide.calibration(res))


def test_missing_inputs_say_so(data):
    _, _, res = data
    plain = evaluate(*make_coco_dataset(n_images=5, n_categories=2, seed=0))
    html = render_html(plain, tide=True, calibration=True)
    assert 'TIDE error analysis</h2><p class="note">Not available' in html
    assert 'Calibration</h2><p class="note">Not available' in html


def test_confusion_at_tau(data):
    gt, dt, res = data
    html = render_html(res, gt=gt, dt=dt, confusion_iou=0.75)
    assert "Class confusion at IoU 0.75" in html and "IoU &ge; 0.75" in html


def test_sections_render_in_chromium(coco100, tmp_path):
    exe = _chromium()
    g, d = str(coco100 / GT), str(coco100 / DT)
    res = evaluate(g, d, keep_matches=True)
    import json

    gt, dt = json.loads(open(g).read()), json.loads(open(d).read())
    report = write_html(res, tmp_path / "r.html", gt=gt, dt=dt, tide=True, calibration=True)
    html = report.read_text()
    n_charts = html.count('<figure class="chart"')
    dom = _browser(exe, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-rendered") == "true"
    assert attrs.get("data-charts") == f"{n_charts}/{n_charts}", attrs
    for name in ("tide", "reliability"):
        assert re.search(rf'data-chart="{name}"[^>]*data-rendered="1"', dom) or re.search(
            rf'data-rendered="1"[^>]*data-chart="{name}"', dom
        ), name
    ref = tide.evaluate(g, d)
    assert f"<td>{100 * ref.main_errors['Cls']:.2f}</td>" in dom
    shot = _artifacts() / "report-tide-coco100.png"
    shot.unlink(missing_ok=True)
    _browser(exe, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1600",
             report.as_uri() + "#tide")  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
