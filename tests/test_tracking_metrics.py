"""ioukit.tracking metrics against TrackEval and py-motmetrics (oracles), the recorded
values of ../shared/data/README.md, and hand-worked cases."""

from __future__ import annotations

import contextlib
import io
import math
import os
from pathlib import Path

import numpy as np
import pytest

from ioukit.errors import DatasetError, InvalidParameterError
from ioukit.tracking import evaluate
from ioukit.tracking.metrics import ALPHAS

TUD = ("TUD-Campus", "TUD-Stadtmitte")


# ------------------------------------------------------------------ TrackEval oracle
def trackeval_results(gt_folder, tracker_folder, seqs, benchmark, loc_format, preproc=True):
    """TrackEval's per-sequence and combined fields, run through its own dataset class."""
    with contextlib.redirect_stdout(io.StringIO()):
        import trackeval

        ds = trackeval.datasets.MotChallenge2DBox(
            {
                "GT_FOLDER": str(gt_folder),
                "TRACKERS_FOLDER": str(tracker_folder),
                "TRACKERS_TO_EVAL": ["trk"],
                "TRACKER_SUB_FOLDER": "",
                "BENCHMARK": benchmark,
                "SEQ_INFO": dict(seqs),
                "SKIP_SPLIT_FOL": True,
                "GT_LOC_FORMAT": loc_format,
                "DO_PREPROC": preproc,
                "PRINT_CONFIG": False,
            }
        )
        metrics = [
            trackeval.metrics.HOTA(),
            trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
            trackeval.metrics.Identity({"PRINT_CONFIG": False}),
        ]
        per = {}
        for seq in seqs:
            raw = ds.get_raw_seq_data("trk", seq)
            data = ds.get_preprocessed_seq_data(raw, "pedestrian")
            per[seq] = {}
            for m in metrics:
                per[seq].update(m.eval_sequence(data))
        combined = {}
        for m in metrics:
            combined.update(m.combine_sequences({s: per[s] for s in seqs}))
    return per, combined


def assert_matches_trackeval(ours, theirs, curves=None, where=""):
    for k, v in theirs.items():
        if k in ("HOTA_TP", "HOTA_FN", "HOTA_FP") or isinstance(v, np.ndarray):
            mine = curves[k] if curves is not None and k in curves else ours[k]
            np.testing.assert_allclose(mine, v, rtol=0, atol=1e-9, err_msg=f"{where} {k}")
            assert ours[k] == pytest.approx(float(np.mean(v)), abs=1e-9), f"{where} {k}"
        elif k in ("MOTP_sum",):
            assert ours[k] == pytest.approx(float(v), abs=1e-9), f"{where} {k}"
        elif isinstance(v, (int, np.integer)):
            assert ours[k] == int(v), f"{where} {k}: {ours[k]} != {v}"
        else:
            assert ours[k] == pytest.approx(float(v), abs=1e-9), f"{where} {k}"


@pytest.fixture(scope="module")
def tud(shared_data, tmp_path_factory):
    root = shared_data / "mot-tud"
    trk = tmp_path_factory.mktemp("tud_trk")
    (trk / "trk").mkdir()
    lengths = {}
    for s in TUD:
        os.symlink(root / s / "test.txt", trk / "trk" / f"{s}.txt")
        frames = [
            int(float(line.split(",")[0]))
            for f in ("gt.txt", "test.txt")
            for line in (root / s / f).read_text().splitlines()
            if line.strip()
        ]
        lengths[s] = max(frames)
    gts = {s: root / s / "gt.txt" for s in TUD}
    trs = {s: root / s / "test.txt" for s in TUD}
    ours = evaluate(gts, trs, benchmark="MOT15", num_frames=lengths)
    return root, trk, lengths, gts, trs, ours


def test_tud_against_trackeval(tud):
    root, trk, lengths, _, _, ours = tud
    per, combined = trackeval_results(root, trk, lengths, "MOT15", "{gt_folder}/{seq}/gt.txt")
    for s in TUD:
        assert_matches_trackeval(ours.sequences[s], per[s], ours.curves[s], s)
    assert_matches_trackeval(ours.combined, combined, ours.curves["COMBINED"], "combined")


