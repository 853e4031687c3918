"""``ioukit tide GT DT [DT2]``: tables, JSON, worst images, plot, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ioukit import tide
from ioukit.cli import main
from ioukit.synthetic import write_coco_dataset


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tide")
    g, a = write_coco_dataset(d, "a", n_images=30, n_categories=4, seed=0, polygons=False)
    _, b = write_coco_dataset(d, "b", n_images=30, n_categories=4, seed=0, polygons=False,
                              dets_per_image=10)  # fmt: skip
    return g, a, b


def test_one_model_table(files, capsys):
    g, a, _ = files
    assert main(["tide", g, a]) == 0
    out = capsys.readouterr().out
    r = tide.evaluate(g, a)
    assert "Main Errors" in out and "Special Error" in out
    assert f"{100 * r.ap:.2f}" in out
    assert f"{100 * r.main_errors['Miss']:6.2f}" in out


def test_two_models_json_and_worst(files, tmp_path, capsys):
    g, a, b = files
    out_json = tmp_path / "t.json"
    rc = main(["tide", g, a, b, "--names", "A,B", "--worst", "2", "--by", "fp",
               "--json", str(out_json)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "-- A --" in text and "-- B --" in text and "worst images of B by fp" in text
    payload = json.loads(out_json.read_text())
    assert [m["name"] for m in payload["models"]] == ["A", "B"]
    ref = tide.evaluate(g, b)
    assert payload["models"][1]["main_errors"] == pytest.approx(ref.main_errors, abs=1e-15)
    assert len(payload["models"][0]["worst_images"]) == 2
    fps = [w["fp"] for w in payload["models"][0]["worst_images"]]
    assert fps == sorted(fps, reverse=True)


def test_json_to_stdout_and_plot(files, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    g, a, _ = files
    png = tmp_path / "t.png"
    assert main(["tide", g, a, "--json", "-", "--plot", str(png)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["command"] == "tide" and png.stat().st_size > 1000


def test_report(files, tmp_path, capsys):
    g, a, b = files
    out = tmp_path / "r.html"
    assert main(["tide", g, a, b, "--report", str(out), "-q"]) == 0
    html = out.read_text()
    for sid in ("tide", "worst-images", "calibration", "confusion"):
        assert f'<section id="{sid}"' in html
    assert html.count('class="worst-images"') == 2


def test_usage_errors(files, capsys):
    g, a, b = files
    assert main(["tide", g, a, "--names", "x,y"]) == 2
    assert "--names" in capsys.readouterr().err
    assert main(["tide", g, a, "--pos-threshold", "0.05"]) == 2
    assert main(["tide", g, "/nonexistent.json"]) == 2


def test_cli_import_does_not_load_tide():
    # the command's module loads only when `ioukit tide` runs
    code = (
        "import sys, ioukit.cli; "
        "print('ioukit.tide' in sys.modules, 'ioukit.cli._tide' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
