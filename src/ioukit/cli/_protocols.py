"""The evaluation protocols of ``ioukit eval --protocol NAME``: one CLI module each.

``coco`` is built into :mod:`ioukit.cli._commands`. Every other protocol is a module
of this package with two functions:

- ``add_options(parser)``: adds its own argument group to ``ioukit eval``
  (``parser.add_argument_group("Pascal VOC (--protocol voc)")``); it must import
  nothing heavy, since every ``ioukit eval`` builds the parser;
- ``run(args, printer) -> int``: evaluates and prints (exit status), usually
  :func:`refuse_options` then :func:`evaluate_and_report`, which hold what every
  protocol does alike (usage checks, timing, the header line, the summary, JSON).

Adding a protocol is one line below plus its module.

Example:
    >>> {"coco", "voc"} <= set(PROTOCOLS)
    True
    >>> protocol_module("voc").__name__
    'ioukit.cli._voc'
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["COCO_ONLY", "PROTOCOLS", "evaluate_and_report", "protocol_module", "refuse_options"]

#: options of ``ioukit eval`` that only the COCO protocol reads, with their defaults
COCO_ONLY: dict[str, Any] = {
    "iou_type": "bbox",
    "max_dets": None,
    "area_rng": None,
    "report": None,
    "slice_by": None,
}

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


def refuse_options(
    args: argparse.Namespace, protocol: str, options: Mapping[str, Any] = COCO_ONLY
) -> None:
    """Raise a usage error for any of ``options`` set away from its default, or for a
    Dask option: the protocols other than COCO run in one process.

    >>> refuse_options(argparse.Namespace(iou_type="bbox"), "voc")
    >>> refuse_options(argparse.Namespace(iou_type="segm"), "voc")
    Traceback (most recent call last):
    ioukit.cli._commands.UsageError: --iou-type is a COCO option, not used by --protocol voc
    """
    from ..distributed._cli import wants_distributed
    from ._commands import UsageError

    for name, default in options.items():
        if getattr(args, name, default) != default:
            raise UsageError(
                f"--{name.replace('_', '-')} is a COCO option, not used by --protocol {protocol}"
            )
    if wants_distributed(args):
        raise UsageError(f"--protocol {protocol} runs in one process (no --scheduler / --workers)")


def evaluate_and_report(
    args: argparse.Namespace,
    pr: Any,
    protocol: str,
    evaluate: Callable[[], Any],
    describe: Callable[[Any], str],
    inputs: Mapping[str, str] | None = None,
) -> int:
    """Run ``evaluate()``, print ``ioukit eval · PROTOCOL · describe(result) · T s`` and
    ``result.summary()``, and write ``result.to_dict()`` as JSON for ``--json``.

    The JSON holds ``ioukit`` (the version), ``command``, ``protocol``, ``inputs``
    (``{"GT": ..., "DT": ...}`` unless given), ``elapsed_s`` and the result's fields.
    """
    from ._commands import _version, _write_json

    t0 = time.perf_counter()
    result = evaluate()
    elapsed = time.perf_counter() - t0
    to_stdout = args.json == "-"
    if not to_stdout:
        pr.line(
            f"ioukit eval \u00b7 {protocol} \u00b7 {describe(result)} \u00b7 {elapsed:.2f} s",
            style="dim",
        )
        pr.raw(result.summary())
    if args.json:
        payload = {
            "ioukit": _version(),
            "command": "eval",
            "protocol": protocol,
            "inputs": dict(inputs) if inputs is not None else {"GT": args.gt, "DT": args.dt},
            "elapsed_s": elapsed,
            **result.to_dict(),
        }
        _write_json(payload, args.json)
        if not to_stdout:
            pr.line(f"wrote {args.json}", style="dim")
    return 0