# README.md of the shared data: py-motmetrics 1.4.0 / TrackEval values
RECORDED = {
    "TUD-Campus": dict(
        IDF1=0.557659, IDP=0.729730, IDR=0.451253, CLR_Re=0.582173, CLR_Pr=0.941441,
        GT_IDs=8, MT=1, PT=6, ML=1, CLR_FP=13, CLR_FN=150, IDSW=7, Frag=7, MOTA=0.526462,
        MOTP_distance=0.277201, HOTA=0.391397, DetA=0.418047, AssA=0.369121, LocA=0.770052,
    ),
    "TUD-Stadtmitte": dict(
        IDF1=0.644619, IDP=0.819760, IDR=0.531142, CLR_Re=0.608997, CLR_Pr=0.939920,
        GT_IDs=10, MT=5, PT=4, ML=1, CLR_FP=45, CLR_FN=452, IDSW=7, Frag=6, MOTA=0.564014,
        MOTP_distance=0.345904, HOTA=0.397849,
    ),
}  # fmt: skip


@pytest.mark.parametrize("seq", TUD)
def test_tud_recorded_values(tud, seq):
    root, _, lengths, gts, trs, _ = tud
    ours = evaluate(gts, trs, benchmark="MOT15", metrics=("HOTA", "CLEAR", "Identity", "Count"))
    for k, v in RECORDED[seq].items():
        assert ours.sequences[seq][k] == pytest.approx(v, abs=1e-6), k
    assert ours.combined["HOTA"] == pytest.approx(0.399957, abs=1e-6)


def test_tud_against_motmetrics(tud, monkeypatch):
    mm = pytest.importorskip("motmetrics")
    if not hasattr(np, "asfarray"):  # py-motmetrics 1.4.0 calls np.asfarray (NumPy < 2)
        asfarray = lambda a, dtype=float: np.asarray(a, dtype)  # noqa: E731
        monkeypatch.setattr(np, "asfarray", asfarray, raising=False)
    root, _, _, _, _, ours = tud
    names = [
        "idf1", "idp", "idr", "recall", "precision", "num_unique_objects", "mostly_tracked",
        "partially_tracked", "mostly_lost", "num_false_positives", "num_misses",
        "num_switches", "num_fragmentations", "mota", "motp",
    ]  # fmt: skip
    ours_name = dict(
        idf1="IDF1", idp="IDP", idr="IDR", recall="CLR_Re", precision="CLR_Pr",
        num_unique_objects="GT_IDs", mostly_tracked="MT", partially_tracked="PT",
        mostly_lost="ML", num_false_positives="CLR_FP", num_misses="CLR_FN",
        num_switches="IDSW", num_fragmentations="Frag", mota="MOTA", motp="MOTP_distance",
    )  # fmt: skip
    counted = evaluate(
        {s: root / s / "gt.txt" for s in TUD},
        {s: root / s / "test.txt" for s in TUD},
        benchmark="MOT15",
        metrics=("CLEAR", "Identity", "Count"),
    )
    accs = []
    for s in TUD:
        gt = mm.io.loadtxt(str(root / s / "gt.txt"), fmt="mot15-2D", min_confidence=1)
        ts = mm.io.loadtxt(str(root / s / "test.txt"), fmt="mot15-2D")
        accs.append(mm.utils.compare_to_groundtruth(gt, ts, "iou", distth=0.5))
    mh = mm.metrics.create()
    table = mh.compute_many(accs, metrics=names, names=list(TUD), generate_overall=True)
    for s in TUD:
        for n in names:
            assert counted.sequences[s][ours_name[n]] == pytest.approx(
                float(table.loc[s, n]), abs=1e-9
            ), (s, n)
    # py-motmetrics' OVERALL sums counts (IDF1 / MOTA / recall ...) like TrackEval's combine
    for n in ("idf1", "idp", "idr", "recall", "precision", "mota", "num_switches"):
        assert counted.combined[ours_name[n]] == pytest.approx(
            float(table.loc["OVERALL", n]), abs=1e-9
        ), n
    assert ours.sequences["TUD-Campus"]["MOTA"] == counted.sequences["TUD-Campus"]["MOTA"]


# ------------------------------------------------------------------ hand-worked cases
BOX = [0.0, 0.0, 10.0, 10.0]


def one_object(ids):
    """One GT object in len(ids) frames; the tracker reports it with ids[t] (None: missed)."""
    gt = [([1], [BOX])] * len(ids)
    tr = [([i], [BOX]) if i is not None else ([], []) for i in ids]
    return gt, tr


