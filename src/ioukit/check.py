"""Validate a COCO ground-truth file and a results file, listing every problem.

:func:`check` is the library side of ``ioukit check GT.json [DT.json]``. Unlike the
evaluator, which stops at the first bad datum, it walks the whole input and
returns one :class:`Problem` per finding, each naming the object (image,
category, annotation id, or the row of a result) so that a user can fix a file
in one pass.

The rules are the loader's own (:mod:`ioukit.coco._rules`, the same functions and
the same messages as ``ioukit.coco.load_gt`` / ``load_dt`` raise, without the file
name): what the loader refuses, ``check`` reports as an error. A few rules only
``check`` reports (a negative area, which pycocotools accepts; the warnings).

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
error   annotation id 1 (entry 0) has a negative height -2: bbox [0, 0, 4, -2]
warning category id 2 ('dog') has no annotations
error   result 0 (image id 7) refers to image id 7, which is not in the GT images
>>> report.ok
False
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .coco import _rules as R
from .errors import DatasetError, MalformedJSONError

__all__ = ["Problem", "CheckReport", "check", "load_json"]

SEVERITIES = ("error", "warning", "info")


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
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            # The evaluation's scanner reads only the strings it needs: invalid UTF-8
            # elsewhere (an ignored key) is no error there. Keep the bytes as lone
            # surrogates; a string the evaluation reads is checked for them.
            return json.loads(data.decode(json.detect_encoding(data), "surrogateescape"))
        except RecursionError:
            return _load_deep(data, path)
    except json.JSONDecodeError as e:
        raise MalformedJSONError(
            f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except UnicodeDecodeError as e:
        raise MalformedJSONError(
            f"{path}: not valid JSON (not UTF-8 text at byte {e.start})"
        ) from None


#: Values nested deeper than this are validated but not built by :func:`_load_deep`
#: (COCO's own fields are at most 6 deep; the evaluation never reads deeper ones).
_KEEP_DEPTH = 64


def _load_deep(data: bytes, path: Any) -> Any:
    """``json.loads`` of a document nested too deeply for Python's recursion, as the
    evaluation reads it: the byte scanner validates the whole document (any depth up
    to 2**20), and values nested deeper than ``_KEEP_DEPTH`` become ``null``."""
    import re

    from .io import _jsonscan

    body = data[3:] if data[:3] == b"\xef\xbb\xbf" else data
    try:  # the document as the value of a key the scanner skips (and so validates)
        _jsonscan.scan_records(b'{"doc": ' + body + b"}", ("none",), {})
    except _jsonscan.ScanFallback as e:
        if e.reason.startswith("nesting"):
            raise MalformedJSONError(
                f"{path}: JSON nested too deeply (more than 2**20 levels)"
            ) from None
        if e.reason in ("not valid JSON", "extra data after the JSON value"):
            raise MalformedJSONError(f"{path}: {e.reason}") from None
    parts, depth, start, last = [], 0, -1, 0
    for m in re.finditer(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', data):
        c = m.group()[:1]
        if c in b"[{":
            depth += 1
            if depth == _KEEP_DEPTH + 1:
                start = m.start()
        elif c in b"]}":
            if depth == _KEEP_DEPTH + 1:
                parts += [data[last:start], b"null"]
                last = m.end()
            depth -= 1
    parts.append(data[last:])
    return json.loads(b"".join(parts))


def _as_data(x: Any) -> Any:
    if isinstance(x, (str, os.PathLike)):
        return load_json(x)
    return x


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Found:
    """Problems with a sort key (GT before results; within a file: images, categories,
    annotations, then summaries; within a section: entry order, then rule order)."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple, Problem]] = []

    def add(self, key: tuple, p: Problem) -> None:
        self._items.append((key + (len(self._items),), p))

    def findings(
        self,
        findings: list[R.Finding],
        where: str,
        source: str,
        section: tuple,
        entry: np.ndarray,
        ref: Callable[[int], Any],
    ) -> None:
        """Every row of every finding (``entry[row]`` is the row's position in the file)."""
        for f in findings:
            for row in f.rows.tolist():
                self.add(
                    section + (int(entry[row]),),
                    Problem(f.severity, f.code, where, ref(row), f.message(row), source),
                )

    def sorted(self) -> list[Problem]:
        return [p for _, p in sorted(self._items, key=lambda kp: kp[0])]


