"""Run a few callables at once on plain threads (the loaders' GT/results overlap).

``concurrent.futures`` would do, but importing it pulls in ``logging`` and friends
(~10 ms of a fresh process's first ``ioukit eval``); these call sites need only
"run these, give me the results or the first error".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_concurrently"]


def run_concurrently(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Call each of ``calls``; the first runs on this thread, the others on new threads.

    Returns their results in order; if any raised, re-raises the first (in order)
    after all have finished.

    >>> run_concurrently([lambda: 1, lambda: 2, lambda: 3])
    [1, 2, 3]
    >>> run_concurrently([lambda: 1, lambda: 1 / 0])
    Traceback (most recent call last):
    ZeroDivisionError: division by zero
    """
    n = len(calls)
    results: list[Any] = [None] * n
    errors: list[BaseException | None] = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as e:  # handed to the caller below
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, n)]
    for t in threads:
        t.start()
    if n:
        run(0)
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results
