"""Sharded COCO evaluation on a Dask cluster (the work behind :func:`evaluate`)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import (
    DatasetError,
    InvalidParameterError,
    IoukitError,
    MissingDependencyError,
    WorkersLostError,
)

try:
    import dask
    import distributed
    from distributed import Client, LocalCluster
except ImportError as e:  # exercised by tests with dask hidden
    raise MissingDependencyError(
        "ioukit.distributed needs Dask: pip install ioukit[dask] "
        f"(dask[distributed], pyarrow, pandas); import failed: {e}"
    ) from e

from .. import coco
from ..coco import CocoResult, DtTable, EvalState, GtTable, Params
from . import _shards, _wire
from ._shards import Shard

__all__ = ["evaluate", "evaluate_state", "ShardedRun", "get_client"]


# ----------------------------------------------------------------- input sources
# A source says where a shard's rows come from: a table slice made on the driver
# (scattered), an image range of a Parquet dataset (read by the task), or the pieces
# of a dask.dataframe (split by the workers themselves).


def _is_dask_frame(x: Any) -> bool:
    return hasattr(x, "to_delayed") and hasattr(x, "npartitions") and hasattr(x, "columns")


def _is_pandas_frame(x: Any) -> bool:
    import pandas as pd

    return isinstance(x, pd.DataFrame)


def _parquet() -> Any:
    from ..io import parquet

    return parquet


def _gt_meta_from_parquet(root: str) -> GtTable:
    """Images and categories of a Parquet dataset, no annotation rows (for checks, params)."""
    pq = _parquet()
    ids, h, w = pq.read_images(root)
    cats, names = pq.read_categories(root)
    return coco.GtTable(
        image_ids=ids,
        image_heights=h,
        image_widths=w,
        category_ids=cats,
        category_names={int(c): n for c, n in zip(cats, names)},
        ann_id=np.zeros(0, np.int64),
        ann_image_id=np.zeros(0, np.int64),
        ann_category_id=np.zeros(0, np.int64),
        ann_bbox=np.zeros((0, 4), np.float64),
        ann_area=np.zeros(0, np.float64),
        ann_iscrowd=np.zeros(0, bool),
        ann_segmentation=[],
        source=os.fspath(root),
    )


def _unique_ids(frame: Any, column: str) -> np.ndarray:
    # per partition then on the driver: ids are few, and a hash shuffle is not needed
    parts = [dask.delayed(_partition_unique)(part, column) for part in frame.to_delayed()]
    found = dask.compute(*parts)
    return np.unique(np.concatenate([np.zeros(0, np.int64), *found]))


def _partition_unique(part: Any, column: str) -> np.ndarray:
    return np.unique(np.asarray(part[column], dtype=np.int64))


def _gt_meta_from_frame(frame: Any, params: dict) -> GtTable:
    """Images and categories of GT rows given as a dask.dataframe.

    Without ``imgIds`` the images are the distinct ``image_id`` values (a frame of
    annotations cannot list images that have none: pass ``imgIds`` for those).
    """
    imgs = params.get("imgIds")
    ids = np.asarray(imgs, np.int64) if imgs is not None else _unique_ids(frame, "image_id")
    cats = params.get("catIds")
    cat_ids = np.asarray(cats, np.int64) if cats is not None else _unique_ids(frame, "category_id")
    ids, cat_ids = np.unique(ids), np.unique(cat_ids)
    z = np.zeros(ids.size, np.int64)
    return coco.GtTable(
        image_ids=ids,
        image_heights=z,
        image_widths=z,
        category_ids=cat_ids,
        category_names={},
        ann_id=np.zeros(0, np.int64),
        ann_image_id=np.zeros(0, np.int64),
        ann_category_id=np.zeros(0, np.int64),
        ann_bbox=np.zeros((0, 4), np.float64),
        ann_area=np.zeros(0, np.float64),
        ann_iscrowd=np.zeros(0, bool),
        source="<gt dask.dataframe>",
    )


# ------------------------------------------------------------------- task side
def _frame_pieces(pieces: Sequence[Any]) -> Any:
    import pandas as pd

    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return None
    return pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]


def _shard_gt(src: tuple, shard: Shard, meta: GtTable, needs_segm: bool) -> GtTable:
    kind = src[0]
    if kind == "pair":  # (GtTable, DtTable) of this shard, scattered by the driver
        return src[1][src[2]]
    if kind == "parquet":
        return _parquet().read_gt(src[1], (shard.lo, shard.hi), needs_segmentation=needs_segm)
    if kind == "frame":
        import pandas as pd

        frame = _frame_pieces(src[1])
        if frame is None:
            frame = pd.DataFrame({c: [] for c in _parquet().GT_COLUMNS})
        keep = np.isin(meta.image_ids, shard.image_ids)
        return _parquet().gt_from_columns(
            frame,
            meta.image_ids[keep],
            meta.category_ids,
            image_heights=meta.image_heights[keep],
            image_widths=meta.image_widths[keep],
            category_names=[meta.category_names.get(int(c), "") for c in meta.category_ids],
            needs_segmentation=needs_segm,
            source="<gt dask.dataframe>",
        )
    raise AssertionError(kind)  # pragma: no cover


def _shard_dt(src: tuple, shard: Shard, gt: GtTable, needs_segm: bool) -> DtTable:
    kind = src[0]
    if kind == "pair":
        return src[1][src[2]]
    if kind == "parquet":
        return _parquet().read_dt(src[1], gt, (shard.lo, shard.hi), needs_segmentation=needs_segm)
    if kind == "frame":
        frame = _frame_pieces(src[1])
        if frame is None:
            return _empty_dt()
        return _parquet().dt_from_columns(
            frame, gt, needs_segmentation=needs_segm, source="<dt dask.dataframe>"
        )
    raise AssertionError(kind)  # pragma: no cover


def _empty_dt() -> DtTable:
    z = np.zeros(0, np.int64)
    return coco.DtTable(z, z, np.zeros((0, 4)), np.zeros(0), np.zeros(0), [], "<empty>")


def _evaluate_shard(
    params: Params,
    shard: Shard,
    gt_src: tuple,
    dt_src: tuple,
    meta: GtTable | None,
    fix_zero_id: bool,
) -> _wire.PackedState:
    """Runs on a worker: this shard's rows -> its EvalState (match records only), packed."""
    needs_segm = coco.get_iou_type(params.iouType).needs_segmentation
    g = _shard_gt(gt_src, shard, meta, needs_segm)
    d = _shard_dt(dt_src, shard, g, needs_segm)
    state = coco.evaluate_images(g, d, params, image_ids=shard.image_ids, fix_zero_id=fix_zero_id)
    return _wire.pack_state(state)


