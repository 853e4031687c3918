"""Validate a COCO ground-truth file and a results file, listing every problem.

:func:`check` is the library side of ``ioukit check GT.json [DT.json]``. Unlike the
evaluator, which stops at the first bad datum, it walks the whole input and
returns one :class:`Problem` per finding, each naming the object (image,
category, annotation id, or the row of a result) so that a user can fix a file
in one pass.

Severities:

- ``error``: the evaluation would refuse the input or compute a wrong number
  (unknown ids, bad boxes, duplicate ids, missing required fields);
- ``warning``: legal but probably unintended (a category without annotations,
  an image without annotations, a zero-size box, annotation id 0, which
  pycocotools never counts as matched);
- ``info``: worth knowing, never wrong.

Example
-------
>>> gt = {"images": [{"id": 1, "width": 10, "height": 10}],
...       "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
...                        "bbox": [0, 0, 4, -2], "area": 8, "iscrowd": 0}]}
>>> report = check(gt, [{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
>>> for p in report.problems:
...     print(p)
error   annotation 1: bbox [0, 0, 4, -2] has negative height -2
warning category 2 ('dog'): no annotations
error   result #0 (image 7): unknown image_id 7
>>> report.ok
False
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DatasetError, MalformedJSONError

__all__ = ["Problem", "CheckReport", "check", "load_json"]

SEVERITIES = ("error", "warning", "info")

# Fields without which pycocotools' loadRes/COCOeval cannot run (bbox evaluation).
_GT_ANN_REQUIRED = ("id", "image_id", "category_id")
_DT_REQUIRED = ("image_id", "category_id", "score")


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check`.

    Attributes
    ----------
    severity : ``"error"``, ``"warning"`` or ``"info"``.
    code : a short stable slug (``"bad-bbox"``, ``"unknown-image"`` ...) to filter on.
    where : ``"file"``, ``"image"``, ``"category"``, ``"annotation"`` or ``"result"``.
    id : the image / category / annotation id, or for results the row index.
    message : the full sentence, naming the offending value.
    source : ``"gt"`` or ``"dt"``.
    """

    severity: str
    code: str
    where: str
    id: Any
    message: str
    source: str = "gt"

    def __str__(self) -> str:
        return f"{self.severity:<7} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {
            "severity": self.severity,
            "code": self.code,
            "where": self.where,
            "id": self.id,
            "message": self.message,
            "source": self.source,
        }


