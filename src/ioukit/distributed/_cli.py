"""Command-line hooks: ``--scheduler`` / ``--workers`` / ``--partitions`` (no Dask import here)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidParameterError

__all__ = ["add_cli_options", "evaluate_from_cli_args", "wants_distributed"]


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {n}")
    return n


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    """Add the distributed-evaluation options to an argparse parser.

    ``--scheduler ADDRESS`` (an existing Dask scheduler), ``--workers N`` (a local
    cluster of N single-threaded worker processes), ``--partitions N`` (shards).

    Example
    -------
    >>> p = argparse.ArgumentParser()
    >>> add_cli_options(p)
    >>> a = p.parse_args(["--workers", "2"])
    >>> a.workers, a.scheduler, wants_distributed(a)
    (2, None, True)
    """
    g = parser.add_argument_group("distributed evaluation (needs: pip install ioukit[dask])")
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="evaluate on this Dask scheduler, e.g. tcp://host:8786",
    )
    g.add_argument(
        "--workers",
        metavar="N",
        type=_positive_int,
        help="evaluate on a local Dask cluster of N worker processes",
    )
    g.add_argument(
        "--partitions",
        metavar="N",
        type=_positive_int,
        help="number of image shards (default: 4 per worker thread)",
    )


def wants_distributed(args: argparse.Namespace) -> bool:
    """Whether the parsed options ask for a Dask evaluation.

    >>> wants_distributed(argparse.Namespace(scheduler=None, workers=None))
    False
    """
    return bool(getattr(args, "scheduler", None) or getattr(args, "workers", None))


def evaluate_from_cli_args(args: argparse.Namespace, gt: Any, dt: Any, **params: Any) -> Any:
    """Evaluate as the options say: on Dask when ``--scheduler``/``--workers`` is given,
    else in this process with :func:`ioukit.coco.evaluate`. Returns a CocoResult.

    ``args.iou_type`` (default ``"bbox"``) picks the IoU type; ``params`` are the
    ``ioukit.coco.evaluate`` keyword arguments.

    Example
    -------
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=5, n_categories=2, polygons=False, seed=0)
    >>> ns = argparse.Namespace(scheduler=None, workers=None, iou_type="bbox")
    >>> evaluate_from_cli_args(ns, gt, dt, maxDets=[1, 10, 100]).stats.shape
    (12,)
    """
    iou_type = getattr(args, "iou_type", None) or "bbox"
    if not wants_distributed(args):
        from .. import coco

        return coco.evaluate(gt, dt, iou_type, **params)
    scheduler, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if scheduler and workers:
        raise InvalidParameterError(
            f"--scheduler {scheduler} and --workers {workers}: give one or the other"
        )
    from ._dask import evaluate, get_client

    partitions = getattr(args, "partitions", None)
    client, owned = get_client(scheduler, n_workers=workers)
    try:
        return evaluate(gt, dt, iou_type, client=client, partitions=partitions, **params)
    finally:
        for o in owned or ():
            o.close()
