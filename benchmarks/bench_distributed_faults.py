"""A Dask evaluation survives a worker SIGKILLed at a random moment, start-up included.

    .venv/bin/python benchmarks/bench_distributed_faults.py [--runs 20] [--images 400]

Each run starts ``ioukit.distributed.evaluate`` with its own LocalCluster (2 worker
processes, ``client=None``) while a thread SIGKILLs one worker process at a random
moment: drawn uniformly from 0 to 0.8 x the duration of an undisturbed run, so a kill
lands during cluster start, during the scatter of the shards or while tasks run.
Every run's stats, precision, recall and scores must equal the single-process
``ioukit.coco.evaluate`` (``==``); a run may instead end in an ``IoukitError``
only when no worker is left. Prints one line per run and a summary; exits 1 on a
differing result or any other exception. tests/test_distributed_faults.py runs the
same harness with 3 kills.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time

import numpy as np

ARRAYS = ("stats", "precision", "recall", "scores")


def worker_pids() -> list[int]:
    """PIDs of the Dask worker processes started by this process.

    A LocalCluster's nannies live in this process; each starts its worker as a
    ``multiprocessing`` spawn child (the resource tracker, also a child, is skipped).
    """
    import psutil

    out = []
    for p in psutil.Process().children():
        try:
            if "spawn_main" in " ".join(p.cmdline()):
                out.append(p.pid)
        except psutil.Error:
            pass
    return out


class Killer(threading.Thread):
    """After ``delay`` seconds, SIGKILL one worker process (waits for one to exist)."""

    def __init__(self, delay: float, rng: random.Random, give_up: float = 60.0):
        super().__init__(daemon=True)
        self.delay, self.rng, self.give_up = delay, rng, give_up
        self.killed: int | None = None
        self.at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        if self.stop.wait(self.delay):
            return
        while not self.stop.is_set() and time.perf_counter() - t0 < self.give_up:
            pids = worker_pids()
            if pids:
                pid = self.rng.choice(pids)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.killed, self.at = pid, time.perf_counter() - t0
                return
            time.sleep(0.01)


def one_run(gt, dt, delay: float, seed: int, partitions: int):
    """(result or exception, killer) of an evaluate() with a kill after ``delay`` seconds."""
    from ioukit import distributed

    return evaluate_with_kill(
        lambda client: distributed.evaluate(gt, dt, client=client, partitions=partitions),
        delay,
        seed,
    )


def evaluate_with_kill(job, delay: float, seed: int):
    """(job(client) or its exception, killer): a fresh 2-worker LocalCluster (started
    inside the window, as the CLI does) and a kill after ``delay`` seconds."""
    from ioukit.distributed import get_client

    killer = Killer(delay, random.Random(seed))
    killer.start()
    owned = None
    try:
        client, owned = get_client(None, n_workers=2)
        got = job(client)
    except Exception as e:  # reported by the caller
        got = e
    finally:
        killer.stop.set()
        killer.join()
        for o in owned or ():
            o.close()
    return got, killer


def identical(got, want) -> bool:
    return all(np.array_equal(getattr(got, a), getattr(want, a)) for a in ARRAYS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--images", type=int, default=400)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from ioukit import coco, distributed
    from ioukit.errors import IoukitError
    from ioukit.synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(n_images=args.images, n_categories=5, polygons=False, seed=3)
    want = coco.evaluate(gt, dt)
    for _ in range(2):  # the second undisturbed run gives the span (imports are done)
        t0 = time.perf_counter()
        clean, _ = evaluate_with_kill(
            lambda client: distributed.evaluate(gt, dt, client=client, partitions=args.partitions),
            1e9,
            0,
        )
        span = time.perf_counter() - t0
    assert identical(clean, want)
    print(f"undisturbed run: {span:.2f} s; kills drawn from [0, {0.8 * span:.2f}] s")
    rng = random.Random(args.seed)
    ok = errors = bad = 0
    for i in range(args.runs):
        delay = rng.uniform(0.0, 0.8 * span)  # the runs that follow are often faster
        t0 = time.perf_counter()
        got, killer = one_run(gt, dt, delay, args.seed * 1000 + i, args.partitions)
        took = time.perf_counter() - t0
        what = f"killed pid {killer.killed} at {killer.at:.2f} s" if killer.killed else "no kill"
        if isinstance(got, IoukitError):
            errors += 1
            print(f"run {i:2d}: {what}; error: {got} ({took:.1f} s)")
        elif isinstance(got, Exception):
            bad += 1
            print(f"run {i:2d}: {what}; UNEXPECTED {type(got).__name__}: {got} ({took:.1f} s)")
        elif identical(got, want):
            ok += 1
            print(f"run {i:2d}: {what}; identical ({took:.1f} s)")
        else:
            bad += 1
            print(f"run {i:2d}: {what}; DIFFERENT numbers ({took:.1f} s)")
    print(f"{ok}/{args.runs} identical, {errors} one-line errors, {bad} failures")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