def test_identity_switch_worked():
    gt, tr = one_object([7, 7, 8, 8])
    r = evaluate(gt, tr).combined
    # CLEAR: 4 TP, one switch: MOTA = (4 - 0 - 1) / 4; tracked in every frame: no Frag
    assert (r["CLR_TP"], r["IDSW"], r["Frag"], r["MT"]) == (4, 1, 0, 1)
    assert r["MOTA"] == 0.75 and r["MOTP"] == 1.0
    # Identity: GT 1 <-> id 7 shares 2 frames: IDTP 2, IDFN 2, IDFP 2 -> IDF1 = 2 / 4
    assert (r["IDTP"], r["IDFN"], r["IDFP"], r["IDF1"]) == (2, 2, 2, 0.5)
    # HOTA: every alpha detects all (DetA 1); each pair: 2 / (4 + 2 - 2) = 0.5 -> AssA 0.5
    assert r["DetA"] == 1.0 and r["AssA"] == 0.5
    assert r["HOTA"] == pytest.approx(math.sqrt(0.5), abs=1e-15)


def test_fragmentation_worked():
    gt, tr = one_object([7, 7, None, 7, 7])
    tr[2] = ([99], [[200.0, 200.0, 10.0, 10.0]])  # the gap frame holds an unrelated FP
    r = evaluate(gt, tr).combined
    # one gap then the same id: 1 Frag, 0 IDSW; MOTA = (4 - 1) / 5; 4/5 is not > 80 %: PT
    assert (r["CLR_TP"], r["CLR_FN"], r["CLR_FP"], r["IDSW"], r["Frag"]) == (4, 1, 1, 0, 1)
    assert (r["MT"], r["PT"], r["ML"]) == (0, 1, 0)
    assert r["MOTA"] == pytest.approx(0.6, abs=1e-15)
    # IDTP 4, IDFN 1, IDFP 1 -> IDF1 = 4 / 5
    assert r["IDF1"] == pytest.approx(0.8, abs=1e-15)
    # HOTA: DetA = 4 / (4 + 1 + 1), AssA = 4 / (5 + 4 - 4)
    assert r["DetA"] == pytest.approx(2 / 3) and r["AssA"] == pytest.approx(0.8)
    assert r["HOTA"] == pytest.approx(math.sqrt(2 / 3 * 0.8), abs=1e-12)


def test_fragmentation_quirk_empty_tracker_frame():
    # TrackEval's clear.py skips a frame without tracker boxes before it forgets the
    # previous frame's matches: a gap made of empty frames is not a fragmentation
    gt, tr = one_object([7, 7, None, 7, 7])
    r = evaluate(gt, tr).combined
    assert (r["CLR_TP"], r["CLR_FN"], r["IDSW"], r["Frag"]) == (4, 1, 0, 0)
    assert r["MOTA"] == pytest.approx(0.8, abs=1e-15)


def test_split_track_worked():
    gt, tr = one_object([7, 7, 7, 8, 8, 8])
    r = evaluate(gt, tr).combined
    assert (r["IDSW"], r["Frag"], r["CLR_TP"]) == (1, 0, 6)
    assert r["MOTA"] == pytest.approx(5 / 6, abs=1e-15)
    assert (r["IDTP"], r["IDFN"], r["IDFP"]) == (3, 3, 3)
    assert r["AssA"] == pytest.approx(0.5) and r["HOTA"] == pytest.approx(math.sqrt(0.5))


def test_swap_between_two_objects_worked():
    a, b = [0.0, 0.0, 10.0, 10.0], [50.0, 0.0, 10.0, 10.0]
    gt = [([1, 2], [a, b])] * 4
    tr = [([5, 6], [a, b])] * 2 + [([6, 5], [a, b])] * 2
    r = evaluate(gt, tr).combined
    assert r["IDSW"] == 2 and r["MOTA"] == pytest.approx(6 / 8)
    # Identity: 5 <-> 1 shares 2 of 4 frames: IDF1 = 4 / 8; HOTA: each pair 2 / (4 + 4 - 2)
    assert r["IDF1"] == pytest.approx(0.5) and r["AssA"] == pytest.approx(1 / 3)


