"""Streaming COCO evaluation for training loops: ``update`` per image, ``compute`` once.

Boxes and masks are matched in small batches as they arrive and then dropped: what
stays is the per-image match records of :class:`~ioukit.coco.EvalState` (about 40
bytes per detection for 4 area ranges x 10 IoU thresholds), so memory does not grow
with the inputs. Evaluators fed with disjoint images ``merge`` (e.g. across
data-parallel ranks) and give the same result as one evaluator fed everything, in
any order.

Masks (``iou_type="segm"``, ``"boundary"`` or any registered mask plug-in) are
turned into COCO RLEs as soon as :meth:`CocoEvaluator.update` receives them (dense
masks are never buffered), with the public :mod:`ioukit.rle` API and
pycocotools' rules (``COCO.annToRLE`` for GT, ``loadRes`` for results).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import rle
from .._deprecation import UNSET, renamed
from ..errors import (
    DuplicateIdError,
    InvalidMaskError,
    InvalidParameterError,
    InvalidPolygonError,
    InvalidRLEError,
    ShapeMismatchError,
)
from ._geometry import get_iou_type
from ._load import DtTable, GtTable, _check_box_values, _check_known, _check_scores
from ._params import make_params
from ._state import EvalState, merge_states
from .evaluate import accumulate, evaluate_images
from .result import CocoResult

__all__ = ["CocoEvaluator"]


def _as_image_id(image_id: Any) -> int:
    """``image_id`` as a Python int; InvalidParameterError for non-integers (1.7, 'img1')."""
    v = image_id
    if hasattr(v, "detach"):  # a 0-d torch tensor
        v = v.detach().cpu().numpy()
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, (bool, np.bool_)):
        raise InvalidParameterError(f"image_id must be an integer; got {image_id!r}")
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        v = int(v)
    if not isinstance(v, (int, np.integer)):
        raise InvalidParameterError(f"image_id must be an integer; got {image_id!r}")
    v = int(v)
    if not -(2**63) <= v < 2**63:
        raise InvalidParameterError(f"image_id {v} is outside int64 (at most 2**63 - 1)")
    return v


def _numbers(x: Any, name: str, where: str) -> np.ndarray:
    """An argument of update() as a NumPy array, with ioukit's errors (ragged, text)."""
    if hasattr(x, "detach"):  # torch: leave the graph and the device
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except ValueError:
        raise ShapeMismatchError(
            f"{where}: {name} is ragged (its rows have different lengths)"
        ) from None
    if a.dtype.kind not in "biuf":
        raise InvalidParameterError(f"{where}: {name} must be numbers; got {a.dtype} values")
    return a


def _int_column(x: Any, name: str, where: str) -> np.ndarray:
    """(n,) int64 from integers or integral floats; non-integral values are rejected."""
    a = _numbers(x, name, where).reshape(-1)
    if a.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(a) | (a != np.trunc(a)))
        if bad.size:
            raise InvalidParameterError(
                f"{where}: {name} row {bad[0]} is {a[bad[0]].item()!r}, not an integer"
            )
    if a.size and (a.max() > np.iinfo(np.int64).max or a.min() < np.iinfo(np.int64).min):
        raise InvalidParameterError(f"{where}: {name} has values outside int64")
    return a.astype(np.int64)


def _float_column(x: Any, name: str, where: str) -> np.ndarray:
    return _numbers(x, name, where).reshape(-1).astype(np.float64)


def _box_rows(x: Any, name: str, where: str) -> np.ndarray:
    """(n, 4) float64 boxes from (n, 4), one box (4,) or nothing (0,)."""
    a = _numbers(x, name, where).astype(np.float64)
    if a.ndim == 2 and a.shape[1] == 4:
        return a
    if a.ndim == 1 and a.size in (0, 4):
        return a.reshape(-1, 4)
    raise ShapeMismatchError(f"{where}: {name} must have shape (n, 4); got {a.shape}")


