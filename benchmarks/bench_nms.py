"""Benchmark ioukit.nms against torchvision.ops and ensemble-boxes, in one run.

    bash benchmarks/run.sh benchmarks/bench_nms.py            # full sizes
    .bench-venv/bin/python benchmarks/bench_nms.py --small    # quick look

Prints, never asserts. Times are the best of a few runs (seconds -> ms); peak
memory is the growth of the process's resident high-water mark during one call,
measured in a fresh subprocess per (library, size) with /proc/self/clear_refs.
A peer that is not installed is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from functools import partial

import numpy as np

import ioukit.nms as N

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None
try:
    import torchvision.ops as tvo
except Exception as e:  # pragma: no cover
    tvo = None
    TV_WHY = f"torchvision not importable ({type(e).__name__}: {e})"
try:
    from ensemble_boxes import ensemble_boxes_nms as eb_nms
    from ensemble_boxes import ensemble_boxes_wbf as eb_wbf
except Exception as e:  # pragma: no cover
    eb_nms = eb_wbf = None
    EB_WHY = f"ensemble-boxes not importable ({e})"


def clustered(n: int, seed: int = 0, n_labels: int = 80):
    """Detector-like output: ~20 jittered boxes per object, constant density."""
    rng = np.random.default_rng(seed)
    k = max(1, n // 20)
    extent = 1000.0 * max(1.0, (n / 10_000) ** 0.5)
    centres = rng.uniform(0, extent, (k, 2))
    wh = rng.uniform(10, 120, (k, 2))
    c = rng.integers(0, k, n)
    ctr = centres[c] + rng.normal(0, 0.15, (n, 2)) * wh[c]
    size = wh[c] * rng.uniform(0.7, 1.3, (n, 2))
    b = np.concatenate([ctr - size / 2, ctr + size / 2], 1).astype(np.float32)
    return b, rng.random(n).astype(np.float32), rng.integers(0, n_labels, n)


def best_time(f, repeat: int) -> float:
    f()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _call_args(lib: str, op: str, n: int):
    b, s, lab = clustered(n)
    if lib == "ioukit":
        return (N.nms, (b, s)) if op == "nms" else (N.batched_nms, (b, s, lab))
    tb, ts, tl = (torch.from_numpy(x) for x in (b, s, lab))
    return (tvo.nms, (tb, ts)) if op == "nms" else (tvo.batched_nms, (tb, ts, tl))


def child_memory(lib: str, op: str, n: int) -> None:
    """Runs in a subprocess: prints the peak RSS growth (MB) of one call."""
    f, args = _call_args(lib, op, n)
    f(*_call_args(lib, op, 200)[1], 0.5)  # warm up (lazy imports, first allocations)
    base = _rss_kb("VmRSS:")
    with open("/proc/self/clear_refs", "w") as fh:  # reset the high-water mark
        fh.write("5")
    f(*args, 0.5)
    print((_rss_kb("VmHWM:") - base) / 1024.0)


def peak_mb(lib: str, op: str, n: int) -> str:
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", lib, op, str(n)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        return f"{float(out.stdout.strip().splitlines()[-1]):.1f}"
    except Exception as e:  # pragma: no cover - diagnostic only
        return f"n/a ({type(e).__name__})"


def row(*cells, widths=(22, 8, 12, 12, 8, 10, 10)):
    print("  ".join(str(c).rjust(w) for c, w in zip(cells, widths)))


def bench_hard(sizes, mem: bool) -> None:
    print("\n## nms / batched_nms (80 classes), CPU, clustered float32 boxes, IoU 0.5")
    if tvo is None:
        print(f"torchvision skipped: {TV_WHY}")
    row("op", "N", "ioukit ms", "tv ms", "speedup", "ioukit MB", "tv MB")
    for n in sizes:
        for op in ("nms", "batched"):
            f_o, a_o = _call_args("ioukit", op, n)
            ours = partial(f_o, *a_o, 0.5)
            theirs = partial(*_tv(op, n)) if tvo else None
            rep = 5 if n <= 10_000 else 2
            t_o = best_time(ours, rep)
            t_t = best_time(theirs, 1 if n > 10_000 else rep) if theirs else float("nan")
            m_o = peak_mb("ioukit", op, n) if mem else "-"
            m_t = peak_mb("tv", op, n) if mem and tvo else "-"
            name = "nms" if op == "nms" else "batched_nms"
            row(name, n, f"{t_o * 1e3:.2f}", f"{t_t * 1e3:.2f}", f"{t_t / t_o:.1f}x", m_o, m_t)
            if theirs and sorted(ours().tolist()) != sorted(theirs().tolist()):
                print("    keep sets DIFFER from torchvision")


def _tv(op: str, n: int):
    f, args = _call_args("tv", op, n)
    return (f, *args, 0.5)


def norm_boxes(n: int, seed: int):
    b, s, lab = clustered(n, seed, n_labels=10)
    ext = float(b.max())
    return np.clip(b.astype(np.float64) / ext, 0, 1), s.astype(np.float64), lab


def _eb_soft(b, s, code):
    return eb_nms.cpu_soft_nms_float(b.copy(), s.copy(), 0.3, 0.5, 0.001, code)


def bench_soft(sizes) -> None:
    print("\n## soft_nms (Nt 0.3, sigma 0.5, score_threshold 0.001) vs ensemble-boxes")
    if eb_nms is None:
        print(f"ensemble-boxes skipped: {EB_WHY}")
        return
    row("method", "N", "ioukit ms", "eb ms", "speedup", "", "")
    for n in sizes:
        b, s, _ = norm_boxes(n, 1)
        for name, code in (("gaussian", 2), ("linear", 1)):
            ours = partial(N.soft_nms, b, s, 0.3, 0.5, name, 0.001)
            theirs = partial(_eb_soft, b, s, code)
            t_o = best_time(ours, 3)
            t_e = best_time(theirs, 1)
            ok = ours()[0].tolist() == theirs().tolist()
            ratio = f"{t_e / t_o:.1f}x"
            row(name, n, f"{t_o * 1e3:.2f}", f"{t_e * 1e3:.2f}", ratio, "", "" if ok else "DIFF")


def bench_wbf(configs) -> None:
    print("\n## weighted_boxes_fusion (iou_thr 0.55, conf_type avg) vs ensemble-boxes")
    if eb_wbf is None:
        print(f"ensemble-boxes skipped: {EB_WHY}")
        return
    row("models x boxes", "N", "ioukit ms", "eb ms", "speedup", "", "")
    for m, n in configs:
        data = [norm_boxes(n, 10 + t) for t in range(m)]
        bl, sl, ll = ([d[k] for d in data] for k in range(3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = partial(N.weighted_boxes_fusion, bl, sl, ll)
            theirs = partial(eb_wbf.weighted_boxes_fusion, bl, sl, ll)
            t_o = best_time(ours, 3)
            t_e = best_time(theirs, 1)
            ob, eb = ours()[0], theirs()[0]
        ok = ob.shape == eb.shape and np.allclose(ob, eb, atol=1e-6)
        ratio = f"{t_e / t_o:.1f}x"
        row(
            f"{m} x {n}",
            m * n,
            f"{t_o * 1e3:.2f}",
            f"{t_e * 1e3:.2f}",
            ratio,
            "",
            "" if ok else "DIFF",
        )


def _synced(f, *args):
    f(*args)
    torch.cuda.synchronize()


def bench_gpu(sizes) -> None:
    print("\n## CUDA")
    if torch is None or not torch.cuda.is_available():
        print("not measured: no CUDA device in this environment")
        return
    dev = torch.device("cuda")
    row("op", "N", "ioukit ms", "tv ms", "speedup", "", "")
    for n in sizes:
        b, s, lab = (torch.from_numpy(x).to(dev) for x in clustered(n))
        for name, f_o, f_t, args in (
            ("nms", N.nms, tvo.nms if tvo else None, (b, s, 0.5)),
            ("batched_nms", N.batched_nms, tvo.batched_nms if tvo else None, (b, s, lab, 0.5)),
        ):
            t_o = best_time(partial(_synced, f_o, *args), 3)
            t_t = best_time(partial(_synced, f_t, *args), 3) if f_t else float("nan")
            row(name, n, f"{t_o * 1e3:.2f}", f"{t_t * 1e3:.2f}", f"{t_t / t_o:.1f}x", "", "")
        if n <= 10_000:
            t_o = best_time(partial(_synced, N.soft_nms, b / b.max(), s), 1)
            row("soft_nms (GPU)", n, f"{t_o * 1e3:.2f}", "-", "-", "", "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="small sizes only")
    ap.add_argument("--no-mem", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if torch is not None:
        # torchvision's CPU NMS kernel is single-threaded, as are ioukit's kernels;
        # one thread also keeps torch's helper ops from fighting over a busy machine.
        torch.set_num_threads(1)
    if a.child:
        child_memory(a.child[0], a.child[1], int(a.child[2]))
        return
    print(
        f"ioukit.nms benchmark; CPU cores: {os.cpu_count()}; torch threads: "
        f"{torch.get_num_threads() if torch else '-'}"
    )
    sizes = [1_000, 10_000] if a.small else [1_000, 10_000, 100_000]
    bench_hard(sizes, mem=not a.no_mem)
    bench_soft([500, 2_000] if a.small else [1_000, 3_000, 10_000])
    bench_wbf([(3, 300)] if a.small else [(3, 1_000), (5, 2_000)])
    bench_gpu(sizes)


if __name__ == "__main__":
    main()
