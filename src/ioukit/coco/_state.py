"""The mergeable evaluation state: per-image match records.

An :class:`EvalState` holds, for every kept detection (the best ``maxDets[-1]`` of
each image and category), its image id, category index, score, rank within its image
and category, and its outcome per area range and IoU threshold; plus, per category
and area range, the number of non-ignored GT. No boxes are kept.

States of disjoint image sets merge by concatenation; :func:`accumulate` sorts the
records itself, so the result does not depend on merge order or on how images were
split.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DuplicateIdError, InvalidParameterError
from ._params import Params

__all__ = ["EvalState", "merge_states"]


@dataclass
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

    @classmethod
    def empty(
        cls, params: Params, fix_zero_id: bool = False, category_names: dict | None = None
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
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the record arrays."""
        return sum(
            a.nbytes
            for a in (
                self.image_ids,
                self.dt_image_id,
                self.dt_category,
                self.dt_score,
                self.dt_rank,
                self.dt_flags,
                self.num_gt,
                self.num_dt,
            )
        )

    def merge(self, other: EvalState) -> EvalState:
        """Combine with the state of a disjoint set of images.

        Raises InvalidParameterError when the parameters differ and DuplicateIdError when
        both states cover the same image.
        """
        return merge_states([self, other])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The record arrays by name (e.g. for ``np.savez`` or a Dask shard)."""
        return {
            "image_ids": self.image_ids,
            "dt_image_id": self.dt_image_id,
            "dt_category": self.dt_category,
            "dt_score": self.dt_score,
            "dt_rank": self.dt_rank,
            "dt_flags": self.dt_flags,
            "num_gt": self.num_gt,
            "num_dt": self.num_dt,
        }


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
