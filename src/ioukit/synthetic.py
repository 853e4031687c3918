"""Deterministic COCO-like datasets for tests, benchmarks and demos.

:func:`make_coco_dataset` builds a ground truth dict and a detection list shaped like
COCO val2017 at its default size: 5000 images, 80 long-tailed categories, about 36k
GT with COCO's size mix (41% small, 34% medium, 25% large by the ``area`` field),
about 1% crowd, polygon segmentations (so files have a realistic size), and
detections from a simulated detector: jittered true positives, duplicates and
background false positives, scores rounded to 3 decimals (so equal scores across
images occur, as with real detectors). ``dets_per_image=100`` pads every image to
100 detections, as models emit at a low score threshold.

Everything is drawn from ``numpy.random.default_rng(seed)``: same arguments, same
bytes.

Example
-------
>>> gt, dt = make_coco_dataset(n_images=20, n_categories=5, seed=1)
>>> len(gt["images"]), len(gt["categories"]), sorted(dt[0])
(20, 5, ['bbox', 'category_id', 'image_id', 'score'])
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

__all__ = ["make_coco_dataset", "write_coco_dataset"]

# COCO 2017 area buckets (pycocotools Params.areaRng) and the val2017 mix of GT in them
_BUCKETS = ((1.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 400.0**2))
_MIX = (0.41, 0.34, 0.25)
_SIZES = ((640, 480), (480, 640), (640, 427), (500, 375), (640, 512))


def _polygon(x: float, y: float, w: float, h: float, n: int, rng: np.random.Generator) -> list:
    """A star-ish polygon inscribed in the box (n vertices), coordinates to 2 decimals."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.7, 1.0, n)
    px = x + w / 2 + np.cos(ang) * rad * w / 2
    py = y + h / 2 + np.sin(ang) * rad * h / 2
    return [np.round(np.stack([px, py], 1).ravel(), 2).tolist()]


