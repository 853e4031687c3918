"""ioukit.distributed on a real Dask LocalCluster (2 worker processes, 1 thread each).

Oracle: the single-process ``ioukit.coco.evaluate`` (itself equal to pycocotools
2.0.11 bit for bit; the coco100 case also checks pycocotools' recorded arrays). The
sharded result must be identical (``==``), not close.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import cloudpickle  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from ioukit import coco  # noqa: E402
from ioukit.distributed import (  # noqa: E402
    ShardedRun,
    add_cli_options,
    evaluate,
    evaluate_from_cli_args,
)
from ioukit.errors import DatasetError, InvalidParameterError  # noqa: E402
from ioukit.io.parquet import to_parquet  # noqa: E402
from ioukit.synthetic import make_coco_dataset  # noqa: E402

# the kill hook below is shipped to the workers by value (they cannot import tests/)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ARRAYS = ("stats", "precision", "recall", "scores")


def assert_identical(got: coco.CocoResult, want: coco.CocoResult) -> None:
    for name in ARRAYS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), f"{name} differs"


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def coco100_files(coco100: Path) -> tuple[str, str]:
    return (
        str(coco100 / "instances_val2014_100.json"),
        str(coco100 / "instances_val2014_fakebbox100_results.json"),
    )


@pytest.fixture(scope="module")
def synthetic():
    # crowds, duplicates and tied scores across images: the cases where order matters
    return make_coco_dataset(
        n_images=240, n_categories=12, crowd_fraction=0.05, polygons=False, seed=11
    )


@pytest.mark.parametrize("partitions", [1, 2, 7, 64])
def test_coco100_identical(client, coco100_files, coco100: Path, partitions):
    gt, dt = coco100_files
    want = coco.evaluate(gt, dt)
    run = ShardedRun()
    got = evaluate(gt, dt, client=client, partitions=partitions, run=run)
    assert_identical(got, want)
    assert run.partitions == partitions
    # and pycocotools' own recorded arrays (independent of ioukit.coco)
    ref = np.load(coco100 / "expected_bbox.npz")
    assert np.array_equal(got.precision, ref["precision"])
    assert np.array_equal(got.recall, ref["recall"])


@pytest.mark.parametrize("partitions", [1, 2, 7, 64])
def test_synthetic_identical(client, synthetic, partitions):
    gt, dt = synthetic
    assert_identical(evaluate(gt, dt, client=client, partitions=partitions), coco.evaluate(gt, dt))


def test_parameters_pass_through(client, synthetic):
    gt, dt = synthetic
    kw = {"maxDets": [1, 5, 20], "useCats": 0, "imgIds": [i["id"] for i in gt["images"][::3]]}
    assert_identical(
        evaluate(gt, dt, client=client, partitions=5, **kw), coco.evaluate(gt, dt, **kw)
    )


def test_state_is_what_is_shipped(client, synthetic):
    gt, dt = synthetic
    run = ShardedRun()
    got = evaluate(gt, dt, client=client, partitions=4, run=run)
    # every kept detection comes back once, and nothing but match records does
    assert got.state.dt_score.size == coco.evaluate(gt, dt).state.dt_score.size
    assert 0 < run.state_bytes < run.input_bytes


def test_wire_form_is_lossless(synthetic):
    from ioukit.distributed._wire import pack_state, unpack_state

    gt, dt = synthetic
    g, d, p = coco.prepare(gt, dt)
    state = coco.evaluate_images(g, d, p)
    packed = pack_state(state)
    back = unpack_state(packed)
    for name, a in state.to_arrays().items():
        b = getattr(back, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    # 2 bits per (area, threshold) and narrowed ids: well under half the bytes
    assert packed.nbytes < 0.5 * state.nbytes


def test_parquet_round_trip(client, synthetic, tmp_path):
    gt, dt = synthetic
    want = coco.evaluate(gt, dt)
    root = to_parquet(gt, tmp_path / "ds", dt=dt, rows_per_file=300, row_group_rows=64)
    assert len(os.listdir(Path(root) / "gt")) > 1  # several files: shards read ranges
    for p in (1, 7):
        run = ShardedRun()
        assert_identical(evaluate(root, client=client, partitions=p, run=run), want)
        assert run.input_bytes == 0  # the workers read the files themselves
    # mixed inputs: Parquet GT with JSON-like detections and the other way round
    assert_identical(evaluate(root, dt, client=client, partitions=3), want)
    assert_identical(evaluate(gt, root, client=client, partitions=3), want)


def test_dask_dataframe_inputs(client, synthetic, tmp_path):
    gt, dt = synthetic
    want = coco.evaluate(gt, dt)
    root = to_parquet(gt, tmp_path / "ds", dt=dt, rows_per_file=500)
    rows = pd.read_parquet(Path(root) / "dt")
    # images in a random order, rows of one image in file order, uneven partitions:
    # only the order within an image matters, and it must be kept
    key = np.random.default_rng(0).permutation(int(rows["image_id"].max()) + 1)
    order = np.argsort(key[rows["image_id"].to_numpy()], kind="stable")
    frame = rows.iloc[order].reset_index(drop=True)
    ddt = dd.from_pandas(frame, npartitions=5, sort=False)
    assert_identical(evaluate(gt, ddt, client=client, partitions=4), want)
    # a pandas frame (driver-side) and the default client (no client= given)
    assert_identical(evaluate(gt, frame, partitions=3), want)
    # control: scrambling rows within images does change the result on this data
    scrambled = rows.sample(frac=1.0, random_state=0).sort_values("image_id", kind="stable")
    got = evaluate(gt, scrambled, client=client, partitions=3)
    assert not all(np.array_equal(getattr(got, n), getattr(want, n)) for n in ARRAYS)
    ggt = dd.read_parquet(Path(root) / "gt")
    ids = {"imgIds": want.params.imgIds, "catIds": want.params.catIds}
    assert_identical(
        evaluate(ggt, dd.read_parquet(Path(root) / "dt"), client=client, partitions=3, **ids),
        want,
    )


@pytest.mark.parametrize("source", ["json", "parquet"])
def test_segm_identical(client, coco100: Path, tmp_path, source):
    gt = coco100 / "instances_val2014_100.json"
    dt = coco100 / "instances_val2014_fakesegm100_results.json"
    want = coco.evaluate(gt, dt, "segm")
    inp = (gt, dt) if source == "json" else (to_parquet(gt, tmp_path, dt=dt, segmentation=True),)
    assert_identical(evaluate(*inp, iou_type="segm", client=client, partitions=3), want)


def _install_killer(marker: str) -> None:
    """On a worker: the next evaluate_images call there kills the worker process once."""
    import ioukit.coco as c

    original = c.evaluate_images

    def killer(*args, **kwargs):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return original(*args, **kwargs)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os._exit(1)  # no cleanup: as a crash or an OOM kill looks to the scheduler

    c.evaluate_images = killer


@pytest.mark.parametrize("source", ["json", "parquet"])
def test_worker_killed_mid_run(client, synthetic, tmp_path, source):
    gt, dt = synthetic
    want = coco.evaluate(gt, dt)
    inp = (gt, dt) if source == "json" else (to_parquet(gt, tmp_path / "ds", dt=dt), None)
    marker = str(tmp_path / "killed")
    client.run(_install_killer, marker)
    pids = set(client.run(os.getpid).values())
    run = ShardedRun()
    got = evaluate(*inp, client=client, partitions=8, run=run)
    print(f"{source}: resubmitted by ioukit: {run.resubmitted}")
    assert os.path.exists(marker), "no worker was killed: the test did not test anything"
    killed = int(Path(marker).read_text())
    assert killed in pids
    assert_identical(got, want)
    client.wait_for_workers(2, timeout=60)
    assert killed not in set(client.run(os.getpid).values())


def test_cli_options(client, coco100_files):
    parser = argparse.ArgumentParser()
    add_cli_options(parser)
    gt, dt = coco100_files
    args = parser.parse_args(["--scheduler", client.scheduler.address, "--partitions", "3"])
    args.iou_type = "bbox"
    assert_identical(evaluate_from_cli_args(args, gt, dt), coco.evaluate(gt, dt))
    with pytest.raises(SystemExit):
        parser.parse_args(["--workers", "0"])
    both = parser.parse_args(["--scheduler", "tcp://x:1", "--workers", "2"])
    with pytest.raises(InvalidParameterError, match="--scheduler"):
        evaluate_from_cli_args(both, gt, dt)


def test_cli_local_cluster(coco100_files):
    """--workers N starts (and closes) its own LocalCluster, ignoring the default client."""
    parser = argparse.ArgumentParser()
    add_cli_options(parser)
    args = parser.parse_args(["--workers", "1", "--partitions", "2"])
    gt, dt = coco100_files
    assert_identical(evaluate_from_cli_args(args, gt, dt), coco.evaluate(gt, dt))


def test_bad_input(client, coco100_files, tmp_path):
    gt, dt = coco100_files
    with pytest.raises(InvalidParameterError, match="partitions"):
        evaluate(gt, dt, client=client, partitions=0)
    with pytest.raises(DatasetError, match="not an ioukit Parquet dataset"):
        evaluate(str(tmp_path), client=client)
    with pytest.raises(InvalidParameterError, match="client"):
        evaluate(gt, dt, client=42)


def test_without_dask_import_error():
    """`import ioukit` / `ioukit.coco` do not import Dask; without it the error says
    what to install."""
    code = """
import sys
import ioukit, ioukit.coco, ioukit.distributed
assert "dask" not in sys.modules and "distributed" not in sys.modules, "dask imported"
for name in [m for m in sys.modules if m.startswith("ioukit.distributed.")]:
    del sys.modules[name]
del sys.modules["ioukit.distributed"]
sys.modules["dask"] = None
sys.modules["distributed"] = None
from ioukit.errors import MissingDependencyError
try:
    from ioukit.distributed import evaluate
except ImportError as e:
    assert isinstance(e, MissingDependencyError), type(e)
    print(e)
else:
    raise SystemExit("no ImportError")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install ioukit[dask]" in out.stdout
