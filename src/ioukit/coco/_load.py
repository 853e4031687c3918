"""COCO ground truth and results -> flat NumPy columns, with validation.

Field rules follow pycocotools 2.0.11 (``coco.py``):

- GT: ``images``, ``categories`` and ``annotations`` (``id``, ``image_id``,
  ``category_id``, ``bbox`` [x, y, w, h], ``area``, ``iscrowd``). The GT ``area`` field
  (not the box) decides the area range.
- Results (``COCO.loadRes``): the first result decides the mode. Box mode (it has a
  non-empty ``bbox``): ``area = w * h`` even when a segmentation is present, and a
  missing segmentation becomes the box polygon. Segmentation mode: ``area`` and
  ``bbox`` come from the RLE. Result ids are re-numbered 1..N, ``iscrowd = 0``.

Files are first read by ioukit.io's byte scanner into columns; for the mask IoU
types the segmentations come as byte spans parsed into flat arrays by
:mod:`ioukit.io._jsonseg` (no Python object per polygon). Whatever the scanner
leaves is decoded with msgspec typed decoding (fields the evaluation does not
need are skipped without being built); Python objects go through
``msgspec.convert`` so that both paths give the same checks and messages. Floats
are correctly rounded by both, exactly like ``json.load``.
"""

from __future__ import annotations

import mmap
import os
import stat
import warnings
from dataclasses import field
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import (
    DatasetError,
    InvalidBoxesError,
    MissingFieldError,
    UnknownIdError,
)
from . import _rules as R

__all__ = ["GtTable", "DtTable", "GeometryField", "BBOX", "load_gt", "load_dt", "load_pair"]


@lightclass(frozen=True)
class GeometryField:
    """A fixed-width numeric field of every annotation and result, as the loader reads it.

    The loader's one rule for geometry written in the JSON: field ``name`` holds a list
    of exactly ``width`` finite numbers (``layout`` names them in messages). COCO's
    ``bbox`` is :data:`BBOX`; an IoU plug-in declares any other field its geometry needs
    (``IouPlugin.fields``, e.g. ``GeometryField("rbox", 5, "[cx, cy, w, h, angle]")``),
    and ``load_gt`` / ``load_dt`` / ``load_pair(..., fields=...)`` read it into
    ``GtTable.ann_fields`` / ``DtTable.fields`` (float64 (N, width)).

    >>> GeometryField("interval", 2, "[start, end]").width
    2
    """

    name: str
    width: int
    layout: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise InvalidBoxesError(f"field {self.name!r}: width must be an integer >= 1")

    @property
    def described(self) -> str:
        return self.layout or f"{self.width} numbers"


#: COCO's box: ``bbox`` = [x, y, w, h], the geometry field every COCO file has.
BBOX = GeometryField("bbox", 4, "[x, y, w, h]")


@lightclass
class GtTable:
    """Ground truth as columns. G annotations, I images, C categories.

    Attributes
    ----------
    image_ids : int64 (I,)        in file order
    image_heights, image_widths : int64 (I,)   0 when absent
    category_ids : int64 (C,)     in file order
    category_names : dict[int, str]
    ann_id, ann_image_id, ann_category_id : int64 (G,)
    ann_bbox : float64 (G, 4)     [x, y, w, h]
    ann_area : float64 (G,)
    ann_iscrowd : bool (G,)
    ann_segmentation : list | None   raw segmentations (only for mask IoU types)
    source : str                  file name or "<dict>" for messages
    ann_fields : dict[str, float64 (G, width)]   the plug-in's other geometry fields
    """

    image_ids: np.ndarray
    image_heights: np.ndarray
    image_widths: np.ndarray
    category_ids: np.ndarray
    category_names: dict[int, str]
    ann_id: np.ndarray
    ann_image_id: np.ndarray
    ann_category_id: np.ndarray
    ann_bbox: np.ndarray
    ann_area: np.ndarray
    ann_iscrowd: np.ndarray
    ann_segmentation: list | None = None
    source: str = "<dict>"
    extra: dict = field(default_factory=dict)
    ann_fields: dict = field(default_factory=dict)

    @classmethod
    def from_columns(
        cls,
        *,
        image_ids: Any,
        category_ids: Any,
        ann_id: Any,
        ann_image_id: Any,
        ann_category_id: Any,
        ann_bbox: Any,
        ann_area: Any,
        ann_iscrowd: Any,
        image_heights: Any = None,
        image_widths: Any = None,
        category_names: Any = None,
        ann_segmentation: list | None = None,
        ann_fields: Any = None,
        source: str = "<gt columns>",
    ) -> GtTable:
        """Ground truth from columns, checked as :func:`load_gt` checks a file.

        The same rules and messages as the JSON loader (:mod:`ioukit.coco._rules`):
        finite non-negative boxes, finite areas, unique image / category / annotation
        ids, annotations referring to known images and categories; a ``UserWarning``
        for annotation id 0. Heights and widths default to 0 (unknown);
        ``category_names`` is a sequence aligned with ``category_ids`` or a mapping
        from id to name (default: empty names). ``ann_fields``: the plug-in's other
        geometry fields, name -> (G, width) values (checked finite).

        Example
        -------
        >>> g = GtTable.from_columns(image_ids=[1], category_ids=[3], ann_id=[5],
        ...                          ann_image_id=[1], ann_category_id=[3],
        ...                          ann_bbox=[[0, 0, 2, 4]], ann_area=[8], ann_iscrowd=[0])
        >>> g.ann_bbox.tolist(), g.category_names
        ([[0.0, 0.0, 2.0, 4.0]], {3: ''})
        """
        image_ids = np.asarray(image_ids, dtype=np.int64).reshape(-1)
        category_ids = np.asarray(category_ids, dtype=np.int64).reshape(-1)
        ann_id = np.asarray(ann_id, dtype=np.int64).reshape(-1)
        zeros = np.zeros(image_ids.size, np.int64)
        if category_names is None:
            names: list = [""] * category_ids.size
        elif hasattr(category_names, "get"):
            names = [category_names.get(int(c), "") for c in category_ids]
        else:
            names = list(category_names)
        cols = {
            "image_ids": image_ids,
            "heights": zeros if image_heights is None else np.asarray(image_heights, np.int64),
            "widths": zeros if image_widths is None else np.asarray(image_widths, np.int64),
            "cat_ids": category_ids,
            "names": names,
            "ann_id": ann_id,
            "ann_img": np.asarray(ann_image_id, dtype=np.int64).reshape(-1),
            "ann_cat": np.asarray(ann_category_id, dtype=np.int64).reshape(-1),
            "area": np.asarray(ann_area, dtype=np.float64).reshape(-1),
            "crowd": np.asarray(ann_iscrowd).reshape(-1) != 0,
            "bbox": _box_column(ann_bbox, ann_id.size, source),
            "fields": _given_fields(ann_fields, ann_id.size, source),
        }
        return _finish_gt(cols, source, ann_segmentation)


