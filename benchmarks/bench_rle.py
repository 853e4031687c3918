"""RLE kernels vs pycocotools.mask (and faster-coco-eval's mask API) on COCO-like masks.

Masks are 1000 x 1000 (column-major RLE), objects with COCO's size mix (41% small
< 32^2, 34% medium, 25% large up to 400 px), drawn as random star polygons and
rasterised once. For each operation the same inputs go to every tool; each is
timed best of 3 in this process (ioukit's Numba kernels compiled before timing).
Results are checked equal to pycocotools'. Printed, never asserted.

Run: ``bash benchmarks/run.sh benchmarks/bench_rle.py``.
"""

from __future__ import annotations

import time

import numpy as np

from ioukit import rle

try:
    from pycocotools import mask as mask_utils
except ImportError:  # pragma: no cover - peer missing
    mask_utils = None
try:
    from faster_coco_eval.core import mask as fce_mask
except ImportError:  # pragma: no cover - peer missing
    fce_mask = None

H = W = 1000


def _polygons(rng: np.random.Generator, n: int) -> list[list[float]]:
    out = []
    for _ in range(n):
        u = rng.random()
        side = (
            rng.uniform(4, 32)
            if u < 0.41
            else rng.uniform(32, 96)
            if u < 0.75
            else rng.uniform(96, 400)
        )
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        k = int(rng.integers(14, 64))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.6, 1.0, k) * side / 2
        out.append(np.stack([cx + np.cos(ang) * r, cy + np.sin(ang) * r], 1).ravel().tolist())
    return out


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _row(name: str, n_items: int, times: dict[str, float | str]) -> None:
    base = times.get("ioukit")
    cells = []
    for tool in ("ioukit", "pycocotools", "faster-coco-eval"):
        v = times.get(tool, "skipped")
        if isinstance(v, str):
            cells.append(f"{v:>22s}")
        else:
            ratio = v / base if isinstance(base, float) and base > 0 else float("nan")
            cells.append(f"{v * 1e3:9.1f} ms ({ratio:5.2f}x)")
    print(f"{name:34s} {n_items:>9d} " + " ".join(cells))


def main() -> None:
    rng = np.random.default_rng(0)
    n_dt, n_gt = 300, 100
    polys = _polygons(rng, n_dt + n_gt)
    rles = rle.from_polygons(polys, H, W)
    dt, gt = rles[:n_dt], rles[n_dt:]
    crowd = (rng.random(n_gt) < 0.05).astype(np.uint8).tolist()
    rle.iou(dt[:2], gt[:2], crowd[:2])  # compile
    rle.from_polygons(polys[:2], H, W)
    if mask_utils is None:
        print("pycocotools: skipped (not installed)")
    print(f"masks {H}x{W}, COCO size mix; times best of 3; (x) = time / ioukit time")
    tools = " ".join(f"{t:>22s}" for t in ("ioukit", "pycocotools", "faster-coco-eval"))
    print(f"{'operation':34s} {'items':>9s} {tools}")

    t: dict[str, float | str] = {}
    t["ioukit"], ours = _best(lambda: rle.iou(dt, gt, crowd))
    if mask_utils is not None:
        t["pycocotools"], ref = _best(lambda: mask_utils.iou(dt, gt, crowd))
        print("  iou identical to pycocotools:", bool(np.array_equal(ours, ref)))
    if fce_mask is not None:
        t["faster-coco-eval"], _ = _best(lambda: fce_mask.iou(dt, gt, crowd))
    _row("iou (300 x 100 pairs)", n_dt * n_gt, t)

    t = {}
    t["ioukit"], ours = _best(lambda: rle.from_polygons(polys, H, W))
    if mask_utils is not None:
        t["pycocotools"], ref = _best(lambda: mask_utils.frPyObjects(polys, H, W))
        print("  from_polygons identical to pycocotools:", ours == ref)
    _row("from_polygons", len(polys), t)

    masks = np.asfortranarray(rle.decode(rles[:100]))
    t = {}
    t["ioukit"], ours = _best(lambda: rle.encode(masks))
    if mask_utils is not None:
        t["pycocotools"], ref = _best(lambda: mask_utils.encode(masks))
        print("  encode identical to pycocotools:", ours == ref)
    _row("encode (1000x1000x100)", 100, t)

    t = {}
    t["ioukit"], ours = _best(lambda: rle.decode(rles[:100]))
    if mask_utils is not None:
        t["pycocotools"], ref = _best(lambda: mask_utils.decode(rles[:100]))
    _row("decode (100 masks)", 100, t)

    for name, ours_fn, ref_fn in (
        ("area", lambda: rle.area(rles), lambda: mask_utils.area(rles)),
        ("to_bbox", lambda: rle.to_bbox(rles), lambda: mask_utils.toBbox(rles)),
        ("merge (union of 400)", lambda: rle.merge(rles), lambda: mask_utils.merge(rles)),
    ):
        t = {}
        t["ioukit"], _ = _best(ours_fn)
        if mask_utils is not None:
            try:
                t["pycocotools"], _ = _best(ref_fn)
            except OverflowError as e:  # pycocotools 2.0.11 area() on NumPy 2, n > 255
                t["pycocotools"] = f"error: {type(e).__name__}"
        _row(name, len(rles), t)

    t = {}
    t["ioukit"], ours = _best(lambda: rle.boundary(rles[:100]))
    if fce_mask is not None:
        t["faster-coco-eval"], ref = _best(lambda: [fce_mask.rleToBoundary(r) for r in rles[:100]])
        same = [o["counts"] for o in ours] == [r["counts"] for r in ref]
        print("  boundary identical to faster-coco-eval:", same)
    _row("boundary band (d = 28 px)", 100, t)


if __name__ == "__main__":
    main()
