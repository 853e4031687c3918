"""The ``iou_type="bbox3d"`` plug-in: COCO-style evaluation of yaw-only 3-D boxes.

Annotations and results carry ``"bbox3d": [cx, cy, cz, l, w, h, yaw]`` (the
``"xyzlwhyaw"`` format of :mod:`ioukit.boxes3d`: center, sizes, yaw about +z
counter-clockwise from +x). The IoU is the exact 3-D IoU (BEV rotated intersection x z
overlap); a crowd GT scores intersection over the detection's volume, as pycocotools
does for boxes with areas. Area ranges, ``maxDets``, matching and accumulation are the
COCO engine's (``area`` is read from the annotations as usual).

Example
-------
>>> from ioukit import coco
>>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [
...     {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 2], "area": 8,
...      "iscrowd": 0, "bbox3d": [0, 0, 0, 4, 2, 2, 0.0]}]}
>>> dt = [{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [0, 0, 4, 2],
...        "bbox3d": [0, 0, 0, 2, 4, 2, 1.5707963267948966]}]
>>> round(float(coco.evaluate(gt, dt, iou_type="bbox3d").stats[0]), 6)
1.0
"""

from __future__ import annotations

import numpy as np

from ..boxes3d import _kernels as K
from ..boxes3d._formats import to_frames
from ._geometry import IouPlugin, grouped_iou_from_pairwise, register_iou_type
from ._load import GeometryField

__all__ = ["BBOX3D", "BBOX3D_PLUGIN"]

#: the 3-D box field of annotations and results
BBOX3D = GeometryField("bbox3d", 7, "[cx, cy, cz, l, w, h, yaw]")


def _boxes(a: np.ndarray, who: str) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 7)
    to_frames(a, "xyzlwhyaw", name=f"{who} bbox3d")  # sizes >= 0, finite
    return a


def _pairwise(dt: np.ndarray, gt: np.ndarray, iscrowd: np.ndarray) -> np.ndarray:
    dt = np.ascontiguousarray(dt)
    gt = np.ascontiguousarray(gt)
    out = K.yaw_measure(dt, gt, False, K.YAW_IOU, 0.0)
    if iscrowd.any():  # crowd: intersection over the detection's volume
        cols = np.flatnonzero(iscrowd)
        inter = K.yaw_measure(dt, np.ascontiguousarray(gt[cols]), False, K.YAW_INTER, 0.0)
        vol = (dt[:, 3] * dt[:, 4] * dt[:, 5])[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, cols] = np.where(vol > 0, inter / np.where(vol > 0, vol, 1), 0.0)
    return out


BBOX3D_PLUGIN = IouPlugin(
    name="bbox3d",
    needs_segmentation=False,
    prepare_gt=lambda gt: _boxes(gt.ann_fields["bbox3d"], "GT"),
    prepare_dt=lambda dt, gt: _boxes(dt.fields["bbox3d"], "results"),
    grouped_iou=grouped_iou_from_pairwise(_pairwise),
    fields=(BBOX3D,),
)

register_iou_type(BBOX3D_PLUGIN)
