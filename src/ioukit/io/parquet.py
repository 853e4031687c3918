"""COCO ground truth and detections as a Parquet dataset (one row per box).

Layout written by :func:`to_parquet` (documented in docs/distributed.md)::

    PATH/
      _ioukit.json            format marker and row counts
      images.parquet          id, height, width                 (file order)
      categories.parquet      id, name                          (file order)
      gt/part-00000.parquet   image_id, category_id, id, x, y, w, h, area, iscrowd
                              [, segmentation]                  (sorted by image_id)
      dt/part-00000.parquet   image_id, category_id, x, y, w, h, score, area
                              [, segmentation]                  (sorted by image_id)

Rows are sorted by ``image_id`` with a stable sort, so the order of rows *within*
an image is the file order (pycocotools breaks score ties by it), and every file and
row group covers a contiguous image-id range: a reader of an image range (a shard)
opens only the files and row groups whose min/max statistics overlap it (pyarrow
``filters``). An image never spans two files.

Reading back gives the same :class:`~ioukit.coco.GtTable` / :class:`~ioukit.coco.DtTable`
columns as the JSON loaders (same float64 values, same within-image order), hence the
same evaluation to the last bit.

Example
-------
>>> import tempfile
>>> from ioukit.synthetic import make_coco_dataset
>>> gt, dt = make_coco_dataset(n_images=10, n_categories=3, polygons=False, seed=0)
>>> root = to_parquet(gt, tempfile.mkdtemp(), dt=dt)
>>> g = read_gt(root)
>>> g.ann_id.size == len(gt["annotations"]), read_dt(root, g).score.size == len(dt)
(True, True)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, MissingDependencyError, MissingFieldError

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as e:  # pragma: no cover - pyarrow ships with the dask extra
    raise MissingDependencyError("ioukit.io.parquet needs pyarrow: pip install ioukit[dask]") from e

__all__ = [
    "to_parquet",
    "is_dataset",
    "read_images",
    "read_categories",
    "read_gt",
    "read_dt",
    "gt_from_columns",
    "dt_from_columns",
    "GT_COLUMNS",
    "DT_COLUMNS",
]

FORMAT = "ioukit-coco-parquet"
VERSION = 1
GT_COLUMNS = ("image_id", "category_id", "id", "x", "y", "w", "h", "area", "iscrowd")
DT_COLUMNS = ("image_id", "category_id", "x", "y", "w", "h", "score")

_GT_TYPES = {
    "image_id": pa.int64(),
    "category_id": pa.int64(),
    "id": pa.int64(),
    "x": pa.float64(),
    "y": pa.float64(),
    "w": pa.float64(),
    "h": pa.float64(),
    "area": pa.float64(),
    "iscrowd": pa.bool_(),
}
_DT_TYPES = {
    "image_id": pa.int64(),
    "category_id": pa.int64(),
    "x": pa.float64(),
    "y": pa.float64(),
    "w": pa.float64(),
    "h": pa.float64(),
    "score": pa.float64(),
    "area": pa.float64(),
}


# ------------------------------------------------------------------------ writing
def _split_points(image_id: np.ndarray, rows_per_file: int) -> list[tuple[int, int]]:
    """Row ranges of about ``rows_per_file`` rows that never split an image (sorted ids)."""
    n = image_id.size
    if n == 0:
        return [(0, 0)]
    out = []
    start = 0
    while start < n:
        stop = min(start + rows_per_file, n)
        if stop < n:
            # move the cut to the first row of the next image
            stop = int(np.searchsorted(image_id, image_id[stop - 1], side="right"))
        out.append((start, stop))
        start = stop
    return out


def _write_rows(
    directory: Path,
    columns: dict[str, np.ndarray],
    types: dict,
    rows_per_file: int,
    row_group_rows: int,
    segmentation: list | None,
) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("part-*.parquet"):
        old.unlink()
    # stable: rows of one image keep their file order
    order = np.argsort(columns["image_id"], kind="stable")
    cols = {k: np.asarray(v)[order] for k, v in columns.items()}
    segs = [json.dumps(segmentation[i]) for i in order] if segmentation is not None else None
    fields = [pa.field(k, types[k]) for k in cols]
    if segs is not None:
        fields.append(pa.field("segmentation", pa.string()))
    schema = pa.schema(fields)
    for n, (a, b) in enumerate(_split_points(cols["image_id"], rows_per_file)):
        arrays = [pa.array(cols[k][a:b], type=types[k]) for k in cols]
        if segs is not None:
            arrays.append(pa.array(segs[a:b], type=pa.string()))
        table = pa.Table.from_arrays(arrays, schema=schema)
        pq.write_table(table, directory / f"part-{n:05d}.parquet", row_group_size=row_group_rows)
    return int(order.size)


def to_parquet(
    gt: Any,
    path: str | os.PathLike,
    dt: Any = None,
    *,
    segmentation: bool = False,
    rows_per_file: int = 1_000_000,
    row_group_rows: int = 65_536,
) -> str:
    """Write COCO ground truth (and optionally detections) as a Parquet dataset.

    Parameters
    ----------
    gt : str | PathLike | dict | GtTable
        COCO ground truth (what :func:`ioukit.coco.load_gt` takes).
    path : str | PathLike
        Directory to create (existing ``part-*`` files in it are replaced).
    dt : str | PathLike | list[dict] | ndarray (N, 7) | DtTable, optional
        Detections (what :func:`ioukit.coco.load_dt` takes), written under ``dt/``.
    segmentation : bool
        Also store segmentations (a JSON text column) for ``iou_type="segm"``.
    rows_per_file, row_group_rows : int
        About how many rows go in one file (never splitting an image) and one row group.

    Returns
    -------
    str : the dataset directory.

    Example
    -------
    >>> import tempfile
    >>> gt = {"images": [{"id": 1, "height": 10, "width": 10}], "categories": [{"id": 1}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 2, 3], "area": 6, "iscrowd": 0}]}
    >>> root = to_parquet(gt, tempfile.mkdtemp())
    >>> read_gt(root).ann_bbox.tolist()
    [[0.0, 0.0, 2.0, 3.0]]
    """
    from ..coco import get_iou_type, load_dt, load_gt

    if rows_per_file < 1 or row_group_rows < 1:
        raise DatasetError(
            f"rows_per_file and row_group_rows must be positive; got {rows_per_file}, "
            f"{row_group_rows}"
        )
    g = load_gt(gt, needs_segmentation=segmentation)
    if segmentation and g.ann_segmentation is None:
        raise DatasetError(f"{g.source}: segmentation=True needs a GT loaded with segmentations")
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "id": pa.array(g.image_ids, pa.int64()),
                "height": pa.array(g.image_heights, pa.int64()),
                "width": pa.array(g.image_widths, pa.int64()),
            }
        ),
        root / "images.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "id": pa.array(g.category_ids, pa.int64()),
                "name": pa.array([g.category_names.get(int(c), "") for c in g.category_ids]),
            }
        ),
        root / "categories.parquet",
    )
    b = g.ann_bbox
    n_gt = _write_rows(
        root / "gt",
        {
            "image_id": g.ann_image_id,
            "category_id": g.ann_category_id,
            "id": g.ann_id,
            "x": b[:, 0],
            "y": b[:, 1],
            "w": b[:, 2],
            "h": b[:, 3],
            "area": g.ann_area,
            "iscrowd": g.ann_iscrowd,
        },
        _GT_TYPES,
        rows_per_file,
        row_group_rows,
        g.ann_segmentation if segmentation else None,
    )
    n_dt = None
    if dt is not None:
        segm = get_iou_type("segm").segm_area_bbox if segmentation else None
        d = load_dt(dt, g, needs_segmentation=segmentation, segm_area_bbox=segm)
        db = d.bbox
        n_dt = _write_rows(
            root / "dt",
            {
                "image_id": d.image_id,
                "category_id": d.category_id,
                "x": db[:, 0],
                "y": db[:, 1],
                "w": db[:, 2],
                "h": db[:, 3],
                "score": d.score,
                # stored: loadRes' area is w*h in the input's precision or the mask area
                "area": d.area,
            },
            _DT_TYPES,
            rows_per_file,
            row_group_rows,
            d.segmentation if segmentation else None,
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "images": int(g.image_ids.size),
        "categories": int(g.category_ids.size),
        "gt_rows": n_gt,
        "dt_rows": n_dt,
        "segmentation": bool(segmentation),
        "source": g.source,
    }
    (root / "_ioukit.json").write_text(json.dumps(meta, indent=1))
    return os.fspath(root)


# ------------------------------------------------------------------------ reading
def is_dataset(path: Any) -> bool:
    """Whether ``path`` is a dataset directory written by :func:`to_parquet`.

    >>> is_dataset("/nonexistent"), is_dataset({"images": []})
    (False, False)
    """
    if not isinstance(path, (str, os.PathLike)):
        return False
    return (Path(path) / "_ioukit.json").is_file()


def _meta(root: Path) -> dict:
    try:
        meta = json.loads((root / "_ioukit.json").read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{root}: not an ioukit Parquet dataset ({e})") from e
    if meta.get("format") != FORMAT:
        raise DatasetError(
            f"{root}/_ioukit.json: format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    return meta


def _range_filter(image_range: tuple[int, int] | None) -> list | None:
    if image_range is None:
        return None
    lo, hi = image_range
    return [("image_id", ">=", int(lo)), ("image_id", "<=", int(hi))]


def _rows_dir(root: Path, sub: str) -> Path:
    d = root / sub
    if not d.is_dir():
        raise DatasetError(f"{root}: the dataset has no {sub}/ rows")
    return d


def _read_rows(directory: Path, image_range: tuple[int, int] | None, columns: list[str] | None):
    files = sorted(directory.glob("part-*.parquet"))
    if not files:
        raise DatasetError(f"{directory}: no part-*.parquet files")
    # a dataset over the sorted file list keeps file order, hence row order
    ds = pq.ParquetDataset([os.fspath(f) for f in files], filters=_range_filter(image_range))
    have = set(ds.schema.names)
    cols = [c for c in columns if c in have] if columns is not None else None
    return ds.read(columns=cols)


def read_images(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image ids, heights and widths (int64 (I,) each, file order) of a dataset.

    >>> import tempfile
    >>> root = to_parquet({"images": [{"id": 4}], "categories": [], "annotations": []},
    ...                   tempfile.mkdtemp())
    >>> [a.tolist() for a in read_images(root)]
    [[4], [0], [0]]
    """
    t = pq.read_table(Path(path) / "images.parquet")
    return (
        t.column("id").to_numpy().astype(np.int64),
        t.column("height").to_numpy().astype(np.int64),
        t.column("width").to_numpy().astype(np.int64),
    )


