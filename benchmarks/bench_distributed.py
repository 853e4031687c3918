"""Sharded COCO bbox evaluation on Dask against single-process evaluation, in one run.

    bash benchmarks/run.sh benchmarks/bench_distributed.py
    .bench-venv/bin/python benchmarks/bench_distributed.py --sizes 5000   # one size
    .bench-venv/bin/python benchmarks/bench_distributed.py --peer-max-images 50000

Data: ``ioukit.synthetic.make_coco_dataset`` at val2017 scale (5,000 images, ~36k
GT, ~135k detections) and 10x that (50,000 images), without polygons, cached under
benchmarks/.cache/ as COCO JSON and as the Parquet dataset of ``ioukit.io.parquet``.

Rows (each in a fresh subprocess, so peak memory is that run's own):

- ``ioukit`` single process: ``ioukit.coco.evaluate(gt.json, dt.json)``;
- ``faster-coco-eval`` single process (a peer; skipped with the reason if missing);
- ``dask json``: ``ioukit.distributed.evaluate`` on ``LocalCluster(2 workers x 1
  thread, processes)``, JSON read on the driver, shards scattered;
- ``dask parquet``: same cluster, each task reads its own image range.

Columns: wall time of the evaluation (cluster start-up excluded, shown apart), the
ratio to single-process ioukit, peak RSS of the driver and of the largest worker,
bytes scattered by the driver, bytes of EvalState returned, input file sizes; every
result is checked ``==`` against single-process ioukit. Prints; asserts nothing.
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

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
PARTITIONS = 16


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _files(n_images: int) -> tuple[Path, Path, Path]:
    from ioukit.io.parquet import to_parquet
    from ioukit.synthetic import write_coco_dataset

    name = f"dist_{n_images}"
    gt, dt = CACHE / f"{name}_gt.json", CACHE / f"{name}_dt.json"
    pq = CACHE / f"{name}_parquet"
    if not (gt.exists() and dt.exists()):
        print(f"generating {name} (make_coco_dataset(n_images={n_images}, polygons=False))")
        write_coco_dataset(CACHE, name, n_images=n_images, polygons=False, seed=0)
    if not (pq / "_ioukit.json").exists():
        to_parquet(gt, pq, dt=dt)
    return gt, dt, pq


def _size(p: Path) -> int:
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size


# ------------------------------------------------------------------ one measurement
def _save(tag: str, stats: np.ndarray, precision: np.ndarray) -> None:
    np.savez(CACHE / f"dist_out_{tag}.npz", stats=stats, precision=precision)


def worker(mode: str, n_images: int) -> dict:
    gt, dt, pq = _files(n_images)
    out: dict = {"mode": mode}
    if mode == "ioukit":
        from ioukit import coco

        coco.evaluate(str(gt), str(dt))  # kernels loaded / compiled; the file cache warm
        _reset_peak()
        t0 = time.perf_counter()
        r = coco.evaluate(str(gt), str(dt))
        out["seconds"] = time.perf_counter() - t0
        _save(f"{n_images}_{mode}", r.stats, r.precision)
    elif mode == "faster-coco-eval":
        import contextlib
        import io

        from faster_coco_eval import COCO, COCOeval_faster

        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            g = COCO(str(gt))
            d = g.loadRes(str(dt))
            e = COCOeval_faster(g, d, "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
        out["seconds"] = time.perf_counter() - t0
        _save(f"{n_images}_{mode}", np.asarray(e.stats), np.asarray(e.eval["precision"]))
    else:
        from distributed import Client, LocalCluster

        from ioukit.distributed import ShardedRun, evaluate

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
        out["startup"] = time.perf_counter() - t0
        inputs = (str(gt), str(dt)) if mode == "dask json" else (str(pq),)
        # first run loads the Numba kernels in the workers (as the warm single-process row)
        evaluate(*inputs, client=client, partitions=PARTITIONS)
        client.run(_reset_peak)
        _reset_peak()
        run = ShardedRun()
        t0 = time.perf_counter()
        r = evaluate(*inputs, client=client, partitions=PARTITIONS, run=run)
        out["seconds"] = time.perf_counter() - t0
        out["worker_mb"] = max(client.run(_peak_mb).values())
        out["input_bytes"] = run.input_bytes
        out["state_bytes"] = run.state_bytes
        out["phases"] = {k: round(v, 2) for k, v in run.seconds.items()}
        _save(f"{n_images}_{mode}", r.stats, r.precision)
        client.close()
        cluster.close()
    out["driver_mb"] = _peak_mb()
    return out


def _reset_peak() -> None:
    # writing 5 to clear_refs resets VmHWM (Linux >= 4.0): peaks of the timed run only
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


# ------------------------------------------------------------------ driver
def _spawn(mode: str, n_images: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, "--sizes", str(n_images)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    for line in p.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    return {"mode": mode, "error": (p.stderr.strip().splitlines() or ["no output"])[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="5000,50000")
    ap.add_argument("--worker")
    ap.add_argument(
        "--peer-max-images",
        type=int,
        default=5000,
        help="run faster-coco-eval only up to this size (at 50k it took 167 s and 6.8 GB)",
    )
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    CACHE.mkdir(exist_ok=True)
    if a.worker:
        print(json.dumps(worker(a.worker, sizes[0])))
        return
    print(
        f"machine: {os.cpu_count()} CPU cores; Dask LocalCluster: 2 workers x 1 thread; "
        f"{PARTITIONS} partitions"
    )
    for n in sizes:
        gt, dt, pq = _files(n)
        n_gt = len(json.loads(gt.read_text())["annotations"])
        n_dt = len(json.loads(dt.read_text()))
        print(
            f"\n### {n:,} images, {n_gt:,} GT, {n_dt:,} detections; "
            f"JSON {(_size(gt) + _size(dt)) / 1e6:.1f} MB, Parquet {_size(pq) / 1e6:.1f} MB\n"
        )
        rows = []
        for mode in ("ioukit", "faster-coco-eval", "dask json", "dask parquet"):
            if mode == "faster-coco-eval":
                if n > a.peer_max_images:
                    print(f"faster-coco-eval skipped: {n:,} images > --peer-max-images")
                    continue
                try:
                    import faster_coco_eval  # noqa: F401
                except ImportError as e:
                    print(f"faster-coco-eval skipped: {e}")
                    continue
            rows.append(_spawn(mode, n))
        base = next((r["seconds"] for r in rows if r["mode"] == "ioukit" and "seconds" in r), None)
        ref = CACHE / f"dist_out_{n}_ioukit.npz"
        want = np.load(ref) if ref.exists() else None
        print(
            "| run | eval s | vs ioukit | start-up s | driver peak MB | worker peak MB "
            "| scattered MB | states MB | bit-identical |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                print(f"| {r['mode']} | failed: {r['error']} |||||||")
                continue
            got = CACHE / f"dist_out_{n}_{r['mode']}.npz"
            same = "?"
            if want is not None and got.exists():
                o = np.load(got)
                same = (
                    "yes"
                    if np.array_equal(o["stats"], want["stats"])
                    and np.array_equal(o["precision"], want["precision"])
                    else "NO"
                )
            ratio = f"{r['seconds'] / base:.2f}x" if base else "-"

            def mb(key: str, r: dict = r) -> str:
                return f"{r[key] / 1e6:.1f}" if key in r else "-"

            print(
                f"| {r['mode']} | {r['seconds']:.2f} | {ratio} | "
                f"{r.get('startup', 0):.1f} | {r['driver_mb']:.0f} | "
                f"{r.get('worker_mb', float('nan')):.0f} | {mb('input_bytes')} | "
                f"{mb('state_bytes')} | {same} |"
            )
        for r in rows:
            if "phases" in r:
                print(f"{r['mode']} phases (s): {r['phases']}")


if __name__ == "__main__":
    main()
