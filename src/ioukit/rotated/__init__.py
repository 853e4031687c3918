"""Rotated boxes ``(cx, cy, w, h, angle)``: exact IoU, GIoU, sparse pairs, conversions.

Angle convention: radians by default (``angle="deg"`` everywhere for degrees); the
angle turns the box's width axis from +x towards +y, i.e. counter-clockwise with the y
axis pointing up, which on an image (y down) looks clockwise: the convention of mmcv's
``box_iou_rotated`` and mmrotate. IoU is invariant to mirroring both boxes, so the IoU
itself does not depend on which way "positive" turns.

Functions:

- :func:`area`, :func:`iou`, :func:`giou`, :func:`intersection_area`: pairwise
  ``[..., N, M]`` or ``aligned``; float32 / float64; NumPy, torch, JAX
- :func:`iou_pairs`: sparse pairs above a threshold
- :func:`to_polygons`, :func:`from_polygons` (minimum-area rectangle), :func:`regularize`
  (mmrotate's ``le90`` / ``le135`` / ``oc``)

Rotated NMS is :func:`ioukit.nms.rotated_nms`; DOTA evaluation is :mod:`ioukit.dota`.
The compiled clipping lives in ``ioukit/geometry/_convex.pxd``.

Example:
    >>> import numpy as np
    >>> import ioukit.rotated as R
    >>> R.iou(np.array([[0.0, 0.0, 4.0, 2.0, 0.0]]), np.array([[0.0, 0.0, 2.0, 4.0, 90.0]]),
    ...       angle="deg")
    array([[1.]])
"""

from __future__ import annotations

from ._convert import CONVENTIONS, from_polygons, regularize, to_polygons
from ._measures import area, giou, intersection_area, iou
from ._pairs import iou_pairs

__all__ = [
    "area",
    "iou",
    "giou",
    "intersection_area",
    "iou_pairs",
    "to_polygons",
    "from_polygons",
    "regularize",
    "CONVENTIONS",
]
