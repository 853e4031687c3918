"""``ioukit eval --slice-by ATTR``: one COCO summary row per slice.

``ATTR`` is ``size``, ``aspect``, ``density``, an image or annotation field of the GT
(``weather``, ``occluded``), optionally with bin edges after a colon
(``truncation:0,0.3,1``). The numbers are :func:`ioukit.coco.evaluate_slices`'s
(docs/slices.md).
"""

from __future__ import annotations

from typing import Any

__all__ = ["parse_slice_by", "evaluate_cli_slices", "slice_rows", "print_slices"]

_COLUMNS = ("slice", "images", "GT", "AP", "AP50", "AP75", "AR100")


def parse_slice_by(text: str) -> tuple[str, list[float] | None]:
    """``NAME`` or ``NAME:e1,e2,...`` -> (name, bin edges or None).

    >>> parse_slice_by("size"), parse_slice_by("trunc:0,0.5,1")
    (('size', None), ('trunc', [0.0, 0.5, 1.0]))
    """
    from ._commands import UsageError

    name, _, edges = text.partition(":")
    if not name:
        raise UsageError(f"--slice-by {text!r}: expected NAME or NAME:e1,e2,...")
    if not edges:
        return name, None
    try:
        return name, [float(e) for e in edges.split(",") if e.strip()]
    except ValueError:
        raise UsageError(f"--slice-by {text!r}: bin edges must be numbers") from None


def evaluate_cli_slices(args: Any, gt: Any, dt: Any, params: dict, progress: Any) -> dict:
    """The slices the options ask for: ``{label: CocoResult}``."""
    from .. import coco

    name, edges = parse_slice_by(args.slice_by)
    with progress.stage(f"evaluating slices by {name}"):
        return coco.evaluate_slices(gt, dt, name, iou_type=args.iou_type, bins=edges, **params)


def _stat(v: float) -> str:
    return "-" if v < 0 else f"{v:.3f}"


def slice_rows(results: dict) -> list[dict[str, Any]]:
    """One summary row per slice (``stats`` 0, 1, 2, 8 of COCO; -1 -> None)."""
    rows = []
    for label, r in results.items():
        s = r.stats
        rows.append(
            {
                "slice": label,
                "images": len(r.params.imgIds),
                "GT": int(r.num_gt.sum()),
                **{
                    k: (None if s[i] < 0 else float(s[i]))
                    for k, i in zip(_COLUMNS[3:], (0, 1, 2, 8))
                },
            }
        )
    return rows


def print_slices(pr: Any, results: dict, attr: str) -> None:
    """The slice table."""
    rows = slice_rows(results)
    pr.heading(f"By {attr} (AP at IoU 0.5:0.95, AR with 100 detections)")
    table = [list(_COLUMNS)] + [
        [str(r["slice"]), f"{r['images']:,}", f"{r['GT']:,}"]
        + [_stat(-1 if r[k] is None else r[k]) for k in _COLUMNS[3:]]
        for r in rows
    ]
    w = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
    for row in table:
        pr.raw("  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(row)))
