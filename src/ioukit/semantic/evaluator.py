"""``SemanticEvaluator`` (streaming: update / merge / compute) and ``evaluate``.

State: the dataset-accumulated count table (int64 ``[C + 2, C + 1]``, see
``_confusion``) plus per-image ``tp`` / ``gt`` / ``pred`` counts ``[N, C]`` (for the
per-image averaging levels) and, with ``boundary=True``, the per-class band counts.
States add, so merging shards (processes, GPUs, Dask partitions) gives the same
numbers as one pass, whatever the split.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._backend import is_torch
from ..errors import InvalidMaskError, InvalidParameterError, ShapeMismatchError
from ._boundary import band_counts
from ._confusion import LabelMapper, as_label_array, count_batch
from ._metrics import check_policy, class_metrics, nanmean, ratio
from .result import SemanticResult

__all__ = ["SemanticEvaluator", "evaluate"]


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_torch(x)


def _to_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if is_torch(x) else np.asarray(x)


class SemanticEvaluator:
    """Streaming semantic segmentation metrics: ``update`` per batch, ``compute`` once.

    Parameters
    ----------
    num_classes : int
        Labels ``0 .. C-1`` are classes. A target outside that range that is not
        ``ignore_index`` raises; a prediction outside it is a "void" prediction (a
        miss of its target class, in no class's false positives, as mmseg counts it).
    ignore_index : int, optional
        Target value whose pixels are skipped (255 in mmseg / Cityscapes train ids).
    absent : {"nan", "exclude_gt_absent", "zero", "one"}
        Value of a per-class ratio whose denominator is 0, i.e. for IoU a class absent
        from both target and prediction. ``"nan"`` (default; mmseg, torchmetrics
        ``average="macro"``): left out of the means. ``"exclude_gt_absent"``
        (detectron2): every class without target pixels is left out, even if
        predicted. ``"zero"`` (scikit-learn ``jaccard_score(labels=...)``): 0, in the
        means. ``"one"`` (medpy >= 0.5 on two empty masks): 1, in the means.
    average : {"dataset", "image", "image_class"}
        ``"dataset"`` (default): counts summed over all images, then the ratios.
        ``"image"``: the metrics of each image, then their mean over images.
        ``"image_class"``: per (image, class) IoU values, their mean over all pairs
        with a value (torchmetrics ``MeanIoU``); per-class values average over images.
    label_map, pred_label_map : {old: new}, optional
        Label rewriting of targets / predictions before counting (mmseg's
        ``label_map``; e.g. Cityscapes ``LABEL_ID_TO_TRAIN_ID``).
    reduce_zero_label : bool
        mmseg's: target 0 becomes ``ignore_index``, every other target label minus 1.
    spatial_dims : int
        2: a 3-D array is a batch ``[N, H, W]``; 3: a 3-D array is one volume
        ``[D, H, W]`` and a 4-D one a batch of volumes.
    class_names, category_map, category_names :
        ``category_map[c]`` is the category index of class ``c`` (-1: none), for
        Cityscapes-style category IoU (``ioukit.semantic.cityscapes``).
    boundary : bool
        Also accumulate Boundary IoU per class (2-D maps), band width
        ``dilation_ratio`` x image diagonal, as ``iou_type="boundary"`` in ``ioukit.coco``.

    Example
    -------
    >>> import numpy as np
    >>> ev = SemanticEvaluator(3, ignore_index=255)
    >>> ev.update(np.array([[0, 1], [1, 2]]), np.array([[0, 1], [2, 255]]))
    >>> ev.update(np.array([[2, 2]]), np.array([[2, 2]]))
    >>> r = ev.compute()
    >>> r.iou.tolist(), r.confusion.tolist()
    ([1.0, 0.5, 0.6666666666666666], [[1, 0, 0], [0, 1, 0], [0, 1, 2]])
    """

    def __init__(
        self,
        num_classes: int,
        *,
        ignore_index: int | None = None,
        absent: str = "nan",
        average: str = "dataset",
        label_map: Mapping[int, int] | None = None,
        pred_label_map: Mapping[int, int] | None = None,
        reduce_zero_label: bool = False,
        spatial_dims: int = 2,
        class_names: Sequence[str] | None = None,
        category_map: Sequence[int] | None = None,
        category_names: Sequence[str] | None = None,
        boundary: bool = False,
        dilation_ratio: float = 0.02,
    ) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
            raise InvalidParameterError(f"num_classes must be an int; got {num_classes!r}")
        if num_classes < 1:
            raise InvalidParameterError(f"num_classes must be >= 1; got {num_classes}")
        check_policy(absent, average)
        if spatial_dims not in (2, 3):
            raise InvalidParameterError(f"spatial_dims must be 2 or 3; got {spatial_dims!r}")
        if boundary and spatial_dims != 2:
            raise InvalidParameterError("boundary=True needs 2-D label maps (spatial_dims=2)")
        if boundary:
            from ..rle import dilation_width

            dilation_width(1, 1, dilation_ratio)  # validates the ratio
        self.num_classes = int(num_classes)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.absent = absent
        self.average = average
        self.spatial_dims = spatial_dims
        self._target_map = LabelMapper(label_map, reduce_zero_label, self.ignore_index)
        self._pred_map = LabelMapper(pred_label_map, False, self.ignore_index)
        self.class_names = list(class_names) if class_names is not None else None
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            raise InvalidParameterError(
                f"class_names has {len(self.class_names)} names for {self.num_classes} classes"
            )
        self.category_map = None if category_map is None else np.asarray(category_map, np.int64)
        if self.category_map is not None and self.category_map.shape != (self.num_classes,):
            raise InvalidParameterError(
                f"category_map needs one category index per class ({self.num_classes}); "
                f"got shape {self.category_map.shape}"
            )
        self.category_names = list(category_names) if category_names is not None else None
        self.boundary = bool(boundary)
        self.dilation_ratio = float(dilation_ratio)
        self._settings = {
            "label_map": {int(k): int(v) for k, v in (label_map or {}).items()},
            "pred_label_map": {int(k): int(v) for k, v in (pred_label_map or {}).items()},
            "reduce_zero_label": bool(reduce_zero_label),
            "spatial_dims": spatial_dims,
        }
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget every update."""
        c = self.num_classes
        self._table = np.zeros((c + 2, c + 1), np.int64)
        self._tp: list[np.ndarray] = []
        self._gt: list[np.ndarray] = []
        self._pred: list[np.ndarray] = []
        self._names: list[str] = []
        self._band = np.zeros((3, c), np.int64)  # intersection, union, target band

    @property
    def num_images(self) -> int:
        """Images counted so far."""
        return len(self._names)

    @property
    def confusion(self) -> np.ndarray:
        """The int64 confusion matrix ``[C, C]`` so far (rows = target)."""
        c = self.num_classes
        return self._table[:c, :c].copy()

    def _key(self) -> tuple:
        return (
            self.num_classes,
            self.ignore_index,
            self.absent,
            self.average,
            repr(self._settings),
            self.boundary,
            self.dilation_ratio,
        )

    def merge(self, other: SemanticEvaluator) -> SemanticEvaluator:
        """Add the state of ``other`` (same settings) to this one; returns ``self``.

        Images of ``other`` come after this one's.
        """
        if not isinstance(other, SemanticEvaluator) or other._key() != self._key():
            raise InvalidParameterError("merge needs a SemanticEvaluator with the same settings")
        self._table += other._table
        self._tp += other._tp
        self._gt += other._gt
        self._pred += other._pred
        self._names += other._names
        self._band += other._band
        return self

    # ----------------------------------------------------------------- update
    def update(self, preds: Any, targets: Any, names: Sequence[str] | None = None) -> None:
        """Count one batch, or every pair of an iterable of batches.

        ``preds`` / ``targets``: label maps ``[*S]`` or batches ``[N, *S]`` (NumPy, torch
        on CPU or CUDA, nested lists), or two iterables of them, zipped. ``names`` (one
        per image) label the per-image results.
        """
        if _is_array(preds) or _is_array(targets) or _nested_lists(preds, targets):
            self._update_batch(preds, targets, names)
            return
        if isinstance(preds, (str, bytes, os.PathLike)) or not isinstance(preds, Iterable):
            raise InvalidParameterError(
                f"preds must be label maps or an iterable of them; got {type(preds).__name__} "
                "(folders of PNG files: ioukit.semantic.evaluate(pred_dir, gt_dir))"
            )
        it_t = iter(targets)
        for i, p in enumerate(preds):
            try:
                t = next(it_t)
            except StopIteration:
                raise ShapeMismatchError(
                    f"preds has more items than targets ({i} targets)"
                ) from None
            self._update_batch(p, t, None)
        if next(it_t, None) is not None:
            raise ShapeMismatchError("targets has more items than preds")

    def _update_batch(self, pred: Any, target: Any, names: Sequence[str] | None) -> None:
        c = self.num_classes
        target = self._target_map(as_label_array(target, "targets"))
        pred = self._pred_map(as_label_array(pred, "preds"))
        tables = count_batch(target, pred, c, self.ignore_index, self.spatial_dims)
        n = tables.shape[0]
        bad = tables[:, c + 1, :].sum(axis=1)
        if bad.any():
            self._raise_bad_target(target, int(np.flatnonzero(bad)[0]))
        if names is not None and len(names) != n:
            raise ShapeMismatchError(f"{len(names)} names for a batch of {n} images")
        if self.boundary:
            t2 = _to_numpy(target).reshape((-1, *target.shape[-2:]))
            p2 = _to_numpy(pred).reshape((-1, *pred.shape[-2:]))
            for i in range(n):
                self._band += np.stack(
                    band_counts(t2[i], p2[i], c, self.ignore_index, self.dilation_ratio)
                )
        self._table += tables.sum(axis=0)
        self._tp.append(np.diagonal(tables[:, :c, :c], axis1=1, axis2=2).copy())
        self._gt.append(tables[:, :c, :].sum(axis=2))
        self._pred.append(tables[:, :c, :c].sum(axis=1))
        start = self.num_images
        self._names += (
            [str(x) for x in names] if names is not None else [str(start + i) for i in range(n)]
        )

    def _raise_bad_target(self, target: Any, i: int) -> None:
        t = _to_numpy(target)
        t = t if t.ndim == self.spatial_dims else t[i]
        bad = (t < 0) | (t >= self.num_classes)
        if self.ignore_index is not None:
            bad &= t != self.ignore_index
        v = t[bad].flat[0]
        raise InvalidMaskError(
            f"targets: image {self.num_images + i}: label {int(v)} is outside "
            f"[0, {self.num_classes}) and is not ignore_index ({self.ignore_index})"
        )

    # ---------------------------------------------------------------- compute
    def compute(self) -> SemanticResult:
        """The metrics of everything counted so far (see :class:`SemanticResult`)."""
        c = self.num_classes
        conf = self._table[:c, :c].copy()
        void = self._table[:c, c].copy()

        def stack(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros((0, c), np.int64)

        tp, gt, pred = stack(self._tp), stack(self._gt), stack(self._pred)
        img = class_metrics(tp, gt, pred, self.absent)
        if self.average == "dataset":
            m = class_metrics(
                np.diagonal(conf).copy(), conf.sum(1) + void, conf.sum(0), self.absent
            )
        else:
            m = {k: nanmean(img[k], 0) for k in ("iou", "dice", "precision", "recall")}
            m["pixel_accuracy"] = nanmean(img["pixel_accuracy"])
            m["fwiou"] = nanmean(img["fwiou"])
            if self.average == "image":
                for k in ("miou", "mdice", "mean_class_accuracy"):
                    m[k] = nanmean(img[k])
            else:  # every (image, class) pair with a value weighs the same
                m["miou"] = nanmean(img["iou"])
                m["mdice"] = nanmean(img["dice"])
                m["mean_class_accuracy"] = nanmean(img["recall"])
        result = SemanticResult(
            num_classes=c,
            absent=self.absent,
            average=self.average,
            ignore_index=self.ignore_index,
            confusion=conf,
            void_predictions=void,
            ignored_pixels=int(self._table[c].sum()),
            num_images=self.num_images,
            iou=np.asarray(m["iou"], np.float64),
            dice=np.asarray(m["dice"], np.float64),
            precision=np.asarray(m["precision"], np.float64),
            recall=np.asarray(m["recall"], np.float64),
            miou=float(m["miou"]),
            mdice=float(m["mdice"]),
            mean_class_accuracy=float(m["mean_class_accuracy"]),
            pixel_accuracy=float(m["pixel_accuracy"]),
            fwiou=float(m["fwiou"]),
            image_iou=img["iou"],
            image_names=list(self._names),
            class_names=self.class_names,
            settings={**self._settings, "dilation_ratio": self.dilation_ratio},
        )
        if self.category_map is not None:
            result.category_iou = category_iou(conf, self.category_map, self.absent)
            result.category_miou = float(nanmean(result.category_iou))
            result.category_names = self.category_names
        if self.boundary:
            inter, union, gt_band = self._band
            result.boundary_iou = ratio(inter, union, gt_band, self.absent)
            result.mboundary_iou = float(nanmean(result.boundary_iou))
            result.dilation_ratio = self.dilation_ratio
        return result


def _nested_lists(preds: Any, targets: Any) -> bool:
    # [[0, 1], [1, 0]] is one label map, not an iterable of maps
    def nested(x: Any) -> bool:
        while isinstance(x, (list, tuple)) and x:
            x = x[0]
        return isinstance(x, (int, np.integer))

    return isinstance(preds, (list, tuple)) and nested(preds) and nested(targets)


def category_iou(conf: np.ndarray, category_map: np.ndarray, absent: str = "nan") -> np.ndarray:
    """Category IoU from a class confusion matrix (cityscapesscripts'
    ``getIouScoreForCategory``): ``tp`` = pixels of a category predicted as any class
    of it, ``fn`` / ``fp`` = pixels of / predicted as the category's classes among the
    other categories' classes. Void predictions and classes without a category (-1)
    count for no category.

    >>> conf = np.array([[3, 1, 0], [1, 2, 1], [0, 0, 4]])
    >>> category_iou(conf, np.array([0, 0, 1])).tolist()   # (7 / 8, 4 / 5)
    [0.875, 0.8]
    """
    k = int(category_map.max()) + 1 if category_map.size and category_map.max() >= 0 else 0
    member = np.zeros((k, conf.shape[0]), np.int64)
    has = category_map >= 0
    member[category_map[has], np.flatnonzero(has)] = 1
    cat = member @ conf @ member.T
    tp = np.diagonal(cat).copy()
    return ratio(tp, cat.sum(1) + cat.sum(0) - tp, cat.sum(1), absent)


def evaluate(
    preds: Any,
    targets: Any,
    *,
    num_classes: int,
    ignore_index: int | None = None,
    absent: str = "nan",
    average: str = "dataset",
    **options: Any,
) -> SemanticResult:
    """Semantic segmentation metrics of predicted label maps against target label maps.

    Parameters
    ----------
    preds, targets :
        Label maps ``[H, W]`` (or volumes with ``spatial_dims=3``), batches
        ``[N, H, W]``, NumPy arrays or torch tensors (CPU or CUDA), iterables of them,
        or two folders of PNG label maps matched by file name (Cityscapes
        ``*_gtFine_labelIds.png`` / ``*_leftImg8bit.png``, ADE20K, VOC; needs Pillow,
        the ``images`` extra).
    num_classes, ignore_index, absent, average :
        See :class:`SemanticEvaluator`; the defaults are mmseg's conventions
        (absent classes left out of the means, counts accumulated over the dataset).
    **options :
        The other keyword arguments of :class:`SemanticEvaluator` (``label_map``,
        ``reduce_zero_label``, ``category_map``, ``boundary`` ...).

    Returns
    -------
    SemanticResult with ``.iou`` ``[C]``, ``.miou``, ``.dice``, ``.pixel_accuracy``,
    ``.fwiou``, ``.confusion`` (int64 ``[C, C]``, rows = target) and more.

    Example
    -------
    >>> import numpy as np
    >>> t = np.array([[0, 0, 1, 1]]); p = np.array([[0, 1, 1, 1]])
    >>> r = evaluate(p, t, num_classes=3)
    >>> r.iou.tolist(), r.miou, r.pixel_accuracy    # class 2 absent: NaN, left out
    ([0.5, 0.6666666666666666, nan], 0.5833333333333333, 0.75)
    >>> evaluate(p, t, num_classes=3, absent="zero").miou
    0.38888888888888884
    """
    ev = SemanticEvaluator(
        num_classes, ignore_index=ignore_index, absent=absent, average=average, **options
    )
    if isinstance(preds, (str, os.PathLike)) and isinstance(targets, (str, os.PathLike)):
        from ._files import pair_label_folders, read_label_map

        for key, gt_path, pred_path in pair_label_folders(targets, preds):
            t = read_label_map(gt_path)
            p = read_label_map(pred_path)
            if t.shape != p.shape:
                raise ShapeMismatchError(
                    f"{os.fspath(pred_path)} is {p.shape} and its GT {os.fspath(gt_path)} "
                    f"is {t.shape}"
                )
            ev.update(p, t, names=[key])
    else:
        ev.update(preds, targets)
    return ev.compute()