def test_localisation_and_loca_quirk_worked():
    # tracker box 10 x 6.2 inside the 10 x 10 GT: IoU 0.62 in every frame
    gt = [([1], [BOX])] * 3
    tr = [([4], [[0.0, 0.0, 10.0, 6.2]])] * 3
    r = evaluate(gt, tr)
    iou = 62.0 / 100.0
    passes = ALPHAS <= 0.62  # 12 of the 19 alphas
    assert passes.sum() == 12
    c = r.curves["COMBINED"]
    np.testing.assert_array_equal(c["DetA"], passes.astype(float))
    np.testing.assert_array_equal(c["AssA"], passes.astype(float))
    # LocA: the mean IoU where there are TPs, and 1 where there are none (TrackEval)
    np.testing.assert_allclose(c["LocA"], np.where(passes, iou, 1.0), rtol=1e-12)
    assert r.combined["HOTA"] == pytest.approx(12 / 19)
    assert r.combined["MOTP"] == pytest.approx(iou) and r.combined["MOTA"] == 1.0


def test_empty_tracker_and_empty_gt():
    gt = [([1], [BOX])] * 3
    r = evaluate({"a": gt, "b": [([], [])]}, {"a": [([], [])], "b": gt})
    a, b = r.sequences["a"], r.sequences["b"]
    assert (a["CLR_FN"], a["ML"], a["MLR"], a["MOTA"], a["LocA"]) == (3, 1, 1.0, 0.0, 1.0)
    assert (b["CLR_FP"], b["IDFP"], b["HOTA_FP"]) == (3, 3, 3.0)
    assert r.combined["MOTA"] == pytest.approx((0 - 3 - 0) / 3)


# ------------------------------------------------------------------ generated sequences
def _write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in r) + "\n" for r in rows))


def generate(rng, n_frames, n_objects, mot17: bool, grid: bool):
    """GT tracks moving linearly (classes, zero flags for MOT17-style files) and a tracker
    copying them with jitter, id switches, misses and false positives. ``grid``: integer
    coordinates on a small grid, so IoU ties and exact thresholds are frequent."""
    gt_rows, tr_rows = [], []
    starts = rng.integers(1, n_frames, n_objects)
    lengths = rng.integers(1, n_frames, n_objects)
    pos = rng.uniform(0, 60, (n_objects, 2))
    vel = rng.uniform(-2, 2, (n_objects, 2))
    size = rng.uniform(8, 20, (n_objects, 2))
    cls = rng.choice([1, 1, 1, 1, 2, 7, 8, 12, 3], n_objects) if mot17 else np.ones(n_objects)
    tr_id = np.arange(n_objects) + 100
    for t in range(1, n_frames + 1):
        for o in range(n_objects):
            if not starts[o] <= t < starts[o] + lengths[o]:
                continue
            xy = pos[o] + vel[o] * (t - starts[o])
            box = np.concatenate([xy, size[o]])
            if grid:
                box = np.round(box / 4) * 4 + np.array([0, 0, 4, 4])
            flag = 0 if (mot17 and rng.random() < 0.05) else 1
            gt_rows.append([t, o + 1, *box, flag, cls[o], 1.0])
            if rng.random() < 0.15:
                continue  # missed
            if rng.random() < 0.03:
                tr_id[o] = rng.integers(100, 100 + 3 * n_objects)  # switch / new id
            jit = rng.normal(0, 1.5, 4) if not grid else rng.integers(-1, 2, 4) * 4
            tr_rows.append([t, tr_id[o], *(box + jit), rng.random(), -1, -1])
        for _ in range(rng.poisson(0.7)):  # false positives
            b = rng.uniform(0, 60, 4) if not grid else rng.integers(0, 16, 4) * 4
            b[2:] = np.abs(b[2:]) + 4
            tr_rows.append([t, rng.integers(500, 520), *b, rng.random(), -1, -1])
    # one id per frame: drop later duplicates, as a tracker file must
    seen, rows = set(), []
    for r in tr_rows:
        if (r[0], r[1]) not in seen:
            seen.add((r[0], r[1]))
            rows.append(r)
    return gt_rows, rows


