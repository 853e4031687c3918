"""Time to the summary: `ioukit eval` as a user runs it, against the peers' one-liners.

Each tool runs in a fresh process (imports, JSON loading, evaluation, printing the
12 lines: what a user waits for), on the same files: the val2017-scale synthetic
set (5000 images, ~36k GT, 27 and 100 detections per image) and the COCO val2014
100-image subset. Wall time is the best of ``REPEAT`` runs; peak RSS is the
child's ``ru_maxrss``. The HTML report's extra cost is timed separately.
A missing peer is skipped with the reason printed (``BENCH_SKIP=a,b`` skips
peers on purpose). Prints; asserts nothing.

    bash benchmarks/run.sh benchmarks/bench_cli.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "benchmarks" / ".cache"
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
PY = sys.executable

PEERS = {
    "pycocotools": """
import sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
e = COCOeval(g, d, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
""",
    "faster-coco-eval": """
import sys
from faster_coco_eval import COCO, COCOeval_faster
g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
e = COCOeval_faster(g, d, "bbox", print_function=print); e.evaluate(); e.accumulate()
e.summarize()
""",
    "hotcoco": """
import sys
from hotcoco import COCO, COCOeval
g = COCO(sys.argv[1]); d = g.load_res(sys.argv[2])
e = COCOeval(g, d, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
""",
}
MODULES = {"pycocotools": "pycocotools", "faster-coco-eval": "faster_coco_eval",
           "hotcoco": "hotcoco"}  # fmt: skip


# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report
# at least the (large) RSS of this parent at fork time.
_RSS = (
    "\nprint('MAXRSS', next(l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM')))\n"
)
IOUKIT = "import sys\nfrom ioukit.cli import main\nmain(sys.argv[1:])" + _RSS


def _run(code: str, args: list[str]) -> tuple[float, float, str]:
    """Best wall time of ``python -c code args`` over REPEAT runs, peak RSS (MB), stdout."""
    best, rss, out = float("inf"), 0.0, ""
    for _ in range(REPEAT):
        t = time.perf_counter()
        p = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr else "failed")
        best = min(best, dt)
        for line in p.stdout.splitlines():
            if line.startswith("MAXRSS "):
                rss = max(rss, int(line.split()[1]) / 1024)  # Linux: KiB
        out = p.stdout
    return best, rss, out


def _ap_line(stdout: str) -> str:
    for line in stdout.splitlines():
        if "Average Precision" in line and "0.50:0.95" in line and "all" in line:
            return line.rsplit("=", 1)[1].strip()
    return "?"


def _available(name: str) -> str | None:
    p = subprocess.run([PY, "-c", f"import {MODULES[name]}"], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]


def _datasets() -> list[tuple[str, str, str]]:
    from ioukit.synthetic import write_coco_dataset

    CACHE.mkdir(parents=True, exist_ok=True)
    out = []
    for label, kw in (("val2017-scale, 27 det/img", {"dets_per_image": 27.0}),
                      ("val2017-scale, 100 det/img", {"dets_per_image": 100.0})):  # fmt: skip
        name = "cli_dense" if kw["dets_per_image"] >= 100 else "cli_sparse"
        g, d = CACHE / f"{name}_gt.json", CACHE / f"{name}_dt.json"
        if not (g.exists() and d.exists()):
            g, d = map(Path, write_coco_dataset(CACHE, name=name, **kw))
        out.append((label, str(g), str(d)))
    coco100 = Path(os.environ.get("IOUKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
    coco100 = coco100 / "coco-val2014-100"
    if coco100.exists():
        out.insert(0, ("COCO val2014 100 img", str(coco100 / "instances_val2014_100.json"),
                       str(coco100 / "instances_val2014_fakebbox100_results.json")))  # fmt: skip
    else:
        print(f"skipping the COCO subset: {coco100} not found")
    return out


def main() -> None:
    skipped = {n: r for n in PEERS if (r := _available(n))}
    for n in filter(None, os.environ.get("BENCH_SKIP", "").split(",")):
        skipped[n] = "BENCH_SKIP"
    for n, r in skipped.items():
        print(f"skipping {n}: {r}")
    # warm the Numba cache so the table shows the steady state a user sees
    subprocess.run([PY, "-m", "ioukit.cli", "eval", "-q"], capture_output=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        report = str(Path(tmp) / "r.html")
        for label, gt, dt in _datasets():
            res = {}
            t, m, out = _run(IOUKIT, ["eval", gt, dt, "-q"])
            res["ioukit eval"] = (t, m, _ap_line(out))
            t, m, out = _run(IOUKIT, ["eval", gt, dt, "-q", "--report", report])
            res["ioukit eval --report"] = (t, m, _ap_line(out))
            for name, code in PEERS.items():
                if name in skipped:
                    continue
                try:
                    t, m, out = _run(code + _RSS, [gt, dt])
                    res[name] = (t, m, _ap_line(out))
                except RuntimeError as e:
                    print(f"{name} failed on {label}: {e}")
            rows.append((label, res))
    base = "ioukit eval"
    print()
    print(f"{'data':<28} {'tool':<22} {'wall s':>7} {'x ioukit':>9} {'peak MB':>8}  AP")
    for label, res in rows:
        t0 = res[base][0]
        for name, (t, m, ap) in res.items():
            print(f"{label:<28} {name:<22} {t:7.2f} {t / t0:9.2f} {m:8.0f}  {ap}")
        print()


if __name__ == "__main__":
    main()
