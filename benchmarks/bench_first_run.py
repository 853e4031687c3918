"""A new user's first run: fresh copy, fresh venv, ``pip install -e .``, first ``ioukit eval``.

What a user meets after cloning: the install (the Cython kernels compile here, once)
and the very first ``ioukit eval`` of the COCO val2014 100-image subset, bbox and
segm, each as a whole process (interpreter start, imports, loading, evaluation,
printing the summary). Peers run the same job as a fresh ``python -c`` each (load,
evaluate, accumulate, summarize): pycocotools, hotcoco and ultrafast-pycocotools from
this interpreter's environment (``bash benchmarks/run.sh`` installs them). Every
process is run ``REPEAT`` times; the table shows ioukit's very first run apart from
its later ones. Prints; asserts nothing.

    bash benchmarks/run.sh benchmarks/bench_first_run.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("IOUKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
SUBSET = DATA / "coco-val2014-100"
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
PY = sys.executable

PEERS = {
    "pycocotools": """
import sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
e = COCOeval(g, d, sys.argv[3]); e.evaluate(); e.accumulate(); e.summarize()
""",
    "hotcoco": """
import sys
from hotcoco import COCO, COCOeval
g = COCO(sys.argv[1]); d = g.load_res(sys.argv[2])
e = COCOeval(g, d, sys.argv[3]); e.evaluate(); e.accumulate(); e.summarize()
""",
    "ultrafast-pycocotools": """
import sys
from ultrafast_pycocotools import COCO, COCOeval
g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
e = COCOeval(g, d, sys.argv[3]); e.evaluate(); e.accumulate(); e.summarize()
""",
}
MODULES = {
    "pycocotools": "pycocotools",
    "hotcoco": "hotcoco",
    "ultrafast-pycocotools": "ultrafast_pycocotools",
}
FILES = {
    "bbox": "instances_val2014_fakebbox100_results.json",
    "segm": "instances_val2014_fakesegm100_results.json",
}


def _timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{cmd[0]} ... failed:\n" + "\n".join(tail))
    return dt, p


def _ap(stdout: str) -> str:
    for line in stdout.splitlines():
        if "Average Precision" in line and "0.50:0.95" in line and " all" in line:
            return line.rsplit("=", 1)[1].strip()
    return "?"


def _fresh_copy(dst: Path) -> None:
    """The repository's files as git sees them (tracked and untracked, not ignored)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    for f in filter(None, files):
        src = REPO / f.decode()
        if src.is_file():
            (dst / f.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f.decode())


def main() -> None:
    if not SUBSET.exists():
        print(f"skipping: {SUBSET} not found (set IOUKIT_SHARED_DATA)")
        return
    gt = str(SUBSET / "instances_val2014_100.json")
    with tempfile.TemporaryDirectory(prefix="ioukit-first-run-") as tmp:
        repo, venv = Path(tmp) / "ioukit", Path(tmp) / "venv"
        repo.mkdir()
        _fresh_copy(repo)
        t_venv, _ = _timed([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)])
        # PIP_NO_CACHE_DIR is left as the user has it: a pip cache is what users have too.
        t_install, _ = _timed([str(venv / "bin/pip"), "install", "-q", "-e", str(repo)])
        print(f"fresh venv: {t_venv:.1f} s; `pip install -e .` (kernels compiled): "
              f"{t_install:.1f} s (bar: at most 180 s)\n")  # fmt: skip
        ioukit = str(venv / "bin/ioukit")
        rows = []
        for iou_type, dt_name in FILES.items():
            dt = str(SUBSET / dt_name)
            times, ap = [], "?"
            for _ in range(REPEAT):
                t, p = _timed([ioukit, "eval", gt, dt, "--iou-type", iou_type], cwd=tmp)
                times.append(t)
                ap = _ap(p.stdout)
            rows.append((iou_type, "ioukit eval (first run)", times[0], ap))
            if len(times) > 1:
                rows.append((iou_type, "ioukit eval (later, best)", min(times[1:]), ap))
            for name, code in PEERS.items():
                if subprocess.run([PY, "-c", f"import {MODULES[name]}"],
                                  capture_output=True).returncode:  # fmt: skip
                    print(f"skipping {name}: not installed in {sys.prefix}")
                    continue
                best, ap = float("inf"), "?"
                for _ in range(REPEAT):
                    try:
                        t, p = _timed([PY, "-c", code, gt, dt, iou_type], cwd=tmp)
                    except RuntimeError as e:
                        print(f"{name} {iou_type}: {e}")
                        break
                    best, ap = min(best, t), _ap(p.stdout)
                if best < float("inf"):
                    rows.append((iou_type, f"{name} (best of {REPEAT})", best, ap))
    print(f"{'type':<5} {'tool (whole process)':<34} {'wall s':>7} {'x ioukit first':>15}  AP")
    for iou_type in FILES:
        sel = [r for r in rows if r[0] == iou_type]
        first = sel[0][2]
        for _, name, t, ap in sel:
            print(f"{iou_type:<5} {name:<34} {t:7.3f} {t / first:15.2f}  {ap}")
        print()


if __name__ == "__main__":
    main()
