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
from typing import Any

from ..errors import IoukitError
from ._args import build_parser
from ._commands import UsageError, cmd_check, cmd_compare, cmd_eval
from ._format import Printer

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _cmd_track_eval(args: Any, pr: Printer, argv: Sequence[str]) -> int:
    from ._track import cmd_track_eval  # loaded only for this command

    return cmd_track_eval(args, pr, argv)


_COMMANDS = {
    "eval": cmd_eval,
    "check": cmd_check,
    "compare": cmd_compare,
    "track-eval": _cmd_track_eval,
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ioukit`` command line; returns the exit status.

    Parameters
    ----------
    argv : the arguments after the program name (``sys.argv[1:]`` when None).

    Example
    -------
    >>> main(["check", "/nonexistent/gt.json"])
    2
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:  # --help, --version, usage errors
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return _COMMANDS[args.command](args, Printer(), args_list)
    except (IoukitError, OSError):
        if os.environ.get("IOUKIT_DEBUG"):  # developers: the full traceback
            raise
        return _report_error(args.command, sys.exc_info()[1])
    except KeyboardInterrupt:
        sys.stderr.write("ioukit: interrupted\n")
        return EXIT_INTERRUPTED


def _report_error(command: str, e: BaseException | None) -> int:
    """One line on stderr for bad input; the exit status for it."""
    if isinstance(e, UsageError):
        sys.stderr.write(f"ioukit {command}: error: {_one_line(str(e))}\n")
    elif isinstance(e, OSError):
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        reason = e.strerror or str(e)
        sys.stderr.write(f"ioukit: error: {_one_line(where + reason)}\n")
    else:
        sys.stderr.write(f"ioukit: error: {_one_line(str(e))}\n")
    return EXIT_BAD_INPUT
