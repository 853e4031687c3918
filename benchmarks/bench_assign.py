"""Benchmark ioukit.assign against torchvision's Matcher and a per-image DETR matcher.

    .venv/bin/python benchmarks/bench_assign.py            # full sizes (10k sets)
    .venv/bin/python benchmarks/bench_assign.py --small    # quick look

Prints, never asserts (but reports any disagreement). Both sides run on one CPU thread
(torch.set_num_threads(1)) in the same process, interleaved; times are the best of a
few passes (CPU time of the process), plus the first pass.

1. max_iou_assign vs ``Matcher(pos, neg, low)(box_iou(gt, anchors))`` on 10k random
   anchor/GT sets (a third with exact IoU ties, some without any GT: torchvision raises
   there, so its side returns the documented all -1 without calling it), for the RPN
   (0.7, 0.3, True) and ROI (0.5, 0.5, False) settings; then on detector-sized images.
2. hungarian_assign (batched cost, scipy per image) vs a per-image Python loop computing
   DETR's cost with torch (softmax, cdist, generalized_box_iou) and calling scipy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchvision.models.detection._utils import Matcher
from torchvision.ops import box_iou, generalized_box_iou

from ioukit.assign import hungarian_assign, max_iou_assign


def cpu_best(f, repeat: int) -> tuple[float, float]:
    """(first, best of ``repeat``) CPU seconds of ``f()``."""
    t0 = time.process_time()
    f()
    first = time.process_time() - t0
    best = first
    for _ in range(repeat):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return first, best


def random_sets(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n, m = int(rng.integers(1, 400)), int(rng.integers(0, 16))
        if i % 3 == 1:  # integer boxes on a small grid: exact ties
            xy = rng.integers(0, 20, (n + m, 2)).astype(np.float32)
            wh = rng.integers(1, 8, (n + m, 2)).astype(np.float32)
        else:
            xy = rng.uniform(0, 200, (n + m, 2)).astype(np.float32)
            wh = rng.uniform(4, 80, (n + m, 2)).astype(np.float32)
        b = np.concatenate([xy, xy + wh], 1)
        if i % 3 == 2 and m:  # duplicated GTs and anchors
            b = np.concatenate([b, b[:2]])
            n += 2
        out.append((b[n:].copy(), b[:n].copy()))
    return out


def bench_max_iou(count: int, repeat: int) -> None:
    sets = random_sets(count)
    tsets = [(torch.from_numpy(g), torch.from_numpy(a)) for g, a in sets]
    print(
        f"\n== max_iou_assign vs torchvision Matcher: {count} random sets "
        f"({sum(len(g) == 0 for g, _ in sets)} without GT)"
    )
    for name, (pos, neg, low) in {"RPN": (0.7, 0.3, True), "ROI": (0.5, 0.5, False)}.items():
        matcher = Matcher(pos, neg, allow_low_quality_matches=low)
        kw = dict(pos_iou_threshold=pos, neg_iou_threshold=neg, allow_low_quality_matches=low)

        def tv(matcher=matcher):
            return [
                matcher(box_iou(g, a)) if len(g) else torch.full((len(a),), -1) for g, a in tsets
            ]

        def ik(kw=kw):
            return [max_iou_assign(g, a, **kw) for g, a in sets]

        def ik_t(kw=kw):
            return [max_iou_assign(g, a, **kw) for g, a in tsets]

        bad = sum(not np.array_equal(x, y.numpy()) for x, y in zip(ik(), tv()))
        bad_t = sum(not torch.equal(x, y) for x, y in zip(ik_t(), tv()))
        tf, tb = cpu_best(tv, repeat)
        kf, kb = cpu_best(ik, repeat)
        ktf, ktb = cpu_best(ik_t, repeat)
        print(
            f"{name}: sets differing from torchvision: {bad} (NumPy in), {bad_t} (tensors in)"
            f" / {count}"
        )
        print(f"  torchvision  first {tf * 1e3:8.1f} ms  best {tb * 1e3:8.1f} ms")
        print(
            f"  ioukit       first {kf * 1e3:8.1f} ms  best {kb * 1e3:8.1f} ms  "
            f"-> {tb / kb:5.1f}x faster (best), {tf / kf:5.1f}x (first)"
        )
        print(
            f"  ioukit (CPU tensors in) first {ktf * 1e3:8.1f} ms  best {ktb * 1e3:8.1f} ms  "
            f"-> {tb / ktb:5.1f}x faster (best)"
        )
    rng = np.random.default_rng(1)
    print("\n-- one detector-sized image (float32), best of", repeat)
    for n, m in ((2000, 20), (20000, 20), (100000, 50)):
        xy = rng.uniform(0, 1000, (n + m, 2)).astype(np.float32)
        b = np.concatenate([xy, xy + rng.uniform(8, 200, (n + m, 2)).astype(np.float32)], 1)
        g, a = b[:m], b[m:]
        tg, ta = torch.from_numpy(g), torch.from_numpy(a)
        for name, (pos, neg, low) in {"RPN": (0.7, 0.3, True), "ROI": (0.5, 0.5, False)}.items():
            matcher = Matcher(pos, neg, allow_low_quality_matches=low)
            kw = dict(pos_iou_threshold=pos, neg_iou_threshold=neg, allow_low_quality_matches=low)
            same = np.array_equal(max_iou_assign(g, a, **kw), matcher(box_iou(tg, ta)).numpy())
            _, tb = cpu_best(lambda: matcher(box_iou(tg, ta)), repeat)  # noqa: B023
            _, kb = cpu_best(lambda: max_iou_assign(g, a, **kw), repeat)  # noqa: B023
            print(
                f"  {n:6d} anchors x {m:3d} GT {name}: torchvision {tb * 1e3:7.2f} ms, "
                f"ioukit {kb * 1e3:6.2f} ms -> {tb / kb:5.1f}x  (equal: {same})"
            )


def detr_loop(logits, boxes, labels, gts, counts):
    """DETR's matcher one image at a time (detr/models/matcher.py, unbatched)."""
    out = []
    for k, m in enumerate(counts):
        if m == 0:
            out.append(0.0)
            continue
        prob = logits[k].softmax(-1)
        c = (
            5 * torch.cdist(boxes[k], gts[k, :m], p=1)
            - prob[:, labels[k, :m]]
            - 2 * generalized_box_iou(boxes[k], gts[k, :m])
        ).numpy()
        r, cc = linear_sum_assignment(c)
        out.append(c[r, cc].sum())
    return np.array(out)