def _field_rows(
    fields: Any, declared: tuple, n: int, side: str, where: str
) -> dict[str, np.ndarray]:
    """The plug-in's geometry fields of one side: ``{name: float64 (n, width)}``.

    Every declared field is required when the side has objects; unknown names, wrong
    widths or row counts and non-finite values are errors naming the field."""
    given = {} if fields is None else dict(fields)
    names = {f.name for f in declared}
    unknown = sorted(set(given) - names)
    if unknown:
        raise InvalidParameterError(
            f"{where}: {side} field {unknown[0]!r} is not one this IoU type reads "
            f"({', '.join(sorted(names)) or 'none'})"
        )
    out = {}
    for f in declared:
        if f.name not in given:
            if n:
                raise InvalidParameterError(
                    f"{where}: this IoU type needs the {side} field {f.name!r} "
                    f"(rows of {f.described}) for its {n} objects"
                )
            out[f.name] = np.zeros((0, f.width))
            continue
        a = _numbers(given[f.name], f"{side} field {f.name!r}", where).astype(np.float64)
        a = a.reshape(-1, f.width) if a.ndim == 1 and a.size in (0, f.width) else a
        if a.ndim != 2 or a.shape != (n, f.width):
            raise ShapeMismatchError(
                f"{where}: {side} field {f.name!r} must have shape ({n}, {f.width}); got {a.shape}"
            )
        if not np.isfinite(a).all():
            row = int(np.flatnonzero(~np.isfinite(a).all(axis=1))[0])
            raise InvalidParameterError(
                f"{where}: {side} field {f.name!r} row {row} is not finite: {a[row].tolist()}"
            )
        out[f.name] = a
    return out


def _to_xywh(b: np.ndarray, fmt: str) -> np.ndarray:
    if fmt == "xywh":
        return b
    if fmt == "xyxy":
        return np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    # cxcywh
    return np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]], axis=1)


def _is_array(x: Any) -> bool:
    return hasattr(x, "__array__") and not isinstance(x, (list, tuple, dict))


