"""Benchmark ioukit.openimages against the official semantics' loop, one run.

    .venv/bin/python benchmarks/bench_openimages.py            # 3000 images
    .venv/bin/python benchmarks/bench_openimages.py --images 300

A generated challenge-like set (tests/test_openimages.py ``generate``: a 3-level
hierarchy of 22 classes, group-of boxes, verified positive and negative image labels,
jittered / parent-class / sibling predictions, background, invalid boxes) evaluated
with hierarchy expansion and verified labels:

- ioukit from in-memory columns and from the CSV files (parsing included);
- the test oracle, tests/_openimages_reference.py: the official per-image, per-class
  loops (``per_image_evaluation.py`` / ``metrics.py`` semantics) in NumPy, from the
  same rows, with its hierarchy expansion.

The two mAPs are checked equal to 1e-12. Prints, never asserts: first call and warm
(best of N, interleaved), and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _openimages_reference as ref  # noqa: E402
import test_openimages as t  # noqa: E402
from ioukit import openimages  # noqa: E402


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def interleaved(fs: dict, repeat: int) -> dict:
    best = {k: float("inf") for k in fs}
    for _ in range(repeat):
        for k, f in fs.items():
            best[k] = min(best[k], timed(f)[0])
    return best


def write_csv(path: Path, rows: list, cols: tuple) -> None:
    lines = [",".join(cols)]
    for r in rows:
        lines.append(
            ",".join(repr(float(r[c])) if isinstance(r[c], float) else str(r[c]) for c in cols)
        )
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    boxes, labels, preds = t.generate(1, a.images)
    cols = (t._cols(boxes, t.BOX_COLS), t._cols(preds, t.DT_COLS), t._cols(labels, t.LAB_COLS))
    tmp = Path(tempfile.mkdtemp())
    for name, rows, c in (
        ("b", boxes, t.BOX_COLS),
        ("p", preds, t.DT_COLS),
        ("l", labels, t.LAB_COLS),
    ):
        write_csv(tmp / f"{name}.csv", rows, c)
    (tmp / "h.json").write_text(json.dumps(t.TREE))
    print(
        f"Open Images challenge metric: {a.images:,} images, {len(boxes):,} boxes "
        f"({sum(r['IsGroupOf'] for r in boxes):,} group-of), {len(labels):,} image labels, "
        f"{len(preds):,} predictions, {len(t.ALL)} classes, 3-level hierarchy"
    )

    def ours_columns():
        return openimages.evaluate(
            cols[0], cols[1], labels=cols[2], hierarchy=t.TREE, classes=t.ALL
        )

    def ours_csv():
        return openimages.evaluate(
            tmp / "b.csv",
            tmp / "p.csv",
            labels=tmp / "l.csv",
            hierarchy=tmp / "h.json",
            classes=t.ALL,
        )

    def reference():
        return ref.evaluate(boxes, labels, preds, t.ALL, t.TREE)

    first = {}
    for name, f in (
        ("ioukit (columns)", ours_columns),
        ("ioukit (CSV)", ours_csv),
        ("official semantics (tests)", reference),
    ):
        first[name], out = timed(f)
        if name == "ioukit (columns)":
            got = out.map
        elif name == "official semantics (tests)":
            want = out[1]
    assert abs(got - want) <= 1e-12, (got, want)
    print(f"mAP {got:.6f} (equal to the reference to 1e-12: |diff| = {abs(got - want):.1e})")
    warm = interleaved(
        {
            "ioukit (columns)": ours_columns,
            "ioukit (CSV)": ours_csv,
            "official semantics (tests)": reference,
        },
        a.repeat,
    )
    base = warm["official semantics (tests)"]
    print(f"{'':28s} {'first (s)':>10s} {'warm (s)':>10s} {'ratio':>8s}")
    for k in warm:
        print(f"{k:28s} {first[k]:10.3f} {warm[k]:10.3f} {base / warm[k]:7.1f}x")


if __name__ == "__main__":
    main()