def bench_hungarian(batches: int, repeat: int) -> None:
    rng = np.random.default_rng(2)
    b, q, c, mmax = 32, 100, 92, 30
    print(
        f"\n== hungarian_assign vs a per-image loop (DETR's cost in torch + scipy): "
        f"{batches} batches of {b} images, {q} queries, {c} classes, <= {mmax} GTs"
    )
    data = []
    for _ in range(batches):
        counts = rng.integers(0, mmax + 1, b)
        xy = rng.uniform(0, 0.7, (b, q + mmax, 2))
        bx = np.concatenate([xy, xy + rng.uniform(0.02, 0.3, (b, q + mmax, 2))], -1)
        mask = np.arange(mmax)[None] < counts[:, None]
        data.append(
            (
                rng.normal(0, 1, (b, q, c)),
                bx[:, :q],
                rng.integers(0, c, (b, mmax)),
                bx[:, q:],
                mask,
                counts,
            )
        )
    tdata = [
        tuple(torch.from_numpy(np.ascontiguousarray(x)) for x in d[:5]) + (d[5],) for d in data
    ]

    def loop():
        return [detr_loop(d[0], d[1], d[2], d[3], d[5]) for d in tdata]

    def ik_numpy():
        return [hungarian_assign(d[0], d[1], d[2], d[3], gt_mask=d[4]).cost for d in data]

    def ik_torch():
        return [hungarian_assign(d[0], d[1], d[2], d[3], gt_mask=d[4]).cost.numpy() for d in tdata]

    worst = max(np.abs(x - y).max() for x, y in zip(ik_numpy(), loop()))
    worst_t = max(np.abs(x - y).max() for x, y in zip(ik_torch(), loop()))
    print(f"  largest |total cost difference| per image: numpy {worst:.2e}, torch {worst_t:.2e}")
    lf, lb = cpu_best(loop, repeat)
    for name, f in (("ioukit (NumPy in)", ik_numpy), ("ioukit (torch in)", ik_torch)):
        kf, kb = cpu_best(f, repeat)
        print(
            f"  {name}: first {kf * 1e3:7.1f} ms, best {kb * 1e3:7.1f} ms; loop first "
            f"{lf * 1e3:7.1f} ms, best {lb * 1e3:7.1f} ms -> {lb / kb:4.1f}x faster"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="1k sets, fewer repeats")
    args = ap.parse_args()
    torch.set_num_threads(1)
    count, repeat = (1000, 2) if args.small else (10_000, 3)
    print(f"torch {torch.__version__}, one thread; {time.strftime('%Y-%m-%d %H:%M')}")
    bench_max_iou(count, repeat)
    bench_hungarian(2 if args.small else 8, repeat)


if __name__ == "__main__":
    main()
