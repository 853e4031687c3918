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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import (
    DatasetError,
    DuplicateIdError,
    InvalidBoxesError,
    MissingFieldError,
    UnknownIdError,
)

__all__ = ["GtTable", "DtTable", "load_gt", "load_dt", "load_pair"]


@dataclass
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


@dataclass
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
    """

    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray
    segmentation: list | None = None
    source: str = "<list>"


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
        _GT_SCAN = {
            "images": (("images",), {"id": F("int"), "height": F("int"), "width": F("int")}),
            "annotations": (
                ("annotations",),
                {
                    "id": F("int"),
                    "image_id": F("int"),
                    "category_id": F("int"),
                    "bbox": F("float4"),
                    "area": F("float"),
                    "iscrowd": F("flag"),
                },
            ),
            "categories": (("categories",), {"id": F("int"), "name": F("str")}),
        }
        _DT_SCAN = {
            "image_id": F("int"),
            "category_id": F("int"),
            "bbox": F("float4"),
            "score": F("float"),
        }
    return js


def _all_present(res: Any, names: tuple[str, ...]) -> bool:
    return all(bool(res.present[n].all()) for n in names) and not any(
        r.size for r in res.bad_rows.values()
    )


def _scan_gt(buf: bytes, segmentation: bool = False) -> dict | None:
    """GT columns straight from the bytes, or None where the general decoder must look.

    With ``segmentation`` the annotations' segmentations come back as flat arrays
    (:class:`ioukit.io._jsonseg.FlatSegments`) under ``"segs"``.
    """
    js = _scanner()
    if js is None:
        return None
    spec = _GT_SCAN
    if segmentation:
        path, fields = spec["annotations"]
        spec = {**spec, "annotations": (path, {**fields, "segmentation": js.FieldSpec("span")})}
    try:
        t = js.scan_tables(buf, spec)
    except js.ScanFallback:
        return None
    im, an, ca = t["images"], t["annotations"], t["categories"]
    if not (
        im.found and ca.found and bool(im.present["id"].all()) and bool(ca.present["id"].all())
    ):
        return None
    if not _all_present(an, ("id", "image_id", "category_id", "bbox", "area", "iscrowd")):
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
        "bbox": np.asarray(an["bbox"], dtype=np.float64),
        "segs": segs,
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


def _scan_dt(buf: bytes) -> dict | None:
    js = _scanner()
    if js is None:
        return None
    try:
        r = js.scan_records(buf, (), _DT_SCAN, parts=_scan_threads())
    except js.ScanFallback:
        return None
    if not r.found or not _all_present(r, ("image_id", "category_id", "bbox", "score")):
        return None
    # the scanner's columns are already fresh arrays of these dtypes: no copies
    return {
        "img": np.asarray(r["image_id"], dtype=np.int64),
        "cat": np.asarray(r["category_id"], dtype=np.int64),
        "bbox": np.asarray(r["bbox"], dtype=np.float64),
        "score": np.asarray(r["score"], dtype=np.float64),
    }


def _check_bbox_lengths(bboxes: list, what: str, ids: Any, source: str) -> None:
    bad = [i for i, b in enumerate(bboxes) if b is not None and len(b) != 4]
    if bad:
        i = bad[0]
        raise InvalidBoxesError(
            f"{source}: {what} {ids(i)} has a bbox of length {len(bboxes[i])} "
            f"(expected 4: [x, y, w, h]): {bboxes[i]!r}"
        )


def _check_box_values(bbox: np.ndarray, what: str, ids: Any, source: str) -> None:
    finite = np.isfinite(bbox).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise InvalidBoxesError(
            f"{source}: {what} {ids(i)} has a non-finite bbox {bbox[i].tolist()}"
        )
    neg = (bbox[:, 2] < 0) | (bbox[:, 3] < 0)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise InvalidBoxesError(
            f"{source}: {what} {ids(i)} has a negative width or height: bbox {bbox[i].tolist()}"
        )


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


def _bbox_array(bboxes: list) -> np.ndarray:
    if not bboxes:
        return np.zeros((0, 4), dtype=np.float64)
    n = len(bboxes)
    # lengths are checked before: a flat iterator is cheaper than nested lists
    return np.fromiter((v for b in bboxes for v in b), np.float64, 4 * n).reshape(n, 4)


def load_gt(gt: Any, *, needs_segmentation: bool = False) -> GtTable:
    """Load COCO ground truth (a path or the loaded dict) into a :class:`GtTable`.

    Raises MissingFieldError, DuplicateIdError, UnknownIdError, InvalidBoxesError,
    MalformedJSONError naming the file, field and id. Warns (``UserWarning``) on an
    annotation with id 0, which pycocotools never counts as matched.

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
    from . import _schemas as S  # msgspec: only when the scanner leaves the work

    typ = S.GtSeg if needs_segmentation else S.Gt
    cols = None
    segs = None
    if isinstance(gt, (str, os.PathLike)):
        source = os.fspath(gt)
        buf = _map_file(gt)
        cols = _scan_gt(buf, needs_segmentation)
        if cols is not None and needs_segmentation:
            segs = cols["segs"]
        if cols is None:
            d = S.decode_json(buf, source, typ, None if needs_segmentation else S.GtFast)
        del buf
    elif isinstance(gt, dict):
        source = "<gt dict>"
        d = S.convert(gt, typ, source)
    else:
        raise DatasetError(f"ground truth must be a path or a dict; got {type(gt).__name__}")
    if cols is None:
        cols = _gt_columns(d)
        if needs_segmentation:
            segs = [a.segmentation for a in d.annotations]
        del d
    return _finish_gt(cols, source, segs)