def _host(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch, on any device
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _peek_size(masks: Any) -> tuple[int, int] | None:
    """The (h, w) a mask argument states by itself (dense shape or RLE ``size``), if any."""
    if masks is None:
        return None
    if _is_array(masks):
        shape = tuple(masks.shape)
        return (int(shape[-2]), int(shape[-1])) if len(shape) >= 2 else None
    for m in masks:
        if isinstance(m, dict) and "size" in m:
            try:
                return int(m["size"][0]), int(m["size"][1])
            except (TypeError, ValueError, IndexError):
                return None  # reported with the mask's name by the conversion
        if _is_array(m) and len(m.shape) == 2:
            return int(m.shape[0]), int(m.shape[1])
    return None


def _check_dense(a: np.ndarray, what: str) -> None:
    if a.dtype.kind not in "biuf":
        raise InvalidMaskError(f"{what}: masks must be bool or numeric; got dtype {a.dtype}")
    if a.dtype.kind == "f" and a.size and np.any((a != 0) & (a != 1)):
        # probabilities or logits would all count as foreground: threshold them first
        raise InvalidMaskError(f"{what}: float masks must hold only 0 and 1 (threshold them first)")


def _masks_to_rles(masks: Any, size: tuple[int, int] | None, where: str, side: str) -> list[dict]:
    """One compressed COCO RLE per object, pycocotools ``COCO.annToRLE`` semantics.

    ``masks``: a dense [n, H, W] array (NumPy or torch, any device), or a sequence
    whose items are compressed RLE dicts, uncompressed RLE dicts, lists of polygons
    (``[[x0, y0, x1, y1, ...], ...]``) or dense (H, W) arrays.
    """
    if _is_array(masks):
        a = _host(masks)
        if a.ndim != 3:
            raise InvalidMaskError(f"{where}: {side} masks must be [n, H, W]; got shape {a.shape}")
        _check_dense(a, f"{where}: {side} masks")
        if a.shape[0] == 0:
            return []
        # rle.encode takes (H, W, n); the transposed view is walked in place, no copy
        out = rle.encode(np.transpose(a, (1, 2, 0)))
    else:
        out = []
        for i, m in enumerate(masks):
            name = f"{where}: {side} mask {i}"
            if isinstance(m, dict):
                if "counts" not in m or "size" not in m:
                    raise InvalidRLEError(f"{name}: an RLE dict needs 'counts' and 'size'")
                if isinstance(m["counts"], (str, bytes)):
                    r = m
                else:  # uncompressed (crowd GT style), as annToRLE: frPyObjects
                    try:
                        r = rle.from_uncompressed([m])[0]
                    except (InvalidRLEError, ShapeMismatchError) as e:
                        raise type(e)(f"{name}: {e}") from None
            elif _is_array(m):
                a = _host(m)
                if a.ndim != 2:
                    raise InvalidMaskError(f"{name}: a dense mask must be (H, W); got {a.shape}")
                _check_dense(a, name)
                r = rle.encode(a)
            elif isinstance(m, (list, tuple)):
                if size is None:
                    raise InvalidParameterError(
                        f"{name}: polygons need the image size; pass image_size=(H, W)"
                    )
                if not m or not all(isinstance(p, (list, tuple)) or _is_array(p) for p in m):
                    raise InvalidPolygonError(
                        f"{name}: a polygon segmentation is a non-empty list of "
                        "[x0, y0, x1, y1, ...] lists"
                    )
                try:
                    # COCO.annToRLE: each polygon rasterised (frPyObjects), then merged
                    r = rle.merge(rle.from_polygons([list(np.asarray(p)) for p in m], *size))
                except InvalidPolygonError as e:
                    raise InvalidPolygonError(f"{name}: {e}") from None
            else:
                raise InvalidMaskError(
                    f"{name}: unsupported mask type {type(m).__name__} (expected an RLE dict, "
                    "a list of polygons or a dense (H, W) array)"
                )
            out.append(r)
    ref = size if size is not None else (tuple(out[0]["size"]) if out else None)
    for i, r in enumerate(out):
        try:
            hw = (int(r["size"][0]), int(r["size"][1]))
        except (TypeError, ValueError, IndexError):
            raise InvalidRLEError(
                f"{where}: {side} mask {i}: 'size' must be [h, w]; got {r['size']!r}"
            ) from None
        if hw != ref:
            what = "image_size" if size is not None else f"{side} mask 0's size"
            raise ShapeMismatchError(
                f"{where}: {side} mask {i} has size {list(hw)}, not the {what} {list(ref)}"
            )
    return out


def _rle_stats(rles: list[dict], where: str, side: str) -> tuple[np.ndarray, np.ndarray]:
    """(area float64 (n,), bbox xywh (n, 4)) of RLEs, validating their counts."""
    if not rles:
        return np.zeros(0), np.zeros((0, 4))
    try:
        area = np.asarray(rle.area(rles), dtype=np.float64).reshape(-1)
        box = np.asarray(rle.to_bbox(rles), dtype=np.float64).reshape(-1, 4)
    except InvalidRLEError as e:
        raise InvalidRLEError(f"{where}: {side} masks: {e}") from None
    return area, box


class CocoEvaluator:
    """Accumulate COCO evaluation image by image; ``compute()`` -> :class:`CocoResult`.

    Parameters
    ----------
    categories : list[int] | list[dict] | dict[int, str]
        Category ids (or ``{"id", "name"}`` dicts, or id -> name).
    iou_type : str
        ``"bbox"`` (boxes), ``"segm"`` (mask IoU), ``"boundary"`` (Boundary IoU), or
        any other registered plug-in (:func:`ioukit.coco.iou_types`). Mask types
        need ``gt_masks`` / ``dt_masks`` in :meth:`update`.
    fmt : {"xyxy", "xywh", "cxcywh"}
        Layout of the boxes given to :meth:`update` (COCO files use xywh);
        ``box_format=`` is its deprecated name.
    fix_zero_id, fix_summary : bool
        As in :func:`ioukit.coco.evaluate`.
    batch_images : int
        Images buffered before matching (their boxes / RLEs are dropped after).
    keep_matches : bool
        Keep the match records for ``compute().matches()``; there ``dt_row`` and
        ``gt_id`` are positions in the image's ``update`` arrays (detections and GT).
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

    Masks: a dense [n, H, W] stack, or per object an RLE dict, a polygon list or an
    (H, W) array:

    >>> ev = CocoEvaluator([1], iou_type="segm")
    >>> gt = np.zeros((1, 20, 30), bool); gt[0, 2:12, 5:15] = True
    >>> ev.update(1, gt_labels=[1], gt_masks=gt,
    ...           dt_scores=[0.9], dt_labels=[1],
    ...           dt_masks=[[[5, 2, 15, 2, 15, 12, 5, 12]]], image_size=(20, 30))
    >>> ev.compute().stats[1].round(3)   # AP@0.5: the polygon covers the mask
    np.float64(1.0)
    """

    def __init__(
        self,
        categories: Any,
        iou_type: str = "bbox",
        *,
        fmt: str = "xyxy",
        box_format: Any = UNSET,
        fix_zero_id: bool = False,
        fix_summary: bool = False,
        batch_images: int = 256,
        keep_matches: bool = False,
        **params: Any,
    ) -> None:
        plugin = get_iou_type(iou_type)  # InvalidParameterError for unknown names
        fmt = renamed("CocoEvaluator", "box_format", "fmt", box_format, fmt, "xyxy")
        if fmt not in ("xyxy", "xywh", "cxcywh"):
            raise InvalidParameterError(f"fmt must be 'xyxy', 'xywh' or 'cxcywh'; got {fmt!r}")
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
        self.iou_type = iou_type
        self.fmt = fmt
        self.fix_zero_id = fix_zero_id
        self.fix_summary = fix_summary
        self.batch_images = int(batch_images)
        self.keep_matches = bool(keep_matches)
        self._masks = bool(plugin.needs_segmentation)
        self._fields = tuple(plugin.fields)  # e.g. "rbox" for iou_type="rotated"
        self._states: list[EvalState] = []
        self._pending: list[tuple] = []
        self._seen: set[int] = set()
        self._next_ann_id = 1

    def update(
        self,
        image_id: int,
        gt_boxes: Any = None,
        gt_labels: Any = None,
        dt_boxes: Any = None,
        dt_scores: Any = None,
        dt_labels: Any = None,
        gt_iscrowd: Any = None,
        gt_area: Any = None,
        *,
        gt_masks: Any = None,
        dt_masks: Any = None,
        image_size: tuple[int, int] | None = None,
        gt_fields: Any = None,
        dt_fields: Any = None,
    ) -> None:
        """Add one image's ground truth (G objects) and detections (D objects).

        Parameters
        ----------
        image_id : int
            Unique per evaluator (and across merged evaluators).
        gt_boxes : (G, 4), optional
            In ``fmt``; derived from ``gt_masks`` (``toBbox``) when omitted.
        gt_labels : (G,) int
            Category ids.
        dt_boxes : (D, 4), optional
            In ``fmt``; derived from ``dt_masks`` when omitted.
        dt_scores, dt_labels : (D,)
        gt_iscrowd : (G,), optional
            Zeros by default. Crowd GT match by intersection over the detection.
        gt_area : (G,), optional
            The area ranges' measure (pycocotools reads the GT file's ``area``
            field and never recomputes it). Default: the mask's pixel count when
            ``gt_masks`` is given, else the box area. COCO files hold the polygon
            area there, which differs slightly: pass it to reproduce file-based
            numbers exactly.
        gt_masks, dt_masks : optional
            A dense [n, H, W] array (NumPy or torch, bool / integer / 0-1 float, any
            device: copied to the host), or a sequence with one item per object: a
            COCO RLE dict (compressed or uncompressed counts), a list of polygons
            ``[[x0, y0, x1, y1, ...], ...]`` (rasterised and merged, as
            ``COCO.annToRLE``) or a dense (H, W) array. Required by mask IoU types;
            with ``iou_type="bbox"`` they only supply missing boxes and areas.
        image_size : (H, W), optional
            Needed for polygons; when given, every mask must have this size.
            Otherwise the masks' own sizes must agree.
        gt_fields, dt_fields : mapping of str to (G, width) / (D, width), optional
            The geometry an IoU plug-in reads besides the boxes, by the JSON field's
            name: ``{"rbox": (n, 5)}`` for ``iou_type="rotated"``, ``{"segment": (n,
            2)}`` for ``"interval"``, ``{"bbox3d": (n, 7)}`` for ``"bbox3d"``
            (:attr:`IouPlugin.fields`). Required by those types, as the fields are in
            their JSON files; the boxes and areas still give the area ranges.

        Detection areas follow ``loadRes``: ``w * h`` of ``dt_boxes`` when they are
        given (the rule for result files that carry a ``bbox``), else the mask's
        pixel count. Inputs are NumPy or torch arrays or lists.
        """
        image_id = _as_image_id(image_id)
        if image_id in self._seen:
            raise DuplicateIdError(f"image id {image_id} was already added to this evaluator")
        where = f"image {image_id}"
        gl = _int_column(gt_labels, "gt_labels", where) if gt_labels is not None else None
        dl = _int_column(dt_labels, "dt_labels", where) if dt_labels is not None else None
        ds = _float_column(dt_scores, "dt_scores", where) if dt_scores is not None else None
        gl = np.zeros(0, np.int64) if gl is None else gl
        dl = np.zeros(0, np.int64) if dl is None else dl
        ds = np.zeros(0) if ds is None else ds

        # masks -> RLEs now, so no dense mask outlives this call
        if image_size is not None:
            try:
                size = (int(image_size[0]), int(image_size[1]))
            except (TypeError, ValueError, IndexError) as e:
                raise InvalidParameterError(
                    f"{where}: image_size must be (H, W); got {image_size!r}"
                ) from e
            if len(image_size) != 2 or size[0] <= 0 or size[1] <= 0:
                raise InvalidParameterError(
                    f"{where}: image_size must be two positive ints; got {image_size!r}"
                )
        else:
            size = _peek_size(gt_masks) or _peek_size(dt_masks)
        if self._masks:
            for masks, n, side in ((gt_masks, gl.size, "GT"), (dt_masks, ds.size, "detection")):
                if masks is None and n:
                    raise InvalidParameterError(
                        f"{where}: iou_type={self.iou_type!r} needs {side} masks "
                        f"({'gt' if side == 'GT' else 'dt'}_masks) for its {n} objects"
                    )
        g_rles = None if gt_masks is None else _masks_to_rles(gt_masks, size, where, "GT")
        d_rles = None if dt_masks is None else _masks_to_rles(dt_masks, size, where, "detection")
        if size is None:
            size = (0, 0)  # no masks at all: nothing to check a size against
        if g_rles is not None and len(g_rles) != gl.size:
            raise ShapeMismatchError(f"{where}: {len(g_rles)} GT masks but {gl.size} GT labels")
        if d_rles is not None and len(d_rles) != ds.size:
            raise ShapeMismatchError(
                f"{where}: {len(d_rles)} detection masks but {ds.size} detection scores"
            )
        g_marea, g_mbox = _rle_stats(g_rles, where, "GT") if g_rles is not None else (None, None)
        d_marea, d_mbox = (
            _rle_stats(d_rles, where, "detection") if d_rles is not None else (None, None)
        )

        if gt_boxes is not None:
            gb = _to_xywh(_box_rows(gt_boxes, "gt_boxes", where), self.fmt)
        else:
            gb = g_mbox if g_mbox is not None else np.zeros((0, 4))
        if dt_boxes is not None:
            db = _to_xywh(_box_rows(dt_boxes, "dt_boxes", where), self.fmt)
        else:
            db = d_mbox if d_mbox is not None else np.zeros((0, 4))
        if not (len(gl) == len(gb)):
            raise ShapeMismatchError(f"{where}: {len(gb)} GT boxes but {len(gl)} GT labels")
        if not (len(db) == len(ds) == len(dl)):
            raise ShapeMismatchError(
                f"{where}: {len(db)} detection boxes, {len(ds)} scores, {len(dl)} labels"
            )
        _check_box_values(gb, "", lambda i: f"GT box {i}", where)
        _check_box_values(db, "", lambda i: f"detection box {i}", where)
        _check_scores(ds, lambda i: f"detection {i}", where)
        _check_known(gl, self.cat_ids, lambda i: f"{where}: GT box {i} has label", "categories")
        _check_known(dl, self.cat_ids, lambda i: f"{where}: detection {i} has label", "categories")
        crowd = (
            np.zeros(len(gb), bool)
            if gt_iscrowd is None
            else _int_column(gt_iscrowd, "gt_iscrowd", where).astype(bool)
        )
        if gt_area is not None:
            area = _float_column(gt_area, "gt_area", where)
        elif g_marea is not None:
            area = g_marea
        else:
            area = gb[:, 2] * gb[:, 3]
        if len(crowd) != len(gb) or len(area) != len(gb):
            raise ShapeMismatchError(
                f"{where}: gt_iscrowd / gt_area lengths {len(crowd)} / {len(area)} "
                f"differ from {len(gb)} GT objects"
            )
        # coco.py loadRes: a result with a bbox has area w * h; one with only a
        # segmentation gets maskUtils.area (and toBbox for its box)
        d_area = db[:, 2] * db[:, 3] if dt_boxes is not None or d_marea is None else d_marea
        if not self._masks:
            g_rles = d_rles = None  # bbox IoU: the masks only supplied boxes and areas
        else:
            g_rles, d_rles = g_rles or [], d_rles or []
        g_fields = _field_rows(gt_fields, self._fields, len(gb), "GT", where)
        d_fields = _field_rows(dt_fields, self._fields, len(db), "detection", where)
        self._seen.add(image_id)
        self._pending.append(
            (image_id, gb, gl, crowd, area, db, ds, dl, d_area, g_rles, d_rles, size)
            + (g_fields, d_fields)
        )
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
        sizes = np.array([p[11] for p in pend], dtype=np.int64).reshape(-1, 2)
        n = int(ng.sum())
        ann_id = np.arange(self._next_ann_id, self._next_ann_id + n, dtype=np.int64)
        self._next_ann_id += n
        gt = GtTable(
            image_ids=img,
            image_heights=sizes[:, 0].copy(),
            image_widths=sizes[:, 1].copy(),
            category_ids=self.cat_ids,
            category_names=self.category_names,
            ann_id=ann_id,
            ann_image_id=np.repeat(img, ng),
            ann_category_id=np.concatenate([p[2] for p in pend]),
            ann_bbox=np.ascontiguousarray(np.concatenate([p[1] for p in pend]).reshape(-1, 4)),
            ann_area=np.concatenate([p[4] for p in pend]).astype(np.float64),
            ann_iscrowd=np.concatenate([p[3] for p in pend]).astype(bool),
            ann_segmentation=[r for p in pend for r in p[9]] if self._masks else None,
            source="<stream>",
            ann_fields={
                f.name: np.concatenate([p[12][f.name] for p in pend]) for f in self._fields
            },
        )
        dt = DtTable(
            image_id=np.repeat(img, nd),
            category_id=np.concatenate([p[7] for p in pend]),
            bbox=np.ascontiguousarray(np.concatenate([p[5] for p in pend]).reshape(-1, 4)),
            score=np.concatenate([p[6] for p in pend]).astype(np.float64),
            area=np.concatenate([p[8] for p in pend]).astype(np.float64),
            segmentation=[r for p in pend for r in p[10]] if self._masks else None,
            source="<stream>",
            fields={f.name: np.concatenate([p[13][f.name] for p in pend]) for f in self._fields},
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
        st = evaluate_images(
            gt, dt, p_batch, fix_zero_id=self.fix_zero_id, keep_matches=self.keep_matches
        )
        if st.matches is not None:
            _positions_in_image(st.matches, ng, nd, int(ann_id[0]) if n else 0)
        self._states.append(st)

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


def _positions_in_image(matches: dict, ng: np.ndarray, nd: np.ndarray, first_id: int) -> None:
    """A batch's match records with rows and GT ids as positions in each image's arrays.

    The batch's detections are its images' ``update`` arrays concatenated (``nd`` per
    image), and its GT ids run from ``first_id`` over its GT likewise (``ng``).
    """
    d_pos = np.arange(int(nd.sum())) - np.repeat(np.cumsum(nd) - nd, nd)
    g_pos = np.arange(int(ng.sum())) - np.repeat(np.cumsum(ng) - ng, ng)
    matches["dt_row"] = d_pos[matches["dt_row"]]
    for name in ("gt_id", "best_gt_id"):
        ids = matches[name]
        hit = ids >= 0
        out = np.full(ids.shape, -1, np.int64)
        out[hit] = g_pos[ids[hit] - first_id]
        matches[name] = out
