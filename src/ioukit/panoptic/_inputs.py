"""Segments of panoptic annotations as flat arrays (one row per segment, grouped by image).

``segments_info`` lists (panopticapi's JSON format: ``id``, ``category_id``,
``iscrowd``, ``area``) become columns; each image's segments are sorted by id, the
order in which panopticapi's ``np.unique`` visits the (gt id, pred id) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    DatasetError,
    DuplicateIdError,
    IoukitError,
    MissingFieldError,
    UnknownIdError,
)

__all__ = [
    "Categories",
    "Segments",
    "flatten_segments",
    "read_categories",
    "segments_from_columns",
]


@dataclass(frozen=True)
class Categories:
    """The evaluated categories, in the JSON's order (panopticapi averages in it)."""

    ids: np.ndarray  # int64 [K]
    names: list[str]
    isthing: np.ndarray  # bool [K]

    def index_of(self, category_ids: np.ndarray) -> np.ndarray:
        """Dense index of each category id (int32, -1 where unknown)."""
        order = np.argsort(self.ids, kind="stable")
        sorted_ids = self.ids[order]
        pos = np.searchsorted(sorted_ids, category_ids)
        pos = np.minimum(pos, max(len(sorted_ids) - 1, 0))
        found = (sorted_ids[pos] == category_ids) if len(sorted_ids) else np.zeros_like(pos, bool)
        out = np.full(len(category_ids), -1, np.int32)
        out[found] = order[pos[found]]
        return out


def read_categories(categories: Sequence[Mapping[str, Any]], where: str) -> Categories:
    """Categories from a COCO panoptic ``categories`` list (``id``, ``isthing``, ``name``).

    >>> c = read_categories([{"id": 7, "isthing": 1, "name": "cat"}, {"id": 3, "isthing": 0}], "x")
    >>> c.ids.tolist(), c.isthing.tolist(), c.index_of(np.array([3, 5, 7])).tolist()
    ([7, 3], [True, False], [1, -1, 0])
    """
    ids, names, isthing = [], [], []
    for k, c in enumerate(categories):
        try:
            ids.append(int(c["id"]))
            isthing.append(int(c["isthing"]) == 1)
        except KeyError as e:
            raise MissingFieldError(f"{where}: categories[{k}] has no {e.args[0]!r}") from None
        names.append(str(c.get("name", c["id"])))
    arr = np.array(ids, np.int64)
    u, n = np.unique(arr, return_counts=True)
    if np.any(n > 1):
        raise DuplicateIdError(f"{where}: category id {int(u[n > 1][0])} is listed twice")
    return Categories(arr, names, np.array(isthing, bool))


@dataclass(frozen=True)
class Segments:
    """Every segment of one side; image i's are rows ``off[i]:off[i + 1]``, sorted by id."""

    off: np.ndarray  # int64 [n_images + 1]
    ids: np.ndarray  # int64
    cat: np.ndarray  # int32 dense category index, -1 unknown
    category_id: np.ndarray  # int64, as in the JSON
    crowd: np.ndarray  # uint8 (all 0 for predictions)
    area: np.ndarray  # float64 JSON area (NaN where absent)
    pos: np.ndarray  # int64 position in the image's segments_info


def _column(flat: list[dict], key: str, default: Any, lists: Sequence[Any], where: str) -> Any:
    try:
        if default is None:
            return [d[key] for d in flat]
        return [d.get(key, default) for d in flat]
    except (KeyError, TypeError, AttributeError):
        pass
    for i, segs in enumerate(lists):
        for k, d in enumerate(segs):
            if not isinstance(d, Mapping) or key not in d:
                raise MissingFieldError(
                    f"{where}: annotations[{i}].segments_info[{k}] has no {key!r}"
                ) from None
    raise DatasetError(f"{where}: segments_info entries must be objects")  # pragma: no cover


