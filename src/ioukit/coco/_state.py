"""The mergeable evaluation state: per-image match records.

An :class:`EvalState` holds, for every kept detection (the best ``maxDets[-1]`` of
each image and category), its image id, category index, score, rank within its image
and category, and its outcome per area range and IoU threshold; plus, per category
and area range, the number of non-ignored GT. No boxes are kept. Optionally
(``keep_matches=True``) it also keeps the match records: which detection row each
record is, and per IoU threshold the matched GT id and its IoU (area range "all").

States of disjoint image sets merge by concatenation; :func:`accumulate` sorts the
records itself, so the result does not depend on merge order or on how images were
split.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import field, replace
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import DuplicateIdError, InvalidParameterError
from ._params import Params

__all__ = ["EvalState", "merge_states"]


@lightclass
class EvalState:
    """Per-image match records of an evaluation (N kept detections).

    Attributes
    ----------
    params : Params           ``imgIds`` = the images this state covers
    image_ids : int64 (I,)    sorted, unique
    dt_image_id : int64 (N,)
    dt_category : int64 (N,)  index into ``params.catIds`` (0 for every record with useCats=0)
    dt_score : float64 (N,)
    dt_rank : int64 (N,)      0 = best detection of its image and category
    (records are ordered by image, then rank, within each category)
    dt_flags : uint8 (N, A, T)  0 false positive, 1 true positive, 2 ignored
    num_gt : int64 (K, A)     non-ignored GT per category and area range
    num_dt : int64 (K,)       detections per category, before the maxDets cut
    fix_zero_id : bool
    category_names : dict[int, str]
    matches : dict or None    match records, aligned with the records (``keep_matches``):
        ``dt_row`` int64 (N,) the detection's row in the results (input order);
        ``gt_id`` int64 (N, T) the GT matched at each IoU threshold (area range "all"),
        -1 for none; ``iou`` float64 (N, T) its IoU, NaN for none; ``best_gt_id`` int64
        (N,) / ``best_iou`` float64 (N,) the best-IoU GT of the same image and category
        (-1 / 0 without GT). See :meth:`match_table`.
    protocol : str            "coco", or the protocol whose rules made the records

    Example
    -------
    >>> s = EvalState.empty(Params(catIds=[1, 2]))
    >>> s.merge(EvalState.empty(Params(catIds=[1, 2]))).num_gt.shape
    (2, 4)
    """

    params: Params
    image_ids: np.ndarray
    dt_image_id: np.ndarray
    dt_category: np.ndarray
    dt_score: np.ndarray
    dt_rank: np.ndarray
    dt_flags: np.ndarray
    num_gt: np.ndarray
    num_dt: np.ndarray
    fix_zero_id: bool = False
    category_names: dict[int, str] = field(default_factory=dict)
    matches: dict[str, np.ndarray] | None = None
    protocol: str = "coco"

    @classmethod
    def empty(
        cls,
        params: Params,
        fix_zero_id: bool = False,
        category_names: dict | None = None,
        protocol: str = "coco",
    ) -> EvalState:
        """A state covering no image (the identity of :meth:`merge`)."""
        k = len(params.catIds) if params.useCats else 1
        a, t = len(params.areaRng), len(params.iouThrs)
        return cls(
            params=replace(params, imgIds=[]),
            image_ids=np.zeros(0, np.int64),
            dt_image_id=np.zeros(0, np.int64),
            dt_category=np.zeros(0, np.int64),
            dt_score=np.zeros(0, np.float64),
            dt_rank=np.zeros(0, np.int64),
            dt_flags=np.zeros((0, a, t), np.uint8),
            num_gt=np.zeros((k, a), np.int64),
            num_dt=np.zeros(k, np.int64),
            fix_zero_id=fix_zero_id,
            category_names=dict(category_names or {}),
            protocol=protocol,
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the record arrays."""
        return sum(a.nbytes for a in self.to_arrays().values())

    def merge(self, other: EvalState) -> EvalState:
        """Combine with the state of a disjoint set of images.

        Raises InvalidParameterError when the parameters differ and DuplicateIdError when
        both states cover the same image.
        """
        return merge_states([self, other])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The record arrays by name (e.g. for ``np.savez`` or a Dask shard); the match
        records, when kept, as ``match_<name>``."""
        out = {
            "image_ids": self.image_ids,
            "dt_image_id": self.dt_image_id,
            "dt_category": self.dt_category,
            "dt_score": self.dt_score,
            "dt_rank": self.dt_rank,
            "dt_flags": self.dt_flags,
            "num_gt": self.num_gt,
            "num_dt": self.num_dt,
        }
        for name, arr in (self.matches or {}).items():
            out[f"match_{name}"] = arr
        return out

    def match_table(self, iou_threshold: float | None = None, *, as_frame: bool = False) -> Any:
        """The match records, one row per kept detection, by image id, then results order.

        Columns: ``dt_row`` (the detection's index in the results), ``image_id``,
        ``category_id``, ``score``, ``best_gt_id``, ``best_iou``, and per IoU threshold
        (area range "all") ``flag`` (0 false positive, 1 true positive, 2 ignored),
        ``gt_id`` (-1: none) and ``iou`` (NaN: none): (N, T) arrays, or (N,) with
        ``iou_threshold`` (one of ``params.iouThrs``, matched within 1e-9). With
        ``as_frame`` a pandas DataFrame: one row per detection with ``iou_threshold``,
        else one row per (detection, threshold) with an ``iou_threshold`` column.

        Raises InvalidParameterError when the state was made without ``keep_matches``.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
        ...       "annotations": [{"id": 7, "image_id": 1, "category_id": 1,
        ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
        >>> dts = [{"image_id": 1, "category_id": 1, "bbox": [50, 50, 5, 5], "score": 0.3},
        ...        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}]
        >>> r = evaluate(gt, dts, keep_matches=True)
        >>> m = r.state.match_table(0.5)
        >>> m["dt_row"].tolist(), m["gt_id"].tolist(), m["iou"].tolist(), m["flag"].tolist()
        ([0, 1], [-1, 7], [nan, 0.9], [0, 1])
        """
        if self.matches is None:
            raise InvalidParameterError(
                "no match records: evaluate with keep_matches=True to keep them"
            )
        p = self.params
        thr = np.asarray(p.iouThrs, dtype=np.float64)
        lbl = list(p.areaRngLbl)
        a = lbl.index("all") if "all" in lbl else 0
        # by image, then detection row (the results order within an image)
        order = np.lexsort((self.matches["dt_row"], self.dt_image_id))
        cats = np.asarray(p.catIds, dtype=np.int64) if p.useCats else np.array([-1])
        cols: dict[str, np.ndarray] = {
            "dt_row": self.matches["dt_row"][order],
            "image_id": self.dt_image_id[order],
            "category_id": cats[self.dt_category[order]] if cats.size else self.dt_category,
            "score": self.dt_score[order],
            "best_gt_id": self.matches["best_gt_id"][order],
            "best_iou": self.matches["best_iou"][order],
        }
        per_t = {
            "flag": self.dt_flags[order, a, :],
            "gt_id": self.matches["gt_id"][order],
            "iou": self.matches["iou"][order],
        }
        if iou_threshold is not None:
            from ..metrics import threshold_index  # the one look-up (one tolerance)

            t = threshold_index(thr, iou_threshold)
            cols.update({k: v[:, t] for k, v in per_t.items()})
            if not as_frame:
                return cols
            import pandas as pd

            return pd.DataFrame(cols).assign(iou_threshold=thr[t])
        if not as_frame:
            return {**cols, **per_t, "iou_thresholds": thr.copy()}
        import pandas as pd

        n, n_t = per_t["flag"].shape
        long = {k: np.repeat(v, n_t) for k, v in cols.items()}
        long["iou_threshold"] = np.tile(thr, n)
        long.update({k: v.reshape(-1) for k, v in per_t.items()})
        return pd.DataFrame(long)


def merge_states(states: Iterable[EvalState]) -> EvalState:
    """Merge states of disjoint image sets; the result is canonical (sorted by image).

    Example
    -------
    >>> from ioukit.coco._params import Params
    >>> p = Params(catIds=[1])
    >>> merge_states([EvalState.empty(p), EvalState.empty(p)]).image_ids.size
    0
    """
    states = list(states)
    if not states:
        raise InvalidParameterError("merge_states needs at least one state")
    first = states[0]
    fp = first.params.fingerprint()
    for s in states[1:]:
        if s.protocol != first.protocol:
            raise InvalidParameterError(
                f"cannot merge a {first.protocol!r} state with a {s.protocol!r} state"
            )
        if s.params.fingerprint() != fp or s.fix_zero_id != first.fix_zero_id:
            raise InvalidParameterError(
                "cannot merge evaluation states made with different parameters "
                f"({first.params.to_dict() | {'imgIds': '...'}} vs "
                f"{s.params.to_dict() | {'imgIds': '...'}})"
            )
    image_ids = np.concatenate([s.image_ids for s in states])
    order = np.argsort(image_ids, kind="stable")
    image_ids = image_ids[order]
    dup = np.flatnonzero(image_ids[1:] == image_ids[:-1])
    if dup.size:
        raise DuplicateIdError(
            f"image id {int(image_ids[dup[0]])} is covered by two of the merged states"
        )
    img = np.concatenate([s.dt_image_id for s in states])
    cat = np.concatenate([s.dt_category for s in states])
    rank = np.concatenate([s.dt_rank for s in states])
    # canonical order (image, category, rank): accumulate relies on (image, rank) order
    rec = np.lexsort((rank, cat, img))
    names: dict[int, str] = {}
    for s in states:
        names.update(s.category_names)
    return EvalState(
        params=replace(first.params, imgIds=[int(i) for i in image_ids]),
        matches=_merge_matches(states, rec),
        protocol=first.protocol,
        image_ids=image_ids,
        dt_image_id=img[rec],
        dt_category=cat[rec],
        dt_score=np.concatenate([s.dt_score for s in states])[rec],
        dt_rank=rank[rec],
        dt_flags=np.concatenate([s.dt_flags for s in states])[rec],
        num_gt=sum(s.num_gt for s in states[1:]) + states[0].num_gt,
        num_dt=sum(s.num_dt for s in states[1:]) + states[0].num_dt,
        fix_zero_id=first.fix_zero_id,
        category_names=names,
    )


def _merge_matches(states: list[EvalState], rec: np.ndarray) -> dict[str, np.ndarray] | None:
    """The states' match records concatenated and put in the merged record order.

    States without records merge only where they hold no detection (an empty state is
    the identity of the merge); otherwise the result would lack records for some rows.
    """
    kept = [s for s in states if s.matches is not None]
    if not kept:
        return None
    if any(s.matches is None and s.dt_score.size for s in states):
        raise InvalidParameterError(
            "cannot merge states with and without match records (keep_matches)"
        )
    return {name: np.concatenate([s.matches[name] for s in kept])[rec] for name in kept[0].matches}
