"""The evaluation protocols of ``ioukit eval --protocol NAME``: one CLI module each.

``coco`` is built into :mod:`ioukit.cli._commands`. Every other protocol is a module
of this package with two functions:

- ``add_options(parser)``: adds its own argument group to ``ioukit eval``
  (``parser.add_argument_group("Pascal VOC (--protocol voc)")``); it must import
  nothing heavy, since every ``ioukit eval`` builds the parser;
- ``run(args, printer) -> int``: evaluates and prints (exit status).

Adding a protocol is one line below plus its module.

Example:
    >>> {"coco", "voc"} <= set(PROTOCOLS)
    True
    >>> protocol_module("voc").__name__
    'ioukit.cli._voc'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["PROTOCOLS", "protocol_module"]

#: name -> (module relative to ioukit.cli, one-line help); "" for the built-in COCO path
PROTOCOLS: dict[str, tuple[str, str]] = {
    "coco": ("", "COCO AP/AR (default)"),
    "voc": (
        "._voc",
        "GT is a VOC Annotations folder and DT a results path with {cls} for the class "
        "name (or a COCO-style JSON pair), --iou-thrs defaults to 0.5 (docs/voc.md)",
    ),
    "activitynet": ("._activitynet", "ActivityNet JSON pair, tIoU 0.5:0.95 (docs/activitynet.md)"),
    "semantic": ("._semantic", "PNG label-map folders GT_DIR PRED_DIR, --num-classes N"),
    "dota": ("._dota", "DOTA label folder and a Task1 results path with {cls} (docs/dota.md)"),
    "kitti": ("._kitti", "KITTI label folder and results folder, AP R40/R11 (docs/kitti.md)"),
    "panoptic": ("._panoptic", "PQ/SQ/RQ from panopticapi's PNG + JSON (docs/panoptic.md)"),
    "openimages": ("._openimages", "challenge CSVs, --labels, --hierarchy (docs/openimages.md)"),
}


def protocol_module(name: str) -> ModuleType | None:
    """The CLI module of protocol ``name`` (None for the built-in ``coco``)."""
    module, _ = PROTOCOLS[name]
    return importlib.import_module(module, __package__) if module else None
