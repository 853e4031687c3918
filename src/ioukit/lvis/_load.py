"""LVIS ground truth -> the engine's :class:`~ioukit.coco.GtTable`, with LVIS' own fields.

An LVIS annotation file is COCO-shaped with these differences (lvis 0.5.3, ``lvis/eval.py``
``_prepare`` and ``_prepare_freq_group``, ``lvis/lvis.py``):

- images carry ``neg_category_ids`` (categories verified absent) and
  ``not_exhaustive_category_ids`` (categories whose instances may be missing); both are
  required, as lists of category ids;
- categories carry ``frequency``: ``"r"`` (rare), ``"c"`` (common) or ``"f"`` (frequent);
- annotations have no ``iscrowd`` (LVIS never reads it; crowd regions do not exist) and
  may have ``ignore`` (truthy: the GT is ignored, as pycocotools' crowd flag would be).

The table's ``ann_iscrowd`` is all False; the LVIS columns are in ``GtTable.extra``:
``ann_ignore`` bool (G,), ``neg_offsets`` / ``neg_ids`` and ``nel_offsets`` / ``nel_ids``
(image row ``i``'s lists are ``ids[offsets[i]:offsets[i + 1]]``), and ``frequency``
int8 (C,), 0 r, 1 c, 2 f, per category row.

A file is read by the compiled JSON scanner (``ioukit.io._jsonscan``, the list fields as
byte spans decoded in one ``json.loads``); a document the scanner leaves (and a dict)
takes the Python path. Both give the same columns and the same errors, which name the
image, category or annotation id.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import numpy as np

from ..coco import GtTable
from ..errors import (
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    MalformedJSONError,
    MissingFieldError,
    UnknownIdError,
)
from ..io import _jsonscan as js

__all__ = ["load_gt", "FREQUENCIES"]

#: LVIS frequency groups, in lvis' order (``Params.img_count_lbl``)
FREQUENCIES = ("r", "c", "f")

_LISTS = ("neg_category_ids", "not_exhaustive_category_ids")
_LIST_HELP = (
    "LVIS images list the categories verified absent in 'neg_category_ids' and those not "
    "exhaustively annotated in 'not_exhaustive_category_ids'"
)


def load_gt(gt: Any, *, needs_segmentation: bool = False) -> GtTable:
    """Load LVIS ground truth (a path or the loaded dict) into a :class:`GtTable`.

    Raises MissingFieldError, DuplicateIdError, UnknownIdError, InvalidBoxesError,
    MalformedJSONError or DatasetError naming the file, the field and the image,
    category or annotation id. Warns on an annotation with id 0 (lvis, like
    pycocotools, never counts a detection matched to it).

    Example
    -------
    >>> g = load_gt({"images": [{"id": 1, "neg_category_ids": [2],
    ...                          "not_exhaustive_category_ids": []}],
    ...              "categories": [{"id": 1, "frequency": "r"}, {"id": 2, "frequency": "f"}],
    ...              "annotations": [{"id": 5, "image_id": 1, "category_id": 1,
    ...                               "bbox": [0, 0, 2, 4], "area": 8}]})
    >>> g.extra["neg_ids"].tolist(), g.extra["frequency"].tolist(), g.ann_iscrowd.tolist()
    ([2], [0, 2], [False])
    """
    if isinstance(gt, GtTable):
        if "frequency" not in gt.extra:
            raise DatasetError(f"{gt.source}: this GtTable was not loaded as LVIS ground truth")
        return gt
    if isinstance(gt, (str, os.PathLike)):
        source = os.fspath(gt)
        try:
            with open(gt, "rb") as f:
                buf = f.read()
        except OSError as e:
            raise DatasetError(f"cannot read {source}: {e}") from e
        cols = _scan(buf, needs_segmentation)
        if cols is None:
            try:
                d = json.loads(buf)
            except (ValueError, UnicodeDecodeError) as e:
                raise MalformedJSONError(f"{source}: not valid JSON: {e}") from e
            cols = _columns(d, source, needs_segmentation)
        del buf
    elif isinstance(gt, dict):
        source = "<gt dict>"
        cols = _columns(gt, source, needs_segmentation)
    else:
        raise DatasetError(f"ground truth must be a path or a dict; got {type(gt).__name__}")
    return _finish(cols, source, needs_segmentation)


# ------------------------------------------------------------------ scanner path
def _scan(buf: bytes, segmentation: bool) -> dict | None:
    """Columns straight from the bytes, or None where the Python path must look."""
    F = js.FieldSpec
    ann = {
        "id": F("int"),
        "image_id": F("int"),
        "category_id": F("int"),
        "bbox": F("float4"),
        "area": F("float"),
        "ignore": F("flag"),
    }
    if segmentation:
        ann["segmentation"] = F("span")
    spec = {
        "images": (
            ("images",),
            {
                "id": F("int"),
                "height": F("int"),
                "width": F("int"),
                **{k: F("span") for k in _LISTS},
            },
        ),
        "annotations": (("annotations",), ann),
        "categories": (("categories",), {"id": F("int"), "name": F("str"), "frequency": F("str")}),
    }
    try:
        t = js.scan_tables(buf, spec)
    except js.ScanFallback:
        return None
    im, an, ca = t["images"], t["annotations"], t["categories"]
    if not (im.found and ca.found and an.found) or any(r.size for r in an.bad_rows.values()):
        return None  # missing lists, bboxes of another length: the Python path words it
    lists = {}
    for k in _LISTS:
        lists[k] = _span_lists(buf, im[k], im.present[k])
        if lists[k] is None:
            return None
    segs = None
    if segmentation:
        if not bool(an.present["segmentation"].all()):
            return None
        from ..io._jsonseg import parse_segmentations

        segs = parse_segmentations(buf, an["segmentation"], an.first_byte["segmentation"])
        if segs is None:
            return None
    return {
        "img_id": (im["id"], im.present["id"]),
        "height": np.where(im.present["height"], im["height"], 0),
        "width": np.where(im.present["width"], im["width"], 0),
        "size_present": im.present["height"] & im.present["width"],
        **lists,
        "cat_id": (ca["id"], ca.present["id"]),
        "name": ca["name"],
        "frequency": ca["frequency"],
        "ann_id": (an["id"], an.present["id"]),
        "image_id": (an["image_id"], an.present["image_id"]),
        "category_id": (an["category_id"], an.present["category_id"]),
        "bbox": (np.asarray(an["bbox"], np.float64), an.present["bbox"]),
        "area": (np.asarray(an["area"], np.float64), an.present["area"]),
        "ignore": np.where(an.present["ignore"], an["ignore"], 0) != 0,
        "segs": segs,
    }


def _span_lists(buf: bytes, spans: np.ndarray, present: np.ndarray) -> list | None:
    """The JSON values of ``spans`` (None where absent), decoded in one ``json.loads``.

    None when some value is not a list of integers (the Python path words the error).
    """
    rows = np.flatnonzero(present)
    out: list = [None] * len(present)
    if rows.size:
        mv = memoryview(buf)
        parts = [bytes(mv[s:e]) for s, e in spans[rows].tolist()]
        values = json.loads(b"[" + b",".join(parts) + b"]")
        for r, v in zip(rows.tolist(), values):
            if not isinstance(v, list) or not all(_is_int(x) for x in v):
                return None
            out[r] = v
    return out


# ------------------------------------------------------------------- Python path
def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _records(d: Any, key: str, source: str) -> list:
    if not isinstance(d, dict):
        raise DatasetError(f"{source}: LVIS ground truth must be a JSON object")
    if key not in d:
        raise MissingFieldError(f"{source}: no '{key}' list")
    v = d[key]
    if not isinstance(v, list) or not all(isinstance(r, dict) for r in v):
        raise DatasetError(f"{source}: '{key}' must be a list of objects")
    return v


def _ints(recs: list, key: str, what: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """An integer field of every record, and where it is present."""
    vals = np.zeros(len(recs), np.int64)
    present = np.zeros(len(recs), bool)
    for i, r in enumerate(recs):
        v = r.get(key)
        if v is None:
            continue
        if not _is_int(v):
            raise DatasetError(f"{source}: {what} entry {i} has a non-integer '{key}': {v!r}")
        vals[i] = v
        present[i] = True
    return vals, present


def _floats(recs: list, key: str, what: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    vals = np.full(len(recs), np.nan)
    present = np.zeros(len(recs), bool)
    for i, r in enumerate(recs):
        v = r.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise DatasetError(f"{source}: {what} entry {i} has a non-numeric '{key}': {v!r}")
        vals[i] = v
        present[i] = True
    return vals, present


def _columns(d: Any, source: str, segmentation: bool) -> dict:
    images = _records(d, "images", source)
    cats = _records(d, "categories", source)
    anns = _records(d, "annotations", source)
    n = len(anns)
    bbox = np.full((n, 4), np.nan)
    has_box = np.zeros(n, bool)
    for i, a in enumerate(anns):
        b = a.get("bbox")
        if b is None:
            continue
        if (
            not isinstance(b, list)
            or len(b) != 4
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in b)
        ):
            raise InvalidBoxesError(
                f"{source}: annotation {_ann_name(a, i)} has a bbox that is not 4 numbers "
                f"[x, y, w, h]: {b!r}"
            )
        bbox[i] = b
        has_box[i] = True
    lists = {}
    for k in _LISTS:
        vals: list = []
        for i, im in enumerate(images):
            v = im.get(k)
            if v is not None and not (isinstance(v, list) and all(_is_int(x) for x in v)):
                raise DatasetError(
                    f"{source}: image {_img_name(im, i)} has '{k}' = {v!r}; expected a list "
                    "of category ids"
                )
            vals.append(v)
        lists[k] = vals
    h, hp = _ints(images, "height", "image", source)
    w, wp = _ints(images, "width", "image", source)
    segs = None
    if segmentation:
        segs = [a.get("segmentation") for a in anns]
    return {
        "img_id": _ints(images, "id", "image", source),
        "height": h,
        "width": w,
        "size_present": hp & wp,
        **lists,
        "cat_id": _ints(cats, "id", "category", source),
        "name": [c.get("name") for c in cats],
        "frequency": [c.get("frequency") for c in cats],
        "ann_id": _ints(anns, "id", "annotation", source),
        "image_id": _ints(anns, "image_id", "annotation", source),
        "category_id": _ints(anns, "category_id", "annotation", source),
        "bbox": (bbox, has_box),
        "area": _floats(anns, "area", "annotation", source),
        # lvis: `if g["ignore"] or ...`, with 0 where absent: Python truthiness
        "ignore": np.fromiter((bool(a.get("ignore", 0)) for a in anns), bool, n),
        "segs": segs,
    }


def _ann_name(a: dict, i: int) -> str:
    aid = a.get("id")
    return f"id {aid} (entry {i})" if aid is not None else f"entry {i}"


def _img_name(im: dict, i: int) -> str:
    iid = im.get("id")
    return f"id {iid} (entry {i})" if iid is not None else f"entry {i}"


# ---------------------------------------------------------------------- checks
def _require(
    values: tuple[np.ndarray, np.ndarray],
    key: str,
    what: str,
    source: str,
    name: Any,
    hint: str = "",
) -> np.ndarray:
    vals, present = values
    if not present.all():
        i = int(np.flatnonzero(~present)[0])
        raise MissingFieldError(f"{source}: {what} {name(i)} has no '{key}'{hint}")
    return vals


def _check_unique(ids: np.ndarray, what: str, source: str) -> None:
    if ids.size < 2:
        return
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size:
        j = dup[0]
        raise DuplicateIdError(
            f"{source}: duplicate {what} id {int(s[j])} "
            f"(entries {int(order[j])} and {int(order[j + 1])})"
        )


def _check_known(values: np.ndarray, known: np.ndarray, message: Any) -> None:
    if values.size == 0:
        return
    ks = np.sort(known)
    pos = np.minimum(np.searchsorted(ks, values), max(ks.size - 1, 0))
    ok = ks[pos] == values if ks.size else np.zeros(values.shape, bool)
    if not ok.all():
        raise UnknownIdError(message(int(np.flatnonzero(~ok)[0])))


def _csr(lists: list) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(v) for v in lists), np.int64, len(lists))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    ids = np.fromiter((x for v in lists for x in v), np.int64, int(offsets[-1]))
    return offsets, ids


def _finish(c: dict, source: str, segmentation: bool) -> GtTable:
    img_present = c["img_id"][1]
    if not img_present.all():
        i = int(np.flatnonzero(~img_present)[0])
        raise MissingFieldError(f"{source}: image entry {i} has no 'id'")
    img_ids = c["img_id"][0]

    def img(i: int) -> str:
        return f"id {int(img_ids[i])} (entry {i})"

    for k in _LISTS:
        missing = [i for i, v in enumerate(c[k]) if v is None]
        if missing:
            raise MissingFieldError(
                f"{source}: image {img(missing[0])} has no '{k}' ({_LIST_HELP})"
            )
    if segmentation and not c["size_present"].all():
        i = int(np.flatnonzero(~c["size_present"])[0])
        raise MissingFieldError(
            f"{source}: image {img(i)} has no 'height' / 'width' (segm needs the image size)"
        )
    cat_present = c["cat_id"][1]
    if not cat_present.all():
        i = int(np.flatnonzero(~cat_present)[0])
        raise MissingFieldError(f"{source}: category entry {i} has no 'id'")
    cat_ids = c["cat_id"][0]
    freq = np.zeros(cat_ids.size, np.int8)
    for i, f in enumerate(c["frequency"]):
        if f is None:
            raise MissingFieldError(
                f"{source}: category id {int(cat_ids[i])} (entry {i}) has no 'frequency' "
                "(LVIS: 'r' rare, 'c' common or 'f' frequent)"
            )
        if f not in FREQUENCIES:
            raise DatasetError(
                f"{source}: category id {int(cat_ids[i])} (entry {i}) has frequency {f!r}; "
                "LVIS uses 'r' (rare), 'c' (common) or 'f' (frequent)"
            )
        freq[i] = FREQUENCIES.index(f)
    ann_present = c["ann_id"][1]
    if not ann_present.all():
        i = int(np.flatnonzero(~ann_present)[0])
        raise MissingFieldError(f"{source}: annotation entry {i} has no 'id'")
    ann_id = c["ann_id"][0]

    def ann(i: int) -> str:
        return f"id {int(ann_id[i])} (entry {i})"

    ann_img = _require(c["image_id"], "image_id", "annotation", source, ann)
    ann_cat = _require(c["category_id"], "category_id", "annotation", source, ann)
    area = _require(c["area"], "area", "annotation", source, ann)
    bbox, has_box = c["bbox"]
    if not segmentation:
        _require(c["bbox"], "bbox", "annotation", source, ann, " (bbox evaluation needs it)")
    else:
        bbox = np.where(has_box[:, None], bbox, 0.0)
        segs = c["segs"]
        if isinstance(segs, list):
            missing = [i for i, s in enumerate(segs) if s is None]
            if missing:
                raise MissingFieldError(
                    f"{source}: annotation {ann(missing[0])} has no 'segmentation' "
                    "(segm evaluation needs it)"
                )
    bad = ~np.isfinite(bbox).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidBoxesError(f"{source}: annotation {ann(i)} has a non-finite bbox")
    neg = (bbox[:, 2] < 0) | (bbox[:, 3] < 0)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise InvalidBoxesError(
            f"{source}: annotation {ann(i)} has a negative width or height: bbox {bbox[i].tolist()}"
        )
    _check_unique(img_ids, "image", source)
    _check_unique(cat_ids, "category", source)
    _check_unique(ann_id, "annotation", source)
    _check_known(
        ann_img,
        img_ids,
        lambda i: (
            f"{source}: annotation {ann(i)} refers to image id {int(ann_img[i])}, "
            "which is not in the GT images"
        ),
    )
    _check_known(
        ann_cat,
        cat_ids,
        lambda i: (
            f"{source}: annotation {ann(i)} refers to category id {int(ann_cat[i])}, "
            "which is not in the GT categories"
        ),
    )
    zero = np.flatnonzero(ann_id == 0)
    if zero.size:
        warnings.warn(
            f"{source}: annotation id 0 (entry {int(zero[0])}): lvis never counts a detection "
            "matched to it as a true positive; ioukit reproduces that unless "
            "evaluate(..., fix_zero_id=True)",
            UserWarning,
            stacklevel=3,
        )
    neg_off, neg_ids = _csr(c["neg_category_ids"])
    nel_off, nel_ids = _csr(c["not_exhaustive_category_ids"])
    names = [n if n is not None else str(int(k)) for n, k in zip(c["name"], cat_ids)]
    return GtTable(
        image_ids=np.asarray(img_ids, np.int64),
        image_heights=np.asarray(c["height"], np.int64),
        image_widths=np.asarray(c["width"], np.int64),
        category_ids=np.asarray(cat_ids, np.int64),
        category_names={int(k): str(n) for k, n in zip(cat_ids, names)},
        ann_id=np.asarray(ann_id, np.int64),
        ann_image_id=np.asarray(ann_img, np.int64),
        ann_category_id=np.asarray(ann_cat, np.int64),
        ann_bbox=np.ascontiguousarray(bbox, dtype=np.float64),
        ann_area=np.asarray(area, np.float64),
        ann_iscrowd=np.zeros(ann_id.size, bool),
        ann_segmentation=c["segs"] if segmentation else None,
        source=source,
        extra={
            "ann_ignore": np.asarray(c["ignore"], bool),
            "neg_offsets": neg_off,
            "neg_ids": neg_ids,
            "nel_offsets": nel_off,
            "nel_ids": nel_ids,
            "frequency": freq,
        },
    )
