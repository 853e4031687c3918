"""``ioukit.panoptic.evaluate``: panoptic quality (PQ, SQ, RQ) as panopticapi computes it.

1. inputs: panopticapi's JSON files (or dicts) with their PNG folders, or in-memory
   id maps with ``segments_info`` (:func:`evaluate_arrays`);
2. segments become flat columns, each image's sorted by id (:mod:`._inputs`);
3. per image, one compiled call counts the (GT, prediction) pixel pairs and classifies
   every segment as TP / FN / crowd or TP / FP / swallowed (:mod:`._kernels`); images
   run on threads (PNG decoding releases the GIL);
4. per category: TP, FP, FN counts and the TP IoU sum, added in panopticapi's order;
   PQ, SQ, RQ averaged over the categories with TP + FP + FN > 0 (All, Things, Stuff),
   panopticapi/evaluation.py ``PQStat.pq_average``.

Conventions and their sources: docs/panoptic.md.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._concurrent import run_concurrently
from .._threads import get_num_threads
from ..errors import (
    DatasetError,
    InvalidParameterError,
    MalformedJSONError,
    MissingFieldError,
    ShapeMismatchError,
    UnknownIdError,
)
from . import _kernels as K
from ._inputs import (
    Categories,
    Segments,
    flatten_segments,
    read_categories,
    segments_from_columns,
)
from ._png import DECODERS, Pixels, read_pixels, rgb2id
from ._scan import scan_panoptic

__all__ = ["evaluate", "evaluate_arrays", "PanopticResult", "GtAreaWarning", "GT_AREAS"]

#: where a GT segment's area comes from: the JSON's ``area`` (panopticapi) or its pixels
GT_AREAS = ("json", "pixels")


class GtAreaWarning(UserWarning):
    """A GT segment's ``area`` in the JSON differs from its pixel count in the PNG."""


