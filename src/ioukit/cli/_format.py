"""Terminal output: rich tables when rich is installed, aligned plain text otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim", "good": "green", "bad": "red"}
# the same palette as ANSI SGR codes, for single lines (see Printer.line)
_SGR = {"error": "1;31", "warning": "33", "info": "2", "dim": "2", "good": "32", "bad": "31"}


class Printer:
    """Writes lines and tables to ``stream`` (stdout).

    rich draws headings and tables when importable and ``IOUKIT_PLAIN`` is unset (it
    honours ``NO_COLOR`` and drops colour when the stream is not a terminal); single
    lines are coloured with plain ANSI codes on a terminal, so a summary-only run never
    imports rich.

    >>> import io
    >>> buf = io.StringIO()
    >>> p = Printer(buf, plain=True)
    >>> p.table(["name", "AP"], [["cat", "0.500"], ["dog", "0.250"]], justify="lr")
    >>> print(buf.getvalue(), end="")
    name     AP
    ----  -----
    cat   0.500
    dog   0.250
    """

    def __init__(self, stream: TextIO | None = None, *, plain: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if plain is None:
            plain = bool(os.environ.get("IOUKIT_PLAIN"))
        self._plain = plain
        self._console: Any = None
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    @property
    def console(self) -> Any:
        """The rich console, made on first use (importing rich costs ~30 ms of a first
        run: the COCO summary and plain lines never need it); None when plain."""
        if self._console is None and not self._plain:
            try:
                from rich.console import Console
            except ImportError:
                self._plain = True
            else:
                self._console = Console(
                    file=self.stream, highlight=False, width=None if self._tty else 110
                )
        return self._console

    def line(self, text: str = "", style: str | None = None) -> None:
        """One line of text; ``style`` is a key of the palette (coloured on a terminal)."""
        sgr = _SGR.get(style or "") if self._tty and not self._plain else None
        if sgr and not os.environ.get("NO_COLOR"):
            # the palette's few styles as plain ANSI codes: no rich import for a line
            self.stream.write(f"\x1b[{sgr}m{text}\x1b[0m\n")
        else:
            self.stream.write(text + "\n")

    def raw(self, text: str) -> None:
        """Text written as is (the COCO summary stays byte-identical to pycocotools)."""
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()

    def heading(self, text: str) -> None:
        """A section title."""
        if self.console is not None:
            self.console.print()
            self.console.rule(f"[bold]{text}", align="left")
        else:
            self.stream.write(f"\n{text}\n{'=' * len(text)}\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        justify: str | None = None,
        styles: Sequence[str | None] | None = None,
        title: str | None = None,
    ) -> None:
        """A table of pre-formatted cells; ``justify`` is one letter (l/r) per column.

        ``styles`` gives an optional style per row (e.g. "good"/"bad").
        """
        just = justify or ("l" + "r" * (len(columns) - 1))
        if self.console is not None:
            from rich import box
            from rich.table import Table

            t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
            for c, j in zip(columns, just):
                t.add_column(c, justify="right" if j == "r" else "left", no_wrap=True)
            for i, r in enumerate(rows):
                st = styles[i] if styles else None
                t.add_row(*r, style=_STYLE.get(st, st) if st else None)
            self.console.print(t)
            return
        if title:
            self.stream.write(title + "\n")
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

        def fmt(cells: Sequence[str]) -> str:
            out = [s.rjust(w) if j == "r" else s.ljust(w) for s, w, j in zip(cells, widths, just)]
            return "  ".join(out).rstrip()

        self.stream.write(fmt(columns) + "\n")
        self.stream.write("  ".join("-" * w for w in widths) + "\n")
        for r in rows:
            self.stream.write(fmt(r) + "\n")


def num(v: Any, nd: int = 3) -> str:
    """A metric for display: -1 / NaN / None (COCO's "no ground truth") as "-".

    >>> num(0.51234), num(-1.0), num(None)
    ('0.512', '-', '-')
    """
    if v is None:
        return "-"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f or f < 0:
        return "-"
    return f"{f:.{nd}f}"


def delta(v: float, nd: int = 3) -> str:
    """A signed difference, blank-safe.

    >>> delta(0.0123), delta(-0.5), delta(float("nan"))
    ('+0.012', '-0.500', '-')
    """
    if v != v:
        return "-"
    return f"{v:+.{nd}f}"
