"""Random panoptic ground truth and perturbed predictions, for tests and benchmarks.

Ground truth: a stuff background, rectangles of things and stuff (a few crowd), some
VOID; predictions: the GT shifted by a few pixels with segments dropped, merged,
relabelled and a few spurious rectangles added. Segment ids are random in
``[1, 2**24)`` (they must fit the PNG's RGB encoding).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._png import write_png

__all__ = ["random_panoptic", "write_panoptic"]

Image = tuple[np.ndarray, list[dict[str, Any]]]


def _categories(n: int) -> list[dict[str, Any]]:
    n_things = (n * 3) // 5
    return [
        {"id": k + 1, "name": f"{'thing' if k < n_things else 'stuff'}{k + 1}",
         "isthing": int(k < n_things)}
        for k in range(n)
    ]  # fmt: skip


def _segments(ids: np.ndarray, cat_of: dict[int, int], crowd: set[int]) -> list[dict[str, Any]]:
    u, c = np.unique(ids, return_counts=True)
    return [
        {"id": int(s), "category_id": cat_of[int(s)], "iscrowd": int(int(s) in crowd),
         "area": int(a)}
        for s, a in zip(u.tolist(), c.tolist())
        if s != 0
    ]  # fmt: skip


def _fresh_ids(rng: np.random.Generator, n: int) -> list[int]:
    return [int(x) + 1 for x in rng.choice((1 << 24) - 1, size=n, replace=False)]


def random_panoptic(
    n_images: int,
    *,
    height: int = 256,
    width: int = 256,
    n_segments: int = 20,
    n_categories: int = 20,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], list[Image], list[Image]]:
    """``(categories, gt, pred)``: images as ``(id_map, segments_info)`` pairs.

    >>> cats, gt, pred = random_panoptic(2, height=32, width=32, n_segments=5)
    >>> len(gt), gt[0][0].shape, {"id", "category_id", "iscrowd", "area"} <= set(gt[0][1][0])
    (2, (32, 32), True)
    """
    rng = np.random.default_rng(seed)
    cats = _categories(n_categories)
    things = [c["id"] for c in cats if c["isthing"]] or [cats[0]["id"]]
    stuff = [c["id"] for c in cats if not c["isthing"]] or [cats[-1]["id"]]
    all_ids = [c["id"] for c in cats]
    gts: list[Image] = []
    preds: list[Image] = []
    for _ in range(n_images):
        sids = _fresh_ids(rng, 2 * n_segments + 8)
        ids = np.full((height, width), sids[0], np.int64)
        cat_of = {sids[0]: int(rng.choice(stuff))}
        crowd: set[int] = set()
        for k in range(1, n_segments):
            h = int(rng.integers(max(1, height // 16), max(2, height // 2)))
            w = int(rng.integers(max(1, width // 16), max(2, width // 2)))
            y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
            ids[y : y + h, x : x + w] = sids[k]
            thing = rng.random() < 0.6
            cat_of[sids[k]] = int(rng.choice(things if thing else stuff))
            if thing and rng.random() < 0.08:
                crowd.add(sids[k])
        if rng.random() < 0.5:  # a VOID band
            y = int(rng.integers(0, height))
            ids[y : y + max(1, height // 20), :] = 0
        gts.append((ids, _segments(ids, cat_of, crowd)))
        # prediction: shifted GT, then segment-level edits
        dy, dx = (int(v) for v in rng.integers(-3, 4, 2))
        p = np.roll(ids, (dy, dx), axis=(0, 1))
        pcat = {s: c for s, c in cat_of.items()}
        present = [int(s) for s in np.unique(p) if s != 0]
        for s in present:
            r = rng.random()
            if r < 0.08:  # dropped: becomes VOID
                p[p == s] = 0
            elif r < 0.16 and len(present) > 1:  # merged into another segment
                p[p == s] = present[int(rng.integers(0, len(present)))]
            elif r < 0.24:  # relabelled
                pcat[s] = int(rng.choice(all_ids))
        for k in range(int(rng.integers(0, 3))):  # spurious segments
            s = sids[n_segments + k]
            h = int(rng.integers(2, max(3, height // 6)))
            w = int(rng.integers(2, max(3, width // 6)))
            y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
            p[y : y + h, x : x + w] = s
            pcat[s] = int(rng.choice(all_ids))
        # predictions get their own ids (a model does not know the GT's)
        u = np.unique(p)
        new = dict(zip(u.tolist(), [0] + _fresh_ids(rng, len(u))[: len(u) - 1]))
        if u[0] != 0:
            new = dict(zip(u.tolist(), _fresh_ids(rng, len(u))))
        lut_from, lut_to = np.array(list(new)), np.array(list(new.values()))
        p = lut_to[np.searchsorted(lut_from, p)]
        pred_cat = {new[s]: pcat[s] for s in u.tolist() if s != 0}
        segs = _segments(p, pred_cat, set())
        for d in segs:
            del d["iscrowd"]
        preds.append((p, segs))
    return cats, gts, preds


def write_panoptic(
    json_path: str | os.PathLike[str],
    images: Sequence[Image],
    categories: Sequence[dict[str, Any]],
    *,
    folder: str | os.PathLike[str] | None = None,
    image_ids: Sequence[Any] | None = None,
) -> str:
    """Write images as panopticapi's files: PNGs in ``folder`` (default: the JSON path
    without ``.json``) and the JSON; returns the folder.

    >>> import tempfile
    >>> cats, gt, _ = random_panoptic(1, height=8, width=8, n_segments=3)
    >>> d = tempfile.mkdtemp()
    >>> os.path.basename(write_panoptic(f"{d}/gt.json", gt, cats))
    'gt'
    """
    json_path = os.fspath(json_path)
    out = os.fspath(folder) if folder is not None else json_path.replace(".json", "")
    os.makedirs(out, exist_ok=True)
    ids = list(range(len(images))) if image_ids is None else list(image_ids)
    anns = []
    for image_id, (id_map, segs) in zip(ids, images):
        name = f"{image_id:012d}.png" if isinstance(image_id, int) else f"{image_id}.png"
        write_png(os.path.join(out, name), id_map)
        anns.append({"image_id": image_id, "file_name": name, "segments_info": list(segs)})
    doc = {
        "images": [{"id": i, "file_name": a["file_name"]} for i, a in zip(ids, anns)],
        "annotations": anns,
        "categories": list(categories),
    }
    with open(json_path, "w") as fh:
        json.dump(doc, fh)
    return out
