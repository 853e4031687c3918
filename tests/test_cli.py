"""The ``ioukit`` command line, through the real entry point (a subprocess).

Oracles: pycocotools' own printed summary format and the recorded pycocotools
2.0.11 numbers (expected_bbox.json), pycocotools run in the test on modified
inputs, and hand-planted problems.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

GT = "instances_val2014_100.json"
DT = "instances_val2014_fakebbox100_results.json"

# pycocotools 2.0.11 COCOeval.summarize(): (AP?, iouThr, area, maxDets) per line.
_SPEC = [
    (1, None, "all", 100),
    (1, 0.5, "all", 100),
    (1, 0.75, "all", 100),
    (1, None, "small", 100),
    (1, None, "medium", 100),
    (1, None, "large", 100),
    (0, None, "all", 1),
    (0, None, "all", 10),
    (0, None, "all", 100),
    (0, None, "small", 100),
    (0, None, "medium", 100),
    (0, None, "large", 100),
]


def coco_summary_lines(stats) -> list[str]:
    """The lines pycocotools prints, built from its format string (cocoeval.py)."""
    fmt = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
    out = []
    for (ap, thr, area, md), s in zip(_SPEC, stats):
        iou = "0.50:0.95" if thr is None else f"{thr:0.2f}"
        title, typ = ("Average Precision", "(AP)") if ap else ("Average Recall", "(AR)")
        out.append(fmt.format(title, typ, iou, area, md, s))
    return out


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("IOUKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "ioukit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def call(capsys, *args) -> tuple[int, str, str]:
    """``ioukit.cli.main`` in-process: the console script's target, minus the start-up."""
    from ioukit.cli import main

    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def pycocotools_stats(gt: dict, dt: list, **params) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = json.loads(json.dumps(gt))
        c.createIndex()
        d = c.loadRes(json.loads(json.dumps(dt)))
        e = COCOeval(c, d, "bbox")
        for k, v in params.items():
            setattr(e.params, k, v)
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e.stats


def _one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


# ------------------------------------------------------------------ eval


def test_sample_run_without_arguments():
    from ioukit.cli._sample import sample_dataset

    p = run("eval", "--quiet")
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if "@[ IoU=" in ln]
    gt, dt = sample_dataset()
    assert lines == coco_summary_lines(pycocotools_stats(gt, dt))
    assert "images" in p.stdout.splitlines()[0]
    assert p.stderr == ""  # no progress line when stderr is not a terminal


def test_coco100_summary_json_report(coco100, tmp_path, capsys):
    js, html = tmp_path / "r.json", tmp_path / "r.html"
    p = run("eval", coco100 / GT, coco100 / DT, "--per-class", "--json", js, "--report", html)
    assert p.returncode == 0, p.stderr
    expected = json.loads((coco100 / "expected_bbox.json").read_text())["stats"]
    got = [ln for ln in p.stdout.splitlines() if "@[ IoU=" in ln]
    assert got == coco_summary_lines(expected)
    assert "100 images" in p.stdout and "734 detections" in p.stdout

    # --per-class: a row per category; categories without GT show dashes, not -1
    gt = json.loads((coco100 / GT).read_text())
    table = p.stdout.split("Per category")[1].split("wrote")[0]
    for c in gt["categories"]:
        assert f" {c['name']} " in table, c["name"]
    assert "-1" not in table

    # --json: everything, the stats and arrays exactly pycocotools'
    d = json.loads(js.read_text())
    assert d["stats"] == expected  # JSON floats round-trip exactly
    assert d["command"] == "eval" and d["iou_type"] == "bbox"
    assert d["inputs"] == {"GT": str(coco100 / GT), "DT": str(coco100 / DT)}
    assert len(d["per_class"]) == len(gt["categories"]) == 80
    n_real = sum(1 for a in gt["annotations"] if not a["iscrowd"])
    assert sum(d["num_gt"]) == n_real == 830
    assert sum(d["num_dt"]) == 734
    ref = np.load(coco100 / "expected_bbox.npz")
    assert np.array_equal(np.asarray(d["precision"]), ref["precision"])

    # --report
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Average Precision" in page
    assert "per-class-table" in page and 'data-chart="confusion"' in page

    # "--json -" writes pure JSON to stdout, for pipelines
    rc, out, _ = call(capsys, "eval", coco100 / GT, coco100 / DT, "--json", "-")
    assert rc == 0 and json.loads(out)["stats"] == expected


