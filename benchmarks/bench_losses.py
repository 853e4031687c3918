"""Forward+backward throughput of ioukit.losses against torchvision's box losses.

One run, same data, same process: 1M aligned box pairs (float32), each loss
timed as ``loss(pred, target, reduction="mean").backward()`` with ``pred``
requiring grad. Reports the best of ``--repeats`` interleaved runs (ioukit and
the peer alternate, so load from other processes hits both alike) and the
ratio torchvision / ioukit (> 1: ioukit faster).

CPU always; CUDA when available (with ``torch.cuda.synchronize``), where the
ioukit losses are also run through ``torch.compile`` to see whether a fused
kernel beats eager by more than 1.5x. A missing peer is skipped with a reason.

Usage: ``bash benchmarks/run.sh benchmarks/bench_losses.py`` or
``python benchmarks/bench_losses.py [--n 1000000] [--repeats 7] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ioukit import losses as L

try:
    import torchvision
    import torchvision.ops as tv_ops

    PEERS = {
        "giou": tv_ops.generalized_box_iou_loss,
        "diou": tv_ops.distance_box_iou_loss,
        "ciou": tv_ops.complete_box_iou_loss,
    }
    TV_VERSION = torchvision.__version__
except ImportError as e:  # pragma: no cover - depends on the environment
    PEERS = {}
    TV_VERSION = f"missing ({e})"

OURS = {
    "iou": L.iou_loss,
    "giou": L.giou_loss,
    "diou": L.diou_loss,
    "ciou": L.ciou_loss,
    "eiou": L.eiou_loss,
    "focal_eiou": L.focal_eiou_loss,
    "siou": L.siou_loss,
    "alpha_iou(ciou)": lambda p, t, **k: L.alpha_iou_loss(p, t, base="ciou", **k),
    "wiou_v1": L.wiou_loss,
    "mpdiou": lambda p, t, **k: L.mpdiou_loss(p, t, image_size=(640, 640), **k),
}


def make_pairs(n: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel boxes and perturbed targets, as in a detector's positive samples."""
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(n, 2, generator=g) * 600
    wh = torch.rand(n, 2, generator=g) * 120 + 2
    target = torch.cat([xy, xy + wh], 1)
    pred = target + torch.randn(n, 4, generator=g) * wh.repeat(1, 2) * 0.3
    pred[:, 2:] = torch.maximum(pred[:, 2:], pred[:, :2] + 0.5)
    return pred.to(device), target.to(device)


def _timer(device: str):
    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    return sync


def time_once(fn, pred: torch.Tensor, target: torch.Tensor, device: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one forward+backward."""
    sync = _timer(device)
    x = pred.detach().clone().requires_grad_(True)
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    fn(x, target, reduction="mean").backward()
    sync()
    return time.perf_counter() - t0, time.process_time() - c0


def best_of(fns: dict, pred, target, device: str, repeats: int) -> tuple[dict, dict]:
    """Best wall and best CPU time of each function, runs interleaved, after a warm-up."""
    for f in fns.values():
        time_once(f, pred, target, device)
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            times[k].append(time_once(f, pred, target, device))
    wall = {k: min(w for w, _ in v) for k, v in times.items()}
    cpu = {k: min(c for _, c in v) for k, v in times.items()}
    return wall, cpu


def fmt_row(cols, widths) -> str:
    return "  ".join(
        str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cols, widths))
    )


def run_device(device: str, n: int, repeats: int) -> None:
    pred, target = make_pairs(n, device)
    print(f"\n## {device}: forward+backward, {n:,} pairs, float32, best of {repeats}")
    if device == "cpu":
        print("(wall: elapsed time; cpu: CPU time of this process, less sensitive to other load)")
    widths = (16, 10, 10, 10, 10, 11, 8)
    head = ("loss", "ioukit ms", "tv ms", "tv/ioukit", "cpu ratio", "ioukit cpu", "Mpair/s")
    print(fmt_row(head, widths))
    for name, ours in OURS.items():
        fns = {"ours": ours}
        if name in PEERS:
            fns["tv"] = PEERS[name]
        t, c = best_of(fns, pred, target, device, repeats)
        has = "tv" in t
        row = (
            name,
            f"{t['ours'] * 1e3:.1f}",
            f"{t['tv'] * 1e3:.1f}" if has else "-",
            f"{t['tv'] / t['ours']:.2f}" if has else "-",
            f"{c['tv'] / c['ours']:.2f}" if has else "-",
            f"{c['ours'] * 1e3:.1f}",
            f"{n / t['ours'] / 1e6:.1f}",
        )
        print(fmt_row(row, widths))
    if device != "cuda":
        return
    print(f"\n## {device}: torch.compile(ioukit loss) vs eager, {n:,} pairs")
    print(fmt_row(("loss", "eager ms", "compiled ms", "speed-up", ">1.5x?"), widths))
    for name in ("giou", "diou", "ciou", "siou"):
        try:
            compiled = torch.compile(OURS[name], dynamic=False)
            t, _ = best_of(
                {"eager": OURS[name], "compiled": compiled}, pred, target, device, repeats
            )
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name}: torch.compile failed: {type(e).__name__}: {e}")
            continue
        s = t["eager"] / t["compiled"]
        print(
            fmt_row(
                (
                    name,
                    f"{t['eager'] * 1e3:.2f}",
                    f"{t['compiled'] * 1e3:.2f}",
                    f"{s:.2f}",
                    s > 1.5,
                ),
                widths,
            )
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads > 0:
        # one thread: CPU time is then the least load-sensitive figure on a shared box
        torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, torchvision {TV_VERSION}, {cpu}, {threads} threads")
    if not PEERS:
        print("torchvision not importable: peer columns skipped")
    run_device("cpu", args.n, args.repeats)
    if torch.cuda.is_available():
        run_device("cuda", args.n, args.repeats)
    else:
        print("\nCUDA not available: GPU timings and the torch.compile comparison skipped")


if __name__ == "__main__":
    main()
