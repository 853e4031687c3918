"""Benchmark ioukit.tide.evaluate against tidecv (TIDE's reference code), in one run.

    .venv/bin/python benchmarks/bench_tide.py            # val2017-scale (5000 images)
    .venv/bin/python benchmarks/bench_tide.py --small    # quick look (500 images)

Data: COCO val2014-100 (shared data, when present) and a synthetic val2017-sized set
(``ioukit.synthetic``: 5000 images, 80 categories, ~36k GT, ~135k detections, 1% crowd,
polygon segmentations), both as JSON files.

Measured, for each library:

- first call: a fresh subprocess imports the library, loads both files and computes
  AP, the six main and the two special dAP (tidecv: ``datasets.COCO``,
  ``COCOResult``, ``TIDE.evaluate``, ``get_main_errors``, ``get_special_errors``);
- warm: the same in this process, best of N, ioukit and tidecv interleaved;
- errors only: the data already loaded (tidecv's ``Data`` objects, ioukit's tables).

Also prints the largest |dAP| difference between the two (fractions). tidecv needs
cv2 / seaborn only for drawing: the test oracle's stand-ins (tests/_tide_oracle.py)
let it import without them. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import _tide_oracle as oracle  # noqa: E402
import ioukit.tide as T  # noqa: E402
from ioukit.coco import prepare  # noqa: E402
from ioukit.synthetic import write_coco_dataset  # noqa: E402

_FIRST = {
    "ioukit": (
        "import time; t=time.perf_counter(); import ioukit.tide as T; "
        "r=T.evaluate({g!r}, {d!r}); print(time.perf_counter()-t)"
    ),
    "tidecv": (
        "import sys, time; t=time.perf_counter(); sys.path.insert(0, {tests!r}); "
        "import _tide_oracle as o; o.run_files({g!r}, {d!r}); print(time.perf_counter()-t)"
    ),
}


def first_call(lib: str, g: str, d: str) -> float:
    code = _FIRST[lib].format(g=g, d=d, tests=str(HERE.parent / "tests"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.split()[-1])


def tidecv_loaded(g: str, d: str):
    tidecv = oracle.require()
    gt, dt = tidecv.datasets.COCO(g), tidecv.datasets.COCOResult(d)

    def run():
        tide = tidecv.TIDE()
        tide.evaluate(gt, dt, name="run")
        return tide.get_main_errors()["run"], tide.get_special_errors()["run"]

    return run


def bench(label: str, g: str, d: str, repeat: int, tide_repeat: int) -> None:
    print(f"\n== {label}")
    if oracle.load() is None:
        print("tidecv not installed: pip install --no-deps tidecv==1.0.1")
        return
    f_io = min(first_call("ioukit", g, d) for _ in range(2))
    f_td = first_call("tidecv", g, d)
    print(f"first call (fresh process, files -> all dAP): ioukit {f_io:8.3f} s  "
          f"tidecv {f_td:8.2f} s  ratio {f_td / f_io:7.1f}x")  # fmt: skip

    # warm, end to end from the files, interleaved
    best_io = best_td = float("inf")
    for i in range(max(repeat, tide_repeat)):
        if i < tide_repeat:
            t0 = time.perf_counter()
            ref = oracle.run_files(g, d)
            best_td = min(best_td, time.perf_counter() - t0)
        for _ in range(max(repeat // max(tide_repeat, 1), 1)):
            t0 = time.perf_counter()
            res = T.evaluate(g, d)
            best_io = min(best_io, time.perf_counter() - t0)
    print(f"warm (files -> all dAP, best of N):           ioukit {best_io:8.3f} s  "
          f"tidecv {best_td:8.2f} s  ratio {best_td / best_io:7.1f}x")  # fmt: skip

    # errors only: inputs already loaded
    gtab, dtab, _ = prepare(g, d, "bbox")
    run_td = tidecv_loaded(g, d)
    e_io = e_td = float("inf")
    for i in range(max(repeat, tide_repeat)):
        if i < tide_repeat:
            t0 = time.perf_counter()
            run_td()
            e_td = min(e_td, time.perf_counter() - t0)
        t0 = time.perf_counter()
        T.evaluate(gtab, dtab)
        e_io = min(e_io, time.perf_counter() - t0)
    print(f"errors only (inputs loaded, best of N):       ioukit {e_io:8.3f} s  "
          f"tidecv {e_td:8.2f} s  ratio {e_td / e_io:7.1f}x")  # fmt: skip

    ap, main, special = ref
    diffs = [abs(res.ap - ap / 100)]
    diffs += [abs(res.main_errors[k] - main[k] / 100) for k in T.MAIN_ERRORS]
    diffs += [abs(res.special_errors[k] - special[k] / 100) for k in T.SPECIAL_ERRORS]
    print(f"AP {100 * res.ap:.2f}; max |dAP difference| vs tidecv: {max(diffs):.2e} (fractions)")
    print(T.compare([res]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="500 images instead of 5000")
    ap.add_argument("--repeat", type=int, default=5, help="ioukit runs per measurement")
    ap.add_argument("--tide-repeat", type=int, default=2, help="tidecv runs per measurement")
    a = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, tidecv oracle shims "
          "(tests/_tide_oracle.py)")  # fmt: skip
    coco = Path(__file__).resolve().parents[2] / "shared" / "data" / "coco-val2014-100"
    if coco.exists():
        bench(
            "COCO val2014-100 (fake bbox results)",
            str(coco / "instances_val2014_100.json"),
            str(coco / "instances_val2014_fakebbox100_results.json"),
            a.repeat,
            a.tide_repeat,
        )
    n = 500 if a.small else 5000
    with tempfile.TemporaryDirectory() as tmp:
        g, d = write_coco_dataset(tmp, n_images=n, seed=0)
        bench(f"synthetic val2017-scale: {n} images", g, d, a.repeat, a.tide_repeat)


if __name__ == "__main__":
    main()