# ------------------------------------------------------------------ driver side
def get_client(client: Any = None, n_workers: int | None = None) -> tuple[Client, Any]:
    """The client to use and what to close afterwards (None when the caller owns it).

    ``client``: a ``distributed.Client``, a scheduler address (``"tcp://host:8786"``),
    or None: the current default client if there is one, else a new
    ``LocalCluster(processes=True)`` with ``n_workers`` single-threaded workers (one
    per core by default; ``n_workers`` given also skips the default client).

    Example
    -------
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cl:
    ...     with Client(cl) as c:
    ...         got, owned = get_client(c)
    ...         got is c, owned
    (True, None)
    """
    if isinstance(client, Client):
        return client, None
    if isinstance(client, str):
        c = Client(client)
        return c, (c,)
    if client is not None:
        raise InvalidParameterError(
            f"client must be a distributed.Client, a scheduler address or None; got "
            f"{type(client).__name__}"
        )
    if n_workers is None:
        try:
            return distributed.default_client(), None
        except ValueError:
            pass
    n = n_workers or max(1, os.cpu_count() or 1)
    cluster = _start_local_cluster(n)
    c = Client(cluster)
    return c, (c, cluster)


# attempts at starting a LocalCluster: a worker killed while its nanny starts it makes
# the whole start fail ("Nanny failed to start"); a fresh start then succeeds
CLUSTER_START_ATTEMPTS = 3


def _start_local_cluster(n: int) -> Any:
    last: BaseException | None = None
    for _ in range(CLUSTER_START_ATTEMPTS):
        try:
            # ":0": a free port for the dashboard (8787 may belong to another cluster)
            return LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        except Exception as e:  # a worker process died during start-up
            last = e
    raise WorkersLostError(
        f"could not start a local Dask cluster of {n} workers "
        f"({CLUSTER_START_ATTEMPTS} attempts): {last}"
    )


# seconds without any worker after which a run gives up (a nanny restarts a killed
# worker in about a second; a cluster whose workers are all gone never recovers)
NO_WORKER_GRACE_S = 30.0


def _live_workers(client: Client) -> int:
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # the scheduler itself is unreachable
        return 0


def _wait_for_a_worker(client: Client, what: str) -> None:
    """Return once the cluster has a worker; WorkersLostError after the grace period."""
    t0 = time.monotonic()
    while _live_workers(client) == 0:
        if time.monotonic() - t0 > NO_WORKER_GRACE_S:
            raise WorkersLostError(
                f"no Dask worker is left ({what}; waited {NO_WORKER_GRACE_S:.0f} s)"
            )
        time.sleep(0.2)