class _Column:
    """One field of a list of objects, for the rows where it has the right type."""

    def __init__(self) -> None:
        self.rows: list[int] = []  # entry of each value
        self.values: list[Any] = []

    def add(self, entry: int, value: Any) -> None:
        self.rows.append(entry)
        self.values.append(value)

    def array(self, dtype: Any) -> np.ndarray:
        return np.array(self.values, dtype=dtype)

    @property
    def entries(self) -> np.ndarray:
        return np.array(self.rows, dtype=np.int64)


def _file_problem(out: _Found, code: str, ref: Any, msg: str, source: str) -> None:
    out.add((0, 0, 0), Problem("error", code, "file", ref, msg, source))


def _index(
    items: list[Any], kind: str, out: _Found, section: tuple, extra: Callable[..., None]
) -> tuple[np.ndarray, np.ndarray]:
    """Ids (int64) and entries of the ``images`` / ``categories`` with an integer id;
    duplicates reported by the loader's rule. ``extra(entry, item, add)`` checks more."""
    ids = _Column()
    for i, it in enumerate(items):

        def add(sev: str, code: str, msg: str, i: int = i, ref: Any = None) -> None:
            out.add(section + (i,), Problem(sev, code, kind, i if ref is None else ref, msg))

        if not isinstance(it, Mapping):
            add("error", "bad-entry", f"{kind} entry {i} is not an object: {it!r:.60}")
            continue
        if "id" not in it:
            add("error", "missing-field", f"{kind} entry {i} has no 'id'")
            continue
        if not _is_int(it["id"]):
            add("error", "bad-field", f"{kind} entry {i}: 'id' {it['id']!r} is not an integer")
            continue
        if not R.id_in_range(it["id"]):
            add("error", "bad-id", f"{kind} entry {i} {R.id_out_of_range('id', it['id'])}")
            continue
        ids.add(i, it["id"])
        extra(i, it, lambda sev, code, msg, i=i, ref=it["id"]: add(sev, code, msg, i, ref))
    arr, entries = ids.array(np.int64), ids.entries
    dup = R.duplicate_id_rule(arr, kind, entries=entries)
    out.findings([dup], kind, "gt", section, entries, lambda r: int(arr[r]))
    return arr, entries


def _check_image(i: int, im: Mapping[str, Any], add: Callable[..., None]) -> None:
    missing = [k for k in ("width", "height") if k not in im]
    if missing:
        add(
            "warning",
            "missing-field",
            f"image id {im['id']} (entry {i}) has no {' or '.join(repr(k) for k in missing)} "
            "(needed for segm and boundary evaluation)",
        )
    bad = [k for k in ("width", "height") if k in im and not _is_num(im[k])]
    if bad:
        add("error", "bad-field", f"image id {im['id']} (entry {i}): {bad[0]!r} is not a number")


def _check_category(i: int, c: Mapping[str, Any], add: Callable[..., None]) -> None:
    if "name" not in c:
        add("warning", "missing-field", f"category id {c['id']} (entry {i}) has no 'name'")
    elif not isinstance(c["name"], str):
        add("error", "bad-field", f"category id {c['id']} (entry {i}): 'name' is not a string")
    elif not _is_text(c["name"]):
        add("error", "bad-field", f"category id {c['id']} (entry {i}): 'name' is not UTF-8 text")


