"""Pairwise box IoU and sparse iou_pairs: ioukit against its peers, in one run.

    bash benchmarks/run.sh benchmarks/bench_boxes.py

1. Pairwise IoU, float32, 4000 x 4000 and 10000 x 10000 random boxes, on the
   CPU: ioukit.boxes.iou (NumPy -> compiled Cython kernel), torchvision.ops.box_iou,
   a plain NumPy broadcast implementation, and ioukit on torch tensors (the
   array-API path). Best of R runs after a warm-up (the first call's time is
   printed separately; R is large because fresh output memory is slow to fault in on a
   VM until the host has backed it). Ratios are peer time / ioukit time (> 1: ioukit faster).
2. ioukit.boxes.iou_pairs on 100k x 100k clustered boxes (iou_threshold 0.5), in a
   fresh child process: time and peak resident memory, against the 40 GB the
   dense float32 matrix would need.

Prints, never asserts. A missing peer is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 1000, (n, 2))
    wh = rng.uniform(1, 200, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


def clustered_boxes(rng: np.random.Generator, n: int, clusters: int) -> np.ndarray:
    """Detections-like boxes: jittered copies around `clusters` objects."""
    centres = rng.uniform(0, 4000, (clusters, 2))
    sizes = rng.uniform(20, 200, (clusters, 2))
    k = rng.integers(0, clusters, n)
    c = centres[k] + rng.normal(0, 0.15, (n, 2)) * sizes[k]
    wh = sizes[k] * rng.uniform(0.7, 1.3, (n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], 1).astype(np.float32)


def numpy_broadcast_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The textbook broadcast implementation (what torchvision does, in NumPy)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def pairwise_section() -> None:
    from ioukit import boxes

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    boxes.iou(random_boxes(rng, 600), random_boxes(rng, 600))  # first call (warm-up)
    print(f"ioukit first call: {time.perf_counter() - t0:.3f} s (kernels compiled at install)")

    try:
        import torch
        import torchvision.ops

        peer = torchvision.ops.box_iou
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
              f"{torch.get_num_threads()} threads")  # fmt: skip
    except ImportError as e:
        torch = None
        peer = None
        print(f"torchvision skipped: {e}")
    print(f"CPU cores: {os.cpu_count()}\n")

    header = f"{'size':>13} {'implementation':<28} {'time [ms]':>10} {'ratio':>8}  max |diff|"
    print(header)
    print("-" * len(header))
    # Best of many calls: every call writes a fresh output (64 MB at 4000^2), and on a
    # VM the first touches of memory the host has not backed yet cost up to ~100 ms;
    # later calls reuse warm pages. Every implementation gets the same number of calls.
    for n, repeats in ((4000, 15), (10000, 5)):
        a, b = random_boxes(rng, n), random_boxes(rng, n)
        ref = boxes.iou(a, b, validate=False)
        t_ours = best_time(lambda a=a, b=b: boxes.iou(a, b), repeats)
        t_nov = best_time(lambda a=a, b=b: boxes.iou(a, b, validate=False), repeats)
        rows = [("ioukit.boxes.iou (NumPy)", t_ours, None),
                ("  same, validate=False", t_nov, None)]  # fmt: skip
        if peer is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            with torch.no_grad():
                peer(ta, tb)
                t_tv = best_time(lambda ta=ta, tb=tb: peer(ta, tb), repeats)
                d_tv = float(np.abs(peer(ta, tb).numpy() - ref).max())
                boxes.iou(ta, tb)
                t_it = best_time(lambda ta=ta, tb=tb: boxes.iou(ta, tb), repeats)
                d_it = float(np.abs(boxes.iou(ta, tb).numpy() - ref).max())
            rows.append(("torchvision.ops.box_iou", t_tv, d_tv))
            rows.append(("ioukit.boxes.iou (torch)", t_it, d_it))
        t_np = best_time(lambda a=a, b=b: numpy_broadcast_iou(a, b), 1 if n > 5000 else 3)
        d_np = float(np.abs(numpy_broadcast_iou(a, b) - ref).max())
        rows.append(("NumPy broadcast", t_np, d_np))
        for name, t, d in rows:
            ratio = t / t_ours
            diff = "" if d is None else f"{d:.1e}"
            print(f"{n:>6}x{n:<6} {name:<28} {t * 1e3:>10.1f} {ratio:>7.2f}x  {diff}")
        print()
    print("ratio = time / ioukit.boxes.iou (NumPy) time; > 1 means ioukit is faster.\n")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # non-Linux fallback


def _reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets the VmHWM peak to the current RSS
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def pairs_child() -> None:
    # a fresh process, so that the peak is this workload's alone
    from ioukit import boxes

    rng = np.random.default_rng(1)
    a = clustered_boxes(rng, 100_000, 1000)
    b = clustered_boxes(rng, 100_000, 1000)
    boxes.iou_pairs(a[:2000], b[:2000], 0.5)  # warm-up
    _reset_peak()
    base_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    p = boxes.iou_pairs(a, b, 0.5)
    t = time.perf_counter() - t0
    peak_kb = _status_kb("VmHWM")
    t2 = best_time(lambda: boxes.iou_pairs(a, b, 0.5), 2)
    # spot-check against the dense kernel on a slice of rows
    rows = np.arange(0, 100_000, 97)
    dense = boxes.iou(a[rows], b)
    keep = np.isin(p.index_a, rows)
    n_dense = int((dense >= 0.5).sum())
    print(json.dumps({
        "time_s": min(t, t2), "pairs": len(p.iou), "base_mb": base_kb / 1024,
        "peak_mb": peak_kb / 1024, "spot_rows": len(rows),
        "spot_ok": bool(n_dense == int(keep.sum())),
    }))  # fmt: skip


def pairs_section() -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--pairs-child"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        print(f"iou_pairs child failed:\n{out.stderr[-2000:]}")
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    dense_gb = 100_000 * 100_000 * 4 / 1e9
    print("iou_pairs, 100k x 100k clustered boxes (1000 clusters), float32, iou_threshold = 0.5")
    print(f"  time                 {r['time_s']:.2f} s (best of 3)")
    print(f"  pairs found          {r['pairs']:,}")
    print(f"  peak RSS             {r['peak_mb']:.0f} MB "
          f"(process after imports and inputs: {r['base_mb']:.0f} MB; "
          f"added {r['peak_mb'] - r['base_mb']:.0f} MB)")  # fmt: skip
    print(f"  dense float32 matrix would need {dense_gb:.0f} GB")
    print(f"  spot check vs dense on {r['spot_rows']} rows: {'ok' if r['spot_ok'] else 'MISMATCH'}")


if __name__ == "__main__":
    if "--pairs-child" in sys.argv:
        pairs_child()
    else:
        pairwise_section()
        pairs_section()