@lightclass
class DtTable:
    """Detections (results) as columns, N rows in input order.

    Attributes
    ----------
    image_id, category_id : int64 (N,)
    bbox : float64 (N, 4)  [x, y, w, h]
    score : float64 (N,)
    area : float64 (N,)    per ``loadRes``
    segmentation : list | None  (only for mask IoU types)
    source : str
    loaded_geometry : Any
        Geometry the IoU plug-in built while loading (``segm_area_bbox``: the RLEs it
        decoded for loadRes' areas), handed to its ``prepare_dt`` so that nothing is
        decoded twice; None otherwise. It travels with the table and goes with it.
    fields : dict[str, float64 (N, width)]   the plug-in's other geometry fields
    """

    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray
    segmentation: list | None = None
    source: str = "<list>"
    loaded_geometry: Any = field(default=None, repr=False, compare=False)
    fields: dict = field(default_factory=dict)

    @classmethod
    def from_columns(
        cls,
        gt: GtTable,
        *,
        image_id: Any,
        category_id: Any,
        bbox: Any,
        score: Any,
        area: Any = None,
        segmentation: list | None = None,
        fields: Any = None,
        source: str = "<dt columns>",
    ) -> DtTable:
        """Detections from columns (``bbox`` xywh), checked as :func:`load_dt` checks results.

        The same rules and messages as the JSON loader: finite non-negative boxes,
        finite scores, image and category ids known to ``gt``. ``area`` defaults to
        ``w * h`` (``COCO.loadRes``).

        Example
        -------
        >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 2}], "annotations": []})
        >>> DtTable.from_columns(g, image_id=[1], category_id=[2], bbox=[[0, 0, 2, 3]],
        ...                      score=[0.5]).area.tolist()
        [6.0]
        """
        img = np.asarray(image_id, dtype=np.int64).reshape(-1)
        cols = {
            "img": img,
            "cat": np.asarray(category_id, dtype=np.int64).reshape(-1),
            "bbox": _box_column(bbox, img.size, source),
            "score": np.asarray(score, dtype=np.float64).reshape(-1),
            "fields": _given_fields(fields, img.size, source),
        }
        d = _finish_dt_boxes(cols, gt, source)
        if area is not None:
            d.area = np.asarray(area, dtype=np.float64).reshape(-1)
        d.segmentation = segmentation
        return d


def _box_column(bbox: Any, n: int, source: str, width: int = BBOX.width) -> np.ndarray:
    """An (n, width) float64 column, or InvalidBoxesError naming the shape."""
    b = np.asarray(bbox, dtype=np.float64)
    if b.size == 0 and n == 0:
        return np.zeros((0, width), np.float64)
    if b.ndim != 2 or b.shape != (n, width):
        raise InvalidBoxesError(f"{source}: expected values of shape ({n}, {width}); got {b.shape}")
    return np.ascontiguousarray(b)


def _given_fields(fields: Any, n: int, source: str) -> dict:
    """name -> (n, width) float64 arrays given to ``from_columns``."""
    out = {}
    for name, v in (fields or {}).items():
        a = np.asarray(v, dtype=np.float64)
        out[str(name)] = _box_column(a, n, source, a.shape[1] if a.ndim == 2 else 1)
    return out


def _field_subjects(fields: dict, subject: Any) -> list[R.Finding]:
    """Finite values in every other geometry field (one rule: ``R.finite_rule``)."""
    return [R.finite_rule(v, subject, name) for name, v in fields.items()]


