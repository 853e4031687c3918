"""Streaming COCO evaluation for training loops: ``update`` per image, ``compute`` once.

Boxes are matched in small batches as they arrive and then dropped: what stays is
the per-image match records of :class:`~ioukit.coco.EvalState` (about 40 bytes per
detection for 4 area ranges x 10 IoU thresholds), so memory does not grow with the
boxes. Evaluators fed with disjoint images ``merge`` (e.g. across data-parallel
ranks) and give the same result as one evaluator fed everything, in any order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DuplicateIdError, InvalidParameterError, ShapeMismatchError
from ._load import DtTable, GtTable, _check_box_values, _check_known, _check_scores
from ._params import make_params
from ._state import EvalState, merge_states
from .evaluate import accumulate, evaluate_images
from .result import CocoResult

__all__ = ["CocoEvaluator"]


def _to_numpy(x: Any, dtype: Any) -> np.ndarray:
    if x is None:
        return None
    if hasattr(x, "detach"):  # torch: leave the graph and the device
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _to_xywh(b: np.ndarray, fmt: str) -> np.ndarray:
    if fmt == "xywh":
        return b
    if fmt == "xyxy":
        return np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    # cxcywh
    return np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]], axis=1)


class CocoEvaluator:
    """Accumulate COCO box evaluation image by image; ``compute()`` -> :class:`CocoResult`.

    Parameters
    ----------
    categories : list[int] | list[dict] | dict[int, str]
        Category ids (or ``{"id", "name"}`` dicts, or id -> name).
    iou_type : str
        Only ``"bbox"`` streams for now.
    box_format : {"xyxy", "xywh", "cxcywh"}
        Layout of the boxes given to :meth:`update` (COCO files use xywh).
    fix_zero_id, fix_summary : bool
        As in :func:`ioukit.coco.evaluate`.
    batch_images : int
        Images buffered before matching (boxes are dropped after).
    **params
        ``iouThrs, recThrs, areaRng, areaRngLbl, maxDets, useCats``.

    Example
    -------
    >>> import numpy as np
    >>> ev = CocoEvaluator([1, 2])
    >>> ev.update(7, gt_boxes=np.array([[0, 0, 10, 10]]), gt_labels=np.array([1]),
    ...           dt_boxes=np.array([[0, 0, 10, 10]]), dt_scores=np.array([0.8]),
    ...           dt_labels=np.array([1]))
    >>> float(ev.compute().stats[0])
    1.0
    """

    def __init__(
        self,
        categories: Any,
        iou_type: str = "bbox",
        *,
        box_format: str = "xyxy",
        fix_zero_id: bool = False,
        fix_summary: bool = False,
        batch_images: int = 256,
        **params: Any,
    ) -> None:
        if iou_type != "bbox":
            raise InvalidParameterError(
                f"CocoEvaluator streams iou_type='bbox' only; got {iou_type!r}"
            )
        if box_format not in ("xyxy", "xywh", "cxcywh"):
            raise InvalidParameterError(
                f"box_format must be 'xyxy', 'xywh' or 'cxcywh'; got {box_format!r}"
            )
        for k in ("imgIds", "catIds"):
            if k in params:
                raise InvalidParameterError(
                    f"{k} is not a CocoEvaluator parameter (images come from update(), "
                    "categories from `categories`)"
                )
        if isinstance(categories, dict):
            names = {int(k): str(v) for k, v in categories.items()}
        else:
            names = {}
            for c in categories:
                if isinstance(c, dict):
                    names[int(c["id"])] = str(c.get("name", c["id"]))
                else:
                    names[int(c)] = str(c)
        self.category_names = names
        self.cat_ids = np.array(list(names), dtype=np.int64)
        self.params = make_params(iou_type, gt_cat_ids=self.cat_ids, **params)
        self.box_format = box_format
        self.fix_zero_id = fix_zero_id
        self.fix_summary = fix_summary
        self.batch_images = int(batch_images)
        self._states: list[EvalState] = []
        self._pending: list[tuple] = []
        self._seen: set[int] = set()
        self._next_ann_id = 1

    def update(
        self,
        image_id: int,
        gt_boxes: Any,
        gt_labels: Any,
        dt_boxes: Any,
        dt_scores: Any,
        dt_labels: Any,
        gt_iscrowd: Any = None,
        gt_area: Any = None,
    ) -> None:
        """Add one image: GT boxes (G, 4) and labels (G,), detections (D, 4), (D,), (D,).

        NumPy or torch arrays (or lists). ``gt_area`` defaults to the box area (COCO
        files usually carry the mask area there); ``gt_iscrowd`` to all zeros.
        """
        image_id = int(image_id)
        if image_id in self._seen:
            raise DuplicateIdError(f"image id {image_id} was already added to this evaluator")
        gb = _to_numpy(gt_boxes, np.float64).reshape(-1, 4) if gt_boxes is not None else None
        db = _to_numpy(dt_boxes, np.float64).reshape(-1, 4) if dt_boxes is not None else None
        gb = np.zeros((0, 4)) if gb is None else gb
        db = np.zeros((0, 4)) if db is None else db
        gl = _to_numpy(gt_labels, np.int64).reshape(-1) if gt_labels is not None else None
        dl = _to_numpy(dt_labels, np.int64).reshape(-1) if dt_labels is not None else None
        ds = _to_numpy(dt_scores, np.float64).reshape(-1) if dt_scores is not None else None
        gl = np.zeros(0, np.int64) if gl is None else gl
        dl = np.zeros(0, np.int64) if dl is None else dl
        ds = np.zeros(0) if ds is None else ds
        if not (len(gl) == len(gb)):
            raise ShapeMismatchError(
                f"image {image_id}: {len(gb)} GT boxes but {len(gl)} GT labels"
            )
        if not (len(db) == len(ds) == len(dl)):
            raise ShapeMismatchError(
                f"image {image_id}: {len(db)} detection boxes, {len(ds)} scores, {len(dl)} labels"
            )
        gb = _to_xywh(gb, self.box_format)
        db = _to_xywh(db, self.box_format)
        where = f"image {image_id}"
        _check_box_values(gb, "", lambda i: f"GT box {i}", where)
        _check_box_values(db, "", lambda i: f"detection box {i}", where)
        _check_scores(ds, lambda i: f"detection {i}", where)
        _check_known(gl, self.cat_ids, lambda i: f"{where}: GT box {i} has label", "categories")
        _check_known(dl, self.cat_ids, lambda i: f"{where}: detection {i} has label", "categories")
        crowd = (
            np.zeros(len(gb), bool)
            if gt_iscrowd is None
            else _to_numpy(gt_iscrowd, np.int64).reshape(-1).astype(bool)
        )
        area = (
            gb[:, 2] * gb[:, 3] if gt_area is None else _to_numpy(gt_area, np.float64).reshape(-1)
        )
        if len(crowd) != len(gb) or len(area) != len(gb):
            raise ShapeMismatchError(
                f"image {image_id}: gt_iscrowd / gt_area lengths {len(crowd)} / {len(area)} "
                f"differ from {len(gb)} GT boxes"
            )
        self._seen.add(image_id)
        self._pending.append((image_id, gb, gl, crowd, area, db, ds, dl))
        if len(self._pending) >= self.batch_images:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        pend = self._pending
        self._pending = []
        img = np.array([p[0] for p in pend], dtype=np.int64)
        ng = np.array([len(p[1]) for p in pend])
        nd = np.array([len(p[5]) for p in pend])
        n = int(ng.sum())
        ann_id = np.arange(self._next_ann_id, self._next_ann_id + n, dtype=np.int64)
        self._next_ann_id += n
        gt = GtTable(
            image_ids=img,
            image_heights=np.zeros(img.size, np.int64),
            image_widths=np.zeros(img.size, np.int64),
            category_ids=self.cat_ids,
            category_names=self.category_names,
            ann_id=ann_id,
            ann_image_id=np.repeat(img, ng),
            ann_category_id=np.concatenate([p[2] for p in pend]),
            ann_bbox=np.ascontiguousarray(np.concatenate([p[1] for p in pend]).reshape(-1, 4)),
            ann_area=np.concatenate([p[4] for p in pend]).astype(np.float64),
            ann_iscrowd=np.concatenate([p[3] for p in pend]).astype(bool),
            source="<stream>",
        )
        db = np.ascontiguousarray(np.concatenate([p[5] for p in pend]).reshape(-1, 4))
        dt = DtTable(
            image_id=np.repeat(img, nd),
            category_id=np.concatenate([p[7] for p in pend]),
            bbox=db,
            score=np.concatenate([p[6] for p in pend]).astype(np.float64),
            # coco.py loadRes: a box result's area is w * h
            area=db[:, 2] * db[:, 3],
            source="<stream>",
        )
        p = self.params
        p_batch = make_params(
            p.iouType,
            gt_img_ids=img,
            gt_cat_ids=p.catIds,
            iouThrs=p.iouThrs,
            recThrs=p.recThrs,
            areaRng=p.areaRng,
            areaRngLbl=p.areaRngLbl,
            maxDets=p.maxDets,
            useCats=p.useCats,
        )
        self._states.append(evaluate_images(gt, dt, p_batch, fix_zero_id=self.fix_zero_id))

    @property
    def state(self) -> EvalState:
        """The merged match records so far (flushes pending images)."""
        self._flush()
        if not self._states:
            return EvalState.empty(self.params, self.fix_zero_id, self.category_names)
        if len(self._states) > 1:
            self._states = [merge_states(self._states)]
        return self._states[0]

    def merge(self, other: CocoEvaluator | EvalState) -> CocoEvaluator:
        """Absorb another evaluator (or state) fed with other images; returns self."""
        st = other.state if isinstance(other, CocoEvaluator) else other
        merged = merge_states([self.state, st])
        self._states = [merged]
        self._seen |= {int(i) for i in st.image_ids}
        return self

    def compute(self) -> CocoResult:
        """Accumulate everything added so far into a :class:`CocoResult`."""
        return accumulate(self.state, fix_summary=self.fix_summary)

    def reset(self) -> None:
        """Forget every image."""
        self._states, self._pending, self._seen = [], [], set()
