"""``ioukit eval --protocol semantic GT_DIR PRED_DIR --num-classes N``: mIoU of PNG folders.

GT and predictions are folders of PNG label maps matched by file name (Cityscapes
``*_gtFine_labelIds.png`` / ``*_leftImg8bit.png``, ADE20K, VOC); the numbers are those
of :func:`ioukit.semantic.evaluate` (docs/semantic.md).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_options", "run"]

_ABSENT = ("nan", "exclude_gt_absent", "zero", "one")
_AVERAGE = ("dataset", "image", "image_class")


def add_options(p: argparse.ArgumentParser) -> None:
    """The semantic segmentation option group of ``ioukit eval``."""
    g = p.add_argument_group("semantic segmentation (--protocol semantic GT_DIR PRED_DIR)")
    g.add_argument("--num-classes", type=int, metavar="N", help="classes 0..N-1 (required)")
    g.add_argument("--ignore-index", type=int, metavar="V", help="target value to skip (e.g. 255)")
    g.add_argument(
        "--absent",
        choices=_ABSENT,
        default="nan",
        help="a class absent from target and prediction: nan (left out, mmseg/torchmetrics; "
        "default), exclude_gt_absent (detectron2), zero (scikit-learn), one (medpy)",
    )
    g.add_argument(
        "--average",
        choices=_AVERAGE,
        default="dataset",
        help="dataset (counts summed, default), image (mean of per-image metrics), "
        "image_class (mean over (image, class) pairs)",
    )
    g.add_argument(
        "--reduce-zero-label", action="store_true", help="mmseg's: target 0 ignored, others - 1"
    )
    g.add_argument(
        "--cityscapes",
        action="store_true",
        help="labelIds -> trainIds on both folders, 19 classes, ignore 255, class names and "
        "category mIoU",
    )
    g.add_argument("--boundary", action="store_true", help="also Boundary IoU per class")


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from ..semantic import cityscapes

    kw: dict[str, Any] = {
        "num_classes": args.num_classes,
        "ignore_index": args.ignore_index,
        "absent": args.absent,
        "average": args.average,
        "reduce_zero_label": bool(args.reduce_zero_label),
        "boundary": bool(args.boundary),
    }
    if args.cityscapes:
        kw.update(
            num_classes=args.num_classes or len(cityscapes.CLASSES),
            ignore_index=255 if args.ignore_index is None else args.ignore_index,
            label_map=cityscapes.LABEL_ID_TO_TRAIN_ID,
            pred_label_map=cityscapes.LABEL_ID_TO_TRAIN_ID,
            class_names=cityscapes.CLASSES,
            category_map=cityscapes.CATEGORY_OF_CLASS,
            category_names=cityscapes.CATEGORIES,
        )
    return kw


def run(args: argparse.Namespace, pr: Any) -> int:
    """Evaluate two PNG folders; print the per-class table (and JSON)."""
    from ..semantic import evaluate
    from ._commands import UsageError
    from ._protocols import evaluate_and_report, refuse_options

    if args.gt is None or args.dt is None:
        raise UsageError("--protocol semantic needs GT_DIR and PRED_DIR (folders of PNG maps)")
    if args.num_classes is None and not args.cityscapes:
        raise UsageError("--protocol semantic needs --num-classes N (or --cityscapes)")
    refuse_options(args, "semantic", {"iou_type": "bbox", "report": None})
    for path in (args.gt, args.dt):
        if not os.path.isdir(path):
            raise FileNotFoundError(2, "No such folder", path)
    return evaluate_and_report(
        args,
        pr,
        "semantic",
        lambda: evaluate(args.dt, args.gt, **_kwargs(args)),
        lambda r: f"{r.num_images:,} images \u00b7 {r.num_classes} classes",
        inputs={"GT": args.gt, "PRED": args.dt},
    )
