"""The ``interval`` IoU type of the COCO engine: temporal segments ``[start, end]``.

Registered on import (``_geometry._PROVIDERS``). Every annotation and result carries a
``"segment": [start, end]`` field (a ``GeometryField`` of width 2); the IoU of a
(detection, GT) pair is the temporal IoU ``inter / (len_d + len_g - inter)`` (0 when the
union is 0), and a crowd GT scores ``inter / len_d`` (pycocotools' crowd rule in 1-D).

The COCO loader still reads COCO's own fields: GT annotations need ``area`` and
``iscrowd``, and both sides a ``bbox``. Write ``bbox = [start, 0, end - start, 1]`` and
``area = end - start``: area ranges (``areaRng``) then select by duration, on the GT's
``area`` and on the detections' ``bbox`` width x height, as COCO does.

Example
-------
>>> from ioukit.coco._geometry import get_iou_type
>>> get_iou_type("interval").fields[0].name
'segment'
"""

from __future__ import annotations

import numpy as np

from ..matching import grouped_box_iou
from ._geometry import Groups, IouPlugin, grouped_iou_from_pairwise, register_iou_type
from ._load import GeometryField

__all__ = ["SEGMENT", "interval_pairwise"]

#: the JSON field of the ``interval`` type
SEGMENT = GeometryField("segment", 2, "[start, end]")


def interval_pairwise(d: np.ndarray, g: np.ndarray, iscrowd: np.ndarray) -> np.ndarray:
    """[D, G] temporal IoU of segments ``d`` (D, 2) and ``g`` (G, 2); crowd GT columns are
    intersection over the detection's length.

    >>> interval_pairwise(np.array([[0.0, 4.0]]), np.array([[2.0, 6.0], [2.0, 6.0]]),
    ...                   np.array([False, True])).tolist()
    [[0.3333333333333333, 0.5]]
    """
    inter = np.maximum(
        np.minimum(d[:, None, 1], g[None, :, 1]) - np.maximum(d[:, None, 0], g[None, :, 0]), 0.0
    )
    len_d = (d[:, 1] - d[:, 0])[:, None]
    union = np.where(
        np.asarray(iscrowd, bool)[None, :], len_d, len_d + (g[:, 1] - g[:, 0])[None, :] - inter
    )
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


_looped = grouped_iou_from_pairwise(interval_pairwise)


def _as_boxes(seg: np.ndarray) -> np.ndarray:
    # [start, 0, end, 1]: the continuous box IoU of these is the temporal IoU, same floats
    out = np.zeros((seg.shape[0], 4))
    out[:, 0], out[:, 2], out[:, 3] = seg[:, 0], seg[:, 1], 1.0
    return out


def _grouped(dt_geom: np.ndarray, gt_geom: np.ndarray, groups: Groups) -> np.ndarray:
    crowd = groups.gt_iscrowd
    if crowd is not None and np.any(crowd):
        return _looped(dt_geom, gt_geom, groups)  # crowd columns: a per-group pass
    return grouped_box_iou(_as_boxes(dt_geom), _as_boxes(gt_geom), groups, legacy=False)


register_iou_type(
    IouPlugin(
        name="interval",
        needs_segmentation=False,
        prepare_gt=lambda gt: np.ascontiguousarray(gt.ann_fields["segment"], dtype=np.float64),
        prepare_dt=lambda dt, gt: np.ascontiguousarray(dt.fields["segment"], dtype=np.float64),
        grouped_iou=_grouped,
        fields=(SEGMENT,),
    )
)