def _map_file(path: str | os.PathLike) -> bytes | mmap.mmap:
    """A file's bytes for the scanner: memory-mapped read-only where it is a regular file.

    Mapping the page cache skips copying the file into a new buffer and faulting that
    buffer in (~14 ms of a fresh process's first load of a 28 MB GT + results pair).
    Empty files (which cannot be mapped) and pipes are read. The map closes when the
    last reference goes. As with any mapped file, truncating it while it is being
    scanned would end the process (SIGBUS) rather than raise.
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size == 0 or not stat.S_ISREG(st.st_mode):
                return f.read()
            try:
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # a file system without mmap: read it
                return f.read()
    except OSError as e:
        raise DatasetError(f"cannot read {os.fspath(path)}: {e}") from e


_GT_SCAN: Any = None
_DT_SCAN: Any = None


def _scanner() -> Any:
    """ioukit.io's byte scanner and the field specs, or None when unavailable."""
    global _GT_SCAN, _DT_SCAN
    try:
        from ..io import _jsonscan as js
    except ImportError:  # pragma: no cover - the scanner ships with ioukit
        return None
    if _GT_SCAN is None:
        F = js.FieldSpec
        box = _field_spec(js, BBOX)
        _GT_SCAN = {
            "images": (("images",), {"id": F("int"), "height": F("int"), "width": F("int")}),
            "annotations": (
                ("annotations",),
                {
                    "id": F("int"),
                    "image_id": F("int"),
                    "category_id": F("int"),
                    BBOX.name: box,
                    "area": F("float"),
                    "iscrowd": F("flag"),
                },
            ),
            "categories": (("categories",), {"id": F("int"), "name": F("str")}),
        }
        _DT_SCAN = {
            "image_id": F("int"),
            "category_id": F("int"),
            BBOX.name: box,
            "score": F("float"),
        }
    return js


def _field_spec(js: Any, f: GeometryField) -> Any:
    """The scanner's spec of a geometry field: a list of ``f.width`` floats."""
    return js.FieldSpec("floats", width=f.width)


def _scanned_fields(res: Any, fields: tuple) -> dict | None:
    """The other geometry fields from a scan, or None (absent or of another length
    somewhere: the general path names the row)."""
    out = {}
    for f in fields:
        if not bool(res.present[f.name].all()) or res.bad_rows[f.name].size:
            return None
        out[f.name] = np.asarray(res[f.name], dtype=np.float64)
    return out


def _object_fields(records: Any, fields: tuple, subject: Any, source: str) -> dict:
    """The other geometry fields of records given as Python objects (dicts), checked as
    the scanner's: present, a list of numbers, of the field's width."""
    out: dict = {}
    if not fields:
        return out
    recs = list(records)
    for f in fields:
        vals = []
        for i, r in enumerate(recs):
            v = r.get(f.name) if isinstance(r, dict) else None
            if v is None:
                raise MissingFieldError(f"{source}: {subject(i)} has no {f.name!r}")
            if not isinstance(v, (list, tuple)) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v
            ):
                raise InvalidBoxesError(
                    f"{source}: {subject(i)} has a {f.name} {v!r:.60} that is not a list of numbers"
                )
            vals.append(v)
        _check_lengths(vals, subject, source, f)
        out[f.name] = _float_rows(vals, f.width)
    return out


def _all_present(res: Any, names: tuple[str, ...]) -> bool:
    return all(bool(res.present[n].all()) for n in names) and not any(
        r.size for r in res.bad_rows.values()
    )


def _scan_gt(buf: bytes, segmentation: bool = False, fields: tuple = ()) -> dict | None:
    """GT columns straight from the bytes, or None where the general decoder must look.

    With ``segmentation`` the annotations' segmentations come back as flat arrays
    (:class:`ioukit.io._jsonseg.FlatSegments`) under ``"segs"``; ``fields`` (other
    geometry fields) under ``"fields"``.
    """
    js = _scanner()
    if js is None:
        return None
    spec = _GT_SCAN
    if segmentation or fields:
        path, ann = spec["annotations"]
        ann = {**ann, **{f.name: _field_spec(js, f) for f in fields}}
        if segmentation:
            ann["segmentation"] = js.FieldSpec("span")
        spec = {**spec, "annotations": (path, ann)}
    try:
        t = js.scan_tables(buf, spec)
    except js.ScanFallback:
        return None
    im, an, ca = t["images"], t["annotations"], t["categories"]
    if not (
        im.found and ca.found and bool(im.present["id"].all()) and bool(ca.present["id"].all())
    ):
        return None
    if not _all_present(an, ("id", "image_id", "category_id", BBOX.name, "area", "iscrowd")):
        return None
    extra = _scanned_fields(an, fields)
    if extra is None:
        return None
    segs = None
    if segmentation:
        segs = _flat_segments(buf, an)
        if segs is None:
            return None
    # the scanner's columns are already fresh arrays of these dtypes: no copies
    return {
        "image_ids": np.asarray(im["id"], dtype=np.int64),
        "heights": np.where(im.present["height"], im["height"], 0),
        "widths": np.where(im.present["width"], im["width"], 0),
        "cat_ids": np.asarray(ca["id"], dtype=np.int64),
        "names": [n if n is not None else "" for n in ca["name"]],
        "ann_id": np.asarray(an["id"], dtype=np.int64),
        "ann_img": np.asarray(an["image_id"], dtype=np.int64),
        "ann_cat": np.asarray(an["category_id"], dtype=np.int64),
        "area": np.asarray(an["area"], dtype=np.float64),
        "crowd": an["iscrowd"] != 0,
        "bbox": np.asarray(an[BBOX.name], dtype=np.float64),
        "segs": segs,
        "fields": extra,
    }