def make_coco_dataset(
    n_images: int = 5000,
    n_categories: int = 80,
    *,
    gt_per_image: float = 7.3,
    dets_per_image: float = 27.0,
    crowd_fraction: float = 0.01,
    polygons: bool = True,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A COCO ground-truth dict and a list of box results, deterministic in ``seed``.

    Parameters
    ----------
    n_images, n_categories : int
    gt_per_image : float      mean GT per image (COCO val2017: 7.3)
    dets_per_image : float    mean detections per image; ``>= 100`` gives exactly that
                              many per image (dense variant)
    crowd_fraction : float    share of crowd GT
    polygons : bool           attach polygon segmentations to GT
    seed : int

    Returns
    -------
    (gt, dt): ``gt`` has ``images``, ``categories``, ``annotations``; ``dt`` is a list of
    ``{"image_id", "category_id", "bbox", "score"}``.

    Example
    -------
    >>> gt, dt = make_coco_dataset(n_images=50, n_categories=4, dets_per_image=100, seed=0)
    >>> len(dt) == 50 * 100
    True
    """
    rng = np.random.default_rng(seed)
    sizes = np.array(_SIZES)[rng.integers(0, len(_SIZES), n_images)]
    images = [
        {"id": int(i + 1), "width": int(w), "height": int(h), "file_name": f"{i + 1:012d}.jpg"}
        for i, (w, h) in enumerate(sizes)
    ]
    # long tail: Zipf-like category frequencies (person dominates, as in COCO)
    freq = 1.0 / np.arange(1, n_categories + 1) ** 1.1
    freq /= freq.sum()
    cat_ids = np.arange(1, n_categories + 1) + np.cumsum(rng.integers(0, 2, n_categories))
    categories = [
        {"id": int(c), "name": f"class_{j:02d}", "supercategory": f"super_{j // 8}"}
        for j, c in enumerate(cat_ids)
    ]
    n_gt_img = rng.poisson(gt_per_image, n_images)
    n_gt_img[rng.random(n_images) < 0.01] = 0  # a few empty images
    n = int(n_gt_img.sum())
    img_of = np.repeat(np.arange(n_images), n_gt_img)
    cat_of = cat_ids[rng.choice(n_categories, n, p=freq)]
    bucket = rng.choice(3, n, p=_MIX)
    lo = np.array([b[0] for b in _BUCKETS])[bucket]
    hi = np.array([b[1] for b in _BUCKETS])[bucket]
    area = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    fill = rng.uniform(0.55, 0.95, n)  # mask area / box area
    aspect = np.exp(rng.normal(0, 0.5, n))
    box_area = area / fill
    w = np.sqrt(box_area * aspect)
    h = box_area / w
    iw = sizes[img_of, 0].astype(float)
    ih = sizes[img_of, 1].astype(float)
    w = np.minimum(w, iw * 0.98)
    h = np.minimum(h, ih * 0.98)
    x = rng.uniform(0, iw - w)
    y = rng.uniform(0, ih - h)
    w, h, x, y = (np.round(v, 2) for v in (w, h, x, y))
    area = np.floor(np.minimum(area, w * h) * 100) / 100
    crowd = rng.random(n) < crowd_fraction
    n_vert = rng.integers(12, 40, n)
    annotations = []
    for i in range(n):
        ann = {
            "id": i + 1,
            "image_id": int(img_of[i] + 1),
            "category_id": int(cat_of[i]),
            "bbox": [float(x[i]), float(y[i]), float(w[i]), float(h[i])],
            "area": float(area[i]),
            "iscrowd": int(crowd[i]),
        }
        if polygons:
            ann["segmentation"] = _polygon(x[i], y[i], w[i], h[i], int(n_vert[i]), rng)
        annotations.append(ann)
    gt = {
        "info": {"description": "ioukit synthetic COCO-like set", "seed": seed},
        "images": images,
        "categories": categories,
        "annotations": annotations,
    }
    dt = _detections(rng, x, y, w, h, img_of, cat_of, cat_ids, freq, sizes, dets_per_image)
    return gt, dt


def _detections(rng, x, y, w, h, img_of, cat_of, cat_ids, freq, sizes, dets_per_image):
    n = x.size
    n_images = sizes.shape[0]
    # true-positive candidates: most GT found once, some twice (duplicates)
    found = rng.random(n) < 0.85
    dup = found & (rng.random(n) < 0.25)
    src = np.r_[np.flatnonzero(found), np.flatnonzero(dup)]
    jit = rng.normal(0, 0.08, (src.size, 4)) * np.c_[w[src], h[src], w[src], h[src]]
    tx = x[src] + jit[:, 0]
    ty = y[src] + jit[:, 1]
    tw = np.maximum(w[src] + jit[:, 2], 1.0)
    th = np.maximum(h[src] + jit[:, 3], 1.0)
    t_img = img_of[src]
    wrong = rng.random(src.size) < 0.08  # confused class
    t_cat = np.where(wrong, cat_ids[rng.choice(cat_ids.size, src.size, p=freq)], cat_of[src])
    t_score = np.clip(rng.beta(5, 2, src.size) - 0.3 * (np.arange(src.size) >= found.sum()), 0, 1)
    per_img_tp = np.bincount(t_img, minlength=n_images)
    if dets_per_image >= 100:
        n_fp = np.maximum(int(dets_per_image) - per_img_tp, 0)
    else:
        n_fp = rng.poisson(max(dets_per_image - per_img_tp.mean(), 0.5), n_images)
    m = int(n_fp.sum())
    f_img = np.repeat(np.arange(n_images), n_fp)
    fw = np.exp(rng.uniform(np.log(4), np.log(300), m))
    fh = fw * np.exp(rng.normal(0, 0.5, m))
    fiw = sizes[f_img, 0].astype(float)
    fih = sizes[f_img, 1].astype(float)
    fw = np.minimum(fw, fiw - 1)
    fh = np.minimum(fh, fih - 1)
    fx = rng.uniform(0, fiw - fw)
    fy = rng.uniform(0, fih - fh)
    f_cat = cat_ids[rng.choice(cat_ids.size, m, p=freq)]
    f_score = rng.beta(1.2, 6, m)
    img = np.r_[t_img, f_img]
    cat = np.r_[t_cat, f_cat]
    bx = np.round(np.c_[np.r_[tx, fx], np.r_[ty, fy], np.r_[tw, fw], np.r_[th, fh]], 2)
    bx[:, 2:] = np.maximum(bx[:, 2:], 0.01)
    score = np.round(np.r_[t_score, f_score], 3)
    # detector output order: by image, then arbitrary
    order = np.lexsort((rng.random(img.size), img))
    if dets_per_image >= 100:
        pos = np.arange(order.size) - np.repeat(
            np.searchsorted(img[order], np.arange(n_images)), np.bincount(img, minlength=n_images)
        )
        keep = pos < int(dets_per_image)
        order = order[keep]
    bl = bx[order].tolist()
    il = (img[order] + 1).tolist()
    cl = cat[order].tolist()
    sl = score[order].tolist()
    return [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(il, cl, bl, sl)
    ]


def write_coco_dataset(
    directory: str | os.PathLike, name: str = "synthetic", **kw: Any
) -> tuple[str, str]:
    """Write :func:`make_coco_dataset` output as ``<name>_gt.json`` and ``<name>_dt.json``.

    Returns the two paths. Keyword arguments go to :func:`make_coco_dataset`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     g, r = write_coco_dataset(d, n_images=5, n_categories=2)
    ...     os.path.basename(g), os.path.basename(r)
    ('synthetic_gt.json', 'synthetic_dt.json')
    """
    os.makedirs(directory, exist_ok=True)
    gt, dt = make_coco_dataset(**kw)
    g = os.path.join(os.fspath(directory), f"{name}_gt.json")
    r = os.path.join(os.fspath(directory), f"{name}_dt.json")
    with open(g, "w") as f:
        json.dump(gt, f, separators=(",", ":"))
    with open(r, "w") as f:
        json.dump(dt, f, separators=(",", ":"))
    return g, r
