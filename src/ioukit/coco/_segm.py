"""The ``segm`` and ``boundary`` IoU types of the COCO engine (mask geometry).

Registered with :func:`ioukit.coco._geometry.register_iou_type` on import:

- ``"segm"``: pycocotools ``COCOeval`` with ``iouType="segm"``. Every GT
  segmentation becomes an RLE at its image's size (``COCO.annToRLE``: polygons
  rasterised and merged, uncompressed RLE compressed, compressed RLE taken as
  is); the IoU of a group is maskApi.c ``rleIou`` (crowd GT: intersection over
  the detection's area), computed on the runs by :mod:`ioukit.rle`'s kernels.
- ``"boundary"``: Boundary IoU (Cheng et al., CVPR 2021) as boundary-iou-api
  and faster-coco-eval compute it: the IoU used for matching is
  ``min(mask IoU, boundary IoU)`` for non-crowd GT and the mask IoU for crowd
  GT. ``dilation_ratio`` (default 0.02) sets the band width; use
  :func:`boundary_iou_type` to register another ratio.

Example
-------
>>> from ioukit.coco._geometry import get_iou_type
>>> get_iou_type("segm").needs_segmentation, get_iou_type("boundary").name
(True, 'boundary')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._threads import PARALLEL_MIN_WORK, get_num_threads
from ..errors import DatasetError
from ..io._jsonseg import FlatSegments
from ..rle import _kernels
from ..rle._api import boundary_table, dilation_width
from ..rle._table import RLETable, check_sizes, table_from_flat, table_from_objects
from . import _segm_kernels
from ._geometry import Groups, IouPlugin, register_iou_type

__all__ = ["MaskGeometry", "boundary_iou_type", "segm_iou_type"]


@dataclass
class MaskGeometry:
    """RLEs of all rows of one side, with their boxes and areas (computed once).

    ``boundary`` holds the boundary bands (same layout) for the ``boundary`` type.
    ``segmentation`` is the object the RLEs were decoded from, when the loader built
    this geometry (loadRes' areas): the plug-in reuses it only for that same object.
    """

    table: RLETable
    bbox: np.ndarray
    area: np.ndarray
    boundary: RLETable | None = None
    boundary_bbox: np.ndarray | None = None
    boundary_area: np.ndarray | None = None
    segmentation: Any = None


def _geometry(table: RLETable | MaskGeometry, dilation_ratio: float | None) -> MaskGeometry:
    if isinstance(table, MaskGeometry):
        geom = table  # boxes and areas already computed by loadRes
        table = geom.table
        if dilation_ratio is not None:
            # a copy for the bands: the loader's geometry (kept on the DtTable) stays as is
            geom = replace(geom)
    else:
        bb = _kernels.bboxes(table.counts, table.offsets, table.heights, table.widths)
        ar = _kernels.areas(table.counts, table.offsets)
        geom = MaskGeometry(table, bb, ar)
    if dilation_ratio is not None:
        b = boundary_table(table, dilation_ratio)
        geom.boundary = b
        geom.boundary_bbox = _kernels.bboxes(b.counts, b.offsets, b.heights, b.widths)
        geom.boundary_area = _kernels.areas(b.counts, b.offsets)
    return geom


def _image_sizes(gt: Any, image_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(gt.image_ids, np.int64)
    order = np.argsort(ids, kind="stable")
    pos = order[np.minimum(np.searchsorted(ids[order], image_id), max(ids.size - 1, 0))]
    return np.asarray(gt.image_heights, np.int64)[pos], np.asarray(gt.image_widths, np.int64)[pos]


def _gt_table(gt: Any) -> RLETable:
    segs = gt.ann_segmentation
    if segs is None:
        raise DatasetError(f"{gt.source}: the GT was loaded without segmentations")
    h, w = _image_sizes(gt, gt.ann_image_id)
    names = _Names(gt.source, "annotation id {} (entry {})", gt.ann_id)
    _require_sizes(segs, h, w, gt.ann_image_id, names)
    return _to_table(segs, h, w, names)


def _polygon_rows(segs: Any) -> np.ndarray:
    """bool (n,): the rows given as polygons (rasterised at their image's size)."""
    if isinstance(segs, FlatSegments):
        return np.asarray(segs.kind) == 0
    return np.fromiter((isinstance(s, (list, tuple)) for s in segs), dtype=bool, count=len(segs))


def _require_sizes(segs: Any, h: np.ndarray, w: np.ndarray, image_id: Any, names: Any) -> None:
    """Polygons need their image's size: name the first row whose image has none.

    pycocotools' ``annToRLE`` reads ``height`` / ``width`` of the image (a KeyError
    without them); a size of 0 (absent) would rasterise the polygon to nothing.
    """
    unknown = (np.asarray(h) <= 0) | (np.asarray(w) <= 0)
    if not unknown.any():  # the common case: one vectorised test
        return
    bad = np.flatnonzero(unknown & _polygon_rows(segs))
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{names[i]}: its polygons need the image size, but GT image id "
            f"{int(image_id[i])} has no 'width' / 'height' (or a zero one)"
        )


def _to_table(segs: Any, h: Any, w: Any, names: Any) -> RLETable:
    # Segmentations the loader parsed from the file bytes are flat arrays already.
    if isinstance(segs, FlatSegments):
        return table_from_flat(segs, h, w, names)
    return table_from_objects(segs, h, w, names)


def _dt_table(dt: Any, gt: Any) -> RLETable | MaskGeometry:
    segs = dt.segmentation
    if segs is None:
        raise DatasetError(f"{dt.source}: the results were loaded without segmentations")
    h, w = _image_sizes(gt, dt.image_id)
    names = _Names(dt.source, "result {1} (image id {0})", dt.image_id)
    _require_sizes(segs, h, w, dt.image_id, names)
    loaded = getattr(dt, "loaded_geometry", None)
    if isinstance(loaded, MaskGeometry) and loaded.segmentation is segs:
        # loadRes already decoded these RLEs for their areas (the loader keeps them on
        # the table): reuse, do not decode twice.
        check_sizes(loaded.table, h, w, names)
        return loaded
    return _to_table(segs, h, w, names)


class _Names:
    """Lazy labels for error messages: only the failing row's label is built."""

    def __init__(self, source: str, fmt: str, ids: np.ndarray) -> None:
        self.source, self.fmt, self.ids = source, fmt, ids

    def __getitem__(self, i: int) -> str:
        return f"{self.source}: " + self.fmt.format(int(self.ids[i]), i)


def _loadres_area_bbox(
    segs: list, gt: Any, image_id: Any = None, source: str = "<results>"
) -> tuple[np.ndarray, np.ndarray, MaskGeometry]:
    """coco.py loadRes for results without a box: area = maskUtils.area, bbox = toBbox.

    pycocotools reads these from the RLE itself (its own ``size``); polygons are
    rasterised at their image's GT size (``image_id``: the results' images), as
    loadRes' ``annToRLE`` does. The third item, the decoded RLEs, goes on the loaded
    table (``DtTable.loaded_geometry``) for :func:`_dt_table`.
    """
    if image_id is None:
        ids = np.zeros(len(segs), np.int64)
        names = _Names(source, "result {1}", ids)
        table = _to_table(segs, None, None, names)
    else:
        ids = np.asarray(image_id, np.int64)
        names = _Names(source, "result {1} (image id {0})", ids)
        h, w = _image_sizes(gt, ids)
        if _polygon_rows(segs).any():
            _require_sizes(segs, h, w, ids, names)
            table = _to_table(segs, h, w, names)
        else:  # RLEs keep their own size here; _dt_table checks it against the image
            table = _to_table(segs, None, None, names)
    if isinstance(segs, FlatSegments) and segs.rle_area is not None:
        # the parser measured every RLE while decoding it (all rows RLE: table rows
        # are the parsed rows, in order)
        geom = MaskGeometry(table, segs.rle_bbox, segs.rle_area)
    else:
        geom = _geometry(table, None)
    geom.segmentation = segs
    return geom.area.astype(np.float64), geom.bbox.copy(), geom


def _grouped_kernel(cd, od, bbd, ad, cg, og, bbg, ag, crowd, *args):
    """The compiled grouped mask IoU (``_segm_kernels.grouped_iou``) on contiguous arrays."""
    # One thread for small evaluations: the pool's wake-up costs more than it saves.
    work = cd.size + cg.size + int(args[4][-1]) * 50
    nt = get_num_threads() if work >= PARALLEL_MIN_WORK else 1
    return _segm_kernels.grouped_iou(
        np.ascontiguousarray(cd, np.uint32), np.ascontiguousarray(od, np.int64),
        np.ascontiguousarray(bbd, np.float64), np.ascontiguousarray(ad, np.int64),
        np.ascontiguousarray(cg, np.uint32), np.ascontiguousarray(og, np.int64),
        np.ascontiguousarray(bbg, np.float64), np.ascontiguousarray(ag, np.int64),
        crowd, *args, nt,
    )  # fmt: skip


def _check_sizes(dt: MaskGeometry, gt: MaskGeometry, groups: Groups) -> None:
    # A group shares one image, so every mask in it must have that image's size.
    if groups.dt_index.size == 0 or groups.gt_index.size == 0:
        return
    gsize = np.repeat(np.diff(groups.gt_offsets) > 0, np.diff(groups.dt_offsets))
    first_gt = groups.gt_index[np.minimum(groups.gt_offsets[:-1], groups.gt_index.size - 1)]
    ref = np.repeat(first_gt, np.diff(groups.dt_offsets))
    d = groups.dt_index
    bad = gsize & (
        (dt.table.heights[d] != gt.table.heights[ref])
        | (dt.table.widths[d] != gt.table.widths[ref])
    )
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        dsize = [int(dt.table.heights[d[k]]), int(dt.table.widths[d[k]])]
        gsize_k = [int(gt.table.heights[ref[k]]), int(gt.table.widths[ref[k]])]
        raise DatasetError(
            f"result {int(d[k])}: mask size {dsize} does not match its image's GT masks "
            f"{gsize_k}" + (" (the GT image has no 'width' / 'height')" if 0 in gsize_k else "")
        )


def _grouped(dt: MaskGeometry, gt: MaskGeometry, groups: Groups, boundary: bool) -> np.ndarray:
    _check_sizes(dt, gt, groups)
    crowd = np.ascontiguousarray(groups.gt_iscrowd, dtype=np.bool_).view(np.uint8)
    args = (
        np.ascontiguousarray(groups.dt_index, np.int64),
        np.ascontiguousarray(groups.dt_offsets, np.int64),
        np.ascontiguousarray(groups.gt_index, np.int64),
        np.ascontiguousarray(groups.gt_offsets, np.int64),
        np.ascontiguousarray(groups.iou_offsets, np.int64),
    )
    ious = _grouped_kernel(
        dt.table.counts, dt.table.offsets, dt.bbox, dt.area,
        gt.table.counts, gt.table.offsets, gt.bbox, gt.area, crowd, *args, 0,
    )  # fmt: skip
    if not boundary:
        return ious
    # Cheng et al. 2021, Sec. 5 (COCO protocol): match on min(mask IoU, boundary IoU).
    b = _grouped_kernel(
        dt.boundary.counts, dt.boundary.offsets, dt.boundary_bbox, dt.boundary_area,
        gt.boundary.counts, gt.boundary.offsets, gt.boundary_bbox, gt.boundary_area,
        crowd, *args, 1,
    )  # fmt: skip
    crowd_cell = _segm_kernels.crowd_cells(crowd, *args)
    return np.where(crowd_cell, ious, np.minimum(ious, b))


def segm_iou_type() -> IouPlugin:
    """The ``segm`` plug-in (mask IoU, pycocotools ``iouType="segm"``).

    Example
    -------
    >>> segm_iou_type().name
    'segm'
    """
    return IouPlugin(
        name="segm",
        needs_segmentation=True,
        prepare_gt=lambda gt: _geometry(_gt_table(gt), None),
        prepare_dt=lambda dt, gt: _geometry(_dt_table(dt, gt), None),
        grouped_iou=lambda d, g, groups: _grouped(d, g, groups, False),
        segm_area_bbox=_loadres_area_bbox,
    )


def boundary_iou_type(dilation_ratio: float = 0.02, name: str = "boundary") -> IouPlugin:
    """A Boundary IoU plug-in with band width ``dilation_ratio`` x image diagonal.

    Register it to evaluate with another ratio:
    ``register_iou_type(boundary_iou_type(0.05, "boundary@0.05"))``.

    Example
    -------
    >>> boundary_iou_type(0.05, "boundary@0.05").name
    'boundary@0.05'
    """
    dilation_width(1, 1, dilation_ratio)  # validates the ratio
    return IouPlugin(
        name=name,
        needs_segmentation=True,
        prepare_gt=lambda gt: _geometry(_gt_table(gt), dilation_ratio),
        prepare_dt=lambda dt, gt: _geometry(_dt_table(dt, gt), dilation_ratio),
        grouped_iou=lambda d, g, groups: _grouped(d, g, groups, True),
        segm_area_bbox=_loadres_area_bbox,
    )


register_iou_type(segm_iou_type())
register_iou_type(boundary_iou_type())