def _flat_segments(buf: bytes, res: Any) -> Any:
    """Every record's segmentation as flat arrays, or None (absent somewhere / unusual)."""
    if not bool(res.present["segmentation"].all()):
        return None
    from ..io._jsonseg import parse_segmentations

    return parse_segmentations(buf, res["segmentation"], res.first_byte["segmentation"])


def _scan_threads() -> int:
    """Threads for scanning a results file: the compiled kernels' thread count
    (``OMP_NUM_THREADS``, :func:`ioukit.set_num_threads`, threadpoolctl)."""
    from .._threads import get_num_threads

    return int(get_num_threads())


def _dt_spec(js: Any, fields: tuple) -> dict:
    if not fields:
        return _DT_SCAN
    return {**_DT_SCAN, **{f.name: _field_spec(js, f) for f in fields}}


def _scan_dt(buf: bytes, fields: tuple = ()) -> dict | None:
    js = _scanner()
    if js is None:
        return None
    try:
        r = js.scan_records(buf, (), _dt_spec(js, fields), parts=_scan_threads())
    except js.ScanFallback:
        return None
    if not r.found or not _all_present(r, ("image_id", "category_id", BBOX.name, "score")):
        return None
    extra = _scanned_fields(r, fields)
    if extra is None:
        return None
    # the scanner's columns are already fresh arrays of these dtypes: no copies
    return {
        "img": np.asarray(r["image_id"], dtype=np.int64),
        "cat": np.asarray(r["category_id"], dtype=np.int64),
        "bbox": np.asarray(r[BBOX.name], dtype=np.float64),
        "score": np.asarray(r["score"], dtype=np.float64),
        "fields": extra,
    }


def _check_lengths(values: list, subject: Any, source: str, f: GeometryField = BBOX) -> None:
    """Raise for the first value (None: absent, not checked) that does not hold exactly
    ``f.width`` numbers: the one length rule of every geometry field (``bbox``: 4)."""
    w = f.width
    lengths = np.fromiter((w if v is None else len(v) for v in values), np.int64, len(values))
    rule = R.length_rule(
        lengths, values.__getitem__, subject, width=w, name=f.name, layout=f.described
    )
    R.first_error([rule], source)


def _check_bbox_lengths(bboxes: list, subject: Any, source: str) -> None:
    """:func:`_check_lengths` of COCO's ``bbox`` (:data:`BBOX`)."""
    _check_lengths(bboxes, subject, source, BBOX)


def _check_box_values(bbox: np.ndarray, what: str, ids: Any, source: str) -> None:
    """Raise for the first non-finite or negative-size xywh box (``ids(i)`` names row i).

    ``what`` is kept for callers that still pass it; the subject is ``ids(i)``.
    """
    R.first_error(R.box_value_rules(bbox, ids), source)


def _ann_subject(ann_id: np.ndarray) -> Any:
    return lambda i: f"annotation id {int(ann_id[i])} (entry {i})"


def _result_subject(img: np.ndarray, what: str = "result") -> Any:
    return lambda i: f"{what} {i} (image id {int(img[i])})"


def _float_rows(values: list, width: int) -> np.ndarray:
    """(n, width) float64 from n lists of ``width`` numbers (lengths checked before)."""
    if not values:
        return np.zeros((0, width), dtype=np.float64)
    n = len(values)
    # a flat iterator is cheaper than nested lists
    return np.fromiter((v for b in values for v in b), np.float64, width * n).reshape(n, width)


def _bbox_array(bboxes: list) -> np.ndarray:
    return _float_rows(bboxes, BBOX.width)


def load_gt(gt: Any, *, needs_segmentation: bool = False, fields: Any = ()) -> GtTable:
    """Load COCO ground truth (a path or the loaded dict) into a :class:`GtTable`.

    Raises MissingFieldError, DuplicateIdError, UnknownIdError, InvalidBoxesError,
    MalformedJSONError naming the file, field and id. Warns (``UserWarning``) on an
    annotation with id 0, which pycocotools never counts as matched. ``fields``: other
    geometry fields (:class:`GeometryField`) every annotation must have, read into
    ``ann_fields`` by the same rule as ``bbox``.

    Example
    -------
    >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 3, "name": "cat"}],
    ...              "annotations": [{"id": 5, "image_id": 1, "category_id": 3,
    ...                               "bbox": [0, 0, 2, 4], "area": 8, "iscrowd": 0}]})
    >>> g.ann_bbox.tolist(), g.category_names
    ([[0.0, 0.0, 2.0, 4.0]], {3: 'cat'})
    """
    if isinstance(gt, GtTable):
        return gt
    fields = _geometry_fields(fields)
    cols = None
    segs = None
    raw = None  # the annotations as Python objects, for the other geometry fields
    if isinstance(gt, (str, os.PathLike)):
        source = os.fspath(gt)
        buf = _map_file(gt)
        cols = _scan_gt(buf, needs_segmentation, fields)
        if cols is not None and needs_segmentation:
            segs = cols["segs"]
        if cols is None:
            from . import _schemas as S  # msgspec: only when the scanner leaves the work

            typ = S.GtSeg if needs_segmentation else S.Gt
            d = S.decode_json(buf, source, typ, None if needs_segmentation else S.GtFast)
            if fields:
                raw = _json_member(buf, "annotations")
        del buf
    elif isinstance(gt, dict):
        from . import _schemas as S

        source = "<gt dict>"
        d = S.convert(gt, S.GtSeg if needs_segmentation else S.Gt, source)
        raw = gt.get("annotations", [])
    else:
        raise DatasetError(f"ground truth must be a path or a dict; got {type(gt).__name__}")
    if cols is None:
        cols = _gt_columns(d, source)
        anns = d.annotations
        cols["fields"] = _object_fields(
            raw, fields, lambda i: f"annotation id {anns[i].id} (entry {i})", source
        )
        if needs_segmentation:
            segs = [a.segmentation for a in d.annotations]
        del d, anns
    return _finish_gt(cols, source, segs)


