"""Issue 21, Dask faults: a worker lost at any moment, start-up included, is survived.

Oracle: the single-process ``ioukit.coco.evaluate`` (the sharded result must be
identical, ``==``). The kills are real SIGKILLs of worker processes of a LocalCluster
started inside the run (benchmarks/bench_distributed_faults.py, the same harness, runs
20 of them); only the no-worker and start-up retry cases are simulated.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("psutil")

from distributed import Client, LocalCluster  # noqa: E402

from ioukit import coco  # noqa: E402
from ioukit.distributed import _dask, evaluate  # noqa: E402
from ioukit.errors import WorkersLostError  # noqa: E402
from ioukit.synthetic import make_coco_dataset  # noqa: E402

ARRAYS = ("stats", "precision", "recall", "scores")
HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_distributed_faults.py"


def _harness():
    spec = importlib.util.spec_from_file_location("bench_distributed_faults", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def data():
    gt, dt = make_coco_dataset(n_images=300, n_categories=4, polygons=False, seed=8)
    return gt, dt, coco.evaluate(gt, dt)


def _identical(got, want) -> bool:
    return all(np.array_equal(getattr(got, a), getattr(want, a)) for a in ARRAYS)


@pytest.mark.slow
def test_worker_killed_at_random_moments(data):
    """A kill at start-up (delay 0: as soon as a worker process exists) and at 3 random
    moments of a run (~1-4 s): every run gives the single-process numbers."""
    gt, dt, want = data
    h = _harness()
    rng = random.Random(21)
    delays = [0.0] + [rng.uniform(0.2, 3.0) for _ in range(3)]
    kills = 0
    for i, delay in enumerate(delays):
        got, killer = h.evaluate_with_kill(
            lambda client: evaluate(gt, dt, client=client, partitions=12), delay, i
        )
        assert not isinstance(got, Exception), f"delay {delay:.2f} s: {got!r}"
        assert _identical(got, want), f"delay {delay:.2f} s"
        kills += killer.killed is not None
    assert kills >= 2, "fewer than 2 kills landed: the test tested too little"


def test_no_worker_left_is_one_line_error(data, monkeypatch):
    gt, dt, _ = data
    monkeypatch.setattr(_dask, "NO_WORKER_GRACE_S", 0.5)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            with pytest.raises(WorkersLostError, match="no Dask worker is left") as e:
                evaluate(gt, dt, client=client, partitions=4)
    assert "\n" not in str(e.value)


def test_cluster_start_is_retried(monkeypatch):
    real = _dask.LocalCluster
    calls = []

    def flaky(**kw):
        calls.append(kw)
        if len(calls) < _dask.CLUSTER_START_ATTEMPTS:
            raise RuntimeError("Nanny failed to start.")  # what a killed worker gives
        return real(n_workers=1, processes=False, dashboard_address=":0")

    monkeypatch.setattr(_dask, "LocalCluster", flaky)
    client, owned = _dask.get_client(None, n_workers=2)
    try:
        assert len(calls) == _dask.CLUSTER_START_ATTEMPTS
        assert client.submit(sum, [1, 2]).result() == 3
    finally:
        for o in owned:
            o.close()


def test_cluster_that_never_starts_is_one_line_error(monkeypatch):
    def broken(**kw):
        raise RuntimeError("Nanny failed to start.")

    monkeypatch.setattr(_dask, "LocalCluster", broken)
    with pytest.raises(WorkersLostError, match="could not start a local Dask cluster of 2"):
        _dask.get_client(None, n_workers=2)


def test_lost_exceptions_are_resubmitted_bad_input_is_not():
    from distributed.comm.core import CommClosedError

    assert _dask._is_lost(CommClosedError("Stream is closed"))
    assert _dask._is_lost(KeyError("tuple-abc"))
    assert not _dask._is_lost(ValueError("bad rows"))
