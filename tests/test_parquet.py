"""ioukit.io.parquet: the Parquet dataset gives back exactly what the JSON loaders give.

Oracle: ``ioukit.coco.load_gt`` / ``load_dt`` on the same JSON (columns compared
with ``==``, row order within each image included) and ``ioukit.coco.evaluate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from ioukit import coco  # noqa: E402
from ioukit.errors import DatasetError, MissingFieldError  # noqa: E402
from ioukit.io.parquet import (  # noqa: E402
    dt_from_columns,
    is_dataset,
    read_categories,
    read_dt,
    read_gt,
    read_images,
    to_parquet,
)
from ioukit.synthetic import make_coco_dataset  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_coco_dataset(n_images=120, n_categories=7, crowd_fraction=0.05, polygons=False)


def _by_image(ids: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """Columns reordered by image id, keeping the order inside each image."""
    order = np.argsort(ids, kind="stable")
    return [c[order] for c in cols]


def test_gt_columns_round_trip(data, tmp_path):
    gt, _ = data
    want = coco.load_gt(gt)
    got = read_gt(to_parquet(gt, tmp_path, rows_per_file=97, row_group_rows=13))
    assert np.array_equal(got.image_ids, want.image_ids)
    assert np.array_equal(got.category_ids, want.category_ids)
    assert got.category_names == want.category_names
    w = _by_image(
        want.ann_image_id,
        want.ann_id,
        want.ann_category_id,
        want.ann_bbox,
        want.ann_area,
        want.ann_iscrowd,
    )
    g = [got.ann_id, got.ann_category_id, got.ann_bbox, got.ann_area, got.ann_iscrowd]
    for a, b in zip(g, w):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_dt_columns_round_trip(data, tmp_path):
    gt, dt = data
    g = coco.load_gt(gt)
    want = coco.load_dt(dt, g)
    got = read_dt(to_parquet(gt, tmp_path, dt=dt, rows_per_file=200), g)
    w = _by_image(want.image_id, want.image_id, want.category_id, want.bbox, want.score, want.area)
    for a, b in zip([got.image_id, got.category_id, got.bbox, got.score, got.area], w):
        assert np.array_equal(a, b)


def test_files_hold_whole_images_and_ranges_read_exactly(data, tmp_path):
    gt, dt = data
    root = Path(to_parquet(gt, tmp_path, dt=dt, rows_per_file=50, row_group_rows=20))
    seen: set[int] = set()
    files = sorted((root / "gt").glob("part-*.parquet"))
    assert len(files) > 3
    for f in files:
        ids = set(pq.read_table(f).column("image_id").to_pylist())
        assert not ids & seen, f"{f.name} shares an image with an earlier file"
        seen |= ids
    g = coco.load_gt(gt)
    lo, hi = 30, 61
    part = read_gt(root, (lo, hi))
    inside = (g.ann_image_id >= lo) & (g.ann_image_id <= hi)
    assert np.array_equal(np.sort(part.ann_id), np.sort(g.ann_id[inside]))
    assert set(part.image_ids.tolist()) == {i for i in g.image_ids.tolist() if lo <= i <= hi}
    d = read_dt(root, part, (lo, hi))
    assert d.score.size == int(
        (
            (np.array([r["image_id"] for r in dt]) >= lo)
            & (np.array([r["image_id"] for r in dt]) <= hi)
        ).sum()
    )


def test_evaluation_identical(data, tmp_path):
    gt, dt = data
    root = to_parquet(gt, tmp_path, dt=dt)
    g = read_gt(root)
    got = coco.evaluate(g, read_dt(root, g))
    want = coco.evaluate(gt, dt)
    for name in ("stats", "precision", "recall", "scores"):
        assert np.array_equal(getattr(got, name), getattr(want, name))


def test_segm_round_trip(coco100: Path, tmp_path):
    gt = coco100 / "instances_val2014_100.json"
    dt = coco100 / "instances_val2014_fakesegm100_results.json"
    root = to_parquet(gt, tmp_path, dt=dt, segmentation=True)
    g = read_gt(root, needs_segmentation=True)
    got = coco.evaluate(g, read_dt(root, g, needs_segmentation=True), "segm")
    ref = np.load(coco100 / "expected_segm.npz")  # pycocotools 2.0.11's arrays
    assert np.array_equal(got.precision, ref["precision"])
    assert np.array_equal(got.recall, ref["recall"])


def test_images_and_categories(tmp_path):
    gt = {
        "images": [{"id": 9, "height": 5, "width": 7}, {"id": 2}],
        "categories": [{"id": 4, "name": "dog"}, {"id": 1, "name": "cat"}],
        "annotations": [],
    }
    root = to_parquet(gt, tmp_path)
    assert is_dataset(root) and not is_dataset(tmp_path / "gt")
    ids, h, w = read_images(root)
    assert (ids.tolist(), h.tolist(), w.tolist()) == ([9, 2], [5, 0], [7, 0])
    assert (read_categories(root)[0].tolist(), read_categories(root)[1]) == ([4, 1], ["dog", "cat"])
    assert read_gt(root).ann_id.size == 0


def test_bad_input(data, tmp_path):
    gt, dt = data
    root = Path(to_parquet(gt, tmp_path, dt=dt))
    g = coco.load_gt(gt)
    rows = pq.read_table(next((root / "dt").glob("part-*.parquet")))
    with pytest.raises(MissingFieldError, match="'score'"):
        dt_from_columns(rows.drop(["score"]), g)
    scores = rows.column("score").to_pylist()
    scores[3] = None
    nulls = rows.set_column(rows.schema.get_field_index("score"), "score", pa.array(scores))
    with pytest.raises(DatasetError, match="row 3 has a missing 'score'"):
        dt_from_columns(nulls, g)
    bad = rows.set_column(
        rows.schema.get_field_index("category_id"),
        "category_id",
        pa.array([99999] * rows.num_rows, pa.int64()),
    )
    with pytest.raises(DatasetError, match="category id 99999"):
        dt_from_columns(bad, g)
    with pytest.raises(DatasetError, match="segmentations"):
        read_gt(root, needs_segmentation=True)
    (root / "_ioukit.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(DatasetError, match="format"):
        read_gt(root)
    with pytest.raises(DatasetError, match="positive"):
        to_parquet(gt, tmp_path / "x", rows_per_file=0)