@dataclass(frozen=True)
class PanopticResult:
    """Panoptic quality of one evaluation.

    ``results`` has the shape of panopticapi's ``pq_compute`` output:
    ``{"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"}, "per_class": {category_id:
    {"pq", "sq", "rq"}}}`` (fractions in [0, 1]; ``n`` counts the categories with
    TP + FP + FN > 0; an average over no category is NaN, where panopticapi divides by
    zero). ``tp``, ``fp``, ``fn`` and ``iou_sum`` are per category (``[K]``, in
    ``category_ids`` order).
    """

    results: dict[str, Any]
    category_ids: np.ndarray
    names: list[str]
    isthing: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    iou_sum: np.ndarray
    num_images: int
    gt_area: str
    #: GT segments whose JSON area differs from their pixel count:
    #: (image_id, segment_id, json_area, pixels) rows
    area_mismatches: list[tuple[Any, int, float, int]] = field(default_factory=list)

    @property
    def pq(self) -> float:
        """PQ over all categories (a fraction)."""
        return float(self.results["All"]["pq"])

    @property
    def sq(self) -> float:
        """SQ over all categories."""
        return float(self.results["All"]["sq"])

    @property
    def rq(self) -> float:
        """RQ over all categories."""
        return float(self.results["All"]["rq"])

    def per_class(self) -> list[dict[str, Any]]:
        """One row per category: id, name, isthing, pq, sq, rq (fractions), tp, fp, fn.

        >>> import numpy as np
        >>> ids = np.array([[1, 1, 2]])
        >>> seg = [{"id": 1, "category_id": 1, "area": 2}, {"id": 2, "category_id": 1, "area": 1}]
        >>> r = evaluate_arrays([(ids, seg)], [(ids, seg[:1] + [{"id": 2, "category_id": 2}])],
        ...                     [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}])
        >>> [(x["category_id"], x["tp"], x["fp"], x["fn"]) for x in r.per_class()]
        [(1, 1, 0, 1), (2, 0, 1, 0)]
        """
        rows = []
        for k, cid in enumerate(self.category_ids.tolist()):
            r = self.results["per_class"][cid]
            rows.append(
                {
                    "category_id": cid,
                    "name": self.names[k],
                    "isthing": bool(self.isthing[k]),
                    "pq": float(r["pq"]),
                    "sq": float(r["sq"]),
                    "rq": float(r["rq"]),
                    "tp": int(self.tp[k]),
                    "fp": int(self.fp[k]),
                    "fn": int(self.fn[k]),
                }
            )
        return rows

    def summary(self, per_class: bool = False) -> str:
        """panopticapi's table (PQ, SQ, RQ in percent, N), optionally per category.

        >>> import numpy as np
        >>> ids = np.ones((4, 4), np.int64)
        >>> seg = [{"id": 1, "category_id": 1, "iscrowd": 0, "area": 16}]
        >>> r = evaluate_arrays([(ids, seg)], [(ids, seg)], [{"id": 1, "isthing": 1}])
        >>> print(r.summary().splitlines()[2])
        All       | 100.0  100.0  100.0     1
        """
        lines = ["{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}".format("", "PQ", "SQ", "RQ", "N")]
        lines.append("-" * (10 + 7 * 4))
        for name in ("All", "Things", "Stuff"):
            r = self.results[name]
            lines.append(
                "{:10s}| {:5.1f}  {:5.1f}  {:5.1f} {:5d}".format(
                    name, 100 * r["pq"], 100 * r["sq"], 100 * r["rq"], r["n"]
                )
            )
        if per_class:
            lines.append("")
            lines.append(
                "{:24s} {:>5s} {:>6s} {:>6s} {:>6s} {:>7s} {:>7s} {:>7s}".format(
                    "category", "kind", "PQ", "SQ", "RQ", "TP", "FP", "FN"
                )
            )
            for r in self.per_class():
                if r["tp"] + r["fp"] + r["fn"] == 0:
                    continue
                lines.append(
                    "{:24s} {:>5s} {:6.1f} {:6.1f} {:6.1f} {:7d} {:7d} {:7d}".format(
                        f"{r['name']} ({r['category_id']})"[:24],
                        "thing" if r["isthing"] else "stuff",
                        100 * r["pq"],
                        100 * r["sq"],
                        100 * r["rq"],
                        r["tp"],
                        r["fp"],
                        r["fn"],
                    )
                )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able numbers: panopticapi's ``results`` (per_class keys as strings, NaN as
        None), the per-category rows, and the settings.

        >>> import json, numpy as np
        >>> ids = np.ones((2, 2), np.int64); seg = [{"id": 1, "category_id": 1, "area": 4}]
        >>> d = evaluate_arrays([(ids, seg)], [(ids, seg)], [{"id": 1, "isthing": 1}]).to_dict()
        >>> json.dumps(d["results"]["Stuff"]), d["results"]["per_class"]["1"]["pq"]
        ('{"pq": null, "sq": null, "rq": null, "n": 0}', 1.0)
        """

        def num(v: Any) -> Any:
            return None if v != v else v

        res: dict[str, Any] = {
            name: {k: num(v) for k, v in self.results[name].items()}
            for name in ("All", "Things", "Stuff")
        }
        res["per_class"] = {
            str(c): {k: num(float(v)) for k, v in r.items()}
            for c, r in self.results["per_class"].items()
        }
        return {
            "protocol": "panoptic",
            "results": res,
            "categories": self.per_class(),
            "num_images": self.num_images,
            "gt_area": self.gt_area,
            "area_mismatches": len(self.area_mismatches),
        }


# --------------------------------------------------------------------- inputs
def _load_json(obj: Any, what: str) -> tuple[Mapping[str, Any], str | None]:
    if isinstance(obj, Mapping):
        return obj, None
    path = os.fspath(obj)
    try:
        with open(path, "rb") as fh:
            return json.load(fh), path
    except json.JSONDecodeError as e:
        raise MalformedJSONError(f"{what} {path}: not valid JSON ({e})") from None


def _annotations(d: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    try:
        anns = d["annotations"]
    except (KeyError, TypeError):
        raise MissingFieldError(f"{where}: no 'annotations' list") from None
    for k, a in enumerate(anns):
        if (
            type(a) is dict
            and "file_name" in a
            and "image_id" in a
            and type(a.get("segments_info")) is list
        ):
            continue  # the common case, without the ABC checks below
        for key in ("image_id", "file_name", "segments_info"):
            if not isinstance(a, Mapping) or key not in a:
                raise MissingFieldError(f"{where}: annotations[{k}] has no {key!r}")
        if not isinstance(a["segments_info"], (list, tuple)):
            raise DatasetError(f"{where}: annotations[{k}].segments_info is not a list")
    return list(anns)


def _check_gt_area(gt_area: str) -> None:
    if gt_area not in GT_AREAS:
        raise InvalidParameterError(f"gt_area={gt_area!r}: expected one of {GT_AREAS}")


def _check_processes(reference_processes: int) -> int:
    n = int(reference_processes)
    if n < 1:
        raise InvalidParameterError(f"reference_processes={reference_processes!r}: must be >= 1")
    return n


# --------------------------------------------------------------------- engine
@dataclass
class _Run:
    """Flat per-segment outputs of the kernel for one evaluation."""

    gt: Segments
    pr: Segments
    area_from_pixels: bool
    gt_pixels: np.ndarray = field(init=False)
    gt_status: np.ndarray = field(init=False)
    gt_iou: np.ndarray = field(init=False)
    pr_pixels: np.ndarray = field(init=False)
    pr_status: np.ndarray = field(init=False)
    err_code: np.ndarray = field(init=False)
    err_value: np.ndarray = field(init=False)
    batch: Any = field(init=False)

    def __post_init__(self) -> None:
        ng, npr, n = len(self.gt.ids), len(self.pr.ids), len(self.gt.off) - 1
        self.gt_pixels = np.zeros(ng, np.int64)
        self.gt_status = np.zeros(ng, np.int8)
        self.gt_iou = np.zeros(ng, np.float64)
        self.pr_pixels = np.zeros(npr, np.int64)
        self.pr_status = np.zeros(npr, np.int8)
        self.err_code = np.zeros(n, np.int8)
        self.err_value = np.zeros(n, np.int64)
        g, p = self.gt, self.pr
        self.batch = K.ImageBatch(
            g.off, g.ids, g.cat, g.crowd, g.area, g.pos, p.off, p.ids, p.cat,
            self.area_from_pixels, self.gt_pixels, self.gt_status, self.gt_iou,
            self.pr_pixels, self.pr_status, self.err_code, self.err_value,
        )  # fmt: skip


# Images per thread below which fewer threads are started: an image is ~0.1-0.5 ms of
# work, waking a thread costs tens of microseconds on a busy machine.
_IMAGES_PER_THREAD = 4


def _thread_count(num_threads: int | None, n: int) -> int:
    threads = get_num_threads() if num_threads is None else int(num_threads)
    if threads < 1:
        raise InvalidParameterError(f"num_threads={num_threads!r}: must be >= 1")
    return max(1, min(threads, n // _IMAGES_PER_THREAD))


def _run_images(n: int, one: Callable[[int], None], num_threads: int | None) -> None:
    """Call ``one(i)`` for every image, on ``num_threads`` threads (chunks of images)."""
    threads = _thread_count(num_threads, n)
    if threads == 1:
        for i in range(n):
            one(i)
        return
    step = max(1, min(64, n // (threads * 8)))
    lock = threading.Lock()
    state = {"next": 0, "stop": False}

    def worker() -> None:
        while True:
            with lock:
                start = state["next"]
                state["next"] = start + step
                if start >= n or state["stop"]:
                    return
            try:
                for i in range(start, min(n, start + step)):
                    one(i)
            except BaseException:
                state["stop"] = True
                raise

    run_concurrently([worker] * threads)


def _raise_kernel_error(run: _Run, image_ids: Sequence[Any]) -> None:
    bad = np.flatnonzero(run.err_code)
    if not bad.size:
        return
    i = int(bad[0])
    code, value, img = int(run.err_code[i]), int(run.err_value[i]), image_ids[i]
    if code == K.ERRORS["pred_id_not_in_json"]:
        raise UnknownIdError(
            f"image {img!r}: the prediction PNG has segment id {value}, which its "
            "segments_info does not list"
        )
    if code == K.ERRORS["pred_not_in_png"]:
        raise DatasetError(
            f"image {img!r}: predicted segment {value} is in segments_info but has no "
            "pixel in the PNG"
        )
    if code == K.ERRORS["gt_matched_twice"]:
        raise DatasetError(
            f"image {img!r}: GT segment {value} matches two predictions, possible only "
            "because its JSON area is below its pixel count; use gt_area='pixels'"
        )
    raise MemoryError(f"image {img!r}: no memory for the pair table")  # pragma: no cover


def _area_mismatches(run: _Run, image_ids: Sequence[Any]) -> list[tuple[Any, int, float, int]]:
    g = run.gt
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~np.isnan(g.area) & (g.area != run.gt_pixels))
    if not bad.size:
        return []
    image = np.searchsorted(g.off, bad, side="right") - 1
    return [
        (image_ids[int(i)], int(g.ids[j]), float(g.area[j]), int(run.gt_pixels[j]))
        for i, j in zip(image.tolist(), bad.tolist())
    ]


def _pq_average(
    cats: Categories, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, iou: np.ndarray, isthing: Any
) -> tuple[dict[str, Any], dict[int, dict[str, float]]]:
    # panopticapi/evaluation.py, PQStat.pq_average: same operations, same order
    pq, sq, rq, n = 0.0, 0.0, 0.0, 0
    per_class: dict[int, dict[str, float]] = {}
    for k, label in enumerate(cats.ids.tolist()):
        if isthing is not None and bool(cats.isthing[k]) != isthing:
            continue
        i, t, f, m = float(iou[k]), int(tp[k]), int(fp[k]), int(fn[k])
        if t + f + m == 0:
            per_class[label] = {"pq": 0.0, "sq": 0.0, "rq": 0.0}
            continue
        n += 1
        pq_class = i / (t + 0.5 * f + 0.5 * m)
        sq_class = i / t if t != 0 else 0.0
        rq_class = t / (t + 0.5 * f + 0.5 * m)
        per_class[label] = {"pq": pq_class, "sq": sq_class, "rq": rq_class}
        pq += pq_class
        sq += sq_class
        rq += rq_class
    if n == 0:
        nan = float("nan")
        return {"pq": nan, "sq": nan, "rq": nan, "n": 0}, per_class
    return {"pq": pq / n, "sq": sq / n, "rq": rq / n, "n": n}, per_class


def _finish(
    run: _Run,
    cats: Categories,
    image_ids: Sequence[Any],
    gt_area: str,
    reference_processes: int,
) -> PanopticResult:
    _raise_kernel_error(run, image_ids)
    mismatches = _area_mismatches(run, image_ids)
    if mismatches and gt_area == "json":
        img, sid, a, px = mismatches[0]
        warnings.warn(
            f"{len(mismatches)} GT segment(s) have a JSON area that differs from their pixel "
            f"count (first: image {img!r}, segment {sid}: area {a:g}, {px} pixels); the "
            "JSON areas are used, as panopticapi does (gt_area='pixels' to recount)",
            GtAreaWarning,
            stacklevel=3,
        )
    nk = len(cats.ids)
    st = K.STATUS
    g, p = run.gt, run.pr
    tp_rows = (run.gt_status == st["tp"]) & (g.cat >= 0)
    tp = np.bincount(g.cat[tp_rows], minlength=nk).astype(np.int64)
    fn = np.bincount(g.cat[(run.gt_status == st["fn"]) & (g.cat >= 0)], minlength=nk)
    fp = np.bincount(p.cat[run.pr_status == st["fp"]], minlength=nk).astype(np.int64)
    # panopticapi: np.array_split of the image list over its processes, summed per process
    n = len(image_ids)
    sizes = [n // reference_processes + (1 if j < n % reference_processes else 0)
             for j in range(reference_processes)]  # fmt: skip
    image_bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    iou = K.ordered_iou_sums(g.cat, run.gt_status, run.gt_iou, g.off[image_bounds], nk)
    results: dict[str, Any] = {}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        results[name], per_class = _pq_average(cats, tp, fp, fn, iou, isthing)
        if name == "All":
            results["per_class"] = per_class
    return PanopticResult(
        results=results,
        category_ids=cats.ids,
        names=cats.names,
        isthing=cats.isthing,
        tp=tp,
        fp=fp,
        fn=fn.astype(np.int64),
        iou_sum=iou,
        num_images=n,
        gt_area=gt_area,
        area_mismatches=mismatches,
    )


_Inputs = tuple[Categories, list[Any], Segments, Segments, list[str], list[str]]


def _inputs_from_dicts(
    gt_d: Mapping[str, Any], pr_d: Mapping[str, Any], gt_area: str, gt_where: str, pr_where: str
) -> _Inputs:
    """Categories, image ids, both sides' segments and PNG names from loaded JSON."""
    if "categories" not in gt_d:
        raise MissingFieldError(f"{gt_where}: no 'categories' list")
    cats = read_categories(gt_d["categories"], gt_where)
    gt_anns = _annotations(gt_d, gt_where)
    pr_by_image = {a["image_id"]: a for a in _annotations(pr_d, pr_where)}
    pr_anns = []
    for a in gt_anns:
        try:
            pr_anns.append(pr_by_image[a["image_id"]])
        except KeyError:
            raise UnknownIdError(
                f"{pr_where}: no prediction for image id {a['image_id']!r}"
            ) from None
    image_ids = [a["image_id"] for a in gt_anns]
    gt_seg = flatten_segments(
        [a["segments_info"] for a in gt_anns], image_ids, cats, gt=True,
        need_area=gt_area == "json", where=gt_where,
    )  # fmt: skip
    pr_seg = flatten_segments(
        [a["segments_info"] for a in pr_anns], image_ids, cats, gt=False,
        need_area=False, where=pr_where,
    )  # fmt: skip
    names = [a["file_name"] for a in gt_anns], [a["file_name"] for a in pr_anns]
    return cats, image_ids, gt_seg, pr_seg, *names