def _scatter(client: Client, data: list, retries: int) -> list:
    """``client.scatter`` that survives the death of the receiving worker.

    A worker killed during the transfer fails the whole call ("Stream is closed");
    the scheduler then drops it, and a new call places the data on live workers.
    """
    for attempt in range(retries + 1):
        _wait_for_a_worker(client, "while sending the shards")
        try:
            return client.scatter(data, hash=False, broadcast=False)
        except Exception:  # the connection to a dying worker: place the data again
            if attempt == retries:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class ShardedRun:
    """What a sharded evaluation did: timings and bytes moved (for benchmarks and docs).

    ``input_bytes``: table bytes scattered from the driver (0 when workers read
    Parquet or dask.dataframe partitions themselves); ``state_bytes``: bytes of the
    packed EvalStates returned by the shards (``ioukit.distributed._wire``);
    ``resubmitted``: shards sent again after their data was lost with a worker.
    """

    partitions: int = 0
    input_bytes: int = 0
    # (example: ``run = ShardedRun(); evaluate(..., run=run); run.seconds["shards"]``)
    state_bytes: int = 0
    resubmitted: int = 0
    seconds: dict = field(default_factory=dict)


def _table_nbytes(t: Any) -> int:
    return sum(v.nbytes for v in vars(t).values() if isinstance(v, np.ndarray))


def _gather_states(client: Client, submit: Any, n: int, run: ShardedRun, retries: int) -> list:
    """Submit every shard, collect the states; resubmit a shard whose scattered input
    died with its worker (the scheduler re-runs tasks of dead workers by itself, but
    it cannot re-create scattered data: ``submit`` scatters it again)."""
    pending = {submit(i): i for i in range(n)}
    states: list[Any] = [None] * n
    tries = dict.fromkeys(range(n), 0)
    no_worker_since: float | None = None
    last_check = time.monotonic()
    while pending:
        # polled rather than distributed.wait(), which raises as soon as one future is
        # cancelled (a shard whose scattered input was lost): that shard is resubmitted
        done = [f for f in pending if f.done()]
        if not done:
            time.sleep(0.02)
            if time.monotonic() - last_check < 1.0:
                continue
            last_check = time.monotonic()
            # nothing finished: fine while a worker is alive; a run without any worker
            # for NO_WORKER_GRACE_S ends with one line instead of waiting forever
            if _live_workers(client):
                no_worker_since = None
            elif no_worker_since is None:
                no_worker_since = time.monotonic()
            elif time.monotonic() - no_worker_since > NO_WORKER_GRACE_S:
                raise WorkersLostError(
                    f"no Dask worker is left ({n - len(pending)} of {n} shards done; "
                    f"waited {NO_WORKER_GRACE_S:.0f} s)"
                )
            continue
        for fut in done:
            i = pending.pop(fut)
            try:
                states[i] = fut.result()
            except IoukitError:
                raise  # bad input found by the task: the same on any worker
            except Exception as e:
                if not _is_lost(e) or tries[i] >= retries:
                    raise
                tries[i] += 1
                run.resubmitted += 1
                pending[submit(i)] = i
            finally:
                fut.release()
    return states


def _is_lost(e: BaseException) -> bool:
    """An exception that says the task or its input died with a worker (not bad input)."""
    names = {t.__name__ for t in type(e).__mro__}
    return bool(
        names
        & {
            "KilledWorker",
            "CancelledError",
            "FutureCancelledError",
            "FuturesCancelledError",
            "CommClosedError",
            "StreamClosedError",
            "KeyError",
            "OSError",
            "TimeoutError",
        }
    )


