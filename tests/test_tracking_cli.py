"""``ioukit track-eval GT_DIR TRACKER_DIR`` (values from ioukit.tracking.evaluate, whose
oracle is TrackEval in test_tracking_metrics.py)."""

from __future__ import annotations

import json
import os

import pytest

from ioukit.cli import main


def test_shared_layout_json(shared_data, capsys):
    root = str(shared_data / "mot-tud")
    rc = main(["track-eval", root, root, "--tracker-file", "test.txt", "--benchmark", "MOT15",
               "--json", "-"])  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["command"] == "track-eval"
    campus = out["sequences"]["TUD-Campus"]
    assert campus["MOTA"] == pytest.approx(0.526462, abs=1e-6)
    assert campus["IDF1"] == pytest.approx(0.557659, abs=1e-6)
    assert campus["HOTA"] == pytest.approx(0.391397, abs=1e-6)
    assert out["combined"]["HOTA"] == pytest.approx(0.399957, abs=1e-6)
    assert len(out["curves"]["COMBINED"]["HOTA"]) == 19


def test_motchallenge_layout_table(tmp_path, capsys):
    gt_dir, tr_dir = tmp_path / "gt", tmp_path / "trackers"
    (gt_dir / "MOT17-02" / "gt").mkdir(parents=True)
    tr_dir.mkdir()
    (gt_dir / "MOT17-02" / "gt" / "gt.txt").write_text(
        "1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n1,2,50,0,10,10,1,7,1\n"
    )
    (gt_dir / "MOT17-02" / "seqinfo.ini").write_text("[Sequence]\nseqLength=4\n")
    # id 5 follows GT 1; id 9 sits on the static person (class 7): removed, not an FP
    (tr_dir / "MOT17-02.txt").write_text("1,5,0,0,10,10,1\n2,5,0,0,10,10,1\n1,9,50,0,10,10,1\n")
    rc = main(["track-eval", str(gt_dir), str(tr_dir), "--metrics", "CLEAR,Count"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "MOT17-02" in text and "COMBINED" in text
    main(["track-eval", str(gt_dir), str(tr_dir), "--metrics", "CLEAR", "--json", "-"])
    out = json.loads(capsys.readouterr().out)["sequences"]["MOT17-02"]
    assert (out["MOTA"], out["CLR_FP"], out["CLR_Frames"]) == (1.0, 0, 4)


def test_usage_and_input_errors(tmp_path, capsys, shared_data):
    root = str(shared_data / "mot-tud")
    assert main(["track-eval", root, root, "--tracker-file", "test.txt"]) == 2
    assert "benchmark='MOT15'" in capsys.readouterr().err
    assert main(["track-eval", root, root, "--metrics", "MOTA"]) == 2
    assert "--metrics" in capsys.readouterr().err
    assert main(["track-eval", root, str(tmp_path)]) == 2  # no TRACKER_DIR/<seq>.txt
    assert "tracker file" in capsys.readouterr().err
    assert main(["track-eval", os.fspath(tmp_path / "nope"), root]) == 2
