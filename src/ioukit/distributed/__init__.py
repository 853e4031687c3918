"""Sharded COCO evaluation on Dask, equal to the single-process result to the last bit.

::

    from ioukit.distributed import evaluate
    result = evaluate("gt.json", "dets.json", client=client, partitions=64)

Images are split into contiguous shards; each Dask task runs
:func:`ioukit.coco.evaluate_images` on its shard's rows only and returns the compact
:class:`~ioukit.coco.EvalState`; the driver merges the states and accumulates. Inputs:
COCO JSON (read once on the driver, shards scattered), Parquet datasets written by
:func:`ioukit.io.parquet.to_parquet` (each task reads its own image range), and
``dask.dataframe`` frames. See docs/distributed.md.

Dask is optional (``pip install ioukit[dask]``): importing this package works without
it, so the CLI can offer its options, but :func:`evaluate` and the other Dask-backed
names raise :class:`ioukit.errors.MissingDependencyError` (an ``ImportError``) naming
the extra to install.
"""

from __future__ import annotations

from typing import Any

from ._cli import add_cli_options, evaluate_from_cli_args, wants_distributed

__all__ = [
    "evaluate",
    "evaluate_state",
    "ShardedRun",
    "get_client",
    "add_cli_options",
    "evaluate_from_cli_args",
    "wants_distributed",
]

_LAZY = ("evaluate", "evaluate_state", "ShardedRun", "get_client")


def __getattr__(name: str) -> Any:
    # Dask is imported on first use only: `import ioukit.distributed` stays cheap and
    # works without the extra; the import error names `pip install ioukit[dask]`.
    if name in _LAZY:
        from . import _dask

        return getattr(_dask, name)
    raise AttributeError(f"module 'ioukit.distributed' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
