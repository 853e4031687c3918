"""Benchmark ioukit.rotated and ioukit.nms.rotated_nms against shapely, in one run.

    .venv/bin/python benchmarks/bench_rotated.py            # full sizes
    .venv/bin/python benchmarks/bench_rotated.py --small    # quick look

Prints, never asserts (except that keep lists and accuracy are reported). Times are the
best of a few interleaved runs; "first" is the first call in the process. Peers:
shapely 2 (vectorised GEOS) is the reference; torchvision 0.29 has no rotated ops, and
mmcv / mmrotate / detectron2 (which have CUDA/C++ rotated IoU and NMS) are not
installable here, so they are named and skipped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import shapely

import ioukit.rotated as R
from ioukit.nms import rotated_nms


def random_boxes(rng, n, extent=200.0, lo=5.0, hi=50.0):
    return np.column_stack(
        [
            rng.uniform(0, extent, (n, 2)),
            rng.uniform(lo, hi, (n, 2)),
            rng.uniform(-np.pi, np.pi, n),
        ]
    )


def clustered(rng, n, clusters):
    """Detector-like rotated output: boxes jittered around cluster centres."""
    extent = 1000.0 * max(1.0, (n / 10_000) ** 0.5)
    centres = rng.uniform(0, extent, (clusters, 2))
    size = rng.uniform(10, 80, (clusters, 2))
    ang = rng.uniform(-np.pi / 2, np.pi / 2, clusters)
    k = rng.integers(0, clusters, n)
    boxes = np.column_stack(
        [
            centres[k] + rng.normal(0, 0.1, (n, 2)) * size[k],
            size[k] * rng.uniform(0.8, 1.2, (n, 2)),
            ang[k] + rng.normal(0, 0.15, n),
        ]
    )
    return boxes, rng.random(n)


def polys(b):
    return shapely.polygons(R.to_polygons(b))


def shapely_pairwise(a, b):
    pa, pb = polys(a), polys(b)
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None]))
    return inter / (shapely.area(pa)[:, None] + shapely.area(pb)[None] - inter)


def shapely_aligned(a, b):
    pa, pb = polys(a), polys(b)
    inter = shapely.area(shapely.intersection(pa, pb))
    return inter / (shapely.area(pa) + shapely.area(pb) - inter)


def shapely_nms(boxes, scores, thr):
    """Reference greedy NMS with shapely's IoU; candidate pairs from an STRtree (pairs
    whose polygons do not intersect have IoU 0 and never suppress)."""
    p = polys(boxes)
    i, j = shapely.STRtree(p).query(p, predicate="intersects")
    m = i != j
    i, j = i[m], j[m]
    inter = shapely.area(shapely.intersection(p[i], p[j]))
    ar = shapely.area(p)
    iou = inter / (ar[i] + ar[j] - inter)
    hit = iou > thr
    i, j = i[hit], j[hit]
    order = np.argsort(-scores, kind="stable")
    nbr = np.split(
        j[np.argsort(i, kind="stable")], np.cumsum(np.bincount(i, minlength=len(p)))[:-1]
    )
    dead = np.zeros(len(p), bool)
    keep = []
    for k in order:
        if dead[k]:
            continue
        keep.append(k)
        dead[nbr[k]] = True
    return np.array(keep, np.int64)


def best(f, repeat):
    t_first = time.perf_counter()
    f()
    first = time.perf_counter() - t_first
    b = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        b = min(b, time.perf_counter() - t0)
    return first, b


def bench_pairwise(n, repeat_shapely):
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, n), random_boxes(rng, n)
    ours_times, theirs_times = [], []
    ref = got = None
    for _ in range(repeat_shapely):  # interleaved
        t0 = time.perf_counter()
        ref = shapely_pairwise(a, b)
        theirs_times.append(time.perf_counter() - t0)
        for _ in range(3):
            t0 = time.perf_counter()
            got = R.iou(a, b)
            ours_times.append(time.perf_counter() - t0)
    t_o, t_s = min(ours_times), min(theirs_times)
    print(
        f"pairwise {n}x{n} float64: ioukit {t_o * 1e3:9.1f} ms   shapely {t_s * 1e3:9.1f} ms   "
        f"ratio {t_s / t_o:6.1f}x   max |diff| {np.abs(got - ref).max():.2e}   "
        f"overlapping pairs {np.count_nonzero(ref > 0):,}"
    )
    got32 = R.iou(a.astype(np.float32), b.astype(np.float32))
    ref32 = shapely_pairwise(
        a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    )
    print(f"  float32 max |diff| {np.abs(got32 - ref32).max():.2e}")


def bench_accuracy(n):
    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, n, extent=60.0), random_boxes(rng, n, extent=60.0)
    ref = shapely_aligned(a, b)
    d64 = np.abs(R.iou(a, b, aligned=True) - ref).max()
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ref32 = shapely_aligned(a32.astype(np.float64), b32.astype(np.float64))
    d32 = np.abs(R.iou(a32, b32, aligned=True) - ref32).max()
    print(
        f"accuracy on {n:,} random pairs ({np.count_nonzero(ref > 0):,} overlapping): "
        f"max |diff| float64 {d64:.2e}  float32 {d32:.2e}"
    )


def _hwm_mb():
    # peak resident set of this process (VmHWM), MB
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_big(n):
    rng = np.random.default_rng(2)
    extent = 200.0 * (n / 1000) ** 0.5  # the same density as the 1000 x 1000 case
    a, b = random_boxes(rng, n, extent), random_boxes(rng, n, extent)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    base = _hwm_mb()
    t0 = time.perf_counter()
    out = R.iou(a32, b32)
    t_dense = time.perf_counter() - t0
    peak_dense = _hwm_mb() - base
    del out
    t0 = time.perf_counter()
    p = R.iou_pairs(a, b, 0.1)
    t_sparse = time.perf_counter() - t0
    peak = _hwm_mb() - base
    print(
        f"pairwise {n}x{n}: dense float32 {t_dense:6.2f} s, peak RSS growth {peak_dense:.0f} MB "
        f"(output {n * n * 4 / 2**20:.0f} MB);  iou_pairs(>= 0.1) {t_sparse:6.2f} s, "
        f"{len(p.iou):,} pairs, peak RSS growth after both {peak:.0f} MB"
    )


def bench_nms(n, clusters, thr):
    rng = np.random.default_rng(3)
    boxes, scores = clustered(rng, n, clusters)
    f_o, t_o = best(lambda: rotated_nms(boxes, scores, thr), 5)
    t0 = time.perf_counter()
    ref = shapely_nms(boxes, scores, thr)  # once: it is slow
    t_s = time.perf_counter() - t0
    got = rotated_nms(boxes, scores, thr)
    print(
        f"rotated_nms {n:,} clustered boxes, thr {thr}: ioukit {t_o * 1e3:8.1f} ms "
        f"(first {f_o * 1e3:.1f})  shapely-STRtree ref {t_s * 1e3:8.1f} ms  "
        f"ratio {t_s / t_o:5.1f}x  kept {len(got):,}  identical keep list: "
        f"{np.array_equal(got, ref)}"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--child-big", type=int)
    ap.add_argument("--only", choices=("accuracy", "pairwise", "big", "nms"))
    args = ap.parse_args()
    if args.child_big:
        child_big(args.child_big)
        return
    print(
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}); "
        "peers not installable here: mmcv, mmrotate, detectron2; torchvision has no rotated ops"
    )
    small = args.small
    run = lambda part: args.only in (None, part)  # noqa: E731
    if run("accuracy"):
        bench_accuracy(10_000 if small else 100_000)
    if run("pairwise"):
        bench_pairwise(300 if small else 1000, 1 if small else 2)
    if run("big"):
        big = 2000 if small else 10_000
        subprocess.run([sys.executable, __file__, "--child-big", str(big)], check=True)
    if run("nms"):
        for thr in (0.3, 0.5, 0.7):
            bench_nms(2000 if small else 10_000, 100 if small else 500, thr)


if __name__ == "__main__":
    main()