@dataclass
class CheckReport:
    """Everything :func:`check` found, in file order (GT first, then results)."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """The problems with severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems with severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings are allowed)."""
        return not self.errors

    def by_code(self) -> dict[str, int]:
        """Number of problems per ``code``, most frequent first."""
        return dict(Counter(p.code for p in self.problems).most_common())

    def to_dict(self) -> dict[str, Any]:
        """The whole report as a JSON-ready dict."""
        return {
            "ok": self.ok,
            "counts": dict(self.counts),
            "num_errors": len(self.errors),
            "num_warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
        }


def load_json(
    path: str | os.PathLike[str],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 1 << 22,
) -> Any:
    """Read a JSON file; a syntax error raises :class:`MalformedJSONError`.

    The file is read in chunks so that a caller can show progress
    (``on_progress(bytes_read, total_bytes)``) on large files.

    Raises
    ------
    FileNotFoundError / OSError
        When the file cannot be read (the message names the path).
    MalformedJSONError
        When it is not valid JSON; the message names the file, line and column.

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.json"
    >>> _ = p.write_text('{"images": [1, 2,]}')
    >>> try:
    ...     load_json(p)
    ... except MalformedJSONError as e:
    ...     print(str(e).split(": ", 1)[1])
    not valid JSON at line 1, column 18: Expecting value
    """
    path = Path(path)
    total = path.stat().st_size
    chunks = []
    done = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk_size)
            if not b:
                break
            chunks.append(b)
            done += len(b)
            if on_progress is not None:
                on_progress(done, total)
    data = b"".join(chunks)
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise MalformedJSONError(
            f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except UnicodeDecodeError as e:
        raise MalformedJSONError(
            f"{path}: not valid JSON (not UTF-8 text at byte {e.start})"
        ) from None


def _as_data(x: Any) -> Any:
    if isinstance(x, (str, os.PathLike)):
        return load_json(x)
    return x


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt_box(b: Any) -> str:
    try:
        return "[" + ", ".join(f"{v:g}" if _is_num(v) else repr(v) for v in b) + "]"
    except TypeError:
        return repr(b)


def _bbox_problem(b: Any) -> tuple[str, str, str] | None:
    """(severity, code, detail) for a bad COCO xywh box, else None."""
    if not isinstance(b, (list, tuple)):
        return "error", "bad-bbox", f"bbox {b!r} is not a list of 4 numbers"
    if len(b) != 4:
        return "error", "bad-bbox", f"bbox {_fmt_box(b)} has {len(b)} values, expected 4"
    if not all(_is_num(v) for v in b):
        return "error", "bad-bbox", f"bbox {_fmt_box(b)} holds a non-number"
    if not all(math.isfinite(v) for v in b):
        return "error", "bad-bbox", f"bbox {_fmt_box(b)} is not finite"
    if b[2] < 0:
        return "error", "bad-bbox", f"bbox {_fmt_box(b)} has negative width {b[2]:g}"
    if b[3] < 0:
        return "error", "bad-bbox", f"bbox {_fmt_box(b)} has negative height {b[3]:g}"
    if b[2] == 0 or b[3] == 0:
        return "warning", "empty-bbox", f"bbox {_fmt_box(b)} has zero area"
    return None


def _index(
    items: Sequence[Any], kind: str, out: list[Problem]
) -> tuple[dict[Any, Mapping[str, Any]], int]:
    """Map id -> item, reporting missing and duplicate ids."""
    by_id: dict[Any, Mapping[str, Any]] = {}
    for i, it in enumerate(items):
        if not isinstance(it, Mapping):
            out.append(
                Problem("error", "bad-entry", kind, i, f"{kind} #{i}: not an object: {it!r:.60}")
            )
            continue
        if "id" not in it:
            out.append(Problem("error", "missing-field", kind, i, f"{kind} #{i}: no 'id' field"))
            continue
        key = it["id"]
        if key in by_id:
            out.append(Problem("error", "duplicate-id", kind, key, f"{kind} {key}: duplicate id"))
            continue
        by_id[key] = it
    return by_id, len(items)


def _check_gt(gt: Any, out: list[Problem]) -> tuple[set[Any], set[Any], dict[str, int]]:
    counts: dict[str, int] = {}
    if not isinstance(gt, Mapping):
        out.append(
            Problem(
                "error",
                "bad-schema",
                "file",
                None,
                f"ground truth must be a JSON object with 'images', 'annotations' and "
                f"'categories'; got {type(gt).__name__}",
            )
        )
        return set(), set(), counts
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            out.append(
                Problem("error", "missing-field", "file", key, f"ground truth has no '{key}' list")
            )
        elif not isinstance(gt[key], list):
            out.append(
                Problem(
                    "error",
                    "bad-schema",
                    "file",
                    key,
                    f"ground truth '{key}' must be a list, got {type(gt[key]).__name__}",
                )
            )
    images = gt.get("images") if isinstance(gt.get("images"), list) else []
    cats = gt.get("categories") if isinstance(gt.get("categories"), list) else []
    anns = gt.get("annotations") if isinstance(gt.get("annotations"), list) else []

    img_by_id, counts["images"] = _index(images, "image", out)
    cat_by_id, counts["categories"] = _index(cats, "category", out)
    for cid, c in cat_by_id.items():
        if "name" not in c:
            out.append(
                Problem("warning", "missing-field", "category", cid, f"category {cid}: no 'name'")
            )
    for iid, im in img_by_id.items():
        missing = [k for k in ("width", "height") if k not in im]
        if missing:
            out.append(
                Problem(
                    "warning",
                    "missing-field",
                    "image",
                    iid,
                    f"image {iid}: no {' or '.join(repr(k) for k in missing)} "
                    "(needed for segm and boundary evaluation)",
                )
            )

    counts["annotations"] = len(anns)
    seen_ann: set[Any] = set()
    per_img: Counter[Any] = Counter()
    per_cat: Counter[Any] = Counter()
    crowd = 0
    for i, a in enumerate(anns):
        if not isinstance(a, Mapping):
            out.append(
                Problem("error", "bad-entry", "annotation", i, f"annotation #{i}: not an object")
            )
            continue
        aid = a.get("id", None)
        name = f"annotation {aid}" if "id" in a else f"annotation #{i}"
        ref = aid if "id" in a else i
        missing = [k for k in _GT_ANN_REQUIRED if k not in a]
        if "bbox" not in a and "segmentation" not in a:
            missing.append("bbox")
        if missing:
            out.append(
                Problem(
                    "error",
                    "missing-field",
                    "annotation",
                    ref,
                    f"{name}: missing {', '.join(repr(k) for k in missing)}",
                )
            )
        if "id" in a:
            if aid in seen_ann:
                out.append(
                    Problem("error", "duplicate-id", "annotation", aid, f"{name}: duplicate id")
                )
            seen_ann.add(aid)
            if aid == 0:
                out.append(
                    Problem(
                        "warning",
                        "id-zero",
                        "annotation",
                        aid,
                        f"{name}: id 0 is never counted as matched by pycocotools",
                    )
                )
        if "image_id" in a:
            if a["image_id"] not in img_by_id:
                out.append(
                    Problem(
                        "error",
                        "unknown-image",
                        "annotation",
                        ref,
                        f"{name}: unknown image_id {a['image_id']!r}",
                    )
                )
            else:
                per_img[a["image_id"]] += 1
        if "category_id" in a:
            if a["category_id"] not in cat_by_id:
                out.append(
                    Problem(
                        "error",
                        "unknown-category",
                        "annotation",
                        ref,
                        f"{name}: unknown category_id {a['category_id']!r}",
                    )
                )
            else:
                per_cat[a["category_id"]] += 1
        if "bbox" in a:
            bp = _bbox_problem(a["bbox"])
            if bp:
                out.append(Problem(bp[0], bp[1], "annotation", ref, f"{name}: {bp[2]}"))
            elif a.get("image_id") in img_by_id:
                im = img_by_id[a["image_id"]]
                x, y, w, h = a["bbox"]
                W, H = im.get("width"), im.get("height")
                # One pixel of slack: COCO boxes are float and often end at width + 0.5.
                if (
                    _is_num(W)
                    and _is_num(H)
                    and (x < -1 or y < -1 or x + w > W + 1 or y + h > H + 1)
                ):
                    out.append(
                        Problem(
                            "warning",
                            "bbox-outside",
                            "annotation",
                            ref,
                            f"{name}: bbox {_fmt_box(a['bbox'])} extends outside image "
                            f"{a['image_id']} ({W:g} x {H:g})",
                        )
                    )
        if "area" not in a:
            out.append(
                Problem(
                    "error",
                    "missing-area",
                    "annotation",
                    ref,
                    f"{name}: missing 'area' (area ranges small/medium/large use it)",
                )
            )
        elif not _is_num(a["area"]) or not math.isfinite(a["area"]) or a["area"] < 0:
            out.append(
                Problem("error", "bad-area", "annotation", ref, f"{name}: bad area {a['area']!r}")
            )
        ic = a.get("iscrowd", None)
        if "iscrowd" not in a:
            out.append(
                Problem(
                    "warning",
                    "missing-field",
                    "annotation",
                    ref,
                    f"{name}: no 'iscrowd' (pycocotools needs it; read as 0)",
                )
            )
        elif ic not in (0, 1):
            out.append(
                Problem(
                    "warning",
                    "bad-iscrowd",
                    "annotation",
                    ref,
                    f"{name}: iscrowd {ic!r} is not 0 or 1",
                )
            )
        elif ic == 1:
            crowd += 1
    counts["crowd"] = crowd
    for cid, c in cat_by_id.items():
        if per_cat[cid] == 0:
            label = f" ({c['name']!r})" if "name" in c else ""
            out.append(
                Problem(
                    "warning",
                    "empty-category",
                    "category",
                    cid,
                    f"category {cid}{label}: no annotations",
                )
            )
    for iid in img_by_id:
        if per_img[iid] == 0:
            out.append(
                Problem(
                    "info",
                    "image-without-annotations",
                    "image",
                    iid,
                    f"image {iid}: no annotations",
                )
            )
    return set(img_by_id), set(cat_by_id), counts


def _check_dt(
    dt: Any, img_ids: set[Any], cat_ids: set[Any], have_gt: bool, out: list[Problem]
) -> int:
    def add(sev: str, code: str, row: int, msg: str) -> None:
        out.append(Problem(sev, code, "result", row, msg, source="dt"))

    if isinstance(dt, Mapping) and isinstance(dt.get("annotations"), list):
        dt = dt["annotations"]
    if not isinstance(dt, list):
        out.append(
            Problem(
                "error",
                "bad-schema",
                "file",
                None,
                f"results must be a JSON list of detections; got {type(dt).__name__}",
                source="dt",
            )
        )
        return 0
    seen_ids: set[Any] = set()
    for i, d in enumerate(dt):
        if not isinstance(d, Mapping):
            add("error", "bad-entry", i, f"result #{i}: not an object: {d!r:.60}")
            continue
        name = f"result #{i}" + (f" (image {d['image_id']!r})" if "image_id" in d else "")
        missing = [k for k in _DT_REQUIRED if k not in d]
        if "bbox" not in d and "segmentation" not in d:
            missing.append("bbox")
        if missing:
            add("error", "missing-field", i, f"{name}: missing {', '.join(map(repr, missing))}")
        if have_gt and "image_id" in d and d["image_id"] not in img_ids:
            add("error", "unknown-image", i, f"{name}: unknown image_id {d['image_id']!r}")
        if have_gt and "category_id" in d and d["category_id"] not in cat_ids:
            add("error", "unknown-category", i, f"{name}: unknown category_id {d['category_id']!r}")
        if "bbox" in d:
            bp = _bbox_problem(d["bbox"])
            if bp:
                add(bp[0], bp[1], i, f"{name}: {bp[2]}")
        if "score" in d:
            s = d["score"]
            if not _is_num(s) or not math.isfinite(s):
                add("error", "bad-score", i, f"{name}: score {s!r} is not a finite number")
        if "id" in d:
            if d["id"] in seen_ids:
                add(
                    "warning",
                    "duplicate-id",
                    i,
                    f"{name}: duplicate id {d['id']!r} (loadRes renumbers results anyway)",
                )
            seen_ids.add(d["id"])
    return len(dt)


def check(gt: Any, dt: Any = None) -> CheckReport:
    """Validate a COCO ground truth and, optionally, a results list.

    Parameters
    ----------
    gt : path to a COCO ground-truth JSON file, or the loaded dict
        (``images``, ``annotations``, ``categories``).
    dt : path to a COCO results JSON file, or the loaded list of result dicts
        (``image_id``, ``category_id``, ``bbox`` as xywh or ``segmentation``,
        ``score``); ``None`` checks the ground truth alone.

    Returns
    -------
    CheckReport
        ``problems`` in file order (GT before results) and ``counts`` (images,
        categories, annotations, crowd, results). ``report.ok`` is False when any
        problem is an error.

    Raises
    ------
    OSError, MalformedJSONError
        Only when a file cannot be read or parsed at all; everything else is
        reported as a :class:`Problem`.

    Example
    -------
    >>> gt = {"images": [{"id": 1, "width": 5, "height": 5}, {"id": 2, "width": 5, "height": 5}],
    ...       "categories": [{"id": 1, "name": "a"}],
    ...       "annotations": [
    ...           {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "iscrowd": 0},
    ...           {"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, float("nan")],
    ...            "area": 4, "iscrowd": 0}]}
    >>> [(p.severity, p.code, p.id) for p in check(gt).problems]  # doctest: +NORMALIZE_WHITESPACE
    [('error', 'missing-area', 3), ('error', 'duplicate-id', 3), ('error', 'bad-bbox', 3),
     ('info', 'image-without-annotations', 2)]
    """
    gt = _as_data(gt)
    out: list[Problem] = []
    img_ids, cat_ids, counts = _check_gt(gt, out)
    if dt is not None:
        dt = _as_data(dt)
        have_gt = isinstance(gt, Mapping) and "images" in gt and "categories" in gt
        counts["results"] = _check_dt(dt, img_ids, cat_ids, have_gt, out)
    return CheckReport(problems=out, counts=counts)


def summarize(problems: Iterable[Problem]) -> str:
    """One line: ``"2 errors, 1 warning, 0 notes"``.

    >>> summarize([Problem("error", "x", "file", None, "m")])
    '1 error, 0 warnings, 0 notes'
    """
    c = Counter(p.severity for p in problems)

    def n(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    return f"{n(c['error'], 'error')}, {n(c['warning'], 'warning')}, {n(c['info'], 'note')}"


def raise_if_errors(report: CheckReport) -> None:
    """Raise :class:`DatasetError` naming the first error, if there is one.

    >>> raise_if_errors(CheckReport())
    """
    if report.errors:
        first = report.errors[0]
        more = len(report.errors) - 1
        raise DatasetError(first.message + (f" (and {more} more errors)" if more else ""))