def read_categories(path: str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """Category ids (int64 (C,), file order) and names of a dataset.

    >>> import tempfile
    >>> root = to_parquet({"images": [], "categories": [{"id": 2, "name": "cat"}]},
    ...                   tempfile.mkdtemp())
    >>> ids, names = read_categories(root)
    >>> ids.tolist(), names
    ([2], ['cat'])
    """
    t = pq.read_table(Path(path) / "categories.parquet")
    return t.column("id").to_numpy().astype(np.int64), [
        str(s) for s in t.column("name").to_pylist()
    ]


def _column(frame: Any, name: str, dtype: Any, source: str) -> np.ndarray:
    """Column ``name`` of a pyarrow Table or pandas DataFrame as a NumPy array."""
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    if name not in names:
        raise MissingFieldError(f"{source}: no column {name!r} (columns: {list(names)})")
    col = frame.column(name) if isinstance(frame, pa.Table) else frame[name]
    if (col.null_count if isinstance(frame, pa.Table) else int(col.isna().sum())) > 0:
        arr = col.to_numpy() if isinstance(frame, pa.Table) else col.to_numpy()
        bad = int(np.flatnonzero(np.asarray([v is None or v != v for v in arr]))[0])
        raise DatasetError(f"{source}: row {bad} has a missing {name!r}")
    arr = col.to_numpy() if isinstance(frame, pa.Table) else col.to_numpy()
    try:
        return np.ascontiguousarray(arr, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise DatasetError(f"{source}: column {name!r} is not {np.dtype(dtype).name}: {e}") from e


def _has(frame: Any, name: str) -> bool:
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    return name in names


def _segmentations(frame: Any, source: str) -> list:
    col = (
        frame.column("segmentation").to_pylist()
        if isinstance(frame, pa.Table)
        else list(frame["segmentation"])
    )
    out = []
    for i, s in enumerate(col):
        if isinstance(s, str):
            try:
                s = json.loads(s)
            except ValueError as e:
                raise DatasetError(f"{source}: row {i} has a malformed segmentation: {e}") from e
        out.append(s)
    return out


def gt_from_columns(
    frame: Any,
    image_ids: np.ndarray,
    category_ids: np.ndarray,
    *,
    image_heights: np.ndarray | None = None,
    image_widths: np.ndarray | None = None,
    category_names: list[str] | None = None,
    needs_segmentation: bool = False,
    source: str = "<gt rows>",
) -> Any:
    """A :class:`~ioukit.coco.GtTable` from GT rows (pyarrow Table or pandas DataFrame).

    ``frame`` has the columns :data:`GT_COLUMNS` (and ``segmentation`` as JSON text
    when ``needs_segmentation``); rows keep their order. The table is checked as
    :func:`ioukit.coco.load_gt` checks a file (finite boxes, unique ids, known image
    and category ids).

    Example
    -------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"image_id": [1], "category_id": [2], "id": [7], "x": [0.0],
    ...                      "y": [0.0], "w": [2.0], "h": [2.0], "area": [4.0],
    ...                      "iscrowd": [False]})
    >>> gt_from_columns(rows, np.array([1]), np.array([2])).ann_area.tolist()
    [4.0]
    """
    from ..coco import GtTable

    segs = None
    if needs_segmentation:
        if not _has(frame, "segmentation"):
            raise MissingFieldError(f"{source}: no 'segmentation' column (written without it)")
        segs = _segmentations(frame, source)
    return GtTable.from_columns(
        image_ids=image_ids,
        category_ids=category_ids,
        image_heights=image_heights,
        image_widths=image_widths,
        category_names=category_names,
        ann_id=_column(frame, "id", np.int64, source),
        ann_image_id=_column(frame, "image_id", np.int64, source),
        ann_category_id=_column(frame, "category_id", np.int64, source),
        ann_bbox=_boxes(frame, source),
        ann_area=_column(frame, "area", np.float64, source),
        ann_iscrowd=_column(frame, "iscrowd", np.int64, source),
        ann_segmentation=segs,
        source=source,
    )


def _boxes(frame: Any, source: str) -> np.ndarray:
    """The x, y, w, h columns as one (n, 4) float64 array."""
    n = frame.num_rows if isinstance(frame, pa.Table) else len(frame)
    if not n:
        return np.zeros((0, 4), np.float64)
    return np.stack([_column(frame, c, np.float64, source) for c in ("x", "y", "w", "h")], axis=1)


def dt_from_columns(
    frame: Any, gt: Any, *, needs_segmentation: bool = False, source: str = "<dt rows>"
) -> Any:
    """A :class:`~ioukit.coco.DtTable` from detection rows (pyarrow Table or pandas DataFrame).

    ``frame`` has the columns :data:`DT_COLUMNS`; ``area`` is used when present and is
    ``w * h`` otherwise (``COCO.loadRes``). Checked as :func:`ioukit.coco.load_dt`
    checks results (finite boxes and scores, image and category ids known to ``gt``).

    Example
    -------
    >>> import pandas as pd
    >>> from ioukit.coco import load_gt
    >>> g = load_gt({"images": [{"id": 1}], "categories": [{"id": 2}], "annotations": []})
    >>> rows = pd.DataFrame({"image_id": [1], "category_id": [2], "x": [0.0], "y": [0.0],
    ...                      "w": [2.0], "h": [3.0], "score": [0.5]})
    >>> dt_from_columns(rows, g).area.tolist()
    [6.0]
    """
    from ..coco import DtTable

    image_id = _column(frame, "image_id", np.int64, source)
    category_id = _column(frame, "category_id", np.int64, source)
    bbox = _boxes(frame, source)
    score = _column(frame, "score", np.float64, source)
    area = _column(frame, "area", np.float64, source) if _has(frame, "area") else None
    segs = None
    if needs_segmentation:
        if not _has(frame, "segmentation"):
            raise MissingFieldError(f"{source}: no 'segmentation' column (written without it)")
        segs = _segmentations(frame, source)
    return DtTable.from_columns(
        gt,
        image_id=image_id,
        category_id=category_id,
        bbox=bbox,
        score=score,
        area=area,
        segmentation=segs,
        source=source,
    )


def _restrict_images(
    ids: np.ndarray, h: np.ndarray, w: np.ndarray, image_range: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if image_range is None:
        return ids, h, w
    keep = (ids >= image_range[0]) & (ids <= image_range[1])
    return ids[keep], h[keep], w[keep]


def read_gt(
    path: str | os.PathLike,
    image_range: tuple[int, int] | None = None,
    *,
    needs_segmentation: bool = False,
) -> Any:
    """Ground truth of a dataset (or of the images with ``lo <= id <= hi``) as a GtTable.

    Only the files and row groups whose image-id statistics overlap ``image_range``
    are read.

    Example
    -------
    >>> import tempfile
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, _ = make_coco_dataset(n_images=6, n_categories=2, polygons=False, seed=0)
    >>> root = to_parquet(gt, tempfile.mkdtemp())
    >>> sorted(set(read_gt(root, (2, 3)).ann_image_id.tolist())) <= [2, 3]
    True
    """
    root = Path(path)
    meta = _meta(root)
    if needs_segmentation and not meta.get("segmentation"):
        raise DatasetError(f"{root}: written without segmentations (to_parquet(segmentation=True))")
    ids, h, w = _restrict_images(*read_images(root), image_range)
    cats, names = read_categories(root)
    cols = list(GT_COLUMNS) + (["segmentation"] if needs_segmentation else [])
    rows = _read_rows(_rows_dir(root, "gt"), image_range, cols)
    return gt_from_columns(
        rows,
        ids,
        cats,
        image_heights=h,
        image_widths=w,
        category_names=names,
        needs_segmentation=needs_segmentation,
        source=os.fspath(root / "gt"),
    )


def read_dt(
    path: str | os.PathLike,
    gt: Any,
    image_range: tuple[int, int] | None = None,
    *,
    needs_segmentation: bool = False,
) -> Any:
    """Detections of a dataset (its ``dt/`` rows, or of an image range) as a DtTable.

    ``path`` is the dataset root; ``gt`` the GtTable the ids are checked against.

    Example
    -------
    >>> import tempfile
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=6, n_categories=2, polygons=False, seed=0)
    >>> root = to_parquet(gt, tempfile.mkdtemp(), dt=dt)
    >>> read_dt(root, read_gt(root)).bbox.shape == (len(dt), 4)
    True
    """
    root = Path(path)
    _meta(root)
    cols = list(DT_COLUMNS) + ["area"] + (["segmentation"] if needs_segmentation else [])
    rows = _read_rows(_rows_dir(root, "dt"), image_range, cols)
    return dt_from_columns(
        rows, gt, needs_segmentation=needs_segmentation, source=os.fspath(root / "dt")
    )
