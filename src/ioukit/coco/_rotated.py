"""The ``iou_type="rotated"`` plug-in: COCO evaluation of rotated boxes.

Annotations and results carry ``"rbox": [cx, cy, w, h, angle]`` (angle in radians,
counter-clockwise with the y axis up, as :mod:`ioukit.rotated`). The IoU is the exact
rotated IoU (``ioukit/geometry/_convex.pxd``); a crowd GT scores intersection over the
detection's area, as pycocotools does for boxes. Everything else (``area`` ranges from
the annotations' ``area`` field, ``maxDets``, matching, accumulation) is the COCO engine's.

Two upright boxes (both angles exactly 0) take the interval product in the order of
pycocotools' ``bbIou``, so rboxes ``[x + w/2, y + h/2, w, h, 0]`` give the ``bbox``
iou_type's numbers exactly whenever the centre conversion is exact (e.g. integer or
half-integer boxes); otherwise the IoUs differ by the rounding of ``x + w/2 - w/2``.

Example
-------
>>> from ioukit import coco
>>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [
...     {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 2], "area": 8,
...      "iscrowd": 0, "rbox": [2, 1, 4, 2, 0.0]}]}
>>> dt = [{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [0, 0, 4, 2],
...        "rbox": [2, 1, 2, 4, 1.5707963267948966]}]
>>> round(float(coco.evaluate(gt, dt, iou_type="rotated").stats[0]), 6)
1.0
"""

from __future__ import annotations

import numpy as np

from ..matching import Groups
from ..rotated import _kernels as RK
from ._geometry import IouPlugin, register_iou_type
from ._load import GeometryField

__all__ = ["RBOX", "ROTATED"]

#: the rotated box field of annotations and results
RBOX = GeometryField("rbox", 5, "[cx, cy, w, h, angle]")


def _rboxes(a: np.ndarray, who: str) -> np.ndarray:
    from ..errors import InvalidBoxesError

    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 5)
    neg = np.flatnonzero((a[:, 2] < 0) | (a[:, 3] < 0))
    if neg.size:
        raise InvalidBoxesError(
            f"{who} row {int(neg[0])} has an rbox with a negative width or height: "
            f"{a[neg[0]].tolist()}"
        )
    return a


def _grouped(dt_geom: np.ndarray, gt_geom: np.ndarray, groups: Groups) -> np.ndarray:
    def i64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    out = np.empty(int(groups.iou_offsets[-1]), dtype=np.float64)
    crowd = groups.gt_iscrowd
    if crowd is None:
        crowd = np.zeros(gt_geom.shape[0], dtype=np.bool_)
    RK.grouped_rbox_iou(
        dt_geom,
        gt_geom,
        i64(groups.dt_index),
        i64(groups.dt_offsets),
        i64(groups.gt_index),
        i64(groups.gt_offsets),
        i64(groups.iou_offsets),
        np.ascontiguousarray(crowd, dtype=np.bool_).view(np.uint8),
        out,
    )
    return out


ROTATED = IouPlugin(
    name="rotated",
    needs_segmentation=False,
    prepare_gt=lambda gt: _rboxes(gt.ann_fields["rbox"], "GT"),
    prepare_dt=lambda dt, gt: _rboxes(dt.fields["rbox"], "results"),
    grouped_iou=_grouped,
    fields=(RBOX,),
)

register_iou_type(ROTATED)
