"""COCO bbox evaluation: ioukit against pycocotools, faster-coco-eval, hotcoco and
ultrafast-pycocotools on a val2017-scale synthetic set, in one run.

    bash benchmarks/run.sh benchmarks/bench_coco.py            # sparse + dense sets
    .bench-venv/bin/python benchmarks/bench_coco.py --full     # pycocotools on dense too

Each tool runs in a fresh subprocess (honest peak RSS, no shared caches): imports
first (timed separately), then JSON loading + ``evaluate`` + ``accumulate`` (+ the
summary) twice in the same process. "first" is the first pass (lazy initialisation
included), "repeat" the second. ioukit's kernels are compiled at install, so its
first pass in a fresh process is the first pass a user sees. Every tool's
precision / recall / scores / stats are compared with pycocotools' bit for bit.
Prints a markdown table; asserts nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
TOOLS = ["pycocotools", "faster-coco-eval", "hotcoco", "ultrafast-pycocotools", "ioukit"]
DATASETS = {"sparse": 27.0, "dense": 100.0}


def _peak_mb() -> float:
    # VmHWM belongs to this process image (ru_maxrss would carry the parent's peak
    # across fork + exec)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------- workers
def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _run_pycocotools_like(mod_coco, mod_eval, gt, dt, load_res="loadRes"):
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = _clock()
        g = mod_coco(gt)
        d = getattr(g, load_res)(dt)
        t1 = _clock()
        E = mod_eval(g, d, "bbox")
        E.evaluate()
        E.accumulate()
        E.summarize()
        t2 = _clock()
    ev = E.eval
    arrays = {k: np.asarray(ev[k]) for k in ("precision", "recall", "scores")}
    arrays["stats"] = np.asarray(E.stats)
    return t0, t1, t2, arrays


def worker(tool: str, gt: str, dt: str, out: str, repeat: bool) -> None:
    t0 = time.perf_counter()
    if tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        def run():
            return _run_pycocotools_like(COCO, COCOeval, gt, dt)
    elif tool == "faster-coco-eval":
        from faster_coco_eval import COCO, COCOeval_faster

        def run():
            return _run_pycocotools_like(COCO, COCOeval_faster, gt, dt)
    elif tool == "hotcoco":
        from hotcoco import COCO, COCOeval

        def run():
            return _run_pycocotools_like(COCO, COCOeval, gt, dt, "load_res")
    elif tool == "ultrafast-pycocotools":
        from ultrafast_pycocotools import COCO, COCOeval

        def run():
            return _run_pycocotools_like(COCO, COCOeval, gt, dt)
    elif tool == "ioukit":
        import ioukit.coco as C

        def run():
            a = _clock()
            g, d, p = C.prepare(gt, dt)
            b = _clock()
            res = C.accumulate(C.evaluate_images(g, d, p))
            # the full precision / scores arrays (computed on first access) are timed:
            # the peers' accumulate builds them too
            arrays = {k: getattr(res, k) for k in ("precision", "recall", "scores", "stats")}
            c = _clock()
            return a, b, c, arrays
    else:
        raise SystemExit(f"unknown tool {tool}")
    t_import = time.perf_counter() - t0
    a, b, c, arrays = run()
    peak1 = _peak_mb()
    np.savez(out, **arrays)
    del arrays
    rec = {"import": t_import, "load1": b[0] - a[0], "eval1": c[0] - b[0], "peak1_mb": peak1}
    rec.update(cpu_load1=b[1] - a[1], cpu_eval1=c[1] - b[1])
    if repeat:
        a, b, c, _ = run()
        rec.update(
            load2=b[0] - a[0], eval2=c[0] - b[0], cpu_load2=b[1] - a[1], cpu_eval2=c[1] - b[1]
        )
    print("RESULT " + json.dumps(rec))


# ---------------------------------------------------------------- driver
def ensure_data() -> dict[str, tuple[str, str]]:
    sys.path.insert(0, str(ROOT.parent / "src"))
    from ioukit.synthetic import make_coco_dataset

    CACHE.mkdir(exist_ok=True)
    paths = {}
    gt_path = CACHE / "val2017like_gt.json"
    for name, dens in DATASETS.items():
        dt_path = CACHE / f"val2017like_dt_{name}.json"
        if not (gt_path.exists() and dt_path.exists()):
            t = time.perf_counter()
            gt, dt = make_coco_dataset(n_images=5000, n_categories=80, dets_per_image=dens, seed=0)
            if not gt_path.exists():
                gt_path.write_text(json.dumps(gt, separators=(",", ":")))
            dt_path.write_text(json.dumps(dt, separators=(",", ":")))
            print(f"generated {dt_path.name} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        paths[name] = (str(gt_path), str(dt_path))
    return paths


def spawn(tool, gt, dt, out, repeat, env=None):
    cmd = [sys.executable, __file__, "--worker", tool, gt, dt, out] + (
        ["--repeat"] if repeat else []
    )
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), None
    err = (p.stderr.strip().splitlines() or ["no output"])[-1]
    return None, err


def available(tool: str) -> str | None:
    mod = {
        "pycocotools": "pycocotools",
        "faster-coco-eval": "faster_coco_eval",
        "hotcoco": "hotcoco",
        "ultrafast-pycocotools": "ultrafast_pycocotools",
        "ioukit": "ioukit.coco",
    }[tool]
    r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["?"])[-1]


def identical(a_path: str, b_path: str) -> str:
    a, b = np.load(a_path), np.load(b_path)
    bad = [k for k in ("precision", "recall", "scores", "stats") if not np.array_equal(a[k], b[k])]
    return "yes" if not bad else "NO (" + ", ".join(bad) + ")"


def main() -> None:
    full = "--full" in sys.argv
    paths = ensure_data()
    missing = {t: available(t) for t in TOOLS}
    for t, why in missing.items():
        if why:
            print(f"skipping {t}: {why}")
    ncpu = os.cpu_count()
    print(f"\nmachine: {ncpu} CPUs; Python {sys.version.split()[0]}; numpy {np.__version__}")
    for name, (gt, dt) in paths.items():
        n_dt = Path(dt).read_bytes().count(b'"score"')
        print(
            f"\n### {name}: 5000 images, {n_dt} detections "
            f"({Path(gt).stat().st_size / 1e6:.0f} MB GT,"
            f" {Path(dt).stat().st_size / 1e6:.0f} MB results)\n"
        )
        rows = {}
        outs = {}
        for tool in TOOLS:
            if missing[tool]:
                continue
            if tool == "pycocotools" and name == "dense" and not full:
                print("pycocotools on the dense set skipped (minutes); --full runs it")
                continue
            for suffix, env in [("", None)]:
                out = str(CACHE / f"out_{tool}{suffix.strip(' ()').replace(' ', '_')}_{name}.npz")
                repeat = tool not in ("pycocotools", "faster-coco-eval")
                rec, err = spawn(tool, gt, dt, out, repeat, env)
                if rec is None:
                    print(f"{tool}{suffix}: failed: {err}")
                    continue
                rows[tool + suffix] = rec
                outs[tool + suffix] = out
        ref = outs.get("pycocotools")
        ref_name = "pycocotools"
        if ref is None and "ultrafast-pycocotools" in outs:
            ref, ref_name = outs["ultrafast-pycocotools"], "ultrafast-pycocotools"
        base = rows.get("ioukit")
        print(
            "| tool | import s | first: load+eval s | first: eval+acc s | repeat: load+eval s "
            "| repeat: eval+acc s | repeat CPU: load+eval s | repeat CPU: eval+acc s "
            f"| peak RSS MB | same as {ref_name} | first / ioukit first "
            "| repeat CPU / ioukit |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for tool, r in rows.items():
            tot = r["load1"] + r["eval1"]
            rep = "load2" in r
            last = (
                (r["load2"], r["eval2"], r["cpu_load2"], r["cpu_eval2"])
                if rep
                else (r["load1"], r["eval1"], r["cpu_load1"], r["cpu_eval1"])
            )
            star = "" if rep else "*"
            same = identical(outs[tool], ref) if ref and outs[tool] != ref else "(reference)"
            ratio = f"{tot / (base['load1'] + base['eval1']):.2f}x" if base else "-"
            cpu_ratio = (
                f"{(last[2] + last[3]) / (base['cpu_load2'] + base['cpu_eval2']):.2f}x"
                if base
                else "-"
            )
            print(
                f"| {tool} | {r['import']:.2f} | {tot:.3f} | {r['eval1']:.3f} "
                f"| {last[0] + last[1]:.3f}{star} | {last[1]:.3f}{star} "
                f"| {last[2] + last[3]:.3f}{star} | {last[3]:.3f}{star} "
                f"| {r['peak1_mb']:.0f} | {same} | {ratio} | {cpu_ratio} |"
            )
        print("\n(* slow tools run once: their 'repeat' columns show the first run)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], "--repeat" in sys.argv)
    else:
        main()
