"""LVIS bbox evaluation: ioukit.lvis against lvis 0.5.3 (and faster-coco-eval's
``lvis_style``) on a synthetic LVIS-shaped set, each tool in a fresh subprocess.

    .venv/bin/python benchmarks/bench_lvis.py                      # 500 images
    .venv/bin/python benchmarks/bench_lvis.py --images 2000 --skip lvis

The set has LVIS v1's shape: 1203 categories (r/c/f in LVIS v1's proportions: 337 /
461 / 405), about 12 GT per image, a few ``neg_category_ids`` and
``not_exhaustive_category_ids`` per image, and 300 detections per image (half near
the GT, half background, some over the cap). lvis needs its shim (tests/_lvis_oracle.py).
Times are wall seconds of load + evaluate + accumulate + summarize (imports excluded);
every tool's ``results`` and precision array are compared with lvis' (``==``) when lvis
runs. Prints a markdown table; asserts nothing.
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
TOOLS = ["lvis", "faster-coco-eval", "ioukit"]


def make_lvis(n_images: int, seed: int = 0, dets_per_image: int = 320) -> tuple[dict, list]:
    """An LVIS v1-shaped GT and results (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_cats = 1203
    freq = np.array(["r"] * 337 + ["c"] * 461 + ["f"] * 405)
    rng.shuffle(freq)
    cats = [{"id": k + 1, "name": f"c{k + 1}", "frequency": str(f)} for k, f in enumerate(freq)]
    # category popularity: frequent ones much more common
    weight = np.where(freq == "f", 30.0, np.where(freq == "c", 3.0, 0.3))
    weight /= weight.sum()
    images, anns, dts = [], [], []
    aid = 1
    for i in range(1, n_images + 1):
        W, H = int(rng.integers(320, 640)), int(rng.integers(320, 640))
        n_gt = int(rng.poisson(12))
        img_cats = rng.choice(n_cats, size=max(1, n_gt // 3), p=weight) + 1
        boxes = []
        for _ in range(n_gt):
            c = int(rng.choice(img_cats))
            s = float(np.exp(rng.uniform(np.log(8), np.log(300))))
            w, h = min(s * rng.uniform(0.6, 1.4), W - 1), min(s * rng.uniform(0.6, 1.4), H - 1)
            x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
            b = [round(float(v), 2) for v in (x, y, w, h)]
            anns.append({"id": aid, "image_id": i, "category_id": c, "bbox": b,
                         "area": round(b[2] * b[3] * 0.8, 2)})  # fmt: skip
            boxes.append((c, b))
            aid += 1
        neg = rng.choice(n_cats, size=int(rng.integers(2, 12)), replace=False) + 1
        nel = rng.choice(img_cats, size=int(rng.integers(0, 2)))
        images.append({"id": i, "width": W, "height": H,
                       "neg_category_ids": sorted({int(c) for c in neg}),
                       "not_exhaustive_category_ids": sorted({int(c) for c in nel})})  # fmt: skip
        n_det = int(rng.integers(dets_per_image // 2, dets_per_image + 1))
        for _ in range(n_det):
            if boxes and rng.random() < 0.5:
                c, (x, y, w, h) = boxes[int(rng.integers(len(boxes)))]
                j = rng.normal(0, 0.1, 4) * [w, h, w, h]
                b = [x + j[0], y + j[1], max(w + j[2], 1.0), max(h + j[3], 1.0)]
                if rng.random() < 0.3:
                    c = int(rng.choice(img_cats))
            else:
                c = int(rng.choice(n_cats, p=weight)) + 1
                w, h = float(rng.uniform(4, 200)), float(rng.uniform(4, 200))
                b = [float(rng.uniform(0, W - 4)), float(rng.uniform(0, H - 4)), w, h]
            dts.append({"image_id": i, "category_id": c,
                        "bbox": [round(float(v), 2) for v in b],
                        "score": round(float(rng.random()), 3)})  # fmt: skip
    return {"images": images, "categories": cats, "annotations": anns}, dts


def _worker(tool: str, gt: str, dt: str, out: str) -> None:
    t0 = time.perf_counter()
    if tool == "lvis":
        sys.path.insert(0, str(ROOT.parent / "tests"))
        import logging
        import warnings

        import _lvis_oracle

        lvis = _lvis_oracle.load()
        logging.getLogger("lvis").setLevel(logging.ERROR)
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        e = lvis.LVISEval(gt, dt, iou_type="bbox")
        e.run()
        res, prec = dict(e.results), e.eval["precision"]
    elif tool == "faster-coco-eval":
        import contextlib
        import io

        from faster_coco_eval import COCO, COCOeval_faster

        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            g = COCO(gt)
            d = g.loadRes(dt)
            e = COCOeval_faster(g, d, "bbox", lvis_style=True, print_function=lambda *a: None)
            e.params.maxDets = [300]
            e.evaluate()
            e.accumulate()
            e.summarize()
        st = e.stats_as_dict
        names = {"AP": "AP_all", "AP50": "AP_50", "AP75": "AP_75", "APs": "AP_small",
                 "APm": "AP_medium", "APl": "AP_large", "APr": "APr", "APc": "APc",
                 "APf": "APf", "AR@300": "AR_all", "ARs@300": "AR_small",
                 "ARm@300": "AR_medium", "ARl@300": "AR_large"}  # fmt: skip
        res = {k: float(st[v]) for k, v in names.items()}
        prec = e.eval["precision"][..., 0]
    else:
        import ioukit.lvis

        t0 = time.perf_counter()
        r = ioukit.lvis.evaluate(gt, dt)
        res, prec = r.results, r.precision
    wall = time.perf_counter() - t0
    np.save(out + ".npy", prec)
    with open(out + ".json", "w") as f:
        json.dump({"wall": wall, "results": {k: float(v) for k, v in res.items()}}, f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool (best is shown)")
    ap.add_argument("--skip", nargs="*", default=[], choices=TOOLS)
    args = ap.parse_args()
    CACHE.mkdir(exist_ok=True)
    gt_path, dt_path = CACHE / f"lvis_gt_{args.images}.json", CACHE / f"lvis_dt_{args.images}.json"
    if not gt_path.exists():
        gt, dt = make_lvis(args.images)
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(dt))
    n_dt = len(json.loads(dt_path.read_text()))
    rows, ref = [], None
    for tool in TOOLS:
        if tool in args.skip:
            continue
        best = None
        for _ in range(args.repeat):
            out = str(CACHE / f"out_{tool}")
            subprocess.run(
                [sys.executable, __file__, "--worker", tool, str(gt_path), str(dt_path), out],
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            rep = json.loads(Path(out + ".json").read_text())
            best = rep if best is None or rep["wall"] < best["wall"] else best
        prec = np.load(out + ".npy")
        if tool == "lvis":
            ref = (best["results"], prec)
        same = "-"
        if ref is not None and tool != "lvis":
            eq_res = all(best["results"].get(k) == v for k, v in ref[0].items())
            same = "yes" if eq_res and np.array_equal(prec, ref[1]) else "no"
        rows.append((tool, best["wall"], best["results"].get("AP"), same))
    print(f"\n{args.images} images, {n_dt} detections, 1203 categories\n")
    print("| tool | wall (s) | AP | equal to lvis (results + precision) |")
    print("|---|---:|---:|---|")
    for tool, wall, ap_, same in rows:
        print(f"| {tool} | {wall:.2f} | {ap_} | {same} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(*sys.argv[2:6])
    else:
        main()
