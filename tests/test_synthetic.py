"""ioukit.synthetic: deterministic, COCO-shaped."""

from __future__ import annotations

import json

import numpy as np

from ioukit.synthetic import make_coco_dataset, write_coco_dataset


def test_deterministic_in_seed():
    a = make_coco_dataset(n_images=30, n_categories=5, seed=3)
    b = make_coco_dataset(n_images=30, n_categories=5, seed=3)
    c = make_coco_dataset(n_images=30, n_categories=5, seed=4)
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(c)


def test_coco_like_mix():
    gt, dt = make_coco_dataset(n_images=1500, n_categories=80, seed=0)
    area = np.array([a["area"] for a in gt["annotations"]])
    # COCO val2017: 41% small, 34% medium, 25% large; ~7.3 GT and ~27 detections per image
    assert abs((area < 32**2).mean() - 0.41) < 0.03
    assert abs(((area >= 32**2) & (area < 96**2)).mean() - 0.34) < 0.03
    assert abs(len(gt["annotations"]) / 1500 - 7.3) < 0.5
    assert abs(len(dt) / 1500 - 27) < 2
    crowd = np.mean([a["iscrowd"] for a in gt["annotations"]])
    assert 0.003 < crowd < 0.02
    counts = np.bincount([a["category_id"] for a in gt["annotations"]])
    counts = np.sort(counts[counts > 0])[::-1]
    assert counts[0] > 10 * counts[-1]  # long tail
    ids = [a["id"] for a in gt["annotations"]]
    assert len(set(ids)) == len(ids) and min(ids) >= 1
    for a in gt["annotations"][:50]:
        x, y, w, h = a["bbox"]
        assert w > 0 and h > 0 and a["area"] <= w * h + 1e-9
        assert len(a["segmentation"][0]) % 2 == 0


def test_dense_variant_and_files(tmp_path):
    gt, dt = make_coco_dataset(n_images=12, n_categories=3, dets_per_image=100, seed=1)
    per_img = np.bincount([d["image_id"] for d in dt])
    assert (per_img[1:] == 100).all()
    g, r = write_coco_dataset(tmp_path, n_images=12, n_categories=3, seed=1)
    assert json.loads(open(g).read())["images"][0]["id"] == 1
    assert isinstance(json.loads(open(r).read()), list)
