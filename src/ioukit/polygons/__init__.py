"""Exact IoU of simple polygons (concave, with holes, multi-part), also on a torus.

- :func:`area`, :func:`intersection`, :func:`iou` (pairwise [N, M] or ``aligned``
  [N]): exact areas from Green's theorem over the boundary pieces of each polygon
  inside the other, in a compiled kernel; to 1e-9 of shapely's overlay.
- ``period=(px, py)``: the same on a periodic domain (e.g. Ramachandran regions on
  the (phi, psi) torus, ``period=(360, 360)``), regions given unwrapped.
- :func:`rasterize` and :func:`raster_iou`: the regions on a pixel grid of any
  shape and resolution, and the IoU of those rasters (:mod:`ioukit.masks`).

Polygons are ``[K, 2]`` rings, lists of rings (exterior first, then holes),
shapely geometries or WKB bytes; see :func:`iou` and docs/polygons.md.

Example
-------
>>> from ioukit import polygons
>>> sq = [[0, 0], [2, 0], [2, 2], [0, 2]]
>>> L = [[1, 1], [3, 1], [3, 3], [2, 3], [2, 2], [1, 2]]  # concave, area 3
>>> polygons.iou([sq], [L]).tolist()  # overlap 1, union 4 + 3 - 1
[[0.16666666666666666]]
"""

from __future__ import annotations

from ._api import area, intersection, iou, raster_iou, rasterize

__all__ = ["area", "intersection", "iou", "rasterize", "raster_iou"]
