"""IoU plug-ins for the COCO engine, keyed by ``iou_type``.

A plug-in says how to turn the loaded GT / results into per-annotation geometry and
how to compute, for every (image, category) group at once, the IoU matrix [D, G]
between the group's detections (already sorted by score, stable, and truncated to
``maxDets[-1]``, as ``COCOeval.computeIoU`` does) and its GT (in file order), with
crowd GT scored as intersection over the detection's area.

The result is one flat float64 buffer: group ``g`` occupies
``ious[iou_offsets[g] : iou_offsets[g + 1]]`` as a row-major ``D_g x G_g`` block (the
layout of :class:`ioukit.matching.Groups`, which the matchers read). A protocol without
crowd regions (LVIS) hands the plug-in a ``gt_iscrowd`` of all False.

"bbox" lives here. Mask types ("segm", "boundary") register themselves from
``ioukit.coco._segm`` with :func:`register_iou_type`; :func:`get_iou_type` imports
that module on first use of a name it does not know.

Example
-------
>>> sorted(t for t in iou_types() if t == "bbox")
['bbox']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError
from ..matching import Groups  # the one group layout (ioukit.matching._groups)
from ._bbox_kernel import bbox_grouped_iou

__all__ = [
    "Groups",
    "IouPlugin",
    "register_iou_type",
    "get_iou_type",
    "iou_types",
    "grouped_iou_from_pairwise",
]


@lightclass(frozen=True)
class IouPlugin:
    """How one ``iou_type`` prepares geometry and scores overlaps.

    Attributes
    ----------
    name : str
    needs_segmentation : bool
        Whether the loader must keep the raw ``segmentation`` fields.
    prepare_gt : (GtTable) -> geometry aligned with GT rows
    prepare_dt : (DtTable, GtTable) -> geometry aligned with detection rows
    grouped_iou : (dt_geom, gt_geom, Groups) -> float64 flat buffer (see module doc)
    segm_area_bbox : optional (list of segmentations, GtTable, *, image_id, source) ->
        (area (N,), bbox (N, 4)). Used by the loader for results that carry only
        segmentations (loadRes rule); ``image_id`` (N,) int64 names each result's image
        (polygons are rasterised at its GT size), ``source`` the file for messages. A
        third item, the geometry built on the way, goes to ``DtTable.loaded_geometry``.
    fields : tuple of ``ioukit.coco.GeometryField``
        Fixed-width numeric fields (name, width) of every annotation and result that the
        geometry needs besides ``bbox`` (e.g. a rotated box); the loader reads them
        (``load_gt`` / ``load_dt`` / ``load_pair(..., fields=plugin.fields)``) into
        ``GtTable.ann_fields`` / ``DtTable.fields`` by the rule it applies to ``bbox``.
    """

    name: str
    needs_segmentation: bool
    prepare_gt: Callable[[Any], Any]
    prepare_dt: Callable[[Any, Any], Any]
    grouped_iou: Callable[[Any, Any, Groups], np.ndarray]
    segm_area_bbox: Callable[..., tuple] | None = None
    fields: tuple = ()


_REGISTRY: dict[str, IouPlugin] = {}
# IoU type -> the module that registers it when imported (only the one asked for is
# imported: ``iou_type="segm"`` must not pay for the rotated or 3-D geometry modules)
_PROVIDERS = {
    "segm": "ioukit.coco._segm",
    "boundary": "ioukit.coco._segm",
    "rotated": "ioukit.coco._rotated",
    "bbox3d": "ioukit.coco._bbox3d",
    "interval": "ioukit.coco._interval",
}


def register_iou_type(plugin: IouPlugin) -> None:
    """Make ``plugin`` available as ``evaluate(..., iou_type=plugin.name)``.

    >>> p = get_iou_type("bbox")
    >>> register_iou_type(p)  # re-registering the same name replaces it
    """
    _REGISTRY[plugin.name] = plugin


def _load_providers() -> None:
    for mod in dict.fromkeys(_PROVIDERS.values()):
        importlib.import_module(mod)


def iou_types() -> list[str]:
    """Names of the registered IoU types.

    >>> "bbox" in iou_types()
    True
    """
    _load_providers()
    return sorted(_REGISTRY)


def get_iou_type(name: str) -> IouPlugin:
    """The plug-in registered under ``name``; InvalidParameterError if none.

    >>> get_iou_type("bbox").needs_segmentation
    False
    """
    if name not in _REGISTRY and name in _PROVIDERS:
        importlib.import_module(_PROVIDERS[name])
    if name not in _REGISTRY:
        raise InvalidParameterError(f"unknown iou_type {name!r}; registered: {iou_types()}")
    return _REGISTRY[name]


def grouped_iou_from_pairwise(
    pairwise: Callable[[Any, Any, np.ndarray], np.ndarray],
) -> Callable[[Any, Any, Groups], np.ndarray]:
    """Build a ``grouped_iou`` from a per-group ``pairwise(dt_geom_rows, gt_geom_rows, iscrowd)``.

    ``dt_geom_rows`` / ``gt_geom_rows`` are ``geom[index]`` selections (NumPy fancy
    indexing, or list comprehension for lists); ``pairwise`` returns [D, G] float64.

    >>> g = Groups(np.array([0]), np.array([0, 1]), np.array([0]), np.array([0, 1]),
    ...            np.array([0, 1]), np.array([False]))
    >>> f = grouped_iou_from_pairwise(lambda d, t, c: np.full((len(d), len(t)), 0.5))
    >>> f(np.zeros((1, 4)), np.zeros((1, 4)), g).tolist()
    [0.5]
    """

    def take(geom: Any, idx: np.ndarray) -> Any:
        if isinstance(geom, np.ndarray):
            return geom[idx]
        return [geom[i] for i in idx]

    def grouped(dt_geom: Any, gt_geom: Any, groups: Groups) -> np.ndarray:
        out = np.zeros(int(groups.iou_offsets[-1]), dtype=np.float64)
        for g in range(groups.n_groups):
            d0, d1 = groups.dt_offsets[g], groups.dt_offsets[g + 1]
            g0, g1 = groups.gt_offsets[g], groups.gt_offsets[g + 1]
            if d1 == d0 or g1 == g0:
                continue
            gidx = groups.gt_index[g0:g1]
            m = pairwise(
                take(dt_geom, groups.dt_index[d0:d1]), take(gt_geom, gidx), groups.gt_iscrowd[gidx]
            )
            out[groups.iou_offsets[g] : groups.iou_offsets[g + 1]] = np.asarray(
                m, dtype=np.float64
            ).ravel()
        return out

    return grouped


# ------------------------------------------------------------------------- bbox
def _bbox_grouped(dt_geom: np.ndarray, gt_geom: np.ndarray, groups: Groups) -> np.ndarray:
    # compiled: pycocotools bbIou per pair (ioukit.geometry._primitives.box_iou_coco)
    def i64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    return bbox_grouped_iou(
        np.ascontiguousarray(dt_geom, dtype=np.float64).reshape(-1, 4),
        np.ascontiguousarray(gt_geom, dtype=np.float64).reshape(-1, 4),
        i64(groups.dt_index),
        i64(groups.dt_offsets),
        i64(groups.gt_index),
        i64(groups.gt_offsets),
        i64(groups.iou_offsets),
        np.ascontiguousarray(groups.gt_iscrowd, dtype=np.bool_).view(np.uint8),
    )


register_iou_type(
    IouPlugin(
        name="bbox",
        needs_segmentation=False,
        prepare_gt=lambda gt: np.ascontiguousarray(gt.ann_bbox, dtype=np.float64),
        prepare_dt=lambda dt, gt: np.ascontiguousarray(dt.bbox, dtype=np.float64),
        grouped_iou=_bbox_grouped,
    )
)