def _geometry_fields(fields: Any) -> tuple:
    """The other geometry fields to read, checked: GeometryField, not a COCO key."""
    out = tuple(fields or ())
    for f in out:
        if not isinstance(f, GeometryField):
            raise InvalidBoxesError(f"fields must be GeometryField declarations; got {f!r}")
        if f.name in _COCO_KEYS:
            raise InvalidBoxesError(f"field {f.name!r} is one of COCO's own keys")
    if len({f.name for f in out}) != len(out):
        raise InvalidBoxesError(f"a field is declared twice: {[f.name for f in out]}")
    return out


# keys with their own meaning in COCO annotations and results
_COCO_KEYS = {
    "id", "image_id", "category_id", "bbox", "area", "iscrowd", "score", "segmentation",
}  # fmt: skip


def _json_member(buf: Any, key: str | None) -> Any:
    """``json.loads(buf)[key]`` (the whole document for None): the records as Python
    objects, on the rare path where the scanner left the file to the general decoder
    and a plug-in's own geometry field must be read too."""
    import json

    obj = json.loads(bytes(buf))
    if key is None:
        return obj
    return obj.get(key, []) if isinstance(obj, dict) else []


def _id_column(items: Any, key: str, what: str, source: str) -> np.ndarray:
    """int64 (n,) of ``item.<key>``; an id outside int64 is refused naming its record
    (``what`` is the record kind: ``annotation entry 3``)."""
    try:
        return np.fromiter((getattr(x, key) for x in items), np.int64, len(items))
    except OverflowError:  # only here do we look at the values one by one
        for i, x in enumerate(items):
            v = getattr(x, key)
            if not R.id_in_range(v):
                raise DatasetError(f"{source}: {what} {i} {R.id_out_of_range(key, v)}") from None
        raise


def _size_column(images: Any, key: str, source: str) -> np.ndarray:
    """int64 (I,) image heights or widths (0: absent); one outside int64 is refused."""
    try:
        return np.array([getattr(im, key) for im in images], dtype=np.int64)
    except OverflowError:
        i = next(i for i, im in enumerate(images) if abs(getattr(im, key)) >= 2**63)
        raise DatasetError(
            f"{source}: image entry {i} has {key} {getattr(images[i], key)}, not an image size"
        ) from None


def _gt_columns(d: Any, source: str) -> dict:
    from . import _schemas as S

    anns = d.annotations
    n = len(anns)
    bboxes = [a.bbox for a in anns]
    ann_ids = _id_column(anns, "id", "annotation entry", source)
    if not isinstance(d, S.GtFast):  # the fast schema has 4-tuples only
        _check_bbox_lengths(bboxes, lambda i: f"annotation id {anns[i].id} (entry {i})", source)
    return {
        "image_ids": _id_column(d.images, "id", "image entry", source),
        "heights": _size_column(d.images, "height", source),
        "widths": _size_column(d.images, "width", source),
        "cat_ids": _id_column(d.categories, "id", "category entry", source),
        "names": [c.name for c in d.categories],
        "ann_id": ann_ids,
        "ann_img": _id_column(anns, "image_id", "annotation entry", source),
        "ann_cat": _id_column(anns, "category_id", "annotation entry", source),
        "area": np.fromiter((a.area for a in anns), dtype=np.float64, count=n),
        "crowd": np.fromiter((bool(a.iscrowd) for a in anns), dtype=bool, count=n),
        "bbox": _bbox_array(bboxes),
    }


def gt_findings(cols: dict) -> list[R.Finding]:
    """Every rule of :mod:`ioukit.coco._rules` on GT columns (the loader's and check's)."""
    ann_id = cols["ann_id"]
    subject = _ann_subject(ann_id)
    return [
        *R.box_value_rules(cols["bbox"], subject),
        *R.area_rules(cols["area"], subject),
        R.duplicate_id_rule(cols["image_ids"], "image"),
        R.duplicate_id_rule(cols["cat_ids"], "category"),
        R.duplicate_id_rule(ann_id, "annotation"),
        R.unknown_id_rule(cols["ann_img"], cols["image_ids"], "image", subject),
        R.unknown_id_rule(cols["ann_cat"], cols["cat_ids"], "category", subject),
        *_field_subjects(cols.get("fields") or {}, subject),
        R.id_zero_rule(ann_id, subject),  # last: the loader warns on it
    ]


