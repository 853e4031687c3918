"""``ioukit eval --protocol voc`` through the real entry point (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ioukit import voc
from test_voc import make_voc, write_voc


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


@pytest.fixture()
def voc_set(tmp_path: Path) -> tuple[Path, str]:
    images, dets = make_voc(seed=41, n_images=20)
    return write_voc(tmp_path, images, dets)


def test_eval_voc_prints_the_table(voc_set):
    ann, pattern = voc_set
    p = run("eval", "--protocol", "voc", ann, pattern)
    assert p.returncode == 0, p.stderr
    r = voc.evaluate(ann, pattern)
    assert r.summary() in p.stdout
    assert "voc07 (11-point AP)" in p.stdout and f"{r.map:.4f}" in p.stdout


def test_eval_voc_json_and_options(voc_set):
    ann, pattern = voc_set
    p = run(
        "eval",
        "--protocol",
        "voc",
        ann,
        pattern,
        "--metric",
        "voc12",
        "--inclusive",
        "--iou-thrs",
        "0.5,0.7",
        "--classes",
        "dog,cat",
        "--use-difficult",
        "--json",
        "-",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    r = voc.evaluate(
        ann,
        pattern,
        metric="voc12",
        threshold_rule=">=",
        iou_threshold=[0.5, 0.7],
        classes=["dog", "cat"],
        use_difficult=True,
    )
    assert out["protocol"] == "voc" and out["classes"] == ["dog", "cat"]
    assert out["map"] == r.map and out["ap"] == r.ap
    assert out["settings"]["threshold_rule"] == ">=" and out["iou_thresholds"] == [0.5, 0.7]


def test_eval_voc_image_set(tmp_path):
    images, dets = make_voc(seed=43, n_images=10)
    keep = sorted(images)[:5]
    dets = {c: [d for d in v if d[0] in keep] for c, v in dets.items()}
    ann, pattern = write_voc(tmp_path, images, dets)
    (tmp_path / "set.txt").write_text("\n".join(keep) + "\n")
    p = run(
        "eval",
        "--protocol",
        "voc",
        ann,
        pattern,
        "--image-set",
        tmp_path / "set.txt",
        "--json",
        "-",
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["num_images"] == 5


def test_eval_voc_usage_and_input_errors(voc_set, tmp_path):
    ann, pattern = voc_set
    p = run("eval", "--protocol", "voc", ann, pattern, "--iou-type", "segm")
    assert p.returncode == 2 and "--iou-type is a COCO option" in p.stderr
    p = run("eval", "--protocol", "voc", ann)
    assert p.returncode == 2 and "needs GT" in p.stderr
    p = run("eval", "--protocol", "voc", tmp_path / "nope", pattern)
    assert p.returncode == 2 and "nope" in p.stderr
    bad = tmp_path / "bad_{cls}.txt"
    for c in ("cat", "dog", "person", "car", "bus"):
        (tmp_path / f"bad_{c}.txt").write_text("000001 0.5 1 1 9\n")
    p = run("eval", "--protocol", "voc", ann, bad)
    assert p.returncode == 2
    assert "bad_bus.txt:1: expected 'image_id score x1 y1 x2 y2'" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1  # one line, no traceback