def _inputs_from_scan(gt_path: str, pr_path: str, gt_area: str) -> _Inputs | None:
    """As :func:`_inputs_from_dicts`, from the byte scanner; None where it cannot read
    the files exactly (then ``json`` reads them, and words any error)."""
    with open(gt_path, "rb") as fh:
        g = scan_panoptic(fh.read())
    if g is None or g.categories is None or (gt_area == "json" and not g.area_present):
        return None
    with open(pr_path, "rb") as fh:
        p = scan_panoptic(fh.read())
    if p is None:
        return None
    cats = read_categories(g.categories, gt_path)
    row_of = {image_id: k for k, image_id in enumerate(p.image_ids)}  # the last one wins
    try:
        rows = np.array([row_of[i] for i in g.image_ids], np.int64)
    except KeyError as e:
        raise UnknownIdError(f"{pr_path}: no prediction for image id {e.args[0]!r}") from None
    gt_seg = segments_from_columns(
        g.counts, g.ids, g.category_ids, g.crowd, g.area, g.image_ids, cats,
        gt=True, where=gt_path,
    )  # fmt: skip
    # the predictions' segments in the GT's image order
    p_off = np.zeros(len(p.counts) + 1, np.int64)
    np.cumsum(p.counts, out=p_off[1:])
    counts = p.counts[rows]
    starts = np.cumsum(counts) - counts
    take = np.repeat(p_off[rows] - starts, counts) + np.arange(int(counts.sum()))
    n = len(take)
    pr_seg = segments_from_columns(
        counts, p.ids[take], p.category_ids[take], np.zeros(n, np.int64), np.full(n, np.nan),
        g.image_ids, cats, gt=False, where=pr_path,
    )  # fmt: skip
    return cats, g.image_ids, gt_seg, pr_seg, g.file_names, [p.file_names[r] for r in rows]