def test_custom_parameters_reach_the_evaluator(coco100, capsys):
    gt = json.loads((coco100 / GT).read_text())
    dt = json.loads((coco100 / DT).read_text())
    rc, out, err = call(capsys, "eval", coco100 / GT, coco100 / DT, "--iou-thrs", "0.5:0.7:0.1",
                        "--json", "-", "--max-dets", "1,10,100")  # fmt: skip
    assert rc == 0, err
    ref = pycocotools_stats(gt, dt, iouThrs=np.linspace(0.5, 0.7, 3, endpoint=True))
    assert json.loads(out)["stats"] == [float(s) for s in ref]
    # the default area ranges spelled out give the default numbers
    spec = "all=0:inf,small=0:32**2,medium=32**2:96**2,large=96**2:inf"
    rc, out, err = call(capsys, "eval", coco100 / GT, coco100 / DT, "--area-rng", spec,
                        "--json", "-")  # fmt: skip
    assert rc == 0, err
    expected = json.loads((coco100 / "expected_bbox.json").read_text())["stats"]
    assert json.loads(out)["stats"] == expected


# ------------------------------------------------------------------ check


def test_check_finds_planted_problems(tmp_path, capsys):
    gt = {
        "images": [{"id": 1, "width": 50, "height": 50}, {"id": 2, "width": 50, "height": 50}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {
                "id": 5,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 9, 9],
                "area": 81,
                "iscrowd": 0,
            },
            {
                "id": 5,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 9, 9],
                "area": 81,
                "iscrowd": 0,
            },
            {"id": 6, "image_id": 8, "category_id": 1, "bbox": [0, 0, 9], "iscrowd": 0},
        ],
    }
    dt = [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    p = run("check", tmp_path / "gt.json", tmp_path / "dt.json")
    assert p.returncode == 1, p.stderr
    out = p.stdout
    for needle in (
        # the loader's messages (ioukit.coco._rules), without the file name
        "duplicate annotation id 5 (entries 0 and 1)",
        "annotation id 6 (entry 2) refers to image id 8, which is not in the GT images",
        "annotation id 6 (entry 2) has a bbox of length 3",
        "annotation id 6 (entry 2) is missing 'area'",
        "category id 2 ('b') has no annotations",
        "image id 2 has no annotations",
        "result 0 (image id 1) refers to category id 3",
        "FAILED: 5 errors, 1 warning, 1 note",
    ):
        assert needle in out, (needle, out)
    rc, out, _ = call(capsys, "check", tmp_path / "gt.json", "--json", "-")
    d = json.loads(out)
    assert rc == 1 and d["num_errors"] == 4
    assert {(x["code"], x["id"]) for x in d["problems"] if x["severity"] == "error"} == {
        ("duplicate-id", 5),
        ("unknown-image", 6),
        ("bad-bbox", 6),
        ("missing-area", 6),
    }


def test_check_clean_data_exits_zero(coco100, capsys):
    rc, out, _ = call(capsys, "check", coco100 / GT, coco100 / DT)
    assert rc == 0, out
    assert "OK: 0 errors, 10 warnings" in out


# ---------------------------------------------------------------- compare


def test_compare(coco100, tmp_path, capsys):
    gt = json.loads((coco100 / GT).read_text())
    dt = json.loads((coco100 / DT).read_text())
    # model B: A without its person detections (category 1). Only that category
    # can move, since COCO matches each category on its own.
    b = [d for d in dt if d["category_id"] != 1]
    (tmp_path / "b.json").write_text(json.dumps(b))
    p = run("compare", coco100 / GT, coco100 / DT, tmp_path / "b.json", "--json", "-")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    expected = json.loads((coco100 / "expected_bbox.json").read_text())["stats"]
    assert [r["a"] for r in d["summary"]] == expected
    ref_b = pycocotools_stats(gt, b)
    assert [r["b"] for r in d["summary"]] == [float(s) for s in ref_b]
    assert [r["metric"] for r in d["summary"]] == [
        "AP", "AP50", "AP75", "APs", "APm", "APl",
        "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    ]  # fmt: skip
    per = {r["category_id"]: r for r in d["per_class"]}
    assert per[1]["AP_b"] == 0.0 and per[1]["delta"] == -per[1]["AP_a"] < 0
    assert all(r["delta"] == 0.0 for cid, r in per.items() if cid != 1)
    assert d["per_class"][-1]["category_id"] == 1  # sorted by delta, worst last

    rc, out, err = call(capsys, "compare", coco100 / GT, coco100 / DT, tmp_path / "b.json",
                        "--names", "base,noperson")  # fmt: skip
    assert rc == 0, err
    assert "Where noperson loses most to base" in out
    section = out.split("loses most")[1]
    assert "person" in section and f"{-per[1]['AP_a']:+.3f}" in section
    assert "1 worse" in out


# ------------------------------------------------------------- bad input


def _err_line(rc: int, err: str) -> str:
    assert rc == 2, (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_missing_file(coco100, tmp_path, capsys):
    # through the real process once: one line on stderr, no traceback
    line = _one_line_error(run("eval", tmp_path / "nope.json", coco100 / DT))
    assert "nope.json" in line and "No such file" in line
    line = _err_line(*call(capsys, "check", tmp_path / "nope.json")[::2])
    assert "nope.json" in line
    line = _err_line(*call(capsys, "compare", coco100 / GT, coco100 / DT, tmp_path / "b.json")[::2])
    assert "b.json" in line


def test_malformed_json(coco100, tmp_path, capsys, monkeypatch):
    bad = tmp_path / "broken.json"
    bad.write_text('[{"image_id": 1, "bbox": [1, 2, 3, 4],\n "score": }]')
    line = _one_line_error(run("eval", coco100 / GT, bad))
    assert "broken.json" in line and "line 2" in line, line
    monkeypatch.chdir(tmp_path)
    for args in (("eval", coco100 / GT, bad, "--report", "x.html"), ("check", bad)):
        line = _err_line(*call(capsys, *args)[::2])
        assert "broken.json" in line and "line 2" in line, line


def test_wrong_schema(coco100, tmp_path, capsys):
    g = tmp_path / "list.json"
    g.write_text("[1, 2, 3]")
    line = _one_line_error(run("eval", g, coco100 / DT))
    assert line.startswith("ioukit: error:")
    d = tmp_path / "d.json"
    d.write_text(json.dumps([{"image_id": 1146, "category_id": 1, "bbox": [1, 2, 3], "score": 1}]))
    line = _err_line(*call(capsys, "eval", coco100 / GT, d)[::2])
    assert "bbox" in line
    d.write_text(json.dumps([{"image_id": 424242, "category_id": 1, "bbox": [1, 2, 3, 4],
                              "score": 1}]))  # fmt: skip
    line = _err_line(*call(capsys, "eval", coco100 / GT, d)[::2])
    assert "424242" in line
    ann = {"id": 7, "image_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}
    g.write_text(
        json.dumps({"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [ann]})
    )
    d.write_text("[]")
    line = _err_line(*call(capsys, "eval", g, d)[::2])
    assert "category_id" in line


def test_usage_errors(coco100, capsys):
    line = _err_line(*call(capsys, "eval", coco100 / GT)[::2])
    assert "needs both" in line
    line = _err_line(*call(capsys, "eval", "--iou-thrs", "0.5:x")[::2])
    assert "--iou-thrs" in line
    rc, _, err = call(capsys, "frobnicate")
    assert rc == 2 and "invalid choice" in err
    rc, out, _ = call(capsys)
    assert rc == 0 and "eval" in out
    rc, out, _ = call(capsys, "--version")
    assert rc == 0 and out.startswith("ioukit ")


def test_plain_text_without_rich(coco100, capsys, monkeypatch):
    """rich is optional (the ``report`` extra): without it the tables are plain text."""
    for mod in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich -> ImportError
    rc, out, err = call(capsys, "eval", coco100 / GT, coco100 / DT, "--per-class")
    assert rc == 0, err
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("category "))
    assert lines[head].split() == ["category", "AP", "AP50", "AP75", "APs", "APm", "APl",
                                   "AR@100", "#GT", "#det", "F1", "@score"]  # fmt: skip
    assert set(lines[head + 1]) <= {"-", " "}
    person = next(ln for ln in lines if ln.startswith("person "))
    rows = {r["name"]: r for r in json.loads(call(capsys, "eval", coco100 / GT, coco100 / DT,
                                                  "--json", "-")[1])["per_class"]}  # fmt: skip
    assert person.split()[1] == f"{rows['person']['AP']:.3f}"
    hydrant = next(ln for ln in lines if ln.startswith("fire hydrant "))
    assert hydrant.split()[2:9] == ["-"] * 7  # no ground truth: dashes, as COCO's -1


# Ctrl-C while the command's modules load (issue 21): the console script imports only
# ioukit.cli, whose main() imports the rest inside its interrupt handler. The interrupt
# is raised deterministically by an import hook when numpy (the slow import) loads.
_INTERRUPT_AT_IMPORT = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {name!r}:
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupt())
from ioukit.cli import main
sys.exit(main(["eval", "-q"]))
"""


@pytest.mark.parametrize("module", ["numpy", "ioukit.coco", "argparse"])
def test_interrupt_during_imports_is_one_line(module):
    code = _INTERRUPT_AT_IMPORT.format(name=module)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 130, p.stderr
    assert p.stderr == "ioukit: interrupted\n"
