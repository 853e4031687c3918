"""Mask (segm) and Boundary-IoU COCO evaluation: ioukit vs its peers, end to end.

Generates (deterministically, NumPy RNG) a val2017-scale data set under
benchmarks/.cache/: 5000 images, ~36k GT annotations with polygon segmentations
(~1% crowd with uncompressed RLE), and 134k mask detections as compressed RLE
(jittered copies of GT polygons plus false positives), then runs each tool in a
fresh process: load both JSON files, evaluate, accumulate, summarize. Reported:
wall time of that (imports excluded, loading included), peak RSS of the process,
and whether the 12 stats and the precision/recall arrays equal pycocotools'
bit for bit. Printed, never asserted.

Run: ``bash benchmarks/run.sh benchmarks/bench_segm.py`` (``--small`` for the segm table
on the 500-image set too; ``--all`` adds ultrafast-pycocotools to the boundary table).
The boundary table always uses the 500-image set (500 images, 13.4k detections).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"

CHILD = r"""
import contextlib, io, json, sys, time
import numpy as np
tool, iou_type, gt_path, dt_path, out_path = sys.argv[1:6]
quiet = contextlib.redirect_stdout(io.StringIO())
if tool == "ioukit":
    from ioukit import coco
elif tool == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
elif tool == "faster-coco-eval":
    from faster_coco_eval import COCO, COCOeval_faster
elif tool == "ultrafast-pycocotools":
    from ultrafast_pycocotools import COCO, COCOeval
elif tool == "hotcoco":
    import hotcoco
t0 = time.perf_counter()
with quiet:
    if tool == "ioukit":
        r = coco.evaluate(gt_path, dt_path, iou_type=iou_type)
        stats, prec, rec = np.asarray(r.stats), r.precision, r.recall
    elif tool == "pycocotools":
        g = COCO(gt_path); d = g.loadRes(dt_path)
        e = COCOeval(g, d, iou_type); e.evaluate(); e.accumulate(); e.summarize()
        stats, prec, rec = e.stats, e.eval["precision"], e.eval["recall"]
    elif tool == "faster-coco-eval":
        g = COCO(gt_path); d = g.loadRes(dt_path)
        e = COCOeval_faster(g, d, iou_type, print_function=lambda *a: None)
        e.evaluate(); e.accumulate(); e.summarize()
        stats, prec, rec = e.stats, e.eval["precision"], e.eval["recall"]
    elif tool == "ultrafast-pycocotools":
        g = COCO(gt_path); d = g.loadRes(dt_path)
        e = COCOeval(g, d, iou_type); e.evaluate(); e.accumulate(); e.summarize()
        stats, prec, rec = e.stats, e.eval["precision"], e.eval["recall"]
    elif tool == "hotcoco":
        g = hotcoco.COCO(gt_path); d = g.load_res(dt_path)
        e = hotcoco.COCOeval(g, d, iou_type); e.evaluate(); e.accumulate(); e.summarize()
        stats = np.asarray(e.stats); ev = e.eval
        prec = np.asarray(ev["precision"]) if ev is not None else None
        rec = np.asarray(ev["recall"]) if ev is not None else None
dt = time.perf_counter() - t0
# VmHWM is this process's own peak (ru_maxrss would include the forking parent's).
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024.0
np.savez(out_path, stats=np.asarray(stats, float), precision=np.asarray(prec, float),
         recall=np.asarray(rec, float), time=dt, rss=rss)
