"""JSON loading: stdlib json vs msgspec (typed) vs ioukit's byte scanner.

Generates (deterministically, NumPy RNG) a val2017-scale COCO ground truth (5000
images, ~36k annotations with polygon segmentations, ~1% crowd with RLE, ~28 MB)
and a 134k-detection results file (float32-valued boxes and scores, written with
full repr precision as detectron2/mmdet do), writes them under benchmarks/.cache/,
then times, for each file, bytes -> columns:

* ``json.load`` (plus building the columns with NumPy),
* msgspec typed ``Struct`` decoding of only the needed fields (+ columns),
* ``ioukit.io._jsonscan`` on its first call in a fresh process (import included;
  the kernels are compiled at install, so nothing is compiled here) and warm.

Every method's columns are checked against ``json.load`` bit for bit; the table is
printed, never asserted. Run: ``bash benchmarks/run.sh benchmarks/bench_jsonscan.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    import msgspec
except ImportError:  # pragma: no cover - peer missing
    msgspec = None

if msgspec is not None:

    class Img(msgspec.Struct):
        id: int
        height: int
        width: int

    class Ann(msgspec.Struct):
        id: int
        image_id: int
        category_id: int
        bbox: list[float]
        area: float
        segmentation: msgspec.Raw
        iscrowd: int = 0

    class Cat(msgspec.Struct):
        id: int
        name: str
        supercategory: str = ""

    class GT(msgspec.Struct):
        images: list[Img]
        annotations: list[Ann]
        categories: list[Cat]

    class Det(msgspec.Struct):
        image_id: int
        category_id: int
        bbox: list[float]
        score: float


CACHE = Path(__file__).resolve().parent / ".cache"
GT_PATH = CACHE / "jsonscan_gt_val2017_like.json"
DT_PATH = CACHE / "jsonscan_results_134k.json"
REPEAT = 5


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[float]:
    k = int(rng.integers(14, 64))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = rng.uniform(0.6, 1.0, k)
    px = x + w / 2 + np.cos(ang) * r * w / 2
    py = y + h / 2 + np.sin(ang) * r * h / 2
    return np.round(np.stack([px, py], 1).ravel(), 2).tolist()


def generate(seed: int = 0) -> None:
    """Write the GT and results files (skipped when they already exist)."""
    if GT_PATH.exists() and DT_PATH.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_img, n_cat = 5000, 80
    img_ids = np.sort(rng.choice(600000, n_img, replace=False)) + 1
    cat_ids = np.array(
        [c for c in range(1, 91) if c not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
    )
    # Long-tailed category frequencies (Zipf-like), as COCO's person-heavy mix.
    freq = 1.0 / np.arange(1, n_cat + 1) ** 1.1
    freq /= freq.sum()
    images, anns = [], []
    ann_id = 1
    for iid in img_ids.tolist():
        W, H = (640, 480) if rng.random() < 0.6 else (int(rng.integers(300, 641)), 640)
        images.append(
            {
                "license": int(rng.integers(1, 9)),
                "file_name": f"{iid:012d}.jpg",
                "coco_url": f"http://images.cocodataset.org/val2017/{iid:012d}.jpg",
                "height": H,
                "width": W,
                "date_captured": "2013-11-14 17:02:52",
                "flickr_url": f"http://farm7.staticflickr.com/6116/{iid}_cbb3c.jpg",
                "id": iid,
            }
        )
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
            bbox = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            crowd = rng.random() < 0.01
            if crowd:
                counts = rng.integers(1, 200, int(rng.integers(20, 200))).tolist()
                counts.append(W * H - sum(counts))
                seg: object = {"counts": counts, "size": [H, W]}
            else:
                seg = [_polygon(rng, x, y, w, h) for _ in range(1 if rng.random() < 0.9 else 2)]
            anns.append(
                {
                    "segmentation": seg,
                    "area": float(w * h * rng.uniform(0.5, 0.9)),
                    "iscrowd": int(crowd),
                    "image_id": iid,
                    "bbox": bbox,
                    "category_id": int(rng.choice(cat_ids, p=freq)),
                    "id": ann_id,
                }
            )
            ann_id += 1
    cats = [
        {"supercategory": f"super{c % 12}", "id": int(c), "name": f"class_{c}"} for c in cat_ids
    ]
    gt = {
        "info": {"description": "ioukit synthetic val2017-like", "version": "1.0", "year": 2017},
        "licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": 1, "name": "CC"}],
        "images": images,
        "annotations": anns,
        "categories": cats,
    }
    GT_PATH.write_text(json.dumps(gt, separators=(",", ":")))
    n_det = 134_000
    d_img = rng.choice(img_ids, n_det)
    d_cat = rng.choice(cat_ids, n_det, p=freq)
    xywh = np.stack(
        [
            rng.uniform(0, 600, n_det),
            rng.uniform(0, 440, n_det),
            rng.uniform(2, 300, n_det),
            rng.uniform(2, 300, n_det),
        ],
        1,
    ).astype(np.float32)
    score = rng.uniform(0.05, 1.0, n_det).astype(np.float32)
    # float32 values widened to Python floats: 17-significant-digit reprs, the hard case.
    dets = [
        {"image_id": int(i), "category_id": int(c), "bbox": b, "score": s}
        for i, c, b, s in zip(d_img.tolist(), d_cat.tolist(), xywh.tolist(), score.tolist())
    ]
    DT_PATH.write_text(json.dumps(dets))


def _best(fn, repeat: int = REPEAT) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _cols_from_json(gt: dict, dt: list) -> dict[str, np.ndarray]:
    anns = gt["annotations"]
    return {
        "ann_id": np.array([a["id"] for a in anns], dtype=np.int64),
        "ann_bbox": np.array([a["bbox"] for a in anns], dtype=np.float64),
        "ann_area": np.array([a["area"] for a in anns], dtype=np.float64),
        "img_id": np.array([i["id"] for i in gt["images"]], dtype=np.int64),
        "dt_bbox": np.array([d["bbox"] for d in dt], dtype=np.float64),
        "dt_score": np.array([d["score"] for d in dt], dtype=np.float64),
        "dt_image_id": np.array([d["image_id"] for d in dt], dtype=np.int64),
    }


def _equal(a: dict, b: dict) -> bool:
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.shape != y.shape or not np.array_equal(x.view(np.int64), y.view(np.int64)):
            return False
    return True


def main() -> None:
    t0 = time.perf_counter()
    generate()
    gt_bytes, dt_bytes = GT_PATH.read_bytes(), DT_PATH.read_bytes()
    gen_s = time.perf_counter() - t0
    n_ann = gt_bytes.count(b'"segmentation"')
    print(
        f"GT {len(gt_bytes) / 1e6:.1f} MB ({n_ann} annotations), "
        f"results {len(dt_bytes) / 1e6:.1f} MB "
        f"(134000 detections); generate/read {gen_s:.1f} s; best of {REPEAT}"
    )
    rows: list[tuple[str, float, float, str]] = []

    def load_json():
        gt = json.loads(gt_bytes)
        dt = json.loads(dt_bytes)
        return _cols_from_json(gt, dt)

    t_json_gt, _ = _best(lambda: json.loads(gt_bytes), 2)
    t_json_dt, _ = _best(lambda: json.loads(dt_bytes), 2)
    t_json_cols, ref = _best(load_json, 2)
    rows.append(("json.loads (decode only)", t_json_gt, t_json_dt, "yes"))
    rows.append(("json.loads + NumPy columns", float("nan"), float("nan"), "reference"))
    json_total = t_json_cols

    if msgspec is None:
        print("msgspec skipped: not installed")
    ms_total = float("nan")
    if msgspec is not None:
        dec_gt = msgspec.json.Decoder(GT)
        dec_dt = msgspec.json.Decoder(list[Det])

        def ms_cols():
            g = dec_gt.decode(gt_bytes)
            d = dec_dt.decode(dt_bytes)
            a = g.annotations
            return {
                "ann_id": np.array([x.id for x in a], dtype=np.int64),
                "ann_bbox": np.array([x.bbox for x in a], dtype=np.float64),
                "ann_area": np.array([x.area for x in a], dtype=np.float64),
                "img_id": np.array([x.id for x in g.images], dtype=np.int64),
                "dt_bbox": np.array([x.bbox for x in d], dtype=np.float64),
                "dt_score": np.array([x.score for x in d], dtype=np.float64),
                "dt_image_id": np.array([x.image_id for x in d], dtype=np.int64),
            }

        t_ms_gt, _ = _best(lambda: dec_gt.decode(gt_bytes))
        t_ms_dt, _ = _best(lambda: dec_dt.decode(dt_bytes))
        ms_total, ms_out = _best(ms_cols)
        rows.append(("msgspec typed Struct (decode only)", t_ms_gt, t_ms_dt, "yes"))
        rows.append(
            ("msgspec typed + NumPy columns", float("nan"), float("nan"), str(_equal(ref, ms_out)))
        )

    # First call: a fresh process (import + both scans), best of a few.
    code = (
        "import time; t0 = time.perf_counter();"
        "from ioukit.io._jsonscan import scan_coco_gt, scan_coco_results;"
        f"g = scan_coco_gt(open({str(GT_PATH)!r}, 'rb').read());"
        f"d = scan_coco_results(open({str(DT_PATH)!r}, 'rb').read());"
        "print(time.perf_counter() - t0)"
    )
    cold = float("inf")
    for _ in range(3):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if p.returncode != 0:
            print("first-call run failed:", p.stderr[-2000:])
            cold = float("nan")
            break
        cold = min(cold, float(p.stdout.strip()))

    from ioukit.io._jsonscan import scan_coco_gt, scan_coco_results

    scan_coco_gt(b'{"images": []}')  # import and first call done: now warm
    t_sc_gt, g = _best(lambda: scan_coco_gt(gt_bytes))
    t_sc_dt, d = _best(lambda: scan_coco_results(dt_bytes))
    sc_out = {
        "ann_id": g["annotations"]["id"],
        "ann_bbox": g["annotations"]["bbox"],
        "ann_area": g["annotations"]["area"],
        "img_id": g["images"]["id"],
        "dt_bbox": d["bbox"],
        "dt_score": d["score"],
        "dt_image_id": d["image_id"],
    }
    rows.append(("ioukit scanner, warm (columns)", t_sc_gt, t_sc_dt, str(_equal(ref, sc_out))))
    sc_total = t_sc_gt + t_sc_dt
    # The kernel releases the GIL, so a loader can scan both files at once on 2 cores.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:

        def both():
            f1 = ex.submit(scan_coco_gt, gt_bytes)
            f2 = ex.submit(scan_coco_results, dt_bytes)
            return f1.result(), f2.result()

        t_par, _ = _best(both)

    print(
        f"\n{'method':40s} {'GT s':>8s} {'results s':>10s} {'total s':>8s} {'x json':>7s}"
        "  bit-identical"
    )
    for name, a, b, ok in rows:
        tot = a + b if a == a else (json_total if "json.loads +" in name else ms_total)
        print(f"{name:40s} {a:8.3f} {b:10.3f} {tot:8.3f} {json_total / tot:7.1f}  {ok}")
    print(f"{'ioukit scanner, warm, 2 threads':40s} {'':8s} {'':10s} {t_par:8.3f}")
    print(f"{'ioukit scanner, first call (fresh process)':40s} {'':8s} {'':10s} {cold:8.3f}")
    if ms_total == ms_total:
        print(
            f"\nscanner vs msgspec+columns: {ms_total / sc_total:.1f}x faster; "
            f"vs json+columns: {json_total / sc_total:.1f}x faster"
        )


if __name__ == "__main__":
    main()
