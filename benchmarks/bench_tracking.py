"""Benchmark ioukit.tracking.evaluate against TrackEval and py-motmetrics, in one run.

    .venv/bin/python benchmarks/bench_tracking.py            # MOT17-scale (~100k boxes)
    .venv/bin/python benchmarks/bench_tracking.py --small    # quick look

HOTA + CLEAR + Identity, end to end from MOTChallenge files, on a generated MOT17-scale
set: 7 sequences with MOT17-train's lengths (5,610 frames), ~10 pedestrians per frame
plus distractor classes and zero-flagged rows, a tracker with jitter, misses, false
positives and id switches (~100k GT + tracker boxes in all). Every library runs in its
own fresh subprocess, single-threaded (TrackEval ``USE_PARALLEL=False``; ioukit has no
threads here): "first" is the first call in that process (imports already done), "warm"
the best of the following calls, "peak" the growth of the resident high-water mark
(ru_maxrss) over the process's state after the imports. py-motmetrics evaluates the
whole set by default (``--mm-sequences N`` limits it to N sequences, then ioukit is also
timed on that subset); it has no MOTChallenge distractor preprocessing, so its MOTA /
IDF1 differ from TrackEval's on this set by design (they agree on the TUD tests).

Prints, never asserts. The values of the three libraries are printed side by side
(HOTA, MOTA, IDF1 combined) so a wrong run is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LENGTHS = {  # MOT17 train sequence lengths
    "MOT17-02": 600,
    "MOT17-04": 1050,
    "MOT17-05": 837,
    "MOT17-09": 525,
    "MOT17-10": 654,
    "MOT17-11": 900,
    "MOT17-13": 750,
}  # fmt: skip
ROOT = Path(__file__).resolve().parent / ".cache" / "tracking"


def generate(root: Path, scale: float, seed: int = 0) -> tuple[int, int]:
    """Write GT (root/gt/<seq>/gt/gt.txt, seqinfo.ini) and a tracker (root/trk/trk/<seq>.txt)."""
    rng = np.random.default_rng(seed)
    n_gt = n_tr = 0
    for name, length in LENGTHS.items():
        n_frames = max(5, int(length * scale))
        n_obj = 30 if scale >= 1 else 9
        start = rng.integers(1, n_frames, n_obj)
        dur = rng.integers(n_frames // 10 + 1, n_frames // 1.2 + 2, n_obj)
        pos = rng.uniform(0, 1800, (n_obj, 2))
        vel = rng.normal(0, 2, (n_obj, 2))
        size = np.stack([rng.uniform(20, 120, n_obj), rng.uniform(50, 300, n_obj)], 1)
        cls = rng.choice([1] * 12 + [2, 7, 8, 12], n_obj)
        tid = np.arange(n_obj) + 1000
        gt_lines, tr_lines = [], []
        for t in range(1, n_frames + 1):
            live = np.nonzero((start <= t) & (t < start + dur))[0]
            for o in live:
                x, y = pos[o] + vel[o] * (t - start[o])
                w, h = size[o]
                flag = 0 if rng.random() < 0.03 else 1
                gt_lines.append(f"{t},{o + 1},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{flag},{cls[o]},1\n")
                if rng.random() < 0.2:
                    continue
                if rng.random() < 0.004:
                    tid[o] = rng.integers(1000, 1000 + 4 * n_obj)
                j = rng.normal(0, 0.05, 4) * [w, h, w, h]
                tr_lines.append(
                    f"{t},{tid[o]},{x + j[0]:.2f},{y + j[1]:.2f},{w + j[2]:.2f},{h + j[3]:.2f},"
                    f"{rng.random():.3f},-1,-1,-1\n"
                )
            for _ in range(rng.poisson(1.0)):
                x, y = rng.uniform(0, 1800, 2)
                tr_lines.append(
                    f"{t},{rng.integers(9000, 9200)},{x:.2f},{y:.2f},60,150,0.3,-1,-1,-1\n"
                )
        # a tracker reports each id once per frame
        seen, rows = set(), []
        for ln in tr_lines:
            key = tuple(ln.split(",", 2)[:2])
            if key not in seen:
                seen.add(key)
                rows.append(ln)
        gdir = root / "gt" / name
        (gdir / "gt").mkdir(parents=True, exist_ok=True)
        (gdir / "gt" / "gt.txt").write_text("".join(gt_lines))
        (gdir / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nseqLength={n_frames}\n")
        (root / "trk" / "trk").mkdir(parents=True, exist_ok=True)
        (root / "trk" / "trk" / f"{name}.txt").write_text("".join(rows))
        n_gt += len(gt_lines)
        n_tr += len(rows)
    return n_gt, n_tr


# ------------------------------------------------------------------ workers (subprocess)
def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ioukit(root: Path, repeat: int, seqs: list[str]):
    from ioukit.tracking import evaluate, find_sequences

    def run():
        gts, trs, lengths = find_sequences(root / "gt", root / "trk" / "trk")
        gts = {s: gts[s] for s in seqs}
        return evaluate(gts, {s: trs[s] for s in seqs}, num_frames=lengths)

    return run, lambda r: (r.combined["HOTA"], r.combined["MOTA"], r.combined["IDF1"])


def worker_trackeval(root: Path, repeat: int, seqs: list[str]):
    import contextlib
    import io

    import trackeval

    lengths = {}
    for s in seqs:
        ini = (root / "gt" / s / "seqinfo.ini").read_text()
        lengths[s] = int(ini.split("seqLength=")[1].split()[0])
    eval_cfg = {
        "USE_PARALLEL": False,
        "PRINT_RESULTS": False,
        "PRINT_CONFIG": False,
        "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False,
        "OUTPUT_DETAILED": False,
        "PLOT_CURVES": False,
        "OUTPUT_EMPTY_CLASSES": False,
        "DISPLAY_LESS_PROGRESS": True,
    }
    ds_cfg = {
        "GT_FOLDER": str(root / "gt"),
        "TRACKERS_FOLDER": str(root / "trk"),
        "TRACKERS_TO_EVAL": ["trk"],
        "TRACKER_SUB_FOLDER": "",
        "BENCHMARK": "MOT17",
        "SEQ_INFO": lengths,
        "SKIP_SPLIT_FOL": True,
        "PRINT_CONFIG": False,
    }

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            ev = trackeval.Evaluator(eval_cfg)
            ds = [trackeval.datasets.MotChallenge2DBox(ds_cfg)]
            ms = [
                trackeval.metrics.HOTA(),
                trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
                trackeval.metrics.Identity({"PRINT_CONFIG": False}),
            ]
            res, _ = ev.evaluate(ds, ms)
        return res["MotChallenge2DBox"]["trk"]["COMBINED_SEQ"]["pedestrian"]

    def values(r):
        return (
            float(np.mean(r["HOTA"]["HOTA"])),
            float(r["CLEAR"]["MOTA"]),
            float(r["Identity"]["IDF1"]),
        )

    return run, values


def worker_motmetrics(root: Path, repeat: int, seqs: list[str]):
    import warnings

    warnings.filterwarnings("ignore")
    if not hasattr(np, "asfarray"):  # py-motmetrics 1.4.0 on NumPy 2
        setattr(np, "asfarray", lambda a, dtype=float: np.asarray(a, dtype))  # noqa: B010
    import motmetrics as mm

    def run():
        accs = []
        for s in seqs:
            gt = mm.io.loadtxt(str(root / "gt" / s / "gt" / "gt.txt"), fmt="mot15-2D")
            # MOTChallenge GT: pedestrians (class 1) with a non-zero flag, as TrackEval keeps
            gt = gt[(gt["ClassId"] == 1) & (gt["Confidence"] != 0)]
            ts = mm.io.loadtxt(str(root / "trk" / "trk" / f"{s}.txt"), fmt="mot15-2D")
            accs.append(mm.utils.compare_to_groundtruth(gt, ts, "iou", distth=0.5))
        mh = mm.metrics.create()
        return mh.compute_many(
            accs, metrics=["mota", "idf1", "motp", "num_switches"], names=seqs,
            generate_overall=True,
        )  # fmt: skip

    return run, lambda t: (float("nan"), float(t.loc["OVERALL", "mota"]),
                           float(t.loc["OVERALL", "idf1"]))  # fmt: skip


WORKERS = {"ioukit": worker_ioukit, "trackeval": worker_trackeval, "motmetrics": worker_motmetrics}


def child(lib: str, root: Path, repeat: int, seqs: list[str]) -> None:
    run, values = WORKERS[lib](root, repeat, seqs)
    base = _rss_mb()
    t0 = time.perf_counter()
    r = run()
    first = time.perf_counter() - t0
    warm = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        warm = min(warm, time.perf_counter() - t0)
    print(json.dumps({"first": first, "warm": warm, "peak_mb": _rss_mb() - base,
                      "rss_mb": _rss_mb(), "values": values(r)}))  # fmt: skip


def spawn(lib: str, root: Path, repeat: int, seqs: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", lib, "--root", str(root), "--repeat",
           str(repeat), "--seqs", ",".join(seqs)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_boxes(root: Path, seqs: list[str]) -> int:
    n = 0
    for s in seqs:
        n += sum(1 for _ in open(root / "gt" / s / "gt" / "gt.txt"))
        n += sum(1 for _ in open(root / "trk" / "trk" / f"{s}.txt"))
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="1/10 of the frames")
    ap.add_argument("--repeat", type=int, default=3, help="warm calls of ioukit (best of)")
    ap.add_argument("--mm-sequences", type=int, default=len(LENGTHS), help="py-motmetrics set")
    ap.add_argument("--skip", default="", help="comma list of libraries to skip")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--seqs", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, Path(a.root), a.repeat, a.seqs.split(","))
        return
    scale = 0.1 if a.small else 1.0
    root = ROOT / ("small" if a.small else "full")
    n_gt, n_tr = generate(root, scale)
    seqs = list(LENGTHS)
    print(f"generated {len(seqs)} sequences: {n_gt:,} GT rows + {n_tr:,} tracker rows "
          f"= {n_gt + n_tr:,} boxes ({root})")  # fmt: skip
    skip = set(a.skip.split(","))
    rows = {}
    if "ioukit" not in skip:
        rows["ioukit"] = (spawn("ioukit", root, a.repeat, seqs), n_gt + n_tr)
    if "trackeval" not in skip:
        rows["trackeval"] = (spawn("trackeval", root, 1, seqs), n_gt + n_tr)
    mm_seqs = seqs[: a.mm_sequences]
    if "motmetrics" not in skip:
        rows["py-motmetrics"] = (spawn("motmetrics", root, 1, mm_seqs), count_boxes(root, mm_seqs))
        if "ioukit" not in skip and len(mm_seqs) < len(seqs):
            rows["ioukit (same subset)"] = (
                spawn("ioukit", root, a.repeat, mm_seqs),
                count_boxes(root, mm_seqs),
            )
    print(f"{'library':<22}{'boxes':>9}{'first s':>10}{'warm s':>10}{'peak MB':>10}"
          f"   HOTA / MOTA / IDF1 (combined)")  # fmt: skip
    for name, (r, boxes) in rows.items():
        if "error" in r:
            print(f"{name:<22}{boxes:>9,}  error: {r['error']}")
            continue
        v = " / ".join(f"{x:.6f}" for x in r["values"])
        print(f"{name:<22}{boxes:>9,}{r['first']:>10.3f}{r['warm']:>10.3f}"
              f"{r['peak_mb']:>10.1f}   {v}")  # fmt: skip
    base = rows.get("ioukit", (None,))[0]
    te = rows.get("trackeval", (None,))[0]
    if base and te and "error" not in base and "error" not in te:
        print(f"speed-up vs TrackEval (single core): first {te['first'] / base['first']:.1f}x, "
              f"warm {te['warm'] / base['warm']:.1f}x; peak memory "
              f"{te['peak_mb']:.0f} MB vs {base['peak_mb']:.0f} MB")  # fmt: skip
    sub = rows.get("ioukit (same subset)", rows.get("ioukit", (None,)))[0]
    mmr = rows.get("py-motmetrics", (None,))[0]
    if sub and mmr and "error" not in sub and "error" not in mmr:
        print(f"speed-up vs py-motmetrics ({len(mm_seqs)} sequence(s)): first "
              f"{mmr['first'] / sub['first']:.1f}x, warm {mmr['warm'] / sub['warm']:.1f}x; "
              f"peak memory {mmr['peak_mb']:.0f} MB vs {sub['peak_mb']:.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