def _finish_gt(cols: dict, source: str, segs: list | None) -> GtTable:
    ann_id = cols["ann_id"]
    image_ids, cat_ids = cols["image_ids"], cols["cat_ids"]
    ann_img, ann_cat, area, bbox = cols["ann_img"], cols["ann_cat"], cols["area"], cols["bbox"]
    findings = gt_findings(cols)
    R.first_error(findings, source)
    zero = findings[-1]
    if zero:
        warnings.warn(
            f"{source}: {zero.message(int(zero.rows[0]))}",
            UserWarning,
            stacklevel=4,
        )
    return GtTable(
        image_ids=image_ids,
        image_heights=cols["heights"],
        image_widths=cols["widths"],
        category_ids=cat_ids,
        category_names={int(c): str(nm) for c, nm in zip(cat_ids, cols["names"])},
        ann_id=ann_id,
        ann_image_id=ann_img,
        ann_category_id=ann_cat,
        ann_bbox=np.ascontiguousarray(bbox, dtype=np.float64),
        ann_area=area,
        ann_iscrowd=cols["crowd"],
        ann_segmentation=segs,
        source=source,
        ann_fields=cols.get("fields") or {},
    )


def load_pair(
    gt_path: str | os.PathLike,
    dt_path: str | os.PathLike,
    *,
    segm_area_bbox: Any = None,
    needs_segmentation: bool = False,
    fields: Any = (),
) -> tuple[GtTable, DtTable]:
    """Load a GT file and a results file, scanning both at once (``fields``: other
    geometry fields of both, as for :func:`load_gt`).

    The byte scanner and the segmentation parser release the GIL, so the results are
    scanned on a second thread while this one loads the GT; only the checks against
    the GT (and, for mask results, loadRes' area and box) wait for it. Anything the
    scanner leaves to the general decoder takes the sequential :func:`load_gt` /
    :func:`load_dt` path (same checks, same messages).

    >>> import json, os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     g, r = os.path.join(d, "g.json"), os.path.join(d, "r.json")
    ...     _ = open(g, "w").write(json.dumps({"images": [{"id": 1}], "categories": [{"id": 1}]}))
    ...     _ = open(r, "w").write("[]")
    ...     gt, dt = load_pair(g, r)
    >>> gt.image_ids.tolist(), dt.score.size
    ([1], 0)
    """
    from .._concurrent import run_concurrently

    fields = _geometry_fields(fields)
    if needs_segmentation:
        # The segmentation parser's OpenMP loops may run in both threads at once: each
        # calling thread gets its own OpenMP team.
        gt, raw = run_concurrently(
            [
                lambda: load_gt(gt_path, needs_segmentation=True, fields=fields),
                lambda: _scan_dt_segm_raw(_map_file(dt_path), fields),
            ]
        )
        if raw is not None:
            return gt, _finish_dt_segm(raw, gt, os.fspath(dt_path), segm_area_bbox)
        return gt, load_dt(
            dt_path, gt, needs_segmentation=True, segm_area_bbox=segm_area_bbox, fields=fields
        )
    gbuf = _map_file(gt_path)
    dbuf = _map_file(dt_path)

    def ground_truth() -> GtTable:
        # the GT (the smaller scan per byte) is checked and indexed while the results
        # are still being scanned
        gcols = _scan_gt(gbuf, False, fields)
        if gcols is not None:
            return _finish_gt(gcols, os.fspath(gt_path), None)
        return load_gt(gt_path, fields=fields)

    gt, dcols = run_concurrently([ground_truth, lambda: _scan_dt(dbuf, fields)])
    gbuf = dbuf = None  # the maps close once nothing refers to them
    if dcols is not None:
        return gt, _finish_dt_boxes(dcols, gt, os.fspath(dt_path))
    return gt, load_dt(dt_path, gt, segm_area_bbox=segm_area_bbox, fields=fields)


def _check_known(values: np.ndarray, known: np.ndarray, prefix: Any, where: str) -> None:
    """Raise ``"<prefix(i)> <value>, which is not in the GT <where>"`` for an unknown id
    (the streaming evaluator's wording: "GT box 3 has label 7, ...")."""
    f = R.unknown_id_rule(values, known, "id", str)
    if f:
        i = int(f.rows[0])
        raise UnknownIdError(f"{prefix(i)} {int(values[i])}, which is not in the GT {where}")


def _dt_findings(img: np.ndarray, cat: np.ndarray, score: np.ndarray, gt: GtTable, subject: Any):
    return [
        R.score_rule(score, subject),
        R.unknown_id_rule(img, gt.image_ids, "image", subject),
        R.unknown_id_rule(cat, gt.category_ids, "category", subject),
    ]


