"""``ioukit eval --protocol panoptic`` through the real entry point (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ioukit import panoptic


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("IOUKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "ioukit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli_panoptic")
    cats, gt, pred = panoptic.random_panoptic(12, height=40, width=48, n_categories=8, seed=5)
    panoptic.write_panoptic(d / "gt.json", gt, cats, folder=d / "gt_png")
    panoptic.write_panoptic(d / "pred.json", pred, cats)  # default folder: d / "pred"
    return d / "gt.json", d / "pred.json"


def test_prints_panopticapis_table(files):
    gt, pred = files
    p = run("eval", "--protocol", "panoptic", gt, pred, "--gt-folder", gt.parent / "gt_png")
    assert p.returncode == 0, p.stderr
    r = panoptic.evaluate(gt, pred, gt_folder=gt.parent / "gt_png")
    assert r.summary() in p.stdout
    assert "category" not in p.stdout  # the per-class table only on request
    p = run("eval", "--protocol", "panoptic", gt, pred, "--gt-folder", gt.parent / "gt_png",
            "--per-class")  # fmt: skip
    assert r.summary(per_class=True) in p.stdout


def test_panoptic_flag_is_the_protocol(files):
    # the spelling, `ioukit eval --panoptic`, runs the same protocol
    gt, pred = files
    p = run("eval", "--panoptic", gt, pred, "--gt-folder", gt.parent / "gt_png")
    assert p.returncode == 0, p.stderr
    assert panoptic.evaluate(gt, pred, gt_folder=gt.parent / "gt_png").summary() in p.stdout


def test_json_and_options(files, tmp_path):
    gt, pred = files
    out = tmp_path / "out.json"
    p = run(
        "eval", "--protocol", "panoptic", gt, pred, "--gt-folder", gt.parent / "gt_png",
        "--pred-folder", gt.parent / "pred", "--gt-area", "pixels",
        "--reference-processes", "3", "--json", out,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    r = panoptic.evaluate(
        gt, pred, gt_folder=gt.parent / "gt_png", gt_area="pixels", reference_processes=3
    )
    assert doc["protocol"] == "panoptic" and doc["gt_area"] == "pixels"
    assert doc["results"]["All"] == r.results["All"]
    assert doc["results"]["per_class"] == {str(k): v for k, v in r.results["per_class"].items()}
    p = run("eval", "--protocol", "panoptic", gt, pred, "--gt-folder", gt.parent / "gt_png",
            "--json", "-")  # fmt: skip
    assert json.loads(p.stdout)["results"]["All"]["pq"] == pytest.approx(
        panoptic.evaluate(gt, pred, gt_folder=gt.parent / "gt_png").pq, rel=0, abs=0
    )


def test_usage_errors(files):
    gt, pred = files
    p = run("eval", "--protocol", "panoptic", gt, pred, "--iou-type", "segm")
    assert p.returncode == 2 and "--iou-type is a COCO option" in p.stderr
    p = run("eval", "--protocol", "panoptic", gt)
    assert p.returncode == 2 and "needs GT.json and PRED.json" in p.stderr
    p = run("eval", "--protocol", "panoptic", gt, pred)  # GT folder "gt" does not exist
    assert p.returncode != 0 and "gt PNG folder does not exist" in p.stderr
