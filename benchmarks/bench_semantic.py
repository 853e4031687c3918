"""Benchmark ioukit.semantic's confusion matrix against torchmetrics and np.bincount.

    .venv/bin/python benchmarks/bench_semantic.py               # 1000 maps of 512 x 1024
    .venv/bin/python benchmarks/bench_semantic.py --maps 100    # a quicker look

Cityscapes-like data: 19 classes, label maps of 512 x 1024 made of 16 x 16 regions,
predictions with 10 % of pixels relabelled, 2 % of target pixels ignored (255). Maps
are generated chunk by chunk (``--chunk``), so memory stays bounded; every
implementation counts the same chunk before the next is made (interleaved).

Implementations (all CPU):

* ioukit ``SemanticEvaluator.update`` on the uint8 maps (the compiled kernel) and on
  int64 maps (what an argmax gives);
* NumPy: ``np.bincount(t[m] * C + p[m])`` with the ignore mask ``m`` (mmseg's
  counting), and the bare ``np.bincount(t * C + p)`` without a mask;
* torchmetrics ``MulticlassConfusionMatrix`` and ``MulticlassJaccardIndex`` (int64
  tensors, ``ignore_index=255``), ``update`` per map, ``compute`` at the end.

Prints totals over all maps (one run) with ratios to ioukit, then per-map first-call
(the first map a fresh object counts in this process) and warm (best of 5) times.
Prints, never asserts, except that every implementation's counts agree.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from ioukit.semantic import SemanticEvaluator

try:
    import torch
    from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex
except Exception as e:  # pragma: no cover
    torch = None
    TM_WHY = f"torchmetrics not importable ({type(e).__name__}: {e})"

C = 19
IGNORE = 255


def make_chunk(rng: np.random.Generator, n: int, h: int = 512, w: int = 1024):
    """n (target, prediction) uint8 maps."""
    low = rng.integers(0, C, (n, h // 16, w // 16), dtype=np.uint8)
    t = np.repeat(np.repeat(low, 16, 1), 16, 2)
    p = t.copy()
    size = t.size
    # 10 % of the pixels relabelled, 2 % ignored (positions drawn with replacement: cheap)
    p.reshape(-1)[rng.integers(0, size, size // 10)] = rng.integers(0, C, size // 10, np.uint8)
    t.reshape(-1)[rng.integers(0, size, size // 50)] = IGNORE
    return t, p


class NumpyMasked:
    def __init__(self) -> None:
        self.conf = np.zeros(C * C, np.int64)

    def update(self, p: np.ndarray, t: np.ndarray) -> None:
        m = t != IGNORE
        self.conf += np.bincount(t[m].astype(np.int64) * C + p[m], minlength=C * C)

    def result(self) -> np.ndarray:
        return self.conf.reshape(C, C)


class NumpyBare:
    """No ignore mask (counts a different thing when targets hold 255): speed only."""

    def __init__(self) -> None:
        self.conf = np.zeros(256 * C, np.int64)

    def update(self, p: np.ndarray, t: np.ndarray) -> None:
        self.conf += np.bincount(t.astype(np.int64).ravel() * C + p.ravel(), minlength=256 * C)

    def result(self) -> None:
        return None


class Ioukit:
    def __init__(self) -> None:
        self.ev = SemanticEvaluator(C, ignore_index=IGNORE)

    def update(self, p: np.ndarray, t: np.ndarray) -> None:
        self.ev.update(p, t)

    def result(self) -> np.ndarray:
        return self.ev.compute().confusion


class Torchmetrics:
    def __init__(self, cls) -> None:
        self.m = cls(
            num_classes=C,
            ignore_index=IGNORE,
            **({} if cls is MulticlassConfusionMatrix else {"average": "none"}),
        )
        self.cls = cls

    def update(self, p, t) -> None:
        self.m.update(p, t)

    def result(self):
        out = self.m.compute()
        return out.numpy() if self.cls is MulticlassConfusionMatrix else None


def impls():
    out = {
        "ioukit (uint8)": (Ioukit, "u8"),
        "ioukit (int64)": (Ioukit, "i64np"),
        "numpy bincount+mask": (NumpyMasked, "u8"),
        "numpy bincount bare": (NumpyBare, "u8"),
    }
    if torch is not None:
        out["torchmetrics ConfusionMatrix"] = (
            lambda: Torchmetrics(MulticlassConfusionMatrix),
            "torch",
        )
        out["torchmetrics JaccardIndex"] = (lambda: Torchmetrics(MulticlassJaccardIndex), "torch")
    return out


def views(t: np.ndarray, p: np.ndarray):
    t64, p64 = t.astype(np.int64), p.astype(np.int64)
    v = {"u8": (t, p), "i64np": (t64, p64)}
    if torch is not None:
        v["torch"] = (torch.from_numpy(t64), torch.from_numpy(p64))
    return v


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--maps", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument(
        "--peer-maps",
        type=int,
        default=None,
        help="torchmetrics counts only the first N maps (default: all); per-map means compare",
    )
    ap.add_argument("--skip-torchmetrics", action="store_true")
    a = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(1)  # the machine is shared; ioukit stays below its thread cut-off
    if a.skip_torchmetrics:
        globals()["torch"] = None
    print(
        f"ioukit.semantic confusion matrix benchmark; CPU cores: {os.cpu_count()}; "
        f"{a.maps} maps of 512 x 1024, {C} classes, ignore {IGNORE}"
    )
    if torch is None:
        print(
            f"torchmetrics skipped: {TM_WHY if not a.skip_torchmetrics else '--skip-torchmetrics'}"
        )
    rng = np.random.default_rng(0)
    table = impls()
    state = {name: make() for name, (make, _) in table.items()}
    total = dict.fromkeys(table, 0.0)
    counted = dict.fromkeys(table, 0)
    peer_maps = a.maps if a.peer_maps is None else min(a.peer_maps, a.maps)
    first = {}
    done = 0
    while done < a.maps:
        n = min(a.chunk, a.maps - done)
        t, p = make_chunk(rng, n)
        v = views(t, p)
        for name, (_, kind) in table.items():
            tt, pp = v[kind]
            obj = state[name]
            if name.startswith("torchmetrics"):
                n_here = max(0, min(n, peer_maps - done))
            else:
                n_here = n
            counted[name] += n_here
            for i in range(n_here):
                t0 = time.perf_counter()
                obj.update(pp[i], tt[i])
                dt = time.perf_counter() - t0
                if name not in first:
                    first[name] = dt
                total[name] += dt
        done += n
    results = {}
    for name, obj in state.items():
        t0 = time.perf_counter()
        results[name] = obj.result()
        total[name] += time.perf_counter() - t0
    ref = results["ioukit (uint8)"]
    for name, r in results.items():
        if r is not None and counted[name] == a.maps and not np.array_equal(r, ref):
            raise SystemExit(f"{name}: counts differ from ioukit's")
    # warm: best of 5 on one map, interleaved
    t, p = make_chunk(rng, 1)
    v = views(t, p)
    warm = dict.fromkeys(table, float("inf"))
    for _ in range(5):
        for name, (_, kind) in table.items():
            tt, pp = v[kind]
            obj = state[name]
            t0 = time.perf_counter()
            obj.update(pp[0], tt[0])
            warm[name] = min(warm[name], time.perf_counter() - t0)
    per_map = {k: total[k] / max(1, counted[k]) for k in table}
    base = per_map["ioukit (uint8)"]
    base_w = warm["ioukit (uint8)"]
    print(f"\n{'implementation':30s} {'maps':>5s} {'total s':>8s} {'ms/map':>7s} "
          f"{'x ioukit':>8s} {'first ms':>8s} {'warm ms':>8s} {'x ioukit':>8s}")  # fmt: skip
    for name in table:
        print(
            f"{name:30s} {counted[name]:5d} {total[name]:8.2f} {per_map[name] * 1e3:7.2f} "
            f"{per_map[name] / base:8.1f} {first[name] * 1e3:8.2f} {warm[name] * 1e3:8.2f} "
            f"{warm[name] / base_w:8.1f}"
        )
    print(
        "\ncounts agree with ioukit's: "
        + ", ".join(k for k, r in results.items() if r is not None and counted[k] == a.maps)
    )


if __name__ == "__main__":
    main()