def load_dt(
    dt: Any,
    gt: GtTable,
    *,
    needs_segmentation: bool = False,
    segm_area_bbox: Any = None,
    fields: Any = (),
) -> DtTable:
    """Load detections as ``COCO.loadRes`` takes them into a :class:`DtTable`.

    ``dt``: a results JSON path, a list of result dicts, or an (N, 7) array of rows
    ``[image_id, x, y, w, h, score, category_id]``. ``fields``: other geometry fields
    (:class:`GeometryField`) every result must have, read into ``DtTable.fields``.

    Example
    -------
    >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 3}], "annotations": []})
    >>> d = load_dt([{"image_id": 1, "category_id": 3, "bbox": [0, 0, 2, 4], "score": 0.5}], g)
    >>> d.area.tolist(), d.score.tolist()
    ([8.0], [0.5])
    """
    if isinstance(dt, DtTable):
        return dt
    fields = _geometry_fields(fields)
    if isinstance(dt, np.ndarray) or (
        hasattr(dt, "__array__") and not isinstance(dt, (list, tuple, str, os.PathLike))
    ):
        if fields:
            raise DatasetError(
                f"<results array>: (N, 7) rows have no {[f.name for f in fields]} "
                "(the IoU type needs them): give the results as JSON or a list of dicts"
            )
        return _load_dt_array(np.asarray(dt), gt)
    from . import _schemas as S  # msgspec: only when the scanner leaves the work

    typ = list[S.ResSeg] if needs_segmentation else list[S.Res]
    raw = None  # the results as Python objects, for the other geometry fields
    if isinstance(dt, (str, os.PathLike)):
        source = os.fspath(dt)
        buf = _map_file(dt)
        if not needs_segmentation:
            cols = _scan_dt(buf, fields)
            if cols is not None:
                del buf
                return _finish_dt_boxes(cols, gt, source)
        else:
            out = _scan_dt_segm(buf, gt, source, segm_area_bbox, fields)
            if out is not None:
                return out
        res = S.decode_json(buf, source, typ, None if needs_segmentation else list[S.ResFast])
        if fields:
            raw = _json_member(buf, None)
        del buf
    elif isinstance(dt, (list, tuple)):
        source = "<results list>"
        res = S.convert(list(dt), typ, source)
        raw = dt
    else:
        raise DatasetError(
            "detections must be a path, a list of dicts or an (N, 7) array; "
            f"got {type(dt).__name__}"
        )
    n = len(res)
    segs = None
    geom = None  # what the plug-in built for loadRes' areas (segmentation mode)
    box_mode = n == 0 or (res[0].bbox is not None and len(res[0].bbox) > 0)
    if not box_mode and not needs_segmentation:
        # loadRes' segmentation mode: re-read keeping the segmentations
        return load_dt(
            dt, gt, needs_segmentation=True, segm_area_bbox=segm_area_bbox, fields=fields
        )
    img = _id_column(res, "image_id", "result", source)
    cat = _id_column(res, "category_id", "result", source)
    score = np.fromiter((r.score for r in res), dtype=np.float64, count=n)

    rid = _result_subject(img)
    bboxes = [r.bbox for r in res]
    if box_mode:
        fast = n > 0 and isinstance(res[0], S.ResFast)
        missing = [] if fast else [i for i, b in enumerate(bboxes) if b is None]
        if missing:
            raise MissingFieldError(
                f"{source}: {rid(missing[0])} has no 'bbox' (results[0] has one)"
            )
        if not (n and isinstance(res[0], S.ResFast)):
            _check_bbox_lengths(bboxes, rid, source)
        bbox = _bbox_array(bboxes)
        _check_box_values(bbox, "", rid, source)
        # coco.py loadRes: ann['area'] = bb[2]*bb[3]
        area = bbox[:, 2] * bbox[:, 3]
        if needs_segmentation:
            segs = [r.segmentation for r in res]
            for i, s in enumerate(segs):
                if s is None:
                    x1, y1, w, h = bboxes[i]
                    x2, y2 = x1 + w, y1 + h
                    segs[i] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
    else:
        segs = [r.segmentation for r in res]
        missing = [i for i, s in enumerate(segs) if s is None]
        if missing:
            i = missing[0]
            raise MissingFieldError(
                f"{source}: {rid(i)} has no 'segmentation' (results[0] has no bbox: the "
                "results are read by their masks)"
                if bboxes[i]
                else f"{source}: {rid(i)} has neither 'bbox' nor 'segmentation'"
            )
        if segm_area_bbox is None:
            raise DatasetError(
                f"{source}: results carry segmentations only; their area and box need the "
                "'segm' IoU type (ioukit.rle)"
            )
        area, seg_bbox, geom = _loadres_area_bbox(segm_area_bbox, segs, gt, n, img, source)
        given = [i for i, b in enumerate(bboxes) if b is not None and len(b) > 0]
        if given:
            _check_bbox_lengths([bboxes[i] for i in given], lambda j: rid(given[j]), source)
            seg_bbox[given] = np.array([bboxes[i] for i in given], dtype=np.float64)
        bbox = seg_bbox
    extra = _object_fields(raw, fields, rid, source)
    R.first_error([*_dt_findings(img, cat, score, gt, rid), *_field_subjects(extra, rid)], source)
    return DtTable(img, cat, bbox, score, area, segs, source, geom, extra)


def _loadres_area_bbox(
    hook: Any, segs: Any, gt: GtTable, n: int, image_id: np.ndarray, source: str
) -> tuple:
    """``COCO.loadRes``' area and box of segmentation-only results, from the plug-in.

    ``hook(segs, gt, image_id=, source=)`` returns ``(area (n,), bbox (n, 4))`` and
    optionally a third item, the geometry it built on the way (kept on the table as
    ``loaded_geometry``). The results' image ids are checked first: polygons are
    rasterised at their image's GT size.
    """
    rid = _result_subject(image_id)
    R.first_error([R.unknown_id_rule(image_id, gt.image_ids, "image", rid)], source)
    out = hook(segs, gt, image_id=image_id, source=source)
    area = np.asarray(out[0], dtype=np.float64)
    bbox = np.asarray(out[1], dtype=np.float64).reshape(n, 4)
    return area, bbox, (out[2] if len(out) > 2 else None)


def _scan_dt_segm(
    buf: bytes, gt: GtTable, source: str, segm_area_bbox: Any, fields: tuple = ()
) -> DtTable | None:
    """Results with segmentations straight from the bytes (loadRes rules), or None."""
    raw = _scan_dt_segm_raw(buf, fields)
    return None if raw is None else _finish_dt_segm(raw, gt, source, segm_area_bbox)