def evaluate_state(
    gt: Any,
    dt: Any = None,
    iou_type: str = "bbox",
    *,
    client: Any = None,
    partitions: int | None = None,
    fix_zero_id: bool = False,
    retries: int = 3,
    run: ShardedRun | None = None,
    **params: Any,
) -> EvalState:
    """The merged :class:`~ioukit.coco.EvalState` of a sharded evaluation (see :func:`evaluate`).

    Same arguments as :func:`evaluate` (less ``fix_summary``); the state can be merged
    with others (``merge_states``) or accumulated later.

    Example
    -------
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=12, n_categories=3, polygons=False, seed=4)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cl:
    ...     with Client(cl) as c:
    ...         s = evaluate_state(gt, dt, client=c, partitions=2)
    >>> s.image_ids.size, s.dt_flags.shape[1:]
    (12, (4, 10))
    """
    run = run if run is not None else ShardedRun()
    t0 = time.perf_counter()
    plugin = coco.get_iou_type(iou_type)
    needs_segm = plugin.needs_segmentation
    gt_is_pq = isinstance(gt, (str, os.PathLike)) and os.path.isdir(gt)
    if gt_is_pq:
        if not _parquet().is_dataset(gt):
            raise DatasetError(f"{os.fspath(gt)}: a directory but not an ioukit Parquet dataset")
    if dt is None and not gt_is_pq:
        raise InvalidParameterError("dt is required unless gt is a Parquet dataset with dt/ rows")
    dt_root: str | None = None
    dt_is_pq = dt is None or (isinstance(dt, (str, os.PathLike)) and os.path.isdir(dt))
    if dt_is_pq:
        dt_root = os.fspath(gt if dt is None else dt)
        if not _parquet().is_dataset(dt_root):
            raise DatasetError(f"{dt_root}: a directory but not an ioukit Parquet dataset")
    gt_frame, dt_frame = _is_dask_frame(gt), _is_dask_frame(dt)

    # ---- driver: the GT's images and categories -> params; local inputs loaded once
    gt_table: GtTable | None = None
    dt_table: DtTable | None = None
    if gt_is_pq:
        meta = _gt_meta_from_parquet(os.fspath(gt))
    elif gt_frame:
        meta = _gt_meta_from_frame(gt, params)
    else:
        gt_table = coco.load_gt(gt, needs_segmentation=needs_segm)
        meta = gt_table
    if _is_pandas_frame(dt):
        dt_table = _parquet().dt_from_columns(
            dt, meta, needs_segmentation=needs_segm, source="<dt pandas.DataFrame>"
        )
    elif not (dt_is_pq or dt_frame):
        segm = plugin.segm_area_bbox
        if segm is None and iou_type == "bbox" and "segm" in coco.iou_types():
            segm = coco.get_iou_type("segm").segm_area_bbox
        dt_table = coco.load_dt(dt, meta, needs_segmentation=needs_segm, segm_area_bbox=segm)
    p = coco.make_params(
        iou_type, gt_img_ids=meta.image_ids, gt_cat_ids=meta.category_ids, **params
    )
    run.seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    c, owned = get_client(client)
    try:
        if partitions is None:
            threads = sum(c.nthreads().values()) or 1
            partitions = 4 * threads
        shards = _shards.plan_shards(p.imgIds, partitions)
        run.partitions = len(shards)
        # local tables: slice once on the driver; each shard's columns are scattered
        pieces: list[tuple[Any, Any]] = []
        if gt_table is not None or dt_table is not None:
            base_gt = gt_table if gt_table is not None else meta
            pieces = list(_shards.split_tables(base_gt, dt_table, shards))
            for g, d in pieces:
                if gt_table is not None:
                    run.input_bytes += _table_nbytes(g)
                if d is not None:
                    run.input_bytes += _table_nbytes(d)
        gt_root = os.fspath(gt) if gt_is_pq else None
        gt_src = _sources(c, shards, gt_root, gt if gt_frame else None)
        dt_src = _sources(c, shards, dt_root if dt_is_pq else None, dt if dt_frame else None)
        # the GT's image/category table travels only where a task builds its own
        # GtTable from dask.dataframe pieces
        small_meta = meta if gt_frame else None
        first: dict[int, Any] = {}
        if pieces:
            # one future per shard holding its (GT, detections) pair: the task's inputs
            # sit on one worker, and one scatter call serves all shards
            first = dict(enumerate(_scatter(c, pieces, retries)))

        # each task's Params lists its own images only: the full imgIds list would
        # be pickled into every task (10M ids = tens of MB per task at scale)
        shard_params = [replace(p, imgIds=[int(x) for x in s.image_ids]) for s in shards]

        def submit(i: int) -> Any:
            g_src, d_src = gt_src[i], dt_src[i]
            if g_src is None or d_src is None:
                # a resubmission scatters again: the first copy died with its worker
                pair = first.pop(i) if i in first else _scatter(c, [pieces[i]], retries)[0]
                if g_src is None:
                    g_src = ("pair", pair, 0)
                if d_src is None:
                    d_src = ("pair", pair, 1)
            return c.submit(
                _evaluate_shard,
                shard_params[i],
                shards[i],
                g_src,
                d_src,
                small_meta,
                fix_zero_id,
                pure=False,
            )

        states = _gather_states(c, submit, len(shards), run, retries)
        run.state_bytes = sum(s.nbytes for s in states)
        states = [_wire.unpack_state(s) for s in states]
        run.seconds["shards"] = time.perf_counter() - t0
    finally:
        if owned:
            for o in owned:
                o.close()
    t0 = time.perf_counter()
    merged = coco.merge_states(states)
    run.seconds["merge"] = time.perf_counter() - t0
    return merged


