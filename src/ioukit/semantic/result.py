"""``SemanticResult``: the numbers of a semantic segmentation evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SemanticResult"]


@dataclass
class SemanticResult:
    """Per-class and mean metrics of label maps, with the counts behind them.

    Per-class arrays are float64 ``[C]``; NaN marks a class without a value under the
    absent policy (see docs/semantic.md). Means skip NaN.

    Attributes
    ----------
    confusion : int64 [C, C]      rows = target class, columns = predicted class
    void_predictions : int64 [C]  target pixels of each class predicted outside [0, C)
    ignored_pixels : int          target pixels equal to ignore_index
    iou, dice, precision, recall : float64 [C]
    miou, mdice, mean_class_accuracy, pixel_accuracy, fwiou : float
    image_iou : float64 [N, C]    per-image per-class IoU (the absent policy applied)
    category_iou : float64 [K] or None  (``category_map`` given), category_miou
    boundary_iou : float64 [C] or None  (``boundary=True``), mboundary_iou
    """

    num_classes: int
    absent: str
    average: str
    ignore_index: int | None
    confusion: np.ndarray
    void_predictions: np.ndarray
    ignored_pixels: int
    num_images: int
    iou: np.ndarray
    dice: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    miou: float
    mdice: float
    mean_class_accuracy: float
    pixel_accuracy: float
    fwiou: float
    image_iou: np.ndarray
    image_names: list[str] | None = None
    class_names: list[str] | None = None
    category_iou: np.ndarray | None = None
    category_miou: float | None = None
    category_names: list[str] | None = None
    boundary_iou: np.ndarray | None = None
    mboundary_iou: float | None = None
    dilation_ratio: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def f1(self) -> np.ndarray:
        """Per-class F1, which equals Dice on pixel counts."""
        return self.dice

    @property
    def class_accuracy(self) -> np.ndarray:
        """Per-class accuracy (mmseg's Acc): recall, ``tp / target pixels``."""
        return self.recall

    @property
    def names(self) -> list[str]:
        """Class names (``class_names``, or the class indices as text)."""
        return (
            list(self.class_names)
            if self.class_names
            else [str(c) for c in range(self.num_classes)]
        )

    def per_class(self) -> list[dict[str, Any]]:
        """One dict per class: name, IoU, Dice, precision, recall, target and predicted pixels."""
        gt = self.confusion.sum(1) + self.void_predictions
        pred = self.confusion.sum(0)
        rows = []
        for c, name in enumerate(self.names):
            row = {
                "class": name,
                "iou": _none(self.iou[c]),
                "dice": _none(self.dice[c]),
                "precision": _none(self.precision[c]),
                "recall": _none(self.recall[c]),
                "target_pixels": int(gt[c]),
                "predicted_pixels": int(pred[c]),
            }
            if self.boundary_iou is not None:
                row["boundary_iou"] = _none(self.boundary_iou[c])
            rows.append(row)
        return rows

    def summary(self) -> str:
        """A readable per-class table, then the means."""
        head = (
            f"semantic segmentation \u00b7 {self.num_classes} classes \u00b7 "
            f"{self.num_images} images \u00b7 absent={self.absent} \u00b7 average={self.average}"
            + (f" \u00b7 ignore_index={self.ignore_index}" if self.ignore_index is not None else "")
        )
        cols = ["class", "IoU", "Dice", "Prec", "Recall", "#target", "#pred"]
        if self.boundary_iou is not None:
            cols.insert(2, "BIoU")
        rows = []
        for r in self.per_class():
            cells = [r["class"], _num(r["iou"]), _num(r["dice"]), _num(r["precision"])]
            cells += [_num(r["recall"]), str(r["target_pixels"]), str(r["predicted_pixels"])]
            if self.boundary_iou is not None:
                cells.insert(2, _num(r["boundary_iou"]))
            rows.append(cells)
        means = ["mean", _num(self.miou), _num(self.mdice), "", _num(self.mean_class_accuracy)]
        means += ["", ""]
        if self.boundary_iou is not None:
            means.insert(2, _num(self.mboundary_iou))
        rows.append(means)
        w = [max(len(r[i]) for r in [cols, *rows]) for i in range(len(cols))]
        lines = [head]
        for r in [cols, *rows]:
            lines.append(
                "  ".join(x.ljust(w[0]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
            )
        lines.append(
            f"mIoU {_num(self.miou)} \u00b7 pixel accuracy {_num(self.pixel_accuracy)} \u00b7 "
            f"mean class accuracy {_num(self.mean_class_accuracy)} \u00b7 fwIoU {_num(self.fwiou)}"
            + (
                f" \u00b7 category mIoU {_num(self.category_miou)}"
                if self.category_iou is not None
                else ""
            )
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Numbers as JSON-able Python objects (NaN as None)."""
        out: dict[str, Any] = {
            "protocol": "semantic",
            "num_classes": self.num_classes,
            "classes": self.names,
            "absent": self.absent,
            "average": self.average,
            "ignore_index": self.ignore_index,
            "num_images": self.num_images,
            "miou": _none(self.miou),
            "mdice": _none(self.mdice),
            "pixel_accuracy": _none(self.pixel_accuracy),
            "mean_class_accuracy": _none(self.mean_class_accuracy),
            "fwiou": _none(self.fwiou),
            "per_class": self.per_class(),
            "confusion": self.confusion.tolist(),
            "void_predictions": self.void_predictions.tolist(),
            "ignored_pixels": int(self.ignored_pixels),
            "settings": dict(self.settings),
        }
        if self.category_iou is not None:
            names = self.category_names or [str(k) for k in range(len(self.category_iou))]
            out["category_iou"] = {n: _none(v) for n, v in zip(names, self.category_iou)}
            out["category_miou"] = _none(self.category_miou)
        if self.boundary_iou is not None:
            out["mboundary_iou"] = _none(self.mboundary_iou)
            out["dilation_ratio"] = self.dilation_ratio
        return out


def _num(v: Any) -> str:
    return "-" if v is None or v != v else f"{float(v):.4f}"


def _none(v: Any) -> float | None:
    return None if v is None or v != v else float(v)
