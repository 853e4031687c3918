"""Benchmark ioukit.polygons.iou against shapely (GEOS overlay), in one run.

    .venv/bin/python benchmarks/bench_polygons.py            # 300 x 300 and 1000 x 1000
    .venv/bin/python benchmarks/bench_polygons.py --small    # 100 x 100 only

Random simple polygons: concave stars with 5-15 vertices, a third with a hole, some
with a second part, scattered so that ~1-2% of the pairs overlap, then crowded into
a small field where most pairs overlap. Each size times, interleaved, best of N warm
calls (and the first call):

- ioukit: ``polygons.iou(a, b)`` from [K, 2] rings (packing, orientation, kernel);
- ioukit from shapely: the same with shapely Polygons as input (their coordinates
  are read in Python);
- shapely dense: ``area(intersection(A[:, None], B[None, :]))`` over every pair,
  union as ``area(A) + area(B) - inter`` (prepared geometries, GEOS >= 3.10);
- shapely + STRtree: the same on the pairs whose bounding boxes intersect only.

Prints the max |IoU difference| with shapely too. Never asserts.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from ioukit import polygons as P


def star(rng, c, rmin, rmax, k):
    ang = (np.arange(k) + rng.uniform(-0.45, 0.45, k)) * 2 * np.pi / k + rng.uniform(0, 6.3)
    r = rng.uniform(rmin, rmax, k)
    return np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], 1)


def random_polygons(n, seed, field):
    rng = np.random.default_rng(seed)
    rings, geoms = [], []
    for _ in range(n):
        c = rng.uniform(0, field, 2)
        rmin = rng.uniform(0.5, 2)
        rmax = rmin + rng.uniform(0, 3)
        p = [star(rng, c, rmin, rmax, int(rng.integers(5, 16)))]
        u = rng.random()
        if u < 0.33:
            p.append(star(rng, c, 0.05 * rmin, 0.3 * rmin, int(rng.integers(5, 8))))
            geoms.append(Polygon(p[0], [p[1]]))
        elif u < 0.45:
            c2 = c + (2 * rmax + 2) * np.array([np.cos(u * 40), np.sin(u * 40)])
            p.append(star(rng, c2, 0.5, 1.5, int(rng.integers(5, 9))))
            geoms.append(MultiPolygon([Polygon(r) for r in p]))
        else:
            geoms.append(Polygon(p[0]))
        rings.append(p)
    return rings, np.array(geoms)


def shapely_dense(sa, sb):
    inter = shapely.area(shapely.intersection(sa[:, None], sb[None, :]))
    union = shapely.area(sa)[:, None] + shapely.area(sb)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def shapely_strtree(sa, sb):
    tree = shapely.STRtree(sb)
    i, j = tree.query(sa, predicate="intersects")
    inter = shapely.area(shapely.intersection(sa[i], sb[j]))
    out = np.zeros((len(sa), len(sb)))
    union = shapely.area(sa)[i] + shapely.area(sb)[j] - inter
    out[i, j] = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return out


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def bench(n: int, repeat: int, field: float | None = None) -> None:
    if field is None:
        field = 3.0 * np.sqrt(n)  # constant density: ~1-2% of the pairs overlap
    a, sa = random_polygons(n, 1, field)
    b, sb = random_polygons(n, 2, field)
    shapely.prepare(sa)
    shapely.prepare(sb)
    runs = {
        "ioukit": lambda: P.iou(a, b),
        "ioukit (shapely in)": lambda: P.iou(list(sa), list(sb)),
        "shapely dense": lambda: shapely_dense(sa, sb),
        "shapely + STRtree": lambda: shapely_strtree(sa, sb),
    }
    first, best, outs = {}, {}, {}
    for name, f in runs.items():
        first[name], outs[name] = timed(f)
        best[name] = first[name]
    for _ in range(repeat):  # interleaved: every implementation sees the same noise
        for name, f in runs.items():
            best[name] = min(best[name], timed(f)[0])
    ref = outs["shapely dense"]
    print(f"\n## pairwise IoU, {n} x {n} polygons ({(ref > 0).mean():.1%} of pairs overlap)")
    print(f"{'implementation':>22}  {'first ms':>10}  {'warm ms':>10}  {'vs ioukit':>10}")
    for name in runs:
        ratio = best[name] / best["ioukit"]
        print(f"{name:>22}  {first[name] * 1e3:10.2f}  {best[name] * 1e3:10.2f}  {ratio:9.1f}x")
    print(f"max |IoU - shapely| = {np.abs(outs['ioukit'] - ref).max():.2e}")


def bench_periodic(n: int, repeat: int) -> None:
    rng_a, _ = random_polygons(n, 3, 45.0)
    rng_b, _ = random_polygons(n, 4, 45.0)
    # scale to Ramachandran-sized regions (tens of degrees) centred on the torus
    a = [[r * 8 - 180 for r in p] for p in rng_a]
    b = [[r * 8 - 180 for r in p] for p in rng_b]
    plain = min(timed(lambda: P.iou(a, b))[0] for _ in range(repeat))
    torus = min(timed(lambda: P.iou(a, b, period=(360, 360)))[0] for _ in range(repeat))
    print(f"\n## periodic (360, 360), {n} x {n} Ramachandran-sized regions")
    print(f"plane {plain * 1e3:.2f} ms, torus {torus * 1e3:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    sizes = [100] if args.small else [300, 1000]
    for n in sizes:
        bench(n, repeat=5 if n <= 300 else 2)
    # every polygon in a 6 x 6 field: most pairs overlap (the per-pair clipping cost)
    bench(100 if args.small else 200, repeat=3, field=6.0)
    bench_periodic(100 if args.small else 300, repeat=3)


if __name__ == "__main__":
    main()