def _gt_columns(d: Any) -> dict:
    from . import _schemas as S

    anns = d.annotations
    n = len(anns)
    bboxes = [a.bbox for a in anns]
    if not isinstance(d, S.GtFast):  # the fast schema has 4-tuples only
        bad = [i for i, b in enumerate(bboxes) if len(b) != 4]
        if bad:
            i = bad[0]
            return {"bad_bbox": (i, anns[i].id, bboxes[i])}
    return {
        "image_ids": np.fromiter((i.id for i in d.images), dtype=np.int64, count=len(d.images)),
        "heights": np.array([i.height for i in d.images], dtype=np.int64),
        "widths": np.array([i.width for i in d.images], dtype=np.int64),
        "cat_ids": np.fromiter(
            (c.id for c in d.categories), dtype=np.int64, count=len(d.categories)
        ),
        "names": [c.name for c in d.categories],
        "ann_id": np.fromiter((a.id for a in anns), dtype=np.int64, count=n),
        "ann_img": np.fromiter((a.image_id for a in anns), dtype=np.int64, count=n),
        "ann_cat": np.fromiter((a.category_id for a in anns), dtype=np.int64, count=n),
        "area": np.fromiter((a.area for a in anns), dtype=np.float64, count=n),
        "crowd": np.fromiter((bool(a.iscrowd) for a in anns), dtype=bool, count=n),
        "bbox": _bbox_array(bboxes),
    }


def _finish_gt(cols: dict, source: str, segs: list | None) -> GtTable:
    if "bad_bbox" in cols:
        i, aid_, b = cols["bad_bbox"]
        raise InvalidBoxesError(
            f"{source}: annotation id {aid_} (entry {i}) has a bbox of length {len(b)} "
            f"(expected 4: [x, y, w, h]): {b!r}"
        )
    ann_id = cols["ann_id"]
    image_ids, cat_ids = cols["image_ids"], cols["cat_ids"]
    ann_img, ann_cat, area, bbox = cols["ann_img"], cols["ann_cat"], cols["area"], cols["bbox"]

    def aid(i: int) -> str:
        return f"annotation id {int(ann_id[i])} (entry {i})"

    _check_box_values(bbox, "", aid, source)
    bad = ~np.isfinite(area)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{source}: {aid(i)} has a non-finite area {area[i]}")
    _check_unique(image_ids, "image", source)
    _check_unique(cat_ids, "category", source)
    _check_unique(ann_id, "annotation", source)
    _check_known(ann_img, image_ids, lambda i: f"{source}: {aid(i)} refers to image id", "images")
    _check_known(
        ann_cat, cat_ids, lambda i: f"{source}: {aid(i)} refers to category id", "categories"
    )
    zero = np.flatnonzero(ann_id == 0)
    if zero.size:
        warnings.warn(
            f"{source}: annotation id 0 (entry {int(zero[0])}): pycocotools never counts a "
            "detection matched to it as a true positive; ioukit reproduces that unless "
            "evaluate(..., fix_zero_id=True)",
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
    )