@pytest.mark.parametrize(
    "benchmark,grid,seed",
    [("MOT17", False, 0), ("MOT17", True, 1), ("MOT15", True, 2), ("MOT20", True, 3),
     ("MOT15", False, 4)],
)  # fmt: skip
def test_generated_against_trackeval(tmp_path, benchmark, grid, seed):
    rng = np.random.default_rng(seed)
    seqs, gts, trs = {}, {}, {}
    for k in range(3):
        name = f"S{k}"
        n_frames = int(rng.integers(5, 40))
        gt_rows, tr_rows = generate(rng, n_frames, int(rng.integers(1, 9)), benchmark != "MOT15",
                                    grid)  # fmt: skip
        if k == 2 and seed % 2:
            tr_rows = []  # an empty tracker file
        _write(tmp_path / "gt" / name / "gt" / "gt.txt", gt_rows)
        _write(tmp_path / "trk" / "trk" / f"{name}.txt", tr_rows)
        seqs[name] = n_frames
        gts[name] = tmp_path / "gt" / name / "gt" / "gt.txt"
        trs[name] = tmp_path / "trk" / "trk" / f"{name}.txt"
    per, combined = trackeval_results(
        tmp_path / "gt", tmp_path / "trk", seqs, benchmark, "{gt_folder}/{seq}/gt/gt.txt"
    )
    ours = evaluate(gts, trs, benchmark=benchmark, num_frames=seqs)
    for s in seqs:
        assert_matches_trackeval(ours.sequences[s], per[s], ours.curves[s], s)
    assert_matches_trackeval(ours.combined, combined, ours.curves["COMBINED"], "combined")


# ------------------------------------------------------------------ inputs and errors
def test_inputs_paths_arrays_frames_agree(tud):
    root, _, _, _, _, _ = tud
    g, t = root / "TUD-Campus" / "gt.txt", root / "TUD-Campus" / "test.txt"
    from_paths = evaluate(str(g), str(t), benchmark="MOT15")
    assert list(from_paths.sequences) == ["TUD-Campus"]
    arr_g = np.loadtxt(g, delimiter=",")
    arr_t = np.loadtxt(t, delimiter=",")
    from_arrays = evaluate({"c": arr_g}, {"c": arr_t}, benchmark="MOT15")
    frames = [(arr_t[arr_t[:, 0] == f, 1], arr_t[arr_t[:, 0] == f, 2:6]) for f in range(1, 72)]
    gframes = [(arr_g[arr_g[:, 0] == f, 1], arr_g[arr_g[:, 0] == f, 2:6]) for f in range(1, 72)]
    from_frames = evaluate({"c": gframes}, {"c": frames})
    for k in ("HOTA", "MOTA", "IDF1", "MOTP"):
        assert from_paths.combined[k] == from_arrays.combined[k] == from_frames.combined[k]


def test_errors_name_the_problem(tmp_path):
    gt = [([1], [BOX])]
    with pytest.raises(InvalidParameterError, match="metrics"):
        evaluate(gt, gt, metrics=("MOTA",))
    with pytest.raises(DatasetError, match="no output for sequence"):
        evaluate({"a": gt, "b": gt}, {"a": gt})
    with pytest.raises(DatasetError, match="appears more than once in frame 1"):
        evaluate(gt, [([3, 3], [BOX, BOX])])
    p = tmp_path / "bad.txt"
    p.write_text("1,1,0,0,10,10,1,-1,-1\n")
    with pytest.raises(DatasetError, match="benchmark='MOT15'"):
        evaluate(str(p), str(p))
    with pytest.raises(DatasetError, match="past the sequence length"):
        evaluate(gt, [([1], [BOX]), ([1], [BOX])], num_frames=1)


def test_text_parser_equals_python_float(tmp_path):
    # the compiled reader's fast decimal path must round exactly as float() / strtod
    rng = np.random.default_rng(0)
    vals = [round(float(x), int(k)) for x, k in zip(rng.uniform(-1e4, 1e4, 3000),
                                                    rng.integers(0, 8, 3000))]  # fmt: skip
    vals += list(rng.uniform(-1, 1, 300) * 10.0 ** rng.integers(-30, 30, 300))
    cells = [repr(float(v)) for v in vals]
    cells += ["0.1", "-0.0", ".5", "7.", "+3.25", "1e5", "1234567890123456", "1e-21"]
    cells += ["1"] * (-len(cells) % 4)
    rows = [["1", str(i + 1), *cells[4 * i : 4 * i + 4]] for i in range(len(cells) // 4)]
    p = tmp_path / "t.txt"
    p.write_text("".join(", ".join(r) + ",\n" for r in rows))  # blanks, trailing commas
    from ioukit.tracking import read_mot_txt

    t = read_mot_txt(p)
    expect = np.array([[float(x) for x in r] for r in rows])
    assert np.array_equal(t.boxes, expect[:, 2:6])
    assert np.array_equal(np.signbit(t.boxes), np.signbit(expect[:, 2:6]))
    bad = tmp_path / "bad.txt"
    bad.write_text("1,1,0,0,5,5\n1,2,0,x,5,5\n")
    with pytest.raises(DatasetError, match="line 2"):
        read_mot_txt(bad)