def _is_text(v: str) -> bool:
    """False for a string holding bytes that were not UTF-8 (see :func:`load_json`)."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bbox_shape_problem(b: Any) -> str | None:
    """Why a bbox value is not a list of numbers (the loader's schema), else None."""
    if not isinstance(b, (list, tuple)):
        return f"has a bbox {b!r:.60} that is not a list of numbers"
    if not all(_is_num(v) for v in b):
        return f"has a bbox {R.fmt_values(b)} holding a non-number"
    return None


def _check_gt(gt: Any, out: _Found, needs_segm: bool = False) -> tuple:
    counts: dict[str, int] = {}
    none = np.zeros(0, np.int64)
    if not isinstance(gt, Mapping):
        _file_problem(
            out,
            "bad-schema",
            None,
            "ground truth must be a JSON object with 'images', 'annotations' and "
            f"'categories'; got {type(gt).__name__}",
            "gt",
        )
        return none, none, counts, None
    for key in ("images", "annotations", "categories"):
        if key not in gt and key == "annotations":  # legal: a GT without objects
            out.add(
                (0, 0, 0),
                Problem("warning", "missing-field", "file", key, "ground truth has no "
                        "'annotations' list (no objects: every image is empty)", "gt"),
            )  # fmt: skip
        elif key not in gt:
            _file_problem(out, "missing-field", key, f"ground truth has no '{key}' list", "gt")
        elif not isinstance(gt[key], list):
            _file_problem(
                out,
                "bad-schema",
                key,
                f"ground truth '{key}' must be a list, got {type(gt[key]).__name__}",
                "gt",
            )
    images = gt.get("images") if isinstance(gt.get("images"), list) else []
    cats = gt.get("categories") if isinstance(gt.get("categories"), list) else []
    anns = gt.get("annotations") if isinstance(gt.get("annotations"), list) else []

    img_ids, img_entries = _index(images, "image", out, (0, 1), _check_image)
    cat_ids, cat_entries = _index(cats, "category", out, (0, 2), _check_category)
    counts["images"], counts["categories"] = len(images), len(cats)
    counts["annotations"] = len(anns)
    counts["crowd"] = _check_annotations(
        anns, img_ids, img_entries, images, cat_ids, out, needs_segm
    )
    _summaries(anns, img_ids, img_entries, cat_ids, cat_entries, cats, out)
    return img_ids, cat_ids, counts, _image_sizes(images, img_ids, img_entries)


def _image_sizes(
    images: list[Any], img_ids: np.ndarray, img_entries: np.ndarray
) -> Callable[[list[Any]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """image ids -> (heights, widths, ids) int64, 0 where unknown (as the loader stores
    an absent size; a duplicated image id: the first image, as the loader keeps)."""
    first: dict[int, Any] = {}
    for iid, e in zip(img_ids.tolist(), img_entries.tolist()):
        first.setdefault(iid, images[e])

    def size(im: Any, key: str) -> int:
        v = im.get(key) if im is not None else None
        return int(v) if _is_num(v) and math.isfinite(v) and abs(v) < 2**62 else 0

    def lookup(ids: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ims = [first.get(i) if _is_int(i) else None for i in ids]
        h = np.array([size(im, "height") for im in ims], np.int64)
        w = np.array([size(im, "width") for im in ims], np.int64)
        known = np.array([i if _is_int(i) and R.id_in_range(i) else 0 for i in ids], np.int64)
        return h, w, known

    return lookup


def _check_annotations(
    anns: list[Any],
    img_ids: np.ndarray,
    img_entries: np.ndarray,
    images: list[Any],
    cat_ids: np.ndarray,
    out: _Found,
    needs_segm: bool = False,
) -> int:
    """The loader's rules on every annotation; returns the number of crowd annotations."""
    section = (0, 3)
    segs = _Column()
    sizes = _image_sizes(images, img_ids, img_entries)
    cols = {k: _Column() for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd")}
    lengths = _Column()
    names: dict[int, str] = {}
    refs: dict[int, Any] = {}
    for i, a in enumerate(anns):
        if not isinstance(a, Mapping):
            out.add(
                section + (i,),
                Problem(
                    "error", "bad-entry", "annotation", i, f"annotation entry {i}: not an object"
                ),
            )
            continue
        has_id = _is_int(a.get("id"))
        names[i] = f"annotation id {a['id']} (entry {i})" if has_id else f"annotation entry {i}"
        refs[i] = a["id"] if "id" in a else i

        def add(sev: str, code: str, detail: str, i: int = i) -> None:
            out.add(
                section + (i,), Problem(sev, code, "annotation", refs[i], f"{names[i]} {detail}")
            )

        missing = [k for k in R.GT_ANNOTATION_FIELDS if k not in a and k != "area"]
        if missing:
            add("error", "missing-field", f"is missing {', '.join(repr(k) for k in missing)}")
        if "area" not in a:
            add(
                "error", "missing-area", "is missing 'area' (area ranges small/medium/large use it)"
            )
        for k in ("id", "image_id", "category_id"):
            if k in a:
                if _is_int(a[k]) and R.id_in_range(a[k]):
                    cols[k].add(i, a[k])
                elif _is_int(a[k]):
                    add("error", "bad-id", R.id_out_of_range(k, a[k]))
                else:
                    add("error", "bad-field", f"has {k} {a[k]!r}, not an integer")
        if needs_segm:
            if "segmentation" in a:
                segs.add(i, a["segmentation"])
            else:
                add(
                    "error", "missing-field", "is missing 'segmentation' (segm evaluation reads it)"
                )
        if "bbox" in a:
            why = _bbox_shape_problem(a["bbox"])
            if why:
                add("error", "bad-bbox", why)
            else:
                lengths.add(i, len(a["bbox"]))
                if len(a["bbox"]) == 4:
                    cols["bbox"].add(i, a["bbox"])
        if "area" in a:
            if _is_num(a["area"]):
                cols["area"].add(i, a["area"])
            else:
                add("error", "bad-area", f"has an area {a['area']!r} that is not a number")
        if "iscrowd" in a:
            if isinstance(a["iscrowd"], int):  # bool is an int, as in the loader's schema
                cols["iscrowd"].add(i, int(a["iscrowd"]))
            else:
                add("error", "bad-iscrowd", f"has iscrowd {a['iscrowd']!r}, not 0 or 1")

    def rules(col: _Column, make: Callable[[np.ndarray, Callable[[int], str]], list]) -> None:
        entries = col.entries
        found = make(entries, lambda r: names[int(entries[r])])
        out.findings(found, "annotation", "gt", section, entries, lambda r: refs[int(entries[r])])

    ids = cols["id"].array(np.int64)
    rules(cols["id"], lambda e, subj: [R.duplicate_id_rule(ids, "annotation", entries=e)])
    rules(cols["id"], lambda e, subj: [R.id_zero_rule(ids, subj)])
    ann_img = cols["image_id"].array(np.int64)
    rules(cols["image_id"], lambda e, subj: [R.unknown_id_rule(ann_img, img_ids, "image", subj)])
    ann_cat = cols["category_id"].array(np.int64)
    rules(
        cols["category_id"],
        lambda e, subj: [R.unknown_id_rule(ann_cat, cat_ids, "category", subj)],
    )
    raw = dict(zip(lengths.rows, (anns[i]["bbox"] for i in lengths.rows)))
    lens = lengths.array(np.int64)
    rules(
        lengths,
        lambda e, subj: [R.length_rule(lens, lambda r: raw[int(e[r])], subj)],
    )
    bbox = cols["bbox"].array(np.float64).reshape(-1, 4)
    rules(cols["bbox"], lambda e, subj: R.box_value_rules(bbox, subj))
    rules(cols["bbox"], lambda e, subj: [R.zero_area_rule(bbox, subj)])
    rules(
        cols["bbox"], lambda e, subj: [_outside(bbox, e, anns, img_ids, img_entries, images, subj)]
    )
    rules(cols["area"], lambda e, subj: R.area_rules(cols["area"].array(np.float64), subj))
    crowd = cols["iscrowd"].array(np.int64)
    rules(cols["iscrowd"], lambda e, subj: [R.iscrowd_rule(crowd, subj)])
    if segs.rows:
        img_of = [anns[e].get("image_id") for e in segs.rows]
        h, w, ids = sizes(img_of)
        rules(segs, lambda e, subj: [R.segmentation_rule(segs.values, h, w, ids, subj)])
    return int((crowd == 1).sum())


def _outside(
    bbox: np.ndarray,
    entries: np.ndarray,
    anns: list[Any],
    img_ids: np.ndarray,
    img_entries: np.ndarray,
    images: list[Any],
    subject: Callable[[int], str],
) -> R.Finding:
    """The loader's box checks passed, the box reaches outside its image (a warning)."""
    first: dict[int, int] = {}
    for iid, e in zip(img_ids.tolist(), img_entries.tolist()):
        first.setdefault(iid, e)  # a duplicated id: the first image, as the loader keeps
    n = len(entries)
    W, H = np.full(n, np.nan), np.full(n, np.nan)
    image_id = np.zeros(n, dtype=object)
    for r, e in enumerate(entries.tolist()):
        iid = anns[e].get("image_id")
        image_id[r] = iid
        im = images[first[iid]] if _is_int(iid) and iid in first else None
        if im is not None and _is_num(im.get("width")) and _is_num(im.get("height")):
            W[r], H[r] = im["width"], im["height"]
    valid = np.ones(n, dtype=bool)
    for f in R.box_value_rules(bbox, subject):
        valid[f.rows] = False
    W[~valid] = np.nan  # a box the loader rejects is reported once, as that
    return R.outside_image_rule(bbox, W, H, image_id, subject)


def _summaries(
    anns: list[Any],
    img_ids: np.ndarray,
    img_entries: np.ndarray,
    cat_ids: np.ndarray,
    cat_entries: np.ndarray,
    cats: list[Any],
    out: _Found,
) -> None:
    """Legal but probably unintended: categories and images without annotations."""
    known_img, known_cat = set(img_ids.tolist()), set(cat_ids.tolist())
    per_img: Counter[Any] = Counter()
    per_cat: Counter[Any] = Counter()
    for a in anns:
        if isinstance(a, Mapping):
            if _is_int(a.get("image_id")) and a["image_id"] in known_img:
                per_img[a["image_id"]] += 1
            if _is_int(a.get("category_id")) and a["category_id"] in known_cat:
                per_cat[a["category_id"]] += 1
    seen: set[int] = set()
    for cid, e in zip(cat_ids.tolist(), cat_entries.tolist()):
        if cid in seen or per_cat[cid]:
            continue
        seen.add(cid)
        c = cats[e]
        label = f" ({c['name']!r})" if "name" in c else ""
        out.add(
            (0, 4, 0, e),
            Problem(
                "warning",
                "empty-category",
                "category",
                cid,
                f"category id {cid}{label} has no annotations",
            ),
        )
    seen = set()
    for iid, e in zip(img_ids.tolist(), img_entries.tolist()):
        if iid in seen or per_img[iid]:
            continue
        seen.add(iid)
        out.add(
            (0, 4, 1, e),
            Problem(
                "info",
                "image-without-annotations",
                "image",
                iid,
                f"image id {iid} has no annotations",
            ),
        )


def _check_dt(
    dt: Any,
    img_ids: np.ndarray,
    cat_ids: np.ndarray,
    have_gt: bool,
    out: _Found,
    needs_segm: bool = False,
    sizes: Callable[[list[Any]], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> int:
    section = (1, 1)
    if not isinstance(dt, list):
        # pycocotools' loadRes takes a list (or an (N, 7) array), nothing else
        out.add(
            (1, 0, 0),
            Problem(
                "error",
                "bad-schema",
                "file",
                None,
                f"results must be a JSON list of detections; got {_json_type(dt)}",
                source="dt",
            ),
        )
        return 0
    cols = {k: _Column() for k in ("image_id", "category_id", "bbox", "score", "id")}
    lengths = _Column()
    segs = _Column()
    names: dict[int, str] = {}
    # COCO.loadRes: the first result decides the mode (a non-empty bbox: box mode)
    first = dt[0] if dt and isinstance(dt[0], Mapping) else {}
    box_mode = not dt or (isinstance(first.get("bbox"), list) and len(first["bbox"]) > 0)
    for i, d in enumerate(dt):
        if not isinstance(d, Mapping):
            out.add(
                section + (i,),
                Problem(
                    "error", "bad-entry", "result", i, f"result {i}: not an object: {d!r:.60}", "dt"
                ),
            )
            continue
        img = d.get("image_id")
        names[i] = f"result {i} (image id {img})" if _is_int(img) else f"result {i}"

        def add(sev: str, code: str, detail: str, i: int = i) -> None:
            out.add(section + (i,), Problem(sev, code, "result", i, f"{names[i]} {detail}", "dt"))

        missing = [k for k in R.RESULT_FIELDS if k not in d]
        if box_mode and d.get("bbox") is None:
            missing.append("bbox")
        elif not box_mode and d.get("segmentation") is None:
            missing.append("segmentation")
        if missing:
            add("error", "missing-field", f"is missing {', '.join(map(repr, missing))}")
            if not box_mode and "segmentation" in missing and "bbox" in d:
                continue  # named once: its box is not read in this mode
        for k in ("image_id", "category_id"):
            if k in d:
                if _is_int(d[k]) and R.id_in_range(d[k]):
                    cols[k].add(i, d[k])
                elif _is_int(d[k]):
                    add("error", "bad-id", R.id_out_of_range(k, d[k]))
                else:
                    add("error", "bad-field", f"has {k} {d[k]!r}, not an integer")
        if "bbox" in d and d["bbox"] is not None:
            why = _bbox_shape_problem(d["bbox"])
            if why:
                add("error", "bad-bbox", why)
            elif box_mode or len(d["bbox"]):
                # loadRes' segmentation mode takes an empty box from the mask
                lengths.add(i, len(d["bbox"]))
                if len(d["bbox"]) == 4:
                    cols["bbox"].add(i, d["bbox"])
        if "score" in d:
            if _is_num(d["score"]):
                cols["score"].add(i, d["score"])
            else:
                add("error", "bad-score", f"has a score {d['score']!r} that is not a number")
        if "id" in d and isinstance(d["id"], (int, str)):
            cols["id"].add(i, d["id"])
        # masks are read in segmentation mode (area, box) and by the mask IoU types;
        # a box-mode result without one is its box's polygon
        if d.get("segmentation") is not None and (needs_segm or not box_mode):
            segs.add(i, d["segmentation"])

    def rules(col: _Column, make: Callable[[np.ndarray, Callable[[int], str]], list]) -> None:
        entries = col.entries
        found = make(entries, lambda r: names[int(entries[r])])
        out.findings(found, "result", "dt", section, entries, lambda r: int(entries[r]))

    if have_gt:
        img = cols["image_id"].array(np.int64)
        rules(cols["image_id"], lambda e, subj: [R.unknown_id_rule(img, img_ids, "image", subj)])
        cat = cols["category_id"].array(np.int64)
        rules(
            cols["category_id"],
            lambda e, subj: [R.unknown_id_rule(cat, cat_ids, "category", subj)],
        )
    raw = {i: dt[i]["bbox"] for i in lengths.rows}
    lens = lengths.array(np.int64)
    rules(lengths, lambda e, subj: [R.length_rule(lens, lambda r: raw[int(e[r])], subj)])
    bbox = cols["bbox"].array(np.float64).reshape(-1, 4)
    rules(cols["bbox"], lambda e, subj: R.box_value_rules(bbox, subj))
    rules(cols["score"], lambda e, subj: [R.score_rule(cols["score"].array(np.float64), subj)])
    ids = np.array([repr(v) for v in cols["id"].values], dtype=object)
    rules(
        cols["id"],
        lambda e, subj: [
            R.duplicate_id_rule(
                ids,
                "result",
                entries=e,
                severity="warning",
                note=" (loadRes renumbers results anyway)",
                show=str,
            )
        ],
    )
    if segs.rows and have_gt and sizes is not None:
        h, w, sid = sizes([dt[e].get("image_id") for e in segs.rows])
        if not needs_segm:  # only loadRes reads them: RLEs keep their own size
            h = np.where([isinstance(v, (list, tuple)) for v in segs.values], h, -1)
        rules(segs, lambda e, subj: [_result_segmentations(segs.values, h, w, sid, subj)])
    return len(dt)


def _result_segmentations(segs: list, h: np.ndarray, w: np.ndarray, ids: np.ndarray, subj: Any):
    """The segmentation rule on results; ``h < 0``: an RLE read at its own size."""
    own = h < 0
    if not own.any():
        return R.segmentation_rule(segs, h, w, ids, subj)
    # RLEs whose size is not checked against the image: their own size stands in
    hh, ww = h.copy(), w.copy()
    for r in np.flatnonzero(own).tolist():
        size = segs[r].get("size") if isinstance(segs[r], Mapping) else None
        ok = isinstance(size, list) and len(size) == 2 and all(_is_int(v) for v in size)
        hh[r], ww[r] = (size[0], size[1]) if ok and min(size) >= 0 else (0, 0)
    return R.segmentation_rule(segs, hh, ww, ids, subj)


def _json_type(v: Any) -> str:
    """A JSON value's type as a message names it: null, an object, a number ..."""
    if v is None:
        return "null"
    if isinstance(v, Mapping):
        return "an object" + (" (its 'annotations' list is not read)" if "annotations" in v else "")
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(v), type(v).__name__
    )


def check(gt: Any, dt: Any = None, *, iou_type: str = "bbox") -> CheckReport:
    """Validate a COCO ground truth and, optionally, a results list.

    Parameters
    ----------
    gt : path to a COCO ground-truth JSON file, or the loaded dict
        (``images``, ``annotations``, ``categories``).
    dt : path to a COCO results JSON file, or the loaded list of result dicts
        (``image_id``, ``category_id``, ``bbox`` as xywh or ``segmentation``,
        ``score``); ``None`` checks the ground truth alone.
    iou_type : the evaluation to check for, as ``ioukit eval --iou-type``: ``"segm"``
        and ``"boundary"`` read (and so check) every segmentation; ``"bbox"`` reads the
        results' segmentations only where they give the area and box (no ``bbox``).

    Returns
    -------
    CheckReport
        ``problems`` in file order (GT before results) and ``counts`` (images,
        categories, annotations, crowd, results). ``report.ok`` is False when any
        problem is an error: exactly when the evaluation (``ioukit eval`` with the
        same IoU type) refuses the input.

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
    return check_loaded(
        _as_data(gt), None if dt is None else _as_data(dt), dt is not None, iou_type,
        gt if isinstance(gt, (str, os.PathLike)) else None,
        dt if isinstance(dt, (str, os.PathLike)) else None,
    )  # fmt: skip


def check_loaded(
    gt: Any,
    dt: Any,
    have_dt: bool,
    iou_type: str = "bbox",
    gt_path: Any = None,
    dt_path: Any = None,
) -> CheckReport:
    """:func:`check` of loaded JSON values (``have_dt``: a results file was given, even
    when its content is ``null``); the paths, when known, go to the evaluation's own
    loader for the last word (see :func:`_evaluation_verdict`)."""
    from .coco._geometry import get_iou_type

    needs_segm = get_iou_type(iou_type).needs_segmentation
    out = _Found()
    img_ids, cat_ids, counts, sizes = _check_gt(gt, out, needs_segm)
    if have_dt:
        have_gt = isinstance(gt, Mapping) and "images" in gt and "categories" in gt
        counts["results"] = _check_dt(dt, img_ids, cat_ids, have_gt, out, needs_segm, sizes)
    problems = out.sorted()
    if not any(p.severity == "error" for p in problems):
        verdict = _evaluation_verdict(
            gt if gt_path is None else gt_path,
            (dt if dt_path is None else dt_path) if have_dt else None,
            iou_type,
        )
        if verdict is not None:
            problems.append(verdict)
    return CheckReport(problems=problems, counts=counts)


def _evaluation_verdict(gt: Any, dt: Any, iou_type: str) -> Problem | None:
    """The evaluation's own refusal of input that passed every rule, as a Problem.

    The rules above are the loader's; this runs the evaluation itself (load, and with
    results the whole ``ioukit.coco.evaluate``) so that ``check`` never passes a file
    that ``ioukit eval`` refuses, even for a case no rule names yet (code
    ``"rejected"``; the test corpus checks that no case needs it).
    """
    import warnings

    from . import coco
    from .coco._geometry import get_iou_type
    from .errors import IoukitError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if dt is None:
                plugin = get_iou_type(iou_type)
                g = coco.load_gt(gt, needs_segmentation=plugin.needs_segmentation)
                plugin.prepare_gt(g)
            else:
                coco.evaluate(gt, dt, iou_type)
    except (IoukitError, OSError, RecursionError, MemoryError) as e:
        return Problem("error", "rejected", "file", None, str(e), "dt" if dt is not None else "gt")
    return None


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
