"""Splitting images into shards and slicing the columnar tables by shard (no Dask here).

A shard is a contiguous run of the sorted ``params.imgIds``. Slicing keeps the rows of
each shard in their input order, which is what makes the sharded evaluation equal
to the single-process one: the engine orders GT and detections within an
(image, category) group by file order (pycocotools' stable sorts), and those groups
never straddle shards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..coco import DtTable, GtTable
from ..errors import InvalidParameterError

__all__ = ["Shard", "plan_shards", "shard_of", "slice_gt", "slice_dt", "split_tables"]


@dataclass(frozen=True)
class Shard:
    """One shard: its image ids (sorted, int64 (n,)) and their id range ``[lo, hi]``."""

    index: int
    image_ids: np.ndarray

    @property
    def lo(self) -> int:
        return int(self.image_ids[0]) if self.image_ids.size else 0

    @property
    def hi(self) -> int:
        return int(self.image_ids[-1]) if self.image_ids.size else -1


def plan_shards(image_ids: Sequence[int] | np.ndarray, partitions: int) -> list[Shard]:
    """Split sorted unique image ids into ``partitions`` contiguous shards (<= one per image).

    Example
    -------
    >>> [s.image_ids.tolist() for s in plan_shards([1, 2, 3, 5, 8], 2)]
    [[1, 2, 3], [5, 8]]
    """
    if isinstance(partitions, bool) or not isinstance(partitions, (int, np.integer)):
        raise InvalidParameterError(f"partitions must be a positive integer; got {partitions!r}")
    if partitions < 1:
        raise InvalidParameterError(f"partitions must be a positive integer; got {partitions}")
    ids = np.unique(np.asarray(image_ids, dtype=np.int64))
    n = max(1, min(int(partitions), ids.size))
    return [Shard(i, part) for i, part in enumerate(np.array_split(ids, n))]


def shard_of(values: np.ndarray, shards: Sequence[Shard]) -> np.ndarray:
    """Shard index of each image id (int64, -1 for ids in no shard).

    >>> shard_of(np.array([5, 4, 1]), plan_shards([1, 2, 5], 2)).tolist()
    [1, -1, 0]
    """
    values = np.asarray(values, dtype=np.int64)
    all_ids = np.concatenate([s.image_ids for s in shards]) if shards else np.zeros(0, np.int64)
    owner = (
        np.concatenate([np.full(s.image_ids.size, s.index, np.int64) for s in shards])
        if shards
        else np.zeros(0, np.int64)
    )
    if all_ids.size == 0:
        return np.full(values.shape, -1, np.int64)
    pos = np.minimum(np.searchsorted(all_ids, values), all_ids.size - 1)
    return np.where(all_ids[pos] == values, owner[pos], -1)


def _take(seq: list | None, idx: np.ndarray) -> list | None:
    return None if seq is None else [seq[i] for i in idx]


def slice_gt(gt: GtTable, rows: np.ndarray, image_ids: np.ndarray) -> GtTable:
    """The GT table restricted to annotation ``rows`` (in that order) and ``image_ids``.

    Categories are kept whole (every shard needs the full category list).

    >>> from ioukit.coco import load_gt
    >>> g = load_gt({"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
    ...              "annotations": [{"id": 9, "image_id": 2, "category_id": 1,
    ...                               "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]})
    >>> slice_gt(g, np.array([0]), np.array([2])).image_ids.tolist()
    [2]
    """
    keep = np.isin(gt.image_ids, image_ids)
    return replace(
        gt,
        image_ids=gt.image_ids[keep],
        image_heights=gt.image_heights[keep],
        image_widths=gt.image_widths[keep],
        category_names=dict(gt.category_names),
        ann_id=gt.ann_id[rows],
        ann_image_id=gt.ann_image_id[rows],
        ann_category_id=gt.ann_category_id[rows],
        ann_bbox=np.ascontiguousarray(gt.ann_bbox[rows]),
        ann_area=gt.ann_area[rows],
        ann_iscrowd=gt.ann_iscrowd[rows],
        ann_segmentation=_take(gt.ann_segmentation, rows),
        extra=dict(gt.extra),
    )


def slice_dt(dt: DtTable, rows: np.ndarray) -> DtTable:
    """The detection table restricted to ``rows`` (in that order).

    >>> from ioukit.coco import load_gt, load_dt
    >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []})
    >>> d = load_dt([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": s}
    ...              for s in (0.1, 0.2)], g)
    >>> slice_dt(d, np.array([1])).score.tolist()
    [0.2]
    """
    return replace(
        dt,
        image_id=dt.image_id[rows],
        category_id=dt.category_id[rows],
        bbox=np.ascontiguousarray(dt.bbox[rows]),
        score=dt.score[rows],
        area=dt.area[rows],
        segmentation=_take(dt.segmentation, rows),
    )


def _rows_by_shard(image_id: np.ndarray, shards: Sequence[Shard]) -> list[np.ndarray]:
    owner = shard_of(image_id, shards)
    # stable: rows keep their input order inside a shard; rows of no shard are dropped
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner[owner >= 0], minlength=len(shards))
    start = int(np.searchsorted(owner[order], 0))
    bounds = start + np.r_[0, np.cumsum(counts)]
    return [order[bounds[i] : bounds[i + 1]] for i in range(len(shards))]


def split_tables(
    gt: GtTable, dt: DtTable | None, shards: Sequence[Shard]
) -> Iterator[tuple[GtTable, DtTable | None]]:
    """(GT, detections) of each shard, in one pass over the rows (O(N log N) in all).

    Example
    -------
    >>> from ioukit.coco import prepare
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=8, n_categories=2, polygons=False, seed=0)
    >>> g, d, p = prepare(gt, dt)
    >>> parts = list(split_tables(g, d, plan_shards(p.imgIds, 3)))
    >>> sum(pd.score.size for _, pd in parts) == d.score.size
    True
    """
    g_rows = _rows_by_shard(gt.ann_image_id, shards)
    d_rows = _rows_by_shard(dt.image_id, shards) if dt is not None else None
    for s in shards:
        g = slice_gt(gt, g_rows[s.index], s.image_ids)
        d = slice_dt(dt, d_rows[s.index]) if d_rows is not None else None
        yield g, d


def frame_shards(frame: Any, shards: Sequence[Shard]) -> list[Any]:
    """Split a pandas DataFrame (one partition) by the shard of its ``image_id``.

    Row order is kept within each piece. Used on Dask workers, one call per input
    partition, to co-partition a ``dask.dataframe`` by shard without losing order.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"image_id": [3, 1, 3, 2], "v": [0, 1, 2, 3]})
    >>> [p["v"].tolist() for p in frame_shards(df, plan_shards([1, 2, 3], 2))]
    [[1, 3], [0, 2]]
    """
    owner = shard_of(np.asarray(frame["image_id"], dtype=np.int64), shards)
    return [frame.iloc[np.flatnonzero(owner == s.index)] for s in shards]
