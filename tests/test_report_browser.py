"""The HTML report in a real browser: headless Chromium renders the table and every chart.

The page's own script marks each ``figure.chart`` whose SVG has a non-empty
bounding box, sorts the per-category table by AP, and records the counts on
``<body>``; ``--dump-dom`` returns the DOM after that script ran. A screenshot
is written to ``test-artifacts/`` (or ``$IOUKIT_TEST_ARTIFACTS``).

Skipped with a reason when Chromium is absent, except under ``CI=true``
(``.ci/run`` installs Debian's ``chromium``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GT = "instances_val2014_100.json"
DT = "instances_val2014_fakebbox100_results.json"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    msg = "headless Chromium not found (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " (CI=true: the browser test must run)")
    pytest.skip(msg)


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _artifacts() -> Path:
    d = Path(os.environ.get("IOUKIT_TEST_ARTIFACTS", REPO / "test-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_report_renders_in_chromium(coco100, tmp_path):
    exe = _chromium()
    report = tmp_path / "report.html"
    # the report as a user makes it: the real entry point on real COCO data
    p = subprocess.run(
        [sys.executable, "-m", "ioukit.cli", "eval", str(coco100 / GT), str(coco100 / DT),
         "--report", str(report), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    html = report.read_text()
    n_charts = html.count('<figure class="chart"')
    assert n_charts > 70

    dom = _browser(exe, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-rendered") == "true", "the page script did not run"
    assert attrs.get("data-charts") == f"{n_charts}/{n_charts}", attrs
    assert attrs.get("data-table-rows") == "80"
    assert dom.count('data-rendered="1"') == n_charts and 'data-rendered="0"' not in dom

    # the script sorted the table by AP, best first (categories without GT last)
    table = dom.split('id="per-class-table"')[1].split("</table>")[0]
    ap = [float(m) for m in re.findall(r"<tr><td>[^<]*</td><td[^>]*data-v=\"([-\d.e]+)\"", table)]
    assert len(ap) == 80 and ap == sorted(ap, reverse=True)
    expected_ap = json.loads((coco100 / "expected_bbox.json").read_text())["stats"][0]
    assert f"{expected_ap:.3f}" in dom

    shot = _artifacts() / "report-coco100.png"
    shot.unlink(missing_ok=True)
    _browser(exe, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000",
             report.as_uri())  # fmt: skip
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow comes with matplotlib
        return
    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        # not a blank page: the dark header and white body are both there
        colors = im.convert("RGB").resize((64, 100)).getcolors(maxcolors=64 * 100)
        assert colors is not None and len(colors) > 50
