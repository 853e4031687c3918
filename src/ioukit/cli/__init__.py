"""The ``ioukit`` command line: ``eval``, ``check`` and ``compare``.

``ioukit eval`` is the main job: the 12-line COCO summary of a results file,
identical to pycocotools, with an optional per-category table, JSON for CI
pipelines and a self-contained HTML report. Without files it runs on a
built-in synthetic sample. See docs/cli.md.

Exit status: 0 on success; 1 when ``check`` finds errors; 2 for bad usage or
bad input (missing file, malformed JSON, wrong schema), with a one-line reason
on stderr and no traceback; 130 when interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ioukit`` command line; returns the exit status.

    This module imports nothing else at import time: the console script imports it
    before calling ``main``, and Ctrl-C during the imports that follow (NumPy's take
    0.1 s) must end in one line, not a traceback.

    Parameters
    ----------
    argv : the arguments after the program name (``sys.argv[1:]`` when None).

    Example
    -------
    >>> main(["check", "/nonexistent/gt.json"])
    2
    """
    # The command does no linear algebra; NumPy's OpenBLAS would otherwise start a
    # thread per core while NumPy imports (~10 ms of every run on a 2-core machine).
    # A value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        from ._main import run

        return run(argv)
    except KeyboardInterrupt:
        sys.stderr.write("ioukit: interrupted\n")
        return EXIT_INTERRUPTED
