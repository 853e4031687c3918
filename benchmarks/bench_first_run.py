"""A new user's first run: fresh copy, fresh venv, ``pip install -e .``, first ``ioukit eval``.

What a user meets after cloning: the install (the Cython kernels compile here, once)
and the very first ``ioukit eval`` of the COCO val2014 100-image subset, bbox and
segm, each as a whole process (interpreter start, imports, loading, evaluation,
printing the summary). Peers run the same job as a fresh ``python -c`` each (load,
evaluate, accumulate, summarize): pycocotools, hotcoco and ultrafast-pycocotools from
this interpreter's environment (``bash benchmarks/run.sh`` installs them). Every
process is run ``REPEAT`` times; the table shows ioukit's very first run apart from
its later ones. ``BENCH_ROUNDS`` fresh installs (default 3) each give one very first
run; ``BENCH_REPEAT`` (default 5) interleaved repeats of every tool follow. Prints;
asserts nothing.

    bash benchmarks/run.sh benchmarks/bench_first_run.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("IOUKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
SUBSET = DATA / "coco-val2014-100"
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
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


def _install(tmp: Path) -> tuple[str, float, float]:
    """A fresh copy, a fresh venv, ``pip install -e .``: (ioukit script, venv s, install s)."""
    repo, venv = tmp / "ioukit", tmp / "venv"
    repo.mkdir()
    _fresh_copy(repo)
    t_venv, _ = _timed([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)])
    # PIP_NO_CACHE_DIR is left as the user has it: a pip cache is what users have too.
    t_install, _ = _timed([str(venv / "bin/pip"), "install", "-q", "-e", str(repo)])
    return str(venv / "bin/ioukit"), t_venv, t_install


#: peers given the same very first run: a fresh venv, ``pip install NAME``, then at once
#: their first process (the install's writeback and cold files hit whoever runs first)
FRESH_PEERS = {"hotcoco": "hotcoco"}


def _peer_first_runs(tmp: Path, gt: str) -> dict[tuple[str, str], float]:
    """{(iou_type, peer): wall s of its very first process after a fresh install}."""
    out = {}
    for name, package in FRESH_PEERS.items():
        if name not in PEERS:
            continue
        venv = tmp / f"venv-{name}"
        _timed([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)])
        try:
            _timed([str(venv / "bin/pip"), "install", "-q", package])
        except RuntimeError as e:
            print(f"skipping {name}'s first run: {e}")
            continue
        for iou_type, dt_name in FILES.items():
            t, _ = _timed(
                [str(venv / "bin/python"), "-c", PEERS[name], gt, str(SUBSET / dt_name), iou_type],
                cwd=tmp,
            )
            out[iou_type, name] = t
    return out


def _peers() -> dict[str, str]:
    out = {}
    for name, code in PEERS.items():
        if subprocess.run([PY, "-c", f"import {MODULES[name]}"], capture_output=True).returncode:
            print(f"skipping {name}: not installed in {sys.prefix}")
        else:
            out[name] = code
    return out


def main() -> None:
    if not SUBSET.exists():
        print(f"skipping: {SUBSET} not found (set IOUKIT_SHARED_DATA)")
        return
    gt = str(SUBSET / "instances_val2014_100.json")
    peers = _peers()
    # ROUNDS fresh installs: a single process's time moves by 10-30 % on this VM, so
    # the very first run is taken once per fresh install and reported per round and as
    # a median; every process (ioukit's later runs and the peers') is then repeated
    # REPEAT times, interleaved, and reported as best and median.
    first: dict[str, list[float]] = {t: [] for t in FILES}
    later: dict[str, dict[str, list[float]]] = {t: {} for t in FILES}
    aps: dict[tuple[str, str], str] = {}
    peer_first: dict[tuple[str, str], list[float]] = {}
    for rnd in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="ioukit-first-run-") as tmp_name:
            tmp = Path(tmp_name)
            ioukit, t_venv, t_install = _install(tmp)
            print(f"round {rnd + 1}: fresh venv {t_venv:.1f} s; `pip install -e .` (kernels "
                  f"compiled) {t_install:.1f} s (bar: at most 180 s)")  # fmt: skip
            for iou_type, dt_name in FILES.items():
                dt = str(SUBSET / dt_name)
                t, p = _timed([ioukit, "eval", gt, dt, "--iou-type", iou_type], cwd=tmp)
                first[iou_type].append(t)
                aps[iou_type, "ioukit"] = _ap(p.stdout)
            for key, t in _peer_first_runs(tmp, gt).items():
                peer_first.setdefault(key, []).append(t)
            for iou_type, dt_name in FILES.items():
                dt = str(SUBSET / dt_name)
                for _ in range(REPEAT):
                    cmds = {"ioukit eval (later runs)": [ioukit, "eval", gt, dt,
                                                         "--iou-type", iou_type]}  # fmt: skip
                    cmds.update({n: [PY, "-c", c, gt, dt, iou_type] for n, c in peers.items()})
                    for name, cmd in cmds.items():
                        try:
                            t, p = _timed(cmd, cwd=tmp)
                        except RuntimeError as e:
                            print(f"{name} {iou_type}: {e}")
                            continue
                        later[iou_type].setdefault(name, []).append(t)
                        aps[iou_type, name] = _ap(p.stdout)
    print()
    print(f"{'type':<5} {'tool (whole process)':<30} {'best s':>7} {'median s':>9}  AP")
    for iou_type in FILES:
        firsts = ", ".join(f"{t:.3f}" for t in first[iou_type])
        med = statistics.median(first[iou_type])
        print(f"{iou_type:<5} {'ioukit eval (very first run)':<30} {min(first[iou_type]):7.3f} "
              f"{med:9.3f}  {aps[iou_type, 'ioukit']}   (per round: {firsts})")  # fmt: skip
        for (typ, name), ts in peer_first.items():
            if typ == iou_type:
                per = ", ".join(f"{t:.3f}" for t in ts)
                print(f"{iou_type:<5} {name + ' (very first run)':<30} {min(ts):7.3f} "
                      f"{statistics.median(ts):9.3f}         (per round: {per})")  # fmt: skip
        for name, ts in later[iou_type].items():
            print(f"{iou_type:<5} {name:<30} {min(ts):7.3f} {statistics.median(ts):9.3f}  "
                  f"{aps[iou_type, name]}")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
