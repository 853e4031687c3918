"""Benchmark ioukit.intervals and ioukit.activitynet against NumPy references, one run.

    .venv/bin/python benchmarks/bench_intervals.py            # 2000 videos
    .venv/bin/python benchmarks/bench_intervals.py --small    # quick look

- ActivityNet mAP (tIoU 0.5:0.95) on a generated set of ``--videos`` videos (100
  predictions each), ioukit vs the official semantics as a pandas-free NumPy loop
  (tests/_activitynet_reference.py, the test oracle), both from in-memory dicts; the
  two results are checked equal to 1e-12.
- pairwise interval IoU N x N: ioukit (compiled) vs NumPy broadcasting and torch (CPU).
- temporal NMS on N intervals: ioukit vs a NumPy greedy loop (one vectorised IoU row per
  kept interval, the usual Python implementation in temporal-detection code).

Prints, never asserts: first call and warm (best of N, interleaved), and ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import ioukit.activitynet as anet
import ioukit.intervals as I

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _activitynet_reference as ref  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def interleaved(fs: dict, repeat: int) -> dict:
    best = {k: float("inf") for k in fs}
    for _ in range(repeat):
        for k, f in fs.items():
            best[k] = min(best[k], timed(f)[0])
    return best


def numpy_nms(iv: np.ndarray, s: np.ndarray, thr: float) -> np.ndarray:
    order = np.argsort(-s, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        inter = np.clip(
            np.minimum(iv[i, 1], iv[rest, 1]) - np.maximum(iv[i, 0], iv[rest, 0]), 0, None
        )
        union = (iv[i, 1] - iv[i, 0]) + (iv[rest, 1] - iv[rest, 0]) - inter
        order = rest[~(inter / np.where(union > 0, union, 1) > thr)]
    return np.array(keep)


def numpy_pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = np.clip(
        np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter
    return np.where(union > 1e-12, inter / np.where(union > 1e-12, union, 1), 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--videos", type=int, default=2000)
    args = ap.parse_args()
    n_vid = 200 if args.small else args.videos
    print(f"ioukit.intervals / activitynet benchmark  (numpy {np.__version__})")

    # ---------------------------------------------------------------- ActivityNet
    gt, pred = ref.make_activitynet(n_vid, seed=0)
    n_pred = sum(len(v) for v in pred["results"].values())
    print(f"\nActivityNet mAP, {n_vid} videos, {n_pred} predictions, 10 tIoU thresholds")
    thr = anet.ACTIVITYNET_TIOU_THRESHOLDS
    t_first, r = timed(lambda: anet.evaluate(gt, pred))
    t_ref, (ap_ref, _, avg_ref) = timed(lambda: ref.anet_detection(gt, pred, np.array(thr)))
    diff = float(np.abs(r.ap - ap_ref).max())
    warm = interleaved({"ioukit": lambda: anet.evaluate(gt, pred)}, 7)["ioukit"]
    print(f"  official-semantics NumPy loop  {t_ref * 1e3:10.1f} ms (one run)")
    print(
        f"  ioukit first call              {t_first * 1e3:10.1f} ms   ratio {t_ref / t_first:6.1f}x"
    )
    print(f"  ioukit warm (best of 7)        {warm * 1e3:10.1f} ms   ratio {t_ref / warm:6.1f}x")
    print(f"  average mAP {r.average_map:.6f} vs {avg_ref:.6f}; max |AP diff| {diff:.1e}")

    # ---------------------------------------------------------------- pairwise IoU
    rng = np.random.default_rng(1)
    n = 1000 if args.small else 4000
    s = rng.uniform(0, 1000, (n, 1))
    a = np.hstack([s, s + rng.uniform(0, 50, (n, 1))])
    b = a[rng.permutation(n)]
    print(f"\npairwise interval IoU {n} x {n} (float64)")
    fs = {"ioukit": lambda: I.iou(a, b), "numpy": lambda: numpy_pairwise(a, b)}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        fs["ioukit torch"] = lambda: I.iou(ta, tb)
    first = {k: timed(f)[0] for k, f in fs.items()}
    best = interleaved(fs, 7)
    assert np.allclose(I.iou(a, b), numpy_pairwise(a, b), rtol=0, atol=1e-15)
    for k in fs:
        print(
            f"  {k:14s} first {first[k] * 1e3:8.2f} ms   warm {best[k] * 1e3:8.2f} ms"
            f"   numpy / this {best['numpy'] / best[k]:6.1f}x"
        )

    # ---------------------------------------------------------------- NMS
    for n in (2000,) if args.small else (2000, 20000):
        rng = np.random.default_rng(2)
        c = rng.uniform(0, n / 2, n // 10)[rng.integers(0, n // 10, n)]  # proposals cluster
        d = rng.uniform(2, 30, n)
        iv = np.stack([c - d / 2 + rng.normal(0, 2, n), c + d / 2 + rng.normal(0, 2, n)], 1)
        iv[:, 1] = np.maximum(iv[:, 1], iv[:, 0])
        sc = rng.random(n)
        keep = I.nms(iv, sc, 0.5)
        assert np.array_equal(keep, numpy_nms(iv, sc, 0.5))
        fs = {
            "ioukit nms": lambda iv=iv, sc=sc: I.nms(iv, sc, 0.5),
            "numpy greedy": lambda iv=iv, sc=sc: numpy_nms(iv, sc, 0.5),
            "ioukit soft_nms": lambda iv=iv, sc=sc: I.soft_nms(iv, sc),
        }
        first = {k: timed(f)[0] for k, f in fs.items()}
        best = interleaved(fs, 5)
        print(f"\ntemporal NMS, {n} intervals, tIoU 0.5 ({keep.size} kept)")
        for k in fs:
            print(
                f"  {k:16s} first {first[k] * 1e3:8.2f} ms   warm {best[k] * 1e3:8.2f} ms"
                f"   numpy greedy / this {best['numpy greedy'] / best[k]:6.1f}x"
            )


if __name__ == "__main__":
    main()
