"""What importing ioukit costs on top of NumPy, in fresh processes.

Each command runs ``ROUNDS`` times in a fresh interpreter, the commands taking turns
(so a noisy moment hits both); the table shows the minimum and median wall time and
the median of ioukit's extra time over ``import numpy``. Prints; asserts nothing.

    bash benchmarks/run.sh benchmarks/bench_import.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
COMMANDS = {
    "python (nothing)": "pass",
    "import numpy": "import numpy",
    "import ioukit.coco, ioukit.boxes, ioukit.nms": (
        "import numpy, ioukit.coco, ioukit.boxes, ioukit.nms"
    ),
    "import ioukit.cli (the `ioukit` command)": "import numpy, ioukit.cli",
}


def _once(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main() -> None:
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(ROUNDS):
        for name, code in COMMANDS.items():
            times[name].append(_once(code))
    base = statistics.median(times["import numpy"])
    print(f"{'command':<44} {'min ms':>8} {'median ms':>10} {'over numpy':>11}")
    for name, ts in times.items():
        med = statistics.median(ts)
        extra = f"{(med - base) * 1e3:+.0f} ms" if "ioukit" in name else ""
        print(f"{name:<44} {min(ts) * 1e3:8.1f} {med * 1e3:10.1f} {extra:>11}")
    print(f"\n{ROUNDS} rounds, commands interleaved; bar (issue 13): at most +50 ms")


if __name__ == "__main__":
    main()