# --------------------------------------------------------------------- public
def evaluate(
    gt_json: str | os.PathLike[str] | Mapping[str, Any],
    pred_json: str | os.PathLike[str] | Mapping[str, Any],
    *,
    gt_folder: str | os.PathLike[str] | None = None,
    pred_folder: str | os.PathLike[str] | None = None,
    gt_area: str = "json",
    num_threads: int | None = None,
    reference_processes: int = 1,
    decoder: str = "auto",
) -> PanopticResult:
    """Panoptic quality of predictions against ground truth, as panopticapi's ``pq_compute``.

    Args:
        gt_json, pred_json: COCO panoptic JSON files (or their loaded dicts):
            ``annotations`` with ``image_id``, ``file_name``, ``segments_info``; the
            categories (``id``, ``isthing``, ``name``) come from ``gt_json``.
        gt_folder, pred_folder: the PNG folders (default: the JSON path without
            ``.json``, as panopticapi does; required with dicts).
        gt_area: ``"json"`` (panopticapi: a GT segment's ``area`` field; a
            :class:`GtAreaWarning` lists segments whose pixel count differs) or
            ``"pixels"`` (recounted from the PNG).
        num_threads: images decoded and matched at once (default: the kernels' thread
            count, ``ioukit.get_num_threads()``).
        reference_processes: panopticapi's ``pq_compute`` splits the images over
            ``multiprocessing.cpu_count()`` processes and adds their IoU sums, which can
            change the last bit of SQ/PQ; give that count to reproduce it bit for bit
            (1: ``pq_compute_single_core``'s order, the default).
        decoder: PNG decoder, ``"auto"`` (ioukit's own for 8-bit RGB/RGBA, the panoptic
            format, Pillow for any other PNG) or ``"pillow"``; both give the same pixels.

    Returns:
        :class:`PanopticResult`; ``.results`` is shaped like ``pq_compute``'s output.

    Example:
        >>> import json, os, tempfile
        >>> import numpy as np
        >>> from ioukit.panoptic import write_png
        >>> d = tempfile.mkdtemp()
        >>> ids = np.zeros((4, 6), np.int64); ids[:, :3] = 1; ids[:, 3:] = 2
        >>> seg = [{"id": 1, "category_id": 1, "iscrowd": 0, "area": 12},
        ...        {"id": 2, "category_id": 2, "iscrowd": 0, "area": 12}]
        >>> for side in ("gt", "pred"):
        ...     os.makedirs(f"{d}/{side}")
        ...     write_png(f"{d}/{side}/a.png", ids)
        ...     with open(f"{d}/{side}.json", "w") as f:
        ...         json.dump({"annotations": [{"image_id": 1, "file_name": "a.png",
        ...                    "segments_info": seg}],
        ...                    "categories": [{"id": 1, "isthing": 1}, {"id": 2, "isthing": 0}]}, f)
        >>> r = evaluate(f"{d}/gt.json", f"{d}/pred.json")
        >>> r.results["All"]
        {'pq': 1.0, 'sq': 1.0, 'rq': 1.0, 'n': 2}
    """
    _check_gt_area(gt_area)
    procs = _check_processes(reference_processes)
    if decoder not in DECODERS:
        raise InvalidParameterError(f"decoder={decoder!r}: expected one of {DECODERS}")
    paths = [None if isinstance(x, Mapping) else os.fspath(x) for x in (gt_json, pred_json)]
    gt_path, pr_path = paths
    gt_where, pr_where = gt_path or "gt_json", pr_path or "pred_json"
    folders = []
    for folder, path, name in ((gt_folder, gt_path, "gt"), (pred_folder, pr_path, "pred")):
        if folder is None:
            if path is None:
                raise InvalidParameterError(f"{name}_folder is required when {name}_json is a dict")
            folder = path.replace(".json", "")  # panopticapi's default
        folder = os.fspath(folder)
        if not os.path.isdir(folder):
            raise FileNotFoundError(2, f"{name} PNG folder does not exist", folder)
        folders.append(folder)
    inputs = None
    if gt_path is not None and pr_path is not None:
        inputs = _inputs_from_scan(gt_path, pr_path, gt_area)
    if inputs is None:
        gt_d, _ = _load_json(gt_json, "gt_json")
        pr_d, _ = _load_json(pred_json, "pred_json")
        inputs = _inputs_from_dicts(gt_d, pr_d, gt_area, gt_where, pr_where)
    cats, image_ids, gt_seg, pr_seg, gt_names, pr_names = inputs
    run = _Run(gt_seg, pr_seg, gt_area == "pixels")
    gt_files = [os.path.join(folders[0], f) for f in gt_names]
    pr_files = [os.path.join(folders[1], f) for f in pr_names]
    n = len(image_ids)
    todo = np.ones(n, np.int8)
    if decoder == "auto" and n:
        # read, decode and match in the kernel, images over OpenMP threads, no GIL
        threads = _thread_count(num_threads, n)
        gt_paths, gt_at = _joined_paths(gt_files)
        pr_paths, pr_at = _joined_paths(pr_files)
        todo[:] = 0
        run.batch.eval_files(gt_paths, gt_at, pr_paths, pr_at, todo, threads)
    rest = np.flatnonzero(todo).tolist()  # other PNG kinds, errors: Pillow, on threads
    local = threading.local()  # per-thread decode buffers, reused image after image

    def one(k: int) -> None:
        i = rest[k]
        bufs = getattr(local, "bufs", None)
        if bufs is None:
            bufs = local.bufs = ([np.empty(0, np.uint8)], [np.empty(0, np.uint8)])
        a = read_pixels(gt_files[i], decoder, bufs[0])
        b = read_pixels(pr_files[i], decoder, bufs[1])
        _eval_pixels(run, i, a, b, image_ids[i])

    _run_images(len(rest), one, num_threads)
    return _finish(run, cats, image_ids, gt_area, procs)


