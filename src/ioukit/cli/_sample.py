"""The built-in sample that ``ioukit eval`` runs on when given no files."""

from __future__ import annotations

from typing import Any

__all__ = ["SAMPLE", "sample_dataset"]

# What the sample is: readable in the report's parameters table.
SAMPLE = {"n_images": 300, "n_categories": 20, "seed": 0}

# Everyday object names, so the sample's per-class table reads like a real one.
_NAMES = (
    "person", "car", "chair", "bottle", "cup", "dog", "cat", "bicycle", "bird", "truck",
    "bench", "book", "umbrella", "backpack", "clock", "laptop", "bus", "potted plant",
    "traffic light", "handbag",
)  # fmt: skip


def sample_dataset() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sample: ground truth dict and detections list, the same on every machine.

    It is :func:`ioukit.synthetic.make_coco_dataset` with ``SAMPLE``'s arguments
    (300 images of COCO sizes, 20 long-tailed categories, COCO's small / medium /
    large mix, crowds, jittered, duplicate and background detections), with
    everyday category names in place of ``class_00`` ...

    Example
    -------
    >>> gt, dt = sample_dataset()
    >>> len(gt["images"]), gt["categories"][0]["name"], len(dt) > 1000
    (300, 'person', True)
    """
    from ..synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(**SAMPLE)
    for c, name in zip(gt["categories"], _NAMES):
        c["name"] = name
    return gt, dt
