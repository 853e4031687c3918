"""``ioukit check`` and ``ioukit eval`` agree on every file of a malformed-input corpus.

Issue 21: one set of rules for ``check`` and the loader. For each case of
``tests/_malformed_coco.py`` (about 75 files written in tmp_path: valid references and
one broken rule each, segmentations included), ``check`` exits 0 exactly when ``eval``
does (same ``--iou-type``), both agree with the judgement written in the corpus, and
``check``'s verdict comes from its rules, never from its last-resort run of the
evaluation (code ``"rejected"``). No command ends in a traceback.
"""

from __future__ import annotations

import contextlib
import copy
import io

import pytest

from _malformed_coco import cases, write
from ioukit.check import check
from ioukit.cli._main import run

CASES = cases()


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = run(argv)
    return rc, out.getvalue(), err.getvalue()


def test_corpus_is_large_and_mixed():
    assert len(CASES) >= 60
    assert sum(c.valid for c in CASES.values()) >= 10
    assert sum(not c.valid for c in CASES.values()) >= 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_and_eval_agree(name, tmp_path):
    case = CASES[name]
    gt, dt = write(case, tmp_path, name)
    iou = ["--iou-type", case.iou_type]
    rc_eval, _, err_eval = _run(["eval", gt, dt, "-q", *iou])
    rc_check, out_check, err_check = _run(["check", gt, dt, "-q", *iou])
    for err in (err_eval, err_check):
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    assert rc_eval in (0, 2) and rc_check in (0, 1, 2)
    # the hand-written judgement first, then the agreement
    assert (rc_eval == 0) == case.valid, err_eval
    assert (rc_check == 0) == (rc_eval == 0), (out_check, err_check, err_eval)
    if rc_eval:
        # a refused file is named in eval's one line
        assert err_eval.startswith("ioukit: error: ")
    if rc_check == 1:
        assert "rejected" not in out_check.split("by kind:")[-1], out_check


def test_check_lists_every_segmentation_problem():
    g = copy.deepcopy(CASES["clean-segm"].gt)
    g["annotations"][0]["segmentation"] = [[1, 2, 3, 4, 5, 6, 7]]
    g["annotations"][1]["segmentation"] = {"size": [32, 32], "counts": [5, 6]}
    report = check(g, iou_type="segm")
    msgs = [p.message for p in report.errors]
    assert msgs == [
        "annotation id 1 (entry 0): polygon 0 has an odd number of coordinates (7)",
        "annotation id 2 (entry 1): counts add up to 11, not h*w = 1024",
    ]
    # bbox evaluation does not read GT segmentations
    assert check(g).ok


def test_check_api_results_null_is_an_error_but_none_means_no_results(tmp_path):
    p = tmp_path / "dt.json"
    p.write_text("null")
    report = check(CASES["clean-bbox"].gt, p)
    assert [e.code for e in report.errors] == ["bad-schema"]
    assert "got null" in report.errors[0].message
    assert check(CASES["clean-bbox"].gt, None).ok