"""


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[float]:
    k = int(rng.integers(14, 64))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = rng.uniform(0.6, 1.0, k)
    px = x + w / 2 + np.cos(ang) * r * w / 2
    py = y + h / 2 + np.sin(ang) * r * h / 2
    return np.round(np.stack([px, py], 1).ravel(), 2).tolist()


def generate(n_img: int, n_det: int, seed: int = 0) -> tuple[Path, Path]:
    """Write (once) the GT with polygons and the RLE results; return their paths."""
    from ioukit import rle

    gt_path = CACHE / f"segm_gt_{n_img}.json"
    dt_path = CACHE / f"segm_results_{n_det}.json"
    if gt_path.exists() and dt_path.exists():
        return gt_path, dt_path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    img_ids = np.sort(rng.choice(600000, n_img, replace=False)) + 1
    cat_ids = np.array(
        [c for c in range(1, 91) if c not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
    )
    freq = 1.0 / np.arange(1, 81) ** 1.1  # long-tailed, person-heavy like COCO
    freq /= freq.sum()
    images, anns, sizes = [], [], {}
    for iid in img_ids.tolist():
        W, H = (640, 480) if rng.random() < 0.6 else (int(rng.integers(300, 641)), 640)
        images.append({"id": iid, "height": H, "width": W, "file_name": f"{iid:012d}.jpg"})
        sizes[iid] = (H, W)
        for _ in range(int(rng.poisson(7.3))):
            u = rng.random()  # COCO's size mix: 41% small, 34% medium, 25% large
            side = (
                rng.uniform(4, 32)
                if u < 0.41
                else rng.uniform(32, 96)
                if u < 0.75
                else rng.uniform(96, 400)
            )
            ar = rng.uniform(0.5, 2.0)
            w = float(min(W - 1, side * np.sqrt(ar)))
            h = float(min(H - 1, side / np.sqrt(ar)))
            x = float(rng.uniform(0, W - w))
            y = float(rng.uniform(0, H - h))
            crowd = rng.random() < 0.01
            if crowd:
                counts = rng.integers(1, 200, int(rng.integers(20, 200))).tolist()
                counts.append(W * H - sum(counts))
                seg: object = {"counts": counts, "size": [H, W]}
            else:
                seg = [_polygon(rng, x, y, w, h) for _ in range(1 if rng.random() < 0.9 else 2)]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": iid,
                    "category_id": int(rng.choice(cat_ids, p=freq)),
                    "segmentation": seg,
                    "area": float(w * h * 0.75),
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "iscrowd": int(crowd),
                }
            )
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": int(c), "name": f"c{c}"} for c in cat_ids],
    }
    gt_path.write_text(json.dumps(gt, separators=(",", ":")))
    # Detections: 70% jittered copies of a GT instance (same class), 30% anywhere.
    results = []
    by_img: dict[int, list] = {}
    polys = []
    for _ in range(n_det):
        if rng.random() < 0.7 and anns:
            a = anns[int(rng.integers(len(anns)))]
            iid, cat = a["image_id"], a["category_id"]
            x, y, w, h = a["bbox"]
            s = rng.uniform(0.8, 1.2)
            x += rng.normal(0, 0.1 * w)
            y += rng.normal(0, 0.1 * h)
            w *= s
            h *= s
        else:
            iid = int(rng.choice(img_ids))
            cat = int(rng.choice(cat_ids, p=freq))
            H, W = sizes[iid]
            w = float(rng.uniform(4, W / 2))
            h = float(rng.uniform(4, H / 2))
            x = float(rng.uniform(0, W - w))
            y = float(rng.uniform(0, H - h))
        polys.append((iid, cat, _polygon(rng, x, y, w, h), float(np.round(rng.random(), 5))))
        by_img.setdefault(iid, []).append(len(polys) - 1)
    for iid, idx in by_img.items():
        H, W = sizes[iid]
        rles = rle.from_polygons([polys[i][2] for i in idx], H, W)
        for i, r in zip(idx, rles):
            results.append(
                {
                    "image_id": polys[i][0],
                    "category_id": polys[i][1],
                    "segmentation": {"size": r["size"], "counts": r["counts"].decode()},
                    "score": polys[i][3],
                }
            )
    dt_path.write_text(json.dumps(results, separators=(",", ":")))
    return gt_path, dt_path


def _run(tool: str, iou_type: str, gt: Path, dt: Path) -> dict | str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.npz"
        p = subprocess.run(
            [sys.executable, "-c", CHILD, tool, iou_type, str(gt), str(dt), str(out)],
            capture_output=True,
            text=True,
        )
        if p.returncode != 0 or not out.exists():
            last = (p.stderr.strip().splitlines() or ["no output"])[-1]
            return f"skipped: {last[:110]}"
        z = np.load(out)
        return {k: z[k] for k in z.files}


def _table(iou_type: str, tools: list[str], gt: Path, dt: Path, ref_tool: str) -> None:
    rows = {t: _run(t, iou_type, gt, dt) for t in tools}
    ref = rows.get(ref_tool)
    ok = {t: r for t, r in rows.items() if isinstance(r, dict)}
    fastest_peer = min((r["time"] for t, r in ok.items() if t != "ioukit"), default=None)
    leanest_peer = min((r["rss"] for t, r in ok.items() if t != "ioukit"), default=None)
    print(f"\n{iou_type}: reference for 'identical' = {ref_tool}")
    print(f"{'tool':24s} {'time s':>8s} {'x ioukit':>9s} {'peak MB':>8s} {'identical':>10s}")
    base = ok.get("ioukit")
    for t, r in rows.items():
        if not isinstance(r, dict):
            print(f"{t:24s} {r}")
            continue
        same = "-"
        if isinstance(ref, dict) and r["precision"].shape == ref["precision"].shape:
            same = str(
                bool(
                    np.array_equal(r["stats"], ref["stats"])
                    and np.array_equal(r["precision"], ref["precision"])
                    and np.array_equal(r["recall"], ref["recall"])
                )
            )
        ratio = f"{float(r['time']) / float(base['time']):.2f}" if base is not None else "-"
        print(f"{t:24s} {float(r['time']):8.2f} {ratio:>9s} {float(r['rss']):8.0f} {same:>10s}")
    if base is not None and fastest_peer is not None:
        print(
            f"ioukit vs fastest peer: {float(fastest_peer) / float(base['time']):.2f}x speed; "
            f"peak memory {float(base['rss']) / float(leanest_peer):.2f}x the leanest peer"
        )


def main() -> None:
    small = "--small" in sys.argv
    n_img, n_det = (500, 13_400) if small else (5000, 134_000)
    gt, dt = generate(n_img, n_det)
    mb = gt.stat().st_size / 1e6, dt.stat().st_size / 1e6
    print(f"data: {gt.name} ({mb[0]:.1f} MB), {dt.name} ({mb[1]:.1f} MB)")
    print(f"machine: {os.cpu_count()} CPUs; each tool in a fresh process, imports excluded")
    # Warm ioukit's on-disk Numba cache (serial and parallel kernels) on the same data,
    # untimed, so the timed run loads compiled code as any later process does.
    warm = generate(20, 300, seed=1)
    _run("ioukit", "segm", gt, dt)
    tools = ["ioukit", "pycocotools", "faster-coco-eval", "hotcoco", "ultrafast-pycocotools"]
    _table("segm", tools, gt, dt, "pycocotools")
    # Boundary IoU on the 500-image set: the peers need minutes at full scale
    # (ultrafast-pycocotools over 3 min even here, so only with --all).
    bgt, bdt = generate(500, 13_400)
    _run("ioukit", "boundary", *warm)
    _run("ioukit", "boundary", bgt, bdt)
    print(f"\nboundary on {bgt.name} / {bdt.name}")
    btools = ["ioukit", "faster-coco-eval", "hotcoco"]
    if "--all" in sys.argv:
        btools.append("ultrafast-pycocotools")
    _table("boundary", btools, bgt, bdt, btools[-1] if "--all" in sys.argv else "ioukit")


if __name__ == "__main__":
    main()
