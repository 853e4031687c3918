"""A progress line on stderr that appears only for work lasting over ~1 s.

Short runs print nothing (no flicker in fast CI logs); the line is off when
stderr is not a terminal or with ``--quiet``. One background thread redraws it
ten times a second, so stages that cannot report progress (a single call into
the evaluator) still show a spinner and the elapsed time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_SPIN = "\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f"


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


class Progress:
    """Stage-by-stage progress on a stream (stderr), shown after ``delay`` seconds.

    >>> import io
    >>> p = Progress(enabled=False)
    >>> with p.stage("evaluating"):
    ...     pass
    >>> p.elapsed("evaluating") >= 0
    True
    """

    def __init__(
        self, *, enabled: bool = True, stream: TextIO | None = None, delay: float = 1.0
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.delay = delay
        self._lock = threading.Lock()
        self._label = ""
        self._done = 0.0
        self._total = 0.0
        self._bytes = False
        self._t0 = 0.0
        self._shown = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.timings: dict[str, float] = {}

    @classmethod
    def for_terminal(cls, quiet: bool, stream: TextIO | None = None) -> Progress:
        """Enabled only when ``stream`` (stderr) is a TTY and not ``quiet``."""
        s = stream if stream is not None else sys.stderr
        tty = bool(getattr(s, "isatty", lambda: False)())
        return cls(enabled=tty and not quiet, stream=s)

    def elapsed(self, label: str) -> float:
        """Seconds the stage ``label`` took (0 if it never ran)."""
        return self.timings.get(label, 0.0)

    def update(self, done: float, total: float, *, as_bytes: bool = False) -> None:
        """Report determinate progress within the current stage."""
        with self._lock:
            self._done, self._total, self._bytes = float(done), float(total), as_bytes

    @contextmanager
    def stage(self, label: str) -> Iterator[Progress]:
        """Time a stage and show its progress line while it runs."""
        with self._lock:
            self._label, self._done, self._total = label, 0.0, 0.0
            self._t0 = time.perf_counter()
        if self.enabled:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        try:
            yield self
        finally:
            self.timings[label] = time.perf_counter() - self._t0
            if self._thread is not None:
                self._stop.set()
                self._thread.join()
                self._thread = None
            if self._shown:
                self.stream.write("\r\033[2K")
                self.stream.flush()
                self._shown = False

    def _line(self, tick: int) -> str:
        with self._lock:
            label, done, total, as_bytes = self._label, self._done, self._total, self._bytes
            dt = time.perf_counter() - self._t0
        if total > 0:
            frac = min(1.0, done / total)
            width = 24
            full = int(frac * width)
            bar = "\u2588" * full + "\u2591" * (width - full)
            amount = (
                f"{_human_bytes(done)}/{_human_bytes(total)}"
                if as_bytes
                else f"{done:,.0f}/{total:,.0f}"
            )
            return f"{label} {bar} {100 * frac:3.0f}% {amount}  {dt:.1f}s"
        return f"{_SPIN[tick % len(_SPIN)]} {label}\u2026 {dt:.1f}s"

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        tick = 0
        while True:
            self.stream.write("\r\033[2K" + self._line(tick))
            self.stream.flush()
            self._shown = True
            tick += 1
            if self._stop.wait(0.1):
                return
