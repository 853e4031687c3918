"""COCO-style detection evaluation, identical to pycocotools 2.0.11 and fast.

One call::

    result = ioukit.coco.evaluate(gt, dt, iou_type="bbox")
    print(result.summary())

Streaming (training loops): :class:`CocoEvaluator`.

The engine, step by step (for sharded / distributed evaluation):

1. ``gt, dt, params = prepare(gt, dt, iou_type, **params)`` (or :func:`load_gt`,
   :func:`load_dt`, :func:`make_params`);
2. ``state = evaluate_images(gt, dt, params, image_ids=shard)`` -> :class:`EvalState`,
   per-image match records of those images;
3. ``state = merge_states([...])`` (or ``a.merge(b)``), order-independent;
4. ``result = accumulate(state)`` -> :class:`CocoResult`.

IoU types are plug-ins: :func:`register_iou_type`, :func:`iou_types`; a plug-in names
the fixed-width fields its geometry reads (:class:`GeometryField`; ``bbox`` is
:data:`BBOX`).
"""

from __future__ import annotations

from typing import Any

from ._geometry import Groups, IouPlugin, get_iou_type, iou_types, register_iou_type
from ._load import BBOX, DtTable, GeometryField, GtTable, load_dt, load_gt, load_pair
from ._params import Params, make_params
from ._slices import evaluate_slices
from ._state import EvalState, merge_states
from .evaluate import accumulate, evaluate, evaluate_images, prepare
from .result import CocoResult

__all__ = [
    "evaluate",
    "evaluate_slices",
    "CocoResult",
    "CocoEvaluator",
    "Params",
    "make_params",
    "prepare",
    "load_gt",
    "load_dt",
    "load_pair",
    "GtTable",
    "DtTable",
    "GeometryField",
    "BBOX",
    "evaluate_images",
    "EvalState",
    "merge_states",
    "accumulate",
    "IouPlugin",
    "Groups",
    "register_iou_type",
    "get_iou_type",
    "iou_types",
]


def __getattr__(name: str) -> Any:
    # the streaming evaluator (and the RLE codec it needs for masks) loads on first use:
    # a file evaluation, e.g. the first `ioukit eval`, does not pay for it
    if name == "CocoEvaluator":
        from .evaluator import CocoEvaluator

        return CocoEvaluator
    raise AttributeError(f"module 'ioukit.coco' has no attribute {name!r}")
