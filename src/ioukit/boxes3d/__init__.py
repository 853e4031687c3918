"""3-D boxes: formats, exact IoU (axis-aligned, yaw-only, fully oriented), BEV IoU,
GIoU-3D, voxel IoU, and NMS in 3-D or bird's-eye view.

Formats (``fmt``, docs/boxes3d.md): ``"xyzlwhyaw"`` ``(cx, cy, cz, l, w, h, yaw)``
(yaw about +z, counter-clockwise from +x to the ``l`` axis, ``cz`` the center; the
KITTI-LiDAR / nuScenes / mmdet3d box), ``"xyzxyz"`` axis-aligned
``(x1, y1, z1, x2, y2, z2)``, ``"xyzlwhmat"`` (center, sizes, rotation matrix) and
``"corners"`` ``[..., 8, 3]`` (pytorch3d's order). Camera-frame KITTI labels convert
with :func:`from_kitti_camera`.

Measures (pairwise ``[..., N, W] x [..., M, W] -> [..., N, M]`` or ``aligned=True``):
:func:`iou`, :func:`intersection`, :func:`bev_iou`, :func:`giou`; grids:
:func:`voxel_iou`, :func:`sparse_voxel_iou`; suppression: :func:`nms3d`,
:func:`batched_nms3d`. Differentiable losses: ``ioukit.losses.iou3d_loss`` /
``giou3d_loss``.

>>> import numpy as np
>>> from ioukit import boxes3d
>>> boxes3d.iou(np.array([[0, 0, 0, 4, 2, 2, 0.0]]), np.array([[1, 0, 0, 4, 2, 2, 0.0]]))
array([[0.6]])
"""

from __future__ import annotations

from ._formats import (
    FORMATS,
    convert,
    corners,
    from_kitti_camera,
    to_frames,
    to_kitti_camera,
    volume,
)
from ._measures import bev_iou, giou, intersection, iou
from ._nms import batched_nms3d, nms3d
from ._voxel import sparse_voxel_iou, voxel_iou

__all__ = [
    "FORMATS",
    "convert",
    "corners",
    "volume",
    "to_frames",
    "from_kitti_camera",
    "to_kitti_camera",
    "iou",
    "intersection",
    "bev_iou",
    "giou",
    "voxel_iou",
    "sparse_voxel_iou",
    "nms3d",
    "batched_nms3d",
]