def _sources(
    c: Client, shards: Sequence[Shard], root: str | None, frame: Any
) -> list[tuple | None]:
    """Per shard: a Parquet image range, dask.dataframe pieces, or None (scattered later)."""
    if root is not None:
        return [("parquet", root) for _ in shards]
    if frame is not None:
        return _frame_sources(c, frame, shards)
    return [None for _ in shards]


def _frame_sources(c: Client, frame: Any, shards: Sequence[Shard]) -> list[tuple]:
    """Co-partition a dask.dataframe by shard, keeping row order (no hash shuffle).

    Each input partition is split by shard on a worker; shard i's task then receives
    piece i of every partition, in partition order, so the concatenation is the
    frame's own row order restricted to the shard.
    """
    parts = frame.to_delayed()
    split = [dask.delayed(_shards.frame_shards)(part, shards) for part in parts]
    futs = c.compute(split)
    out = []
    for s in shards:
        pieces = [c.submit(_pick, f, s.index, pure=False) for f in futs]
        out.append(("frame", pieces))
    return out


def _pick(pieces: Sequence[Any], i: int) -> Any:
    return pieces[i]


def evaluate(
    gt: Any,
    dt: Any = None,
    iou_type: str = "bbox",
    *,
    client: Any = None,
    partitions: int | None = None,
    fix_zero_id: bool = False,
    fix_summary: bool = False,
    retries: int = 3,
    run: ShardedRun | None = None,
    **params: Any,
) -> CocoResult:
    """COCO evaluation sharded by image over a Dask cluster; equal to :func:`ioukit.coco.evaluate`.

    Each task evaluates one shard of images with :func:`ioukit.coco.evaluate_images`
    and returns only its :class:`~ioukit.coco.EvalState` (match records); the driver
    merges the states and runs :func:`ioukit.coco.accumulate`. ``stats``,
    ``precision``, ``recall`` and ``scores`` are identical (``==``) to the
    single-process result for any number of partitions.

    Parameters
    ----------
    gt : path | dict | GtTable | Parquet dataset directory | dask.dataframe.DataFrame
        COCO JSON is read once on the driver and each shard's columns are scattered;
        a dataset written by :func:`ioukit.io.parquet.to_parquet` is read by the tasks
        themselves, each its own image range; a dask.dataframe of GT rows (columns
        ``image_id, category_id, id, x, y, w, h, area, iscrowd``) is split by the
        workers (images = its distinct ``image_id`` unless ``imgIds`` is given).
    dt : path | list | ndarray (N, 7) | DtTable | Parquet dataset | dask or pandas DataFrame
        Detections; None takes the ``dt/`` rows of the Parquet dataset ``gt``. A
        DataFrame has the columns ``image_id, category_id, x, y, w, h, score``
        (pandas: converted on the driver and scattered like JSON input).
    iou_type : str
        ``"bbox"``; ``"segm"``/``"boundary"`` for JSON inputs and for Parquet datasets
        written with ``segmentation=True``.
    client : distributed.Client | str | None
        A client, a scheduler address, or None: the default client if any, else a
        ``LocalCluster`` of processes (closed afterwards).
    partitions : int, optional
        Number of shards (default 4 per worker thread, at most one per image).
    fix_zero_id, fix_summary : bool
        As in :func:`ioukit.coco.evaluate`.
    retries : int
        Times a shard is resubmitted when its scattered input was lost with a worker.
    run : ShardedRun, optional
        Filled with timings and bytes moved.
    **params
        ``imgIds, catIds, iouThrs, recThrs, areaRng, areaRngLbl, maxDets, useCats``.

    Returns
    -------
    CocoResult

    Example
    -------
    >>> from distributed import Client, LocalCluster
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=30, n_categories=4, polygons=False, seed=2)
    >>> with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
    ...                   dashboard_address=":0") as cluster, Client(cluster) as client:
    ...     r = evaluate(gt, dt, client=client, partitions=3)
    >>> bool((r.precision == coco.evaluate(gt, dt).precision).all())
    True
    """
    state = evaluate_state(
        gt,
        dt,
        iou_type,
        client=client,
        partitions=partitions,
        fix_zero_id=fix_zero_id,
        retries=retries,
        run=run,
        **params,
    )
    t0 = time.perf_counter()
    result = coco.accumulate(state, fix_summary=fix_summary)
    if run is not None:
        run.seconds["accumulate"] = time.perf_counter() - t0
    return result