def _scan_dt_segm_raw(buf: bytes, fields: tuple = ()) -> dict | None:
    """The byte work of :func:`_scan_dt_segm` (no GT needed): columns and flat segments."""
    js = _scanner()
    if js is None:
        return None
    spec = {**_dt_spec(js, fields), "segmentation": js.FieldSpec("span")}
    try:
        r = js.scan_records(buf, (), spec, parts=_scan_threads())
    except js.ScanFallback:
        return None
    if not r.found or not all(
        bool(r.present[k].all()) for k in ("image_id", "category_id", "score")
    ):
        return None
    n = r.count
    box = BBOX.name
    has_box = r.present[box] & (r.lengths[box] > 0)
    if (r.present[box] & (r.lengths[box] != BBOX.width) & (r.lengths[box] != 0)).any():
        return None  # boxes of another length: the general path names them
    box_mode = n == 0 or bool(has_box[0])
    if box_mode and not bool(has_box.all()):
        return None
    extra = _scanned_fields(r, fields)
    if extra is None:
        return None
    segs = _flat_segments(buf, r)
    if segs is None:
        return None
    return {
        "img": np.asarray(r["image_id"], dtype=np.int64),
        "cat": np.asarray(r["category_id"], dtype=np.int64),
        "bbox": np.asarray(r[box], dtype=np.float64),
        "score": np.asarray(r["score"], dtype=np.float64),
        "n": n,
        "has_box": has_box,
        "box_mode": box_mode,
        "segs": segs,
        "fields": extra,
    }


def _finish_dt_segm(raw: dict, gt: GtTable, source: str, segm_area_bbox: Any) -> DtTable:
    """Checks against the GT, and area and box by the loadRes rules."""
    n, has_box, box_mode, segs = raw["n"], raw["has_box"], raw["box_mode"], raw["segs"]
    cols = {k: raw[k] for k in ("img", "cat", "bbox", "score", "fields")}
    if box_mode:
        d = _finish_dt_boxes(cols, gt, source)
        d.segmentation = segs
        return d
    img, cat, score = cols["img"], cols["cat"], cols["score"]
    rid = _result_subject(img)
    if segm_area_bbox is None:
        raise DatasetError(
            f"{source}: results carry segmentations only; their area and box need the "
            "'segm' IoU type (ioukit.rle)"
        )
    area, bbox, geom = _loadres_area_bbox(segm_area_bbox, segs, gt, n, img, source)
    # coco.py loadRes keeps a result's own box where it has one
    bbox[has_box] = cols["bbox"][has_box]
    extra = cols["fields"]
    R.first_error([*_dt_findings(img, cat, score, gt, rid), *_field_subjects(extra, rid)], source)
    return DtTable(img, cat, bbox, score, area, segs, source, geom, extra)


def dt_findings(cols: dict, gt: GtTable) -> list[R.Finding]:
    """Every rule of :mod:`ioukit.coco._rules` on result columns (the loader's and check's)."""
    rid = _result_subject(cols["img"])
    return [
        *R.box_value_rules(cols["bbox"], rid),
        *_dt_findings(cols["img"], cols["cat"], cols["score"], gt, rid),
        *_field_subjects(cols.get("fields") or {}, rid),
    ]


def _finish_dt_boxes(cols: dict, gt: GtTable, source: str) -> DtTable:
    img, cat, bbox, score = cols["img"], cols["cat"], cols["bbox"], cols["score"]
    R.first_error(dt_findings(cols, gt), source)
    # coco.py loadRes: ann['area'] = bb[2]*bb[3]
    area = bbox[:, 2] * bbox[:, 3]
    extra = cols.get("fields") or {}
    return DtTable(img, cat, np.ascontiguousarray(bbox), score, area, None, source, None, extra)


def _check_scores(score: np.ndarray, rid: Any, source: str) -> None:
    """Raise for the first non-finite score (``rid(i)`` names row i)."""
    R.first_error([R.score_rule(score, rid)], source)


def _load_dt_array(arr: np.ndarray, gt: GtTable) -> DtTable:
    source = "<results array>"
    if arr.ndim != 2 or arr.shape[1] != 7:
        raise InvalidBoxesError(
            f"{source}: expected shape (N, 7) rows [image_id, x, y, w, h, score, category_id]; "
            f"got {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise DatasetError(f"{source}: expected a numeric array; got dtype {arr.dtype}")
    if not np.isfinite(arr[:, [0, 6]]).all():
        i = int(np.flatnonzero(~np.isfinite(arr[:, [0, 6]]).all(axis=1))[0])
        raise DatasetError(f"{source}: row {i} has a non-finite image or category id")
    # coco.py loadNumpyAnnotations: int(data[i, 0]) truncates toward zero
    img = arr[:, 0].astype(np.int64)
    cat = arr[:, 6].astype(np.int64)

    rid = _result_subject(img, "row")
    bbox_native = arr[:, 1:5]
    bbox = bbox_native.astype(np.float64)
    score = arr[:, 5].astype(np.float64)
    R.first_error([*R.box_value_rules(bbox, rid), *_dt_findings(img, cat, score, gt, rid)], source)
    # loadRes computes bb[2]*bb[3] on the array's own scalars (float32 stays float32)
    area = (bbox_native[:, 2] * bbox_native[:, 3]).astype(np.float64)
    return DtTable(img, cat, np.ascontiguousarray(bbox), score, area, None, source)