def flatten_segments(
    lists: Sequence[Sequence[Mapping[str, Any]]],
    image_ids: Sequence[Any],
    categories: Categories,
    *,
    gt: bool,
    need_area: bool,
    where: str,
) -> Segments:
    """Flat, per-image sorted columns of ``lists`` (one ``segments_info`` per image).

    Prediction categories must be known (panopticapi raises on an unknown one); GT
    categories that are not listed are kept with index -1 and never counted.

    >>> cats = read_categories([{"id": 1, "isthing": 1}], "x")
    >>> s = flatten_segments([[{"id": 9, "category_id": 1}, {"id": 4, "category_id": 1}]],
    ...                      [0], cats, gt=False, need_area=False, where="pred")
    >>> s.ids.tolist(), s.pos.tolist(), s.off.tolist()
    ([4, 9], [1, 0], [0, 2])
    """
    counts = np.fromiter((len(s) for s in lists), np.int64, len(lists))
    flat = [d for s in lists for d in s]
    n = len(flat)
    try:
        ids = np.array(_column(flat, "id", None, lists, where), np.int64).reshape(n)
        cat_ids = np.array(_column(flat, "category_id", None, lists, where), np.int64).reshape(n)
        if gt:
            crowd = np.array(_column(flat, "iscrowd", 0, lists, where), np.int64).reshape(n)
            area_col = _column(flat, "area", None if need_area else np.nan, lists, where)
            area = np.array(area_col, np.float64).reshape(n)
        else:
            crowd = np.zeros(n, np.int64)
            area = np.full(n, np.nan)
    except IoukitError:
        raise
    except (TypeError, ValueError, OverflowError) as e:
        raise DatasetError(
            f"{where}: segments_info holds a non-numeric id/category/area ({e})"
        ) from None
    return segments_from_columns(
        counts, ids, cat_ids, crowd, area, image_ids, categories, gt=gt, where=where
    )


def segments_from_columns(
    counts: np.ndarray,
    ids: np.ndarray,
    cat_ids: np.ndarray,
    crowd: np.ndarray,
    area: np.ndarray,
    image_ids: Sequence[Any],
    categories: Categories,
    *,
    gt: bool,
    where: str,
) -> Segments:
    """:class:`Segments` from columns in JSON order (``counts`` segments per image).

    >>> cats = read_categories([{"id": 1, "isthing": 1}], "x")
    >>> s = segments_from_columns(np.array([2]), np.array([9, 4]), np.array([1, 1]),
    ...                           np.zeros(2), np.full(2, np.nan), [0], cats,
    ...                           gt=False, where="pred")
    >>> s.ids.tolist(), s.pos.tolist()
    ([4, 9], [1, 0])
    """
    n = len(ids)
    off = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    image = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    pos = np.arange(n, dtype=np.int64) - off[image]
    order = np.lexsort((ids, image))
    ids, cat_ids, crowd, area = ids[order], cat_ids[order], crowd[order], area[order]
    pos, image = pos[order], image[order]
    bad = np.flatnonzero(ids < 1)
    if bad.size:
        j = bad[0]
        raise DatasetError(
            f"{where}: image {image_ids[image[j]]!r} has segment id {int(ids[j])}; ids are >= 1 "
            "(0 is VOID)"
        )
    dup = np.flatnonzero((ids[1:] == ids[:-1]) & (image[1:] == image[:-1]))
    if dup.size:
        j = dup[0]
        raise DuplicateIdError(
            f"{where}: image {image_ids[image[j]]!r} lists segment id {int(ids[j])} twice"
        )
    cat = categories.index_of(cat_ids)
    if not gt and np.any(cat < 0):
        j = int(np.flatnonzero(cat < 0)[0])
        raise UnknownIdError(
            f"{where}: image {image_ids[image[j]]!r}, segment {int(ids[j])} has unknown "
            f"category_id {int(cat_ids[j])}"
        )
    return Segments(off, ids, cat, cat_ids, (crowd == 1).astype(np.uint8), area, pos)