def load_pair(
    gt_path: str | os.PathLike,
    dt_path: str | os.PathLike,
    *,
    segm_area_bbox: Any = None,
    needs_segmentation: bool = False,
) -> tuple[GtTable, DtTable]:
    """Load a GT file and a results file, scanning both at once.

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
    from concurrent.futures import ThreadPoolExecutor

    if needs_segmentation:
        # The segmentation parser's OpenMP loops may run in both threads at once: each
        # calling thread gets its own OpenMP team.
        with ThreadPoolExecutor(1) as ex:
            fut = ex.submit(lambda: _scan_dt_segm_raw(_map_file(dt_path)))
            gt = load_gt(gt_path, needs_segmentation=True)
            raw = fut.result()
        if raw is not None:
            return gt, _finish_dt_segm(raw, gt, os.fspath(dt_path), segm_area_bbox)
        return gt, load_dt(dt_path, gt, needs_segmentation=True, segm_area_bbox=segm_area_bbox)
    gbuf = _map_file(gt_path)
    dbuf = _map_file(dt_path)
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(_scan_dt, dbuf)
        gcols = _scan_gt(gbuf)
        del gbuf
        # the GT (the smaller scan per byte) is checked and indexed while the results
        # are still being scanned
        if gcols is not None:
            gt = _finish_gt(gcols, os.fspath(gt_path), None)
        else:
            gt = load_gt(gt_path)
        dcols = fut.result()
    del dbuf
    if dcols is not None:
        return gt, _finish_dt_boxes(dcols, gt, os.fspath(dt_path))
    return gt, load_dt(dt_path, gt, segm_area_bbox=segm_area_bbox)


def _check_known(values: np.ndarray, known: np.ndarray, prefix: Any, where: str) -> None:
    if values.size == 0:
        return
    ks = np.sort(known)
    pos = np.searchsorted(ks, values)
    pos[pos >= ks.size] = 0
    ok = ks[pos] == values if ks.size else np.zeros(values.shape, dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise UnknownIdError(f"{prefix(i)} {int(values[i])}, which is not in the GT {where}")


def load_dt(
    dt: Any,
    gt: GtTable,
    *,
    needs_segmentation: bool = False,
    segm_area_bbox: Any = None,
) -> DtTable:
    """Load detections as ``COCO.loadRes`` takes them into a :class:`DtTable`.

    ``dt``: a results JSON path, a list of result dicts, or an (N, 7) array of rows
    ``[image_id, x, y, w, h, score, category_id]``.

    Example
    -------
    >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 3}], "annotations": []})
    >>> d = load_dt([{"image_id": 1, "category_id": 3, "bbox": [0, 0, 2, 4], "score": 0.5}], g)
    >>> d.area.tolist(), d.score.tolist()
    ([8.0], [0.5])
    """
    if isinstance(dt, DtTable):
        return dt
    if isinstance(dt, np.ndarray):
        return _load_dt_array(dt, gt)
    if hasattr(dt, "__array__") and not isinstance(dt, (list, tuple, str, os.PathLike)):
        return _load_dt_array(np.asarray(dt), gt)
    from . import _schemas as S  # msgspec: only when the scanner leaves the work

    typ = list[S.ResSeg] if needs_segmentation else list[S.Res]
    if isinstance(dt, (str, os.PathLike)):
        source = os.fspath(dt)
        buf = _map_file(dt)
        if not needs_segmentation:
            cols = _scan_dt(buf)
            if cols is not None:
                del buf
                return _finish_dt_boxes(cols, gt, source)
        else:
            out = _scan_dt_segm(buf, gt, source, segm_area_bbox)
            if out is not None:
                return out
        res = S.decode_json(buf, source, typ, None if needs_segmentation else list[S.ResFast])
        del buf
    elif isinstance(dt, (list, tuple)):
        source = "<results list>"
        res = S.convert(list(dt), typ, source)
    else:
        raise DatasetError(
            "detections must be a path, a list of dicts or an (N, 7) array; "
            f"got {type(dt).__name__}"
        )
    n = len(res)
    segs = None
    box_mode = n == 0 or (res[0].bbox is not None and len(res[0].bbox) > 0)
    if not box_mode and not needs_segmentation:
        # loadRes' segmentation mode: re-read keeping the segmentations
        return load_dt(dt, gt, needs_segmentation=True, segm_area_bbox=segm_area_bbox)
    img = np.fromiter((r.image_id for r in res), dtype=np.int64, count=n)
    cat = np.fromiter((r.category_id for r in res), dtype=np.int64, count=n)
    score = np.fromiter((r.score for r in res), dtype=np.float64, count=n)

    def rid(i: int) -> str:
        return f"result {i} (image id {int(img[i])})"

    bboxes = [r.bbox for r in res]
    if box_mode:
        fast = n > 0 and isinstance(res[0], S.ResFast)
        missing = [] if fast else [i for i, b in enumerate(bboxes) if b is None]
        if missing:
            raise MissingFieldError(
                f"{source}: {rid(missing[0])} has no 'bbox' (results[0] has one)"
            )
        if not (n and isinstance(res[0], S.ResFast)):
            _check_bbox_lengths(bboxes, "", rid, source)
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
            raise MissingFieldError(
                f"{source}: {rid(missing[0])} has neither 'bbox' nor 'segmentation'"
            )
        if segm_area_bbox is None:
            raise DatasetError(
                f"{source}: results carry segmentations only; their area and box need the "
                "'segm' IoU type (ioukit.rle)"
            )
        area, seg_bbox = segm_area_bbox(segs, gt)
        area = np.asarray(area, dtype=np.float64)
        seg_bbox = np.asarray(seg_bbox, dtype=np.float64).reshape(n, 4)
        given = [i for i, b in enumerate(bboxes) if b is not None and len(b) > 0]
        if given:
            _check_bbox_lengths([bboxes[i] for i in given], "", lambda j: rid(given[j]), source)
            seg_bbox[given] = np.array([bboxes[i] for i in given], dtype=np.float64)
        bbox = seg_bbox
    _check_scores(score, rid, source)
    _check_known(img, gt.image_ids, lambda i: f"{source}: {rid(i)} refers to image id", "images")
    _check_known(
        cat, gt.category_ids, lambda i: f"{source}: {rid(i)} refers to category id", "categories"
    )
    return DtTable(img, cat, bbox, score, area, segs, source)


def _scan_dt_segm(buf: bytes, gt: GtTable, source: str, segm_area_bbox: Any) -> DtTable | None:
    """Results with segmentations straight from the bytes (loadRes rules), or None."""
    raw = _scan_dt_segm_raw(buf)
    return None if raw is None else _finish_dt_segm(raw, gt, source, segm_area_bbox)


def _scan_dt_segm_raw(buf: bytes) -> dict | None:
    """The byte work of :func:`_scan_dt_segm` (no GT needed): columns and flat segments."""
    js = _scanner()
    if js is None:
        return None
    fields = {**_DT_SCAN, "segmentation": js.FieldSpec("span")}
    try:
        r = js.scan_records(buf, (), fields, parts=_scan_threads())
    except js.ScanFallback:
        return None
    if not r.found or not all(
        bool(r.present[k].all()) for k in ("image_id", "category_id", "score")
    ):
        return None
    n = r.count
    has_box = r.present["bbox"] & (r.lengths["bbox"] > 0)
    if (r.present["bbox"] & (r.lengths["bbox"] != 4) & (r.lengths["bbox"] != 0)).any():
        return None  # boxes of another length: the general path names them
    box_mode = n == 0 or bool(has_box[0])
    if box_mode and not bool(has_box.all()):
        return None
    segs = _flat_segments(buf, r)
    if segs is None:
        return None
    return {
        "img": np.asarray(r["image_id"], dtype=np.int64),
        "cat": np.asarray(r["category_id"], dtype=np.int64),
        "bbox": np.asarray(r["bbox"], dtype=np.float64),
        "score": np.asarray(r["score"], dtype=np.float64),
        "n": n,
        "has_box": has_box,
        "box_mode": box_mode,
        "segs": segs,
    }


def _finish_dt_segm(raw: dict, gt: GtTable, source: str, segm_area_bbox: Any) -> DtTable:
    """Checks against the GT, and area and box by the loadRes rules."""
    n, has_box, box_mode, segs = raw["n"], raw["has_box"], raw["box_mode"], raw["segs"]
    cols = {k: raw[k] for k in ("img", "cat", "bbox", "score")}
    if box_mode:
        d = _finish_dt_boxes(cols, gt, source)
        d.segmentation = segs
        return d
    img, cat, score = cols["img"], cols["cat"], cols["score"]

    def rid(i: int) -> str:
        return f"result {i} (image id {int(img[i])})"

    if segm_area_bbox is None:
        raise DatasetError(
            f"{source}: results carry segmentations only; their area and box need the "
            "'segm' IoU type (ioukit.rle)"
        )
    area, seg_bbox = segm_area_bbox(segs, gt)
    area = np.asarray(area, dtype=np.float64)
    bbox = np.asarray(seg_bbox, dtype=np.float64).reshape(n, 4)
    # coco.py loadRes keeps a result's own box where it has one
    bbox[has_box] = cols["bbox"][has_box]
    _check_scores(score, rid, source)
    _check_known(img, gt.image_ids, lambda i: f"{source}: {rid(i)} refers to image id", "images")
    _check_known(
        cat, gt.category_ids, lambda i: f"{source}: {rid(i)} refers to category id", "categories"
    )
    return DtTable(img, cat, bbox, score, area, segs, source)


def _finish_dt_boxes(cols: dict, gt: GtTable, source: str) -> DtTable:
    img, cat, bbox, score = cols["img"], cols["cat"], cols["bbox"], cols["score"]

    def rid(i: int) -> str:
        return f"result {i} (image id {int(img[i])})"

    _check_box_values(bbox, "", rid, source)
    # coco.py loadRes: ann['area'] = bb[2]*bb[3]
    area = bbox[:, 2] * bbox[:, 3]
    _check_scores(score, rid, source)
    _check_known(img, gt.image_ids, lambda i: f"{source}: {rid(i)} refers to image id", "images")
    _check_known(
        cat, gt.category_ids, lambda i: f"{source}: {rid(i)} refers to category id", "categories"
    )
    return DtTable(img, cat, np.ascontiguousarray(bbox), score, area, None, source)


def _check_scores(score: np.ndarray, rid: Any, source: str) -> None:
    bad = ~np.isfinite(score)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{source}: {rid(i)} has a non-finite score {score[i]}")


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

    def rid(i: int) -> str:
        return f"row {i} (image id {int(img[i])})"

    bbox_native = arr[:, 1:5]
    bbox = bbox_native.astype(np.float64)
    _check_box_values(bbox, "", rid, source)
    # loadRes computes bb[2]*bb[3] on the array's own scalars (float32 stays float32)
    area = (bbox_native[:, 2] * bbox_native[:, 3]).astype(np.float64)
    score = arr[:, 5].astype(np.float64)
    _check_scores(score, rid, source)
    _check_known(img, gt.image_ids, lambda i: f"{source}: {rid(i)} refers to image id", "images")
    _check_known(
        cat, gt.category_ids, lambda i: f"{source}: {rid(i)} refers to category id", "categories"
    )
    return DtTable(img, cat, np.ascontiguousarray(bbox), score, area, None, source)
