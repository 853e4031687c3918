"""Every command-line option, registered in one place.

:func:`build_parser` builds the whole ``ioukit`` parser. Options shared by
``eval`` and ``compare`` (evaluation parameters, execution options, output)
are added by the ``add_*_options`` functions below, so a new option (for
instance a scheduler for distributed evaluation) is one ``add_argument`` call
in :func:`add_execution_options` plus its use in :func:`execution_kwargs`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..distributed import add_cli_options
from ..errors import InvalidParameterError

__all__ = [
    "build_parser",
    "parse_iou_thrs",
    "parse_max_dets",
    "parse_area_rng",
    "eval_params",
    "execution_kwargs",
    "check_scheduler_address",
]

IOU_TYPES = ("bbox", "segm", "boundary")

# pycocotools' "infinite" upper area bound.
AREA_INF = 1e5**2
#: Limits on option values (docs/cli.md "Limits"): the evaluation's arrays grow with
#: their product, and more thresholds than this are never meant.
MAX_IOU_THRS = 1000
MAX_DETS_VALUE = 2**31 - 1
MAX_LIST_ITEMS = 100


def parse_iou_thrs(text: str) -> np.ndarray:
    """``"0.5:0.95:0.05"`` (start:stop:step, inclusive) or ``"0.5,0.75"``.

    A range is built with ``np.linspace`` exactly as pycocotools builds its
    default thresholds, so ``0.5:0.95:0.05`` gives the bit-identical array.

    >>> parse_iou_thrs("0.5:0.95:0.05").tolist() == np.linspace(
    ...     .5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True).tolist()
    True
    >>> parse_iou_thrs("0.5, 0.75").tolist()
    [0.5, 0.75]
    """
    text = text.strip()
    try:
        if ":" in text:
            parts = [float(x) for x in text.split(":")]
            if len(parts) != 3 or not all(map(math.isfinite, parts)):
                raise ValueError
            if parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            lo, hi, step = parts
            # the count first: a tiny step must not allocate before it is refused
            count = np.round((hi - lo) / step) + 1
            if not count <= MAX_IOU_THRS:
                raise InvalidParameterError(
                    f"--iou-thrs {text!r}: gives {_count(count)} thresholds; at most "
                    f"{MAX_IOU_THRS} are allowed (use a larger step)"
                )
            out = np.linspace(lo, hi, int(count), endpoint=True)
        else:
            items = [x for x in text.split(",") if x.strip()]
            if len(items) > MAX_IOU_THRS:
                raise InvalidParameterError(
                    f"--iou-thrs: {len(items)} thresholds; at most {MAX_IOU_THRS} are allowed"
                )
            out = np.array([float(x) for x in items], dtype=np.float64)
    except ValueError as e:
        if isinstance(e, InvalidParameterError):
            raise
        raise InvalidParameterError(
            f"--iou-thrs {text!r}: expected start:stop:step (e.g. 0.5:0.95:0.05) "
            "or a comma list (e.g. 0.5,0.75)"
        ) from None
    if out.size == 0 or not np.all((out >= 0) & (out <= 1)):
        raise InvalidParameterError(f"--iou-thrs {text!r}: thresholds must lie in [0, 1]")
    return out


def _count(x: float) -> str:
    return f"{x:.3g}" if x >= 1e6 else f"{int(x):,}"


def _shown(text: str) -> str:
    """An option value as a message quotes it (long values shortened)."""
    return repr(text) if len(text) <= 60 else repr(text[:40] + "..." + text[-10:])


def parse_max_dets(text: str) -> list[int]:
    """``"1,10,100"`` -> ``[1, 10, 100]`` (positive integers).

    >>> parse_max_dets("1,10,100")
    [1, 10, 100]
    """
    items = [x.strip() for x in text.split(",") if x.strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidParameterError(
            f"--max-dets: {len(items)} values; at most {MAX_LIST_ITEMS} are allowed"
        )
    try:
        # 4300 digits is Python's own limit on int(str): nothing near it is a count
        out = [int(x) if len(x) <= 20 else MAX_DETS_VALUE + 1 for x in items]
    except ValueError:
        raise InvalidParameterError(
            f"--max-dets {_shown(text)}: expected comma-separated integers, e.g. 1,10,100"
        ) from None
    if not out or min(out) <= 0:
        raise InvalidParameterError(f"--max-dets {_shown(text)}: values must be positive integers")
    if max(out) > MAX_DETS_VALUE:
        raise InvalidParameterError(
            f"--max-dets {_shown(text)}: values must be at most {MAX_DETS_VALUE} (2**31 - 1)"
        )
    return out


def _area_value(s: str, text: str) -> float:
    s = s.strip().lower()
    if s in ("inf", "max", ""):
        return AREA_INF
    try:
        if "**" in s:  # 32**2, as the COCO docs write the size limits
            b, e = s.split("**")
            base, exp = float(b), float(e)
            if base < 0:  # -2**0.5 would be a complex number
                raise InvalidParameterError(
                    f"--area-rng {_shown(text)}: {s!r} must be >= 0 (a power of a "
                    "non-negative number)"
                )
            v = base**exp
        else:
            v = float(s)
    except OverflowError:
        raise InvalidParameterError(
            f"--area-rng {_shown(text)}: {s!r} is too large (areas are float64, at most ~1e308)"
        ) from None
    except ValueError as e:
        if isinstance(e, InvalidParameterError):
            raise
        raise InvalidParameterError(f"--area-rng {_shown(text)}: {s!r} is not a number") from None
    if not isinstance(v, float) or not math.isfinite(v) or v < 0:
        raise InvalidParameterError(
            f"--area-rng {_shown(text)}: {s!r} must be a finite number >= 0"
        )
    return v


def parse_area_rng(text: str) -> tuple[list[list[float]], list[str]]:
    """``"all=0:inf,small=0:32**2,medium=32**2:96**2,large=96**2:inf"`` -> (areaRng, labels).

    ``inf`` stands for pycocotools' upper bound 1e5**2.

    >>> parse_area_rng("all=0:inf,small=0:32**2")
    ([[0.0, 10000000000.0], [0.0, 1024.0]], ['all', 'small'])
    """
    rngs, labels = [], []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        if "=" not in item or ":" not in item:
            raise InvalidParameterError(
                f"--area-rng {text!r}: each range is name=lo:hi, e.g. small=0:32**2"
            )
        name, rng = item.split("=", 1)
        lo, hi = rng.split(":", 1)
        if len(rngs) >= MAX_LIST_ITEMS:
            raise InvalidParameterError(
                f"--area-rng: more than {MAX_LIST_ITEMS} ranges are not allowed"
            )
        a, b = _area_value(lo, text), _area_value(hi, text)
        if b < a:
            raise InvalidParameterError(f"--area-rng {text!r}: {name} has hi < lo")
        rngs.append([a, b])
        labels.append(name.strip())
    if not rngs:
        raise InvalidParameterError(f"--area-rng {text!r}: no ranges given")
    return rngs, labels


def add_eval_options(p: argparse.ArgumentParser) -> None:
    """The evaluation parameters (pycocotools' ``Params``)."""
    g = p.add_argument_group("evaluation parameters")
    g.add_argument(
        "--iou-type",
        choices=IOU_TYPES,
        default="bbox",
        help="what to overlap: boxes, masks, or mask boundaries (default: bbox)",
    )
    g.add_argument(
        "--max-dets",
        metavar="N,N,N",
        help="detections kept per image and category (default: 1,10,100)",
    )
    g.add_argument(
        "--iou-thrs",
        metavar="SPEC",
        help="IoU thresholds, start:stop:step or a list (default: 0.5:0.95:0.05)",
    )
    g.add_argument(
        "--area-rng",
        metavar="SPEC",
        help="area ranges name=lo:hi,... (default: all=0:inf,small=0:32**2,"
        "medium=32**2:96**2,large=96**2:inf)",
    )
    g.add_argument(
        "--slice-by",
        metavar="ATTR",
        help="also one row per slice: size, aspect, density, or an image / annotation "
        "field, with bin edges as ATTR:e1,e2,... (docs/slices.md)",
    )


def add_protocol_options(p: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """``--protocol`` and the option group of the protocol ``argv`` names.

    Only the named protocol's module is imported and its options added (every
    ``ioukit eval`` builds this parser); with ``-h`` / ``--help`` in ``argv``, or without
    ``argv``, every protocol's group is added, so that the help lists them all.
    """
    from ._protocols import PROTOCOLS, protocol_module

    p.add_argument(
        "--protocol",
        choices=tuple(PROTOCOLS),
        default="coco",
        help="coco (default), or: "
        + "; ".join(f"{name}: {text}" for name, (_, text) in PROTOCOLS.items() if name != "coco"),
    )
    # the spelling of the panoptic protocol, kept as an alias
    p.add_argument(
        "--panoptic",
        dest="protocol",
        action="store_const",
        const="panoptic",
        help="the same as --protocol panoptic",
    )
    for name in _protocols_named(argv, PROTOCOLS):
        module = protocol_module(name)
        if module is not None:
            module.add_options(p)


def _protocols_named(argv: Sequence[str] | None, known: Any) -> list[str]:
    """The protocols whose options ``argv`` may use (all of them for help).

    >>> _protocols_named(["eval", "--protocol", "voc", "a", "b"], {"coco": 0, "voc": 0})
    ['voc']
    >>> _protocols_named(["eval", "--protocol=voc"], {"coco": 0, "voc": 0})
    ['voc']
    >>> _protocols_named(["eval", "gt.json", "dt.json"], {"coco": 0, "voc": 0})
    []
    >>> _protocols_named(["eval", "--help"], {"coco": 0, "voc": 0})
    ['coco', 'voc']
    """
    if argv is None or "-h" in argv or "--help" in argv:
        return list(known)
    names = []
    for i, a in enumerate(argv):
        if a == "--panoptic":
            names.append("panoptic")
        elif a == "--protocol" and i + 1 < len(argv):
            names.append(argv[i + 1])
        elif a.startswith("--protocol="):
            names.append(a.split("=", 1)[1])
    return [n for n in names if n in known]


def add_execution_options(p: argparse.ArgumentParser) -> None:
    """How the work runs (where distributed-evaluation options belong)."""
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line on stderr (it is also off when stderr is not a terminal)",
    )
    # --scheduler / --workers / --partitions: sharded evaluation on Dask
    add_cli_options(p)


def eval_params(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ioukit.coco.evaluate`` keyword arguments the options ask for.

    >>> ns = argparse.Namespace(max_dets="1,5", iou_thrs=None, area_rng=None)
    >>> eval_params(ns)
    {'maxDets': [1, 5]}
    """
    out: dict[str, Any] = {}
    if getattr(args, "max_dets", None):
        out["maxDets"] = parse_max_dets(args.max_dets)
    if getattr(args, "iou_thrs", None):
        out["iouThrs"] = parse_iou_thrs(args.iou_thrs)
    if getattr(args, "area_rng", None):
        out["areaRng"], out["areaRngLbl"] = parse_area_rng(args.area_rng)
    return out


def check_scheduler_address(address: str) -> str:
    """``--scheduler``: ``[tcp|tls|ws|wss|ucx]://host:port`` or ``host:port`` (port 1-65535),
    or an ``inproc://`` address; anything else is a usage error before Dask sees it.

    >>> check_scheduler_address("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> try:
    ...     check_scheduler_address("nonsense")
    ... except InvalidParameterError as e:
    ...     print(str(e).split(":")[0])
    --scheduler 'nonsense'
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme == "inproc" and rest:
        return address
    host, colon, port = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # IPv6
    ok = (
        scheme in ("tcp", "tls", "ws", "wss", "ucx")
        and colon
        and host
        and not any(c.isspace() or c == "/" for c in host)
        and port.isdigit()
        and len(port) <= 5
        and 0 < int(port) < 65536
    )
    if not ok:
        raise InvalidParameterError(
            f"--scheduler {_shown(address)}: expected an address host:port or "
            "tcp://host:port (e.g. tcp://127.0.0.1:8786)"
        )
    return address


def execution_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for the execution back end (none yet beyond the defaults).

    >>> execution_kwargs(argparse.Namespace(quiet=True))
    {}
    """
    if getattr(args, "scheduler", None):
        check_scheduler_address(args.scheduler)
    return {}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Wraps descriptions to the terminal; keeps multi-line texts (the epilog) as written.

    The width is read here with ``os.get_terminal_size`` rather than argparse's
    ``shutil.get_terminal_size``: argparse builds a formatter for every
    ``add_argument``, and ``shutil`` would cost every ``ioukit eval`` ~3 ms to import.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=_terminal_columns() - 2)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:  # the epilog's example lines
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, min(width, 78), indent)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _add_eval(sub: Any, argv: Sequence[str] | None = None) -> None:
    pe = sub.add_parser(
        "eval",
        help="evaluate detections against ground truth (COCO AP/AR)",
        description="Evaluate a COCO results file against a COCO ground-truth file and print "
        "the 12-line summary, identical to pycocotools. Without files, run on a "
        "built-in synthetic sample.",
        formatter_class=_Formatter,
    )
    pe.add_argument("gt", nargs="?", metavar="GT.json", help="COCO ground truth")
    pe.add_argument("dt", nargs="?", metavar="DT.json", help="COCO results (detections)")
    add_eval_options(pe)
    out = pe.add_argument_group("output")
    out.add_argument("--per-class", action="store_true", help="also print the per-category table")
    out.add_argument(
        "--json", metavar="OUT.json", help="write all results as JSON ('-' for stdout)"
    )
    out.add_argument("--report", metavar="OUT.html", help="write a self-contained HTML report")
    add_protocol_options(pe, argv)
    add_execution_options(pe)


def _add_check(sub: Any, argv: Sequence[str] | None = None) -> None:
    pc = sub.add_parser(
        "check",
        help="validate a dataset and a results file, listing every problem",
        description="Check a COCO ground-truth file (and optionally a results file) and list "
        "every problem with the id of the object at fault. Exit status 1 when any "
        "problem is an error.",
        formatter_class=_Formatter,
    )
    pc.add_argument("gt", metavar="GT.json")
    pc.add_argument("dt", nargs="?", metavar="DT.json")
    pc.add_argument(
        "--iou-type",
        choices=IOU_TYPES,
        default="bbox",
        help="check for this evaluation, as eval's --iou-type: segm and boundary read "
        "every segmentation (default: bbox)",
    )
    pc.add_argument("--json", metavar="OUT.json", help="write the problems as JSON ('-': stdout)")
    pc.add_argument(
        "--errors-only", action="store_true", help="list only errors (counts still cover all)"
    )
    add_execution_options(pc)


def _add_compare(sub: Any, argv: Sequence[str] | None = None) -> None:
    pm = sub.add_parser(
        "compare",
        help="compare two results files on the same ground truth",
        description="Evaluate two results files on the same ground truth and show the summary "
        "side by side with deltas, the per-category AP deltas, and the categories "
        "where the models differ most.",
        formatter_class=_Formatter,
    )
    pm.add_argument("gt", metavar="GT.json")
    pm.add_argument("a", metavar="A.json", help="results of model A (the baseline)")
    pm.add_argument("b", metavar="B.json", help="results of model B")
    add_eval_options(pm)
    mo = pm.add_argument_group("output")
    mo.add_argument("--names", metavar="A,B", help="labels for the two models")
    mo.add_argument(
        "--top", type=int, default=5, metavar="N", help="categories listed each way (default 5)"
    )
    mo.add_argument(
        "--per-class", action="store_true", help="list every category's AP delta, sorted"
    )
    mo.add_argument("--json", metavar="OUT.json", help="write the comparison as JSON ('-': stdout)")
    add_execution_options(pm)


def _add_track_eval(sub: Any, argv: Sequence[str] | None = None) -> None:
    from ._track import add_options

    pt = sub.add_parser(
        "track-eval",
        help="MOT tracking metrics (HOTA, CLEAR, Identity) of MOTChallenge files",
        description="Evaluate a tracker's MOTChallenge output against ground truth, one "
        "folder per sequence, and print HOTA, CLEAR and Identity metrics identical to "
        "TrackEval (docs/tracking.md).",
        formatter_class=_Formatter,
    )
    add_options(pt)


def _add_tide(sub: Any, argv: Sequence[str] | None = None) -> None:
    from ._tide import add_options

    pt = sub.add_parser(
        "tide",
        help="TIDE error analysis (Cls, Loc, Both, Dupe, Bkg, Miss) of one or two models",
        description="Break the AP a detector misses down into TIDE's error types, with "
        "tidecv's definitions (docs/tide.md); a second results file is shown side by side.",
        formatter_class=_Formatter,
    )
    add_options(pt)


#: sub-command -> the function adding its sub-parser (one entry per command)
COMMAND_PARSERS: dict[str, Any] = {
    "eval": _add_eval,
    "check": _add_check,
    "compare": _add_compare,
    "track-eval": _add_track_eval,
    "tide": _add_tide,
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``ioukit`` argument parser with its sub-commands.

    Given the arguments, only the sub-parser of the command they name is built (when
    the first argument is a command): every ``ioukit eval`` builds this parser, and
    argparse's per-parser set-up is most of the CLI's own start-up cost.

    >>> sorted(build_parser(["check", "gt.json"])._subparsers._group_actions[0].choices)
    ['check']
    >>> len(build_parser()._subparsers._group_actions[0].choices) >= 3
    True
    """
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="ioukit",
        description="COCO-style evaluation, dataset checks and model comparison.",
        epilog=(
            "examples:\n"
            "  ioukit eval                          # the built-in sample\n"
            "  ioukit eval gt.json dets.json --per-class --report report.html\n"
            "  ioukit check gt.json dets.json\n"
            "  ioukit compare gt.json a.json b.json"
        ),
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"ioukit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    first = argv[0] if argv else None
    for name, add in COMMAND_PARSERS.items():
        if first not in COMMAND_PARSERS or name == first:
            add(sub, argv)
    return parser