def _joined_paths(paths: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """NUL-terminated file-system paths in one buffer, and where each starts."""
    enc = [os.fsencode(p) + b"\0" for p in paths]
    at = np.zeros(len(enc), np.int64)
    np.cumsum([len(e) for e in enc[:-1]], out=at[1:])
    return b"".join(enc), at


def _eval_pixels(run: _Run, i: int, a: Pixels, b: Pixels, image_id: Any) -> None:
    if (a.height, a.width) != (b.height, b.width):
        raise ShapeMismatchError(
            f"image {image_id!r}: GT PNG is {a.height}x{a.width}, prediction PNG is "
            f"{b.height}x{b.width}"
        )
    run.batch.eval_rgb(
        i, a.data, a.stride, a.start, a.channels, b.data, b.stride, b.start, b.channels,
        a.height, a.width,
    )  # fmt: skip


def _id_map(x: Any, where: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 3 and a.shape[-1] in (3, 4) and a.dtype == np.uint8:
        return np.ascontiguousarray(rgb2id(a))
    if a.ndim != 2 or not (np.issubdtype(a.dtype, np.integer) or a.dtype == bool):
        raise ShapeMismatchError(
            f"{where}: expected an H x W integer id map or H x W x 3 uint8 RGB, got "
            f"{a.dtype} {a.shape}"
        )
    return np.ascontiguousarray(a, dtype=np.int64)


def evaluate_arrays(
    gt: Sequence[tuple[Any, Sequence[Mapping[str, Any]]]],
    pred: Sequence[tuple[Any, Sequence[Mapping[str, Any]]]],
    categories: Sequence[Mapping[str, Any]],
    *,
    gt_area: str = "json",
    num_threads: int | None = None,
    reference_processes: int = 1,
) -> PanopticResult:
    """Panoptic quality of in-memory images: ``(id_map, segments_info)`` pairs.

    Args:
        gt, pred: one ``(id_map, segments_info)`` per image, in the same order;
            ``id_map`` is ``H x W`` integer segment ids (0 is VOID) or ``H x W x 3``
            uint8 RGB (panopticapi's colour encoding); ``segments_info`` as in the JSON.
        categories: ``[{"id", "isthing", "name"}, ...]``.
        gt_area, num_threads, reference_processes: as in :func:`evaluate`.

    Example:
        >>> import numpy as np
        >>> gt = np.array([[1, 1, 2, 2]]); pred = np.array([[1, 1, 1, 2]])
        >>> gs = [{"id": 1, "category_id": 1, "area": 2}, {"id": 2, "category_id": 1, "area": 2}]
        >>> ps = [{"id": 1, "category_id": 1}, {"id": 2, "category_id": 1}]
        >>> r = evaluate_arrays([(gt, gs)], [(pred, ps)], [{"id": 1, "isthing": 1}])
        >>> r.tp.tolist(), r.fp.tolist(), r.fn.tolist()   # IoU 2/3 and 1/2 (not > 0.5)
        ([1], [1], [1])
        >>> round(r.pq, 6) == round((2 / 3) / (1 + 0.5 + 0.5), 6)
        True
    """
    _check_gt_area(gt_area)
    procs = _check_processes(reference_processes)
    if len(gt) != len(pred):
        raise ShapeMismatchError(f"{len(gt)} GT images but {len(pred)} predicted images")
    cats = read_categories(categories, "categories")
    image_ids = list(range(len(gt)))
    run = _Run(
        flatten_segments([s for _, s in gt], image_ids, cats, gt=True,
                         need_area=gt_area == "json", where="gt"),
        flatten_segments([s for _, s in pred], image_ids, cats, gt=False,
                         need_area=False, where="pred"),
        gt_area == "pixels",
    )  # fmt: skip

    def one(i: int) -> None:
        a, b = _id_map(gt[i][0], f"gt[{i}]"), _id_map(pred[i][0], f"pred[{i}]")
        if a.shape != b.shape:
            raise ShapeMismatchError(f"image {i}: GT is {a.shape}, prediction is {b.shape}")
        run.batch.eval_ids(i, a, b)

    _run_images(len(gt), one, num_threads)
    return _finish(run, cats, image_ids, gt_area, procs)
