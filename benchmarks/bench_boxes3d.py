"""Benchmark ioukit.boxes3d against a shapely oracle (BEV polygons x z overlap), one run.

    .venv/bin/python benchmarks/bench_boxes3d.py            # 2000 x 2000, 10^5 pairs
    .venv/bin/python benchmarks/bench_boxes3d.py --small    # quick look

Prints, never asserts:

1. accuracy: the largest |ioukit - shapely| of the yaw-only 3-D IoU on 10^5 random
   aligned pairs (boxes overlapping or not) and on the pairwise matrix below (bar 1e-9);
2. speed: pairwise yaw-3D IoU of 2000 x 2000 boxes, ioukit's first call (a fresh
   process: import + kernel) and warm best-of-N (all threads and one thread), against
   shapely 2's vectorised ``intersection`` of the same polygon pairs (one call: it takes
   seconds); the ratio is shapely / ioukit (bar >= 100x). Two scenes: a KITTI-like
   street (most pairs far apart) and a dense one (most pairs overlap).
3. ioukit alone: general oriented IoU (``fmt="corners"``) and nms3d.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import shapely
from ioukit._threads import get_num_threads

from ioukit import boxes3d, set_num_threads


def scene(n: int, extent: float, seed: int) -> np.ndarray:
    """Car-like yaw boxes (l 3-5 m, w 1.5-2 m, h 1.4-1.8 m) in an extent x extent area."""
    rng = np.random.default_rng(seed)
    c = np.concatenate([rng.uniform(0, extent, (n, 2)), rng.uniform(-0.3, 0.3, (n, 1))], 1)
    size = np.stack([rng.uniform(3, 5, n), rng.uniform(1.5, 2, n), rng.uniform(1.4, 1.8, n)], 1)
    return np.concatenate([c, size, rng.uniform(-np.pi, np.pi, (n, 1))], 1)


def polygons(b: np.ndarray) -> np.ndarray:
    c, s = np.cos(b[:, 6]), np.sin(b[:, 6])
    hl, hw = b[:, 3] / 2, b[:, 4] / 2
    pts = [
        np.stack([b[:, 0] + u * hl * c - v * hw * s, b[:, 1] + u * hl * s + v * hw * c], 1)
        for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return shapely.polygons(np.stack(pts, 1))


def shapely_iou(a: np.ndarray, b: np.ndarray, aligned: bool = False) -> np.ndarray:
    pa, pb = polygons(a), polygons(b)
    if aligned:
        bev = shapely.area(shapely.intersection(pa, pb))
        za0, za1, zb0, zb1 = (
            a[:, 2] - a[:, 5] / 2,
            a[:, 2] + a[:, 5] / 2,
            b[:, 2] - b[:, 5] / 2,
            b[:, 2] + b[:, 5] / 2,
        )
        va, vb = a[:, 3] * a[:, 4] * a[:, 5], b[:, 3] * b[:, 4] * b[:, 5]
    else:
        bev = shapely.area(shapely.intersection(pa[:, None], pb[None, :]))
        za0, za1 = (a[:, 2] - a[:, 5] / 2)[:, None], (a[:, 2] + a[:, 5] / 2)[:, None]
        zb0, zb1 = (b[:, 2] - b[:, 5] / 2)[None], (b[:, 2] + b[:, 5] / 2)[None]
        va, vb = (a[:, 3] * a[:, 4] * a[:, 5])[:, None], (b[:, 3] * b[:, 4] * b[:, 5])[None]
    inter = bev * np.clip(np.minimum(za1, zb1) - np.maximum(za0, zb0), 0, None)
    union = va + vb - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def best(f, repeat: int) -> float:
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


FIRST_CALL = """
import time, numpy as np
t0 = time.perf_counter()
from ioukit import boxes3d
a = np.load({path!r})
boxes3d.iou(a[:{n}], a[{n}:])
print(time.perf_counter() - t0)
"""


def first_call(a: np.ndarray, b: np.ndarray, tmp: str) -> float:
    path = f"{tmp}/boxes3d_bench.npy"
    np.save(path, np.concatenate([a, b]))
    code = FIRST_CALL.format(path=path, n=len(a))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = 500 if args.small else 2000
    n_pairs = 10_000 if args.small else 100_000
    import tempfile

    tmp = tempfile.mkdtemp()
    threads = get_num_threads()
    print(f"boxes3d benchmark: {n} x {n} pairwise, {n_pairs:,} aligned pairs, {threads} threads")

    # 1. accuracy on random aligned pairs (half overlapping)
    rng = np.random.default_rng(1)
    a = scene(n_pairs, 4.0, 2)
    b = a.copy()
    b[:, :3] += rng.normal(0, 1.5, (n_pairs, 3))
    b[:, 3:6] *= rng.uniform(0.5, 1.5, (n_pairs, 3))
    b[:, 6] = rng.uniform(-np.pi, np.pi, n_pairs)
    err = np.abs(boxes3d.iou(a, b, aligned=True) - shapely_iou(a, b, aligned=True))
    ovl = (shapely_iou(a, b, aligned=True) > 0).mean()
    print(
        f"accuracy: {n_pairs:,} aligned pairs ({ovl:.0%} overlapping): max |diff| {err.max():.2e}"
    )

    # 2. speed, two scenes
    for name, extent in (("street 80 m", 80.0), ("dense 12 m", 12.0)):
        a, b = scene(n, extent, 3), scene(n, extent, 4)
        t_first = first_call(a, b, tmp)
        warm = best(lambda a=a, b=b: boxes3d.iou(a, b), args.repeat)
        set_num_threads(1)
        warm1 = best(lambda a=a, b=b: boxes3d.iou(a, b), args.repeat)
        set_num_threads(threads)
        t0 = time.perf_counter()
        ref = shapely_iou(a, b)
        t_shapely = time.perf_counter() - t0
        ours = boxes3d.iou(a, b)
        diff = np.abs(ours - ref).max()
        print(f"{name}: {(ref > 0).mean():.2%} of pairs overlap; max |diff| {diff:.2e}")
        print(f"  shapely 2 (vectorised, 1 thread)  {t_shapely * 1e3:9.1f} ms")
        rows = (
            ("first call (fresh process)", t_first),
            (f"warm, {threads} threads", warm),
            ("warm, 1 thread", warm1),
        )
        for label, t in rows:
            print(f"  ioukit {label:<27} {t * 1e3:9.2f} ms   ratio {t_shapely / t:7.0f}x")

    # 3. ioukit alone
    a, b = scene(n // 4, 12.0, 5), scene(n // 4, 12.0, 6)
    ca, cb = boxes3d.corners(a), boxes3d.corners(b)
    t = best(lambda: boxes3d.iou(ca, cb, fmt="corners"), args.repeat)
    print(f"general oriented (corners) {n // 4} x {n // 4}: {t * 1e3:.1f} ms")
    s = np.random.default_rng(7).random(n)
    big = scene(n, 30.0, 8)
    t = best(lambda: boxes3d.nms3d(big, s, 0.5), args.repeat)
    print(f"nms3d {n} boxes: {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
