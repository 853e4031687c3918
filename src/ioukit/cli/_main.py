"""The ``ioukit`` command line's body: parsing, dispatch, one-line errors.

``ioukit.cli.main`` imports this module inside its interrupt handler.
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

__all__ = ["run"]

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _cmd_track_eval(args: Any, pr: Printer, argv: Sequence[str]) -> int:
    from ._track import cmd_track_eval  # loaded only for this command

    return cmd_track_eval(args, pr, argv)


def _cmd_tide(args: Any, pr: Printer, argv: Sequence[str]) -> int:
    from ._tide import cmd_tide  # loaded only for this command

    return cmd_tide(args, pr, argv)


_COMMANDS = {
    "eval": cmd_eval,
    "check": cmd_check,
    "compare": cmd_compare,
    "track-eval": _cmd_track_eval,
    "tide": _cmd_tide,
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the command (see :func:`ioukit.cli.main`).

    >>> run(["check", "/nonexistent/gt.json"])
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
    except (RecursionError, MemoryError) as e:  # input too deep or too large for us
        if os.environ.get("IOUKIT_DEBUG"):
            raise
        what = "nested too deeply" if isinstance(e, RecursionError) else "too large"
        sys.stderr.write(f"ioukit: error: the input is {what} to process ({type(e).__name__})\n")
        return EXIT_BAD_INPUT
    except Exception as e:  # noqa: BLE001 - last resort: no traceback reaches a user
        if os.environ.get("IOUKIT_DEBUG"):
            raise
        sys.stderr.write(
            f"ioukit: error: {_one_line(f'{type(e).__name__}: {e}')[:300]} "
            "(unexpected; IOUKIT_DEBUG=1 shows the traceback, please report it)\n"
        )
        return EXIT_BAD_INPUT


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
