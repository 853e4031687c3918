"""TIDE error analysis (Bolya et al., "TIDE: A General Toolbox for Identifying Object
Detection Errors", ECCV 2020), with tidecv 1.0.1's exact definitions.

What one call does (tidecv ``quantify.py``, ``ap.py``, ``errors/main_errors.py``):

1. Per image (the GT file's image order), detections best score first (stable) are cut
   to ``max_dets`` (100: tidecv's COCO loader) across categories.
2. Matching: each detection takes the unused same-category GT of highest IoU (the
   first on ties) when that IoU >= ``pos_threshold``. Crowd GT are ignore regions: an
   unmatched detection whose crowd IoU (intersection over its area) with a
   same-category region is strictly above ``pos_threshold`` is left out of the AP.
3. Every detection that is not a TP (ignored ones included) gets one error, tested in
   this order: no GT in the image -> Bkg; best same-category IoU in
   [``background_threshold``, ``pos_threshold``] -> Loc; best other-category IoU >=
   ``pos_threshold`` -> Cls; IoU >= ``pos_threshold`` with a same-category GT already
   matched -> Dupe; best IoU with any GT <= ``background_threshold`` -> Bkg; else Both.
   An unmatched GT that no Cls / Loc error points at is Miss.
4. AP: per category, 101-point interpolation (``ap.py``), the mean over categories with
   GT or detections (a category with detections and no GT counts as 0).
5. Each main error type is fixed alone (the oracle): Cls / Loc errors become TPs (in
   the GT's category / their own) when they are the highest-scoring error on an
   unmatched GT, otherwise they are dropped; Both, Dupe and Bkg errors are dropped;
   Miss errors leave the GT count. dAP = max(AP_fixed - AP, 0). Special errors:
   FalsePos scores every TP 1 and every FP 0; FalseNeg removes every unmatched GT.

Detections tied on score keep tidecv's order: image order, then position in the
image; in a fixed AP the error-derived points come before the original TPs.

The IoU is the COCO engine's IoU plug-in (``ioukit.coco.get_iou_type``: ``bbox``,
``segm``, ...), one group per image; matching and classification run in one compiled
pass (``ioukit.tide._kernels``); the AP of all categories is one compiled call per
fixed variant.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..coco import get_iou_type, prepare
from ..coco._load import DtTable, GtTable
from ..errors import InvalidParameterError
from ..matching import Groups
from ._kernels import class_ap, classify_images

__all__ = ["evaluate", "TideResult", "summary", "compare", "plot", "MAIN_ERRORS", "SPECIAL_ERRORS"]

#: Main error types, in tidecv's order (``TIDE._error_types`` short names).
MAIN_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
#: Special error types (``TIDE._special_error_types``).
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")

_CLS, _LOC, _BOTH, _DUPE, _BKG = range(5)  # the kernel's codes; Miss is per GT


class TideResult:
    """What :func:`evaluate` returns.

    Attributes
    ----------
    ap : float                 AP at ``pos_threshold`` (fraction, tidecv's AP / 100)
    main_errors : dict         ``{Cls, Loc, Both, Dupe, Bkg, Miss}`` -> dAP (fraction)
    special_errors : dict      ``{FalsePos, FalseNeg}`` -> dAP (fraction)
    counts : dict              number of errors of each main type
    name : str                 the model's name (tables and plots)
    pos_threshold, background_threshold : float
    iou_type : str
    detections : dict of arrays, one row per detection kept (``max_dets`` per image):
        ``dt_row`` (row in the results), ``image_id``, ``category_id``, ``score``,
        ``status`` (1 TP, 0 FP, -1 ignored on a crowd region), ``error`` ("" for a TP,
        else a main error name), ``gt_id`` (the matched GT of a TP, the GT a Cls / Loc
        error points at; -1 otherwise)
    ground_truth : dict of arrays, one row per non-crowd GT: ``gt_id``, ``image_id``,
        ``category_id``, ``matched`` (bool), ``missed`` (a Miss error: unmatched and no
        Cls / Loc error points at it)
    image_ids : int64 (I,)     the GT's images in file order
    """

    name: str
    ap: float
    main_errors: dict[str, float]
    special_errors: dict[str, float]
    counts: dict[str, int]
    pos_threshold: float
    background_threshold: float
    iou_type: str
    detections: dict[str, np.ndarray]
    ground_truth: dict[str, np.ndarray]
    image_ids: np.ndarray
    category_names: dict[int, str]

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __repr__(self) -> str:
        errs = ", ".join(f"{k}={v:.4f}" for k, v in self.main_errors.items())
        return f"TideResult(name={self.name!r}, ap={self.ap:.4f}, {errs})"

    def summary(self) -> str:
        """tidecv's ``summarize()`` tables for this model, dAP in AP points (0-100).

        >>> from ioukit.synthetic import make_coco_dataset
        >>> r = evaluate(*make_coco_dataset(n_images=10, n_categories=3, seed=0), name="m")
        >>> print(r.summary().splitlines()[0])
        -- m --
        """
        return summary([self])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (fractions; per-detection records left out).

        >>> from ioukit.synthetic import make_coco_dataset
        >>> d = evaluate(*make_coco_dataset(n_images=5, n_categories=2, seed=0)).to_dict()
        >>> sorted(d)[:4]
        ['ap', 'background_threshold', 'counts', 'iou_type']
        """
        return {
            "name": self.name,
            "ap": float(self.ap),
            "main_errors": {k: float(v) for k, v in self.main_errors.items()},
            "special_errors": {k: float(v) for k, v in self.special_errors.items()},
            "counts": {k: int(v) for k, v in self.counts.items()},
            "pos_threshold": float(self.pos_threshold),
            "background_threshold": float(self.background_threshold),
            "iou_type": self.iou_type,
        }

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the main and special dAP (matplotlib); see :func:`plot`.

        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from ioukit.synthetic import make_coco_dataset
        >>> ax = evaluate(*make_coco_dataset(n_images=10, n_categories=3, seed=0)).plot()
        >>> len(ax.patches)
        8
        """
        return plot([self], ax=ax)

    def worst_images(self, n: int = 10, *, by: str = "missed_ap") -> list[dict[str, Any]]:
        """The ``n`` worst images with their errors (:func:`ioukit.tide.worst_images`).

        >>> from ioukit.synthetic import make_coco_dataset
        >>> r = evaluate(*make_coco_dataset(n_images=10, n_categories=3, seed=0))
        >>> len(r.worst_images(3, by="fp"))
        3
        """
        from .diagnostics import worst_images

        return worst_images(self, n, by=by)


def _index_of(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    # position of each value in ids (all values are known: the loader checked them)
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids[order], values)].astype(np.int64)


def _mean_ap(
    cls: np.ndarray,
    score_rank: np.ndarray,
    group: np.ndarray,
    tp: np.ndarray,
    n_gt: np.ndarray,
) -> float:
    """tidecv's mAP (0-100) of data points given in position order: per category,
    best score first, then ``group`` (0 before 1), then position (a stable sort)."""
    key = (cls * (int(score_rank.max(initial=0)) + 1) + score_rank) * 2 + group
    order = np.argsort(key, kind="stable")
    return _sorted_mean_ap(tp[order], np.bincount(cls, minlength=n_gt.size), n_gt)


def _stable_desc(values: np.ndarray) -> np.ndarray:
    """Indices by descending value, ties in index order (a stable sort)."""
    return np.argsort(-values, kind="stable")


def _stable_by(order: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``order`` re-sorted by a small non-negative integer ``key`` (stable: ``order``
    decides ties); int16 keys take NumPy's O(n) radix sort."""
    k = key[order]
    if k.size and int(k.max()) < 32768:
        k = k.astype(np.int16)
    return order[np.argsort(k, kind="stable")]


def _sorted_mean_ap(tp: np.ndarray, counts: np.ndarray, n_gt: np.ndarray) -> float:
    """tidecv's mAP (0-100) of data points already sorted: category by category
    (``counts`` each), in tidecv's order inside a category."""
    offsets = np.zeros(n_gt.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    aps = np.zeros(n_gt.size)
    class_ap(np.ascontiguousarray(tp, dtype=np.uint8), offsets, n_gt, aps)
    nonempty = (counts > 0) | (n_gt != 0)
    if not nonempty.any():
        return 0.0  # tidecv divides by zero here
    return float(sum(aps[nonempty].tolist()) / int(nonempty.sum()))


def _load(gt: Any, dt: Any, iou_type: str) -> tuple[GtTable, DtTable]:
    if isinstance(gt, GtTable) and isinstance(dt, DtTable):
        return gt, dt
    g, d, _ = prepare(gt, dt, iou_type)
    return g, d


def evaluate(
    gt: Any,
    dt: Any,
    *,
    iou_type: str = "bbox",
    pos_threshold: float = 0.5,
    background_threshold: float = 0.1,
    max_dets: int = 100,
    name: str | None = None,
) -> TideResult:
    """TIDE's error breakdown of one detector (tidecv 1.0.1 definitions).

    Parameters
    ----------
    gt : COCO ground truth: a JSON path, a dict, or a ``ioukit.coco.GtTable``.
    dt : COCO results: a JSON path, a list of dicts, an (N, 7) array or a ``DtTable``.
    iou_type : an IoU plug-in of the COCO engine (``"bbox"``, ``"segm"``, ...).
    pos_threshold : foreground IoU: a TP needs IoU >= this (TIDE: 0.5).
    background_threshold : below-or-equal this IoU a detection is background (0.1).
    max_dets : detections kept per image, across categories (tidecv's COCO: 100).
    name : the model's name in tables and plots (default: the results file's stem,
        or "model").

    Returns
    -------
    TideResult with ``.ap``, ``.main_errors`` {Cls, Loc, Both, Dupe, Bkg, Miss} and
    ``.special_errors`` {FalsePos, FalseNeg} as fractions (tidecv prints them x100).

    Example
    -------
    One cat found, one cat called a dog, one box far off:

    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}, {"id": 2}],
    ...       "annotations": [
    ...           {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
    ...            "area": 100, "iscrowd": 0},
    ...           {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 0, 10, 10],
    ...            "area": 100, "iscrowd": 0}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
    ...       {"image_id": 1, "category_id": 2, "bbox": [50, 0, 10, 10], "score": 0.8},
    ...       {"image_id": 1, "category_id": 1, "bbox": [90, 90, 5, 5], "score": 0.7}]
    >>> r = evaluate(gt, dt)
    >>> round(r.ap, 4), r.counts["Cls"], r.counts["Bkg"]
    (0.2525, 1, 1)
    >>> round(r.main_errors["Cls"], 4)  # the dog fixed into a cat: AP 1.0 for cats
    0.7475
    """
    if not 0.0 <= background_threshold <= pos_threshold <= 1.0:
        raise InvalidParameterError(
            "evaluate: need 0 <= background_threshold <= pos_threshold <= 1, got "
            f"background_threshold={background_threshold}, pos_threshold={pos_threshold}"
        )
    if int(max_dets) < 1:
        raise InvalidParameterError(f"evaluate: max_dets must be >= 1, got {max_dets}")
    if name is None:
        name = (
            os.path.splitext(os.path.basename(os.fspath(dt)))[0]
            if isinstance(dt, (str, os.PathLike))
            else "model"
        )
    plugin = get_iou_type(iou_type)
    g, d = _load(gt, dt, iou_type)
    n_img, n_cls = g.image_ids.size, g.category_ids.size
    g_img = _index_of(g.image_ids, g.ann_image_id)
    g_cat = _index_of(g.category_ids, g.ann_category_id)
    d_img = _index_of(g.image_ids, d.image_id)
    d_cat = _index_of(g.category_ids, d.category_id)
    crowd = np.ascontiguousarray(g.ann_iscrowd, dtype=bool)
    score = np.ascontiguousarray(d.score, dtype=np.float64)

    # one group per image: detections best score first (stable), max_dets kept
    order = _stable_by(_stable_desc(score), d_img)  # image, then best score, then input
    per_img = np.bincount(d_img, minlength=n_img)
    starts = np.concatenate(([0], np.cumsum(per_img)[:-1]))
    rank = np.arange(order.size) - np.repeat(starts, per_img)
    dt_index = order[rank < int(max_dets)].astype(np.int64)
    dt_off = np.zeros(n_img + 1, dtype=np.int64)
    np.cumsum(np.minimum(per_img, int(max_dets)), out=dt_off[1:])
    gt_index = np.argsort(g_img, kind="stable").astype(np.int64)
    gt_off = np.zeros(n_img + 1, dtype=np.int64)
    np.cumsum(np.bincount(g_img, minlength=n_img), out=gt_off[1:])
    iou_off = np.zeros(n_img + 1, dtype=np.int64)
    np.cumsum(np.diff(dt_off) * np.diff(gt_off), out=iou_off[1:])
    groups = Groups(dt_index, dt_off, gt_index, gt_off, iou_off, crowd)
    ious = plugin.grouped_iou(plugin.prepare_dt(d, g), plugin.prepare_gt(g), groups)

    k, n_gt_rows = dt_index.size, crowd.size
    status = np.empty(k, np.int8)
    err = np.empty(k, np.int8)
    target = np.empty(k, np.int64)
    matched = np.empty(k, np.int64)
    used = np.zeros(n_gt_rows, np.uint8)
    usable = np.zeros(n_gt_rows, np.uint8)
    best = np.full(n_gt_rows, -1, np.int64)
    best_score = np.full(n_gt_rows, -1.0)
    classify_images(
        np.ascontiguousarray(ious, dtype=np.float64), iou_off, dt_index, dt_off, gt_index,
        gt_off, d_cat, score, g_cat, crowd.view(np.uint8), float(pos_threshold),
        float(background_threshold), status, err, target, matched, used, usable, best,
        best_score,
    )  # fmt: skip

    # data points, in position order (image order, then best score first)
    pos = np.arange(k)
    cls = d_cat[dt_index]
    s = score[dt_index]
    # dense rank of -score: equal scores share a rank (ties then go by group, position)
    by_score = _stable_desc(s)  # best score first, ties in position order
    s_rank = np.empty(k, np.int64)
    s_sorted = s[by_score]
    s_rank[by_score] = np.cumsum(np.r_[False, s_sorted[1:] != s_sorted[:-1]])
    regular = ~crowd
    n_gt = np.bincount(g_cat[regular], minlength=n_cls).astype(np.int64)
    fn = regular & (used == 0)
    missed = fn & (usable == 0)
    n_missed = np.bincount(g_cat[missed], minlength=n_cls).astype(np.int64)
    n_fn = np.bincount(g_cat[fn], minlength=n_cls).astype(np.int64)

    is_tp = status == 1
    is_fp = status == 0
    has_err = ~is_tp
    fixable = np.zeros(k, dtype=bool)
    t_ok = has_err & (target >= 0)
    tt = target[t_ok]
    fixable[t_ok] = (used[tt] == 0) & (best[tt] == pos[t_ok])
    fixed_cls = cls.copy()
    is_cls = err == _CLS
    fixed_cls[is_cls & fixable] = g_cat[target[is_cls & fixable]]

    # Two orders serve every AP but the Cls fix (whose points change category): the
    # base order (category, score, position) and the fixed one (category, score, original
    # TPs after the errors, position); a variant keeps a subset of either.
    order_base = _stable_by(by_score, cls)
    group = is_tp.astype(np.int64)  # in a fixed AP, original TPs come after the errors
    order_fixed = _stable_by(_stable_by(np.arange(k), s_rank * 2 + group), cls)

    def subset_ap(order: np.ndarray, keep: np.ndarray, tp: np.ndarray, ngt: np.ndarray) -> float:
        idx = order[keep[order]]
        return _sorted_mean_ap(tp[idx], np.bincount(cls[idx], minlength=n_cls), ngt)

    scored = is_tp | is_fp
    ap = subset_ap(order_base, scored, is_tp, n_gt)
    main: dict[str, float] = {}
    for code, name_ in enumerate(MAIN_ERRORS[:5]):
        this = err == code
        if code == _CLS:
            fix = this & fixable
            keep = is_tp | (is_fp & ~this) | fix
            c = np.where(fix, fixed_cls, cls)
            new = _mean_ap(c[keep], s_rank[keep], group[keep], (is_tp | fix)[keep], n_gt)
        else:
            fix = this & fixable if code == _LOC else np.zeros(k, dtype=bool)
            new = subset_ap(order_fixed, is_tp | (is_fp & ~this) | fix, is_tp | fix, n_gt)
        main[name_] = max(new - ap, 0.0)
    main["Miss"] = max(subset_ap(order_fixed, scored, is_tp, n_gt - n_missed) - ap, 0.0)
    # FalsePos: every TP scored 1, every FP 0 (FalsePositiveError.fix): per category its
    # TPs first, then its FPs (the order inside each run does not change the AP)
    n_pts = np.bincount(cls[scored], minlength=n_cls)
    n_tp = np.bincount(cls[is_tp], minlength=n_cls)
    starts = np.cumsum(n_pts) - n_pts
    slot = np.arange(int(n_pts.sum())) - np.repeat(starts, n_pts)
    special = {
        "FalsePos": _sorted_mean_ap(slot < np.repeat(n_tp, n_pts), n_pts, n_gt) - ap,
        "FalseNeg": subset_ap(order_fixed, scored, is_tp, n_gt - n_fn) - ap,
    }
    counts = {n_: int(np.count_nonzero(err == c)) for c, n_ in enumerate(MAIN_ERRORS[:5])}
    counts["Miss"] = int(np.count_nonzero(missed))

    err_names = np.array(MAIN_ERRORS[:5] + ("",))
    gt_of = np.where(is_tp, matched, target)
    detections = {
        "dt_row": dt_index,
        "image_id": d.image_id[dt_index],
        "category_id": d.category_id[dt_index],
        "score": s,
        "status": status,
        "error": err_names[err.astype(np.int64)],  # -1 (TP) picks the last name, ""
        "gt_id": np.where(gt_of >= 0, g.ann_id[np.maximum(gt_of, 0)], -1),
    }
    ground_truth = {
        "gt_id": g.ann_id[regular],
        "image_id": g.ann_image_id[regular],
        "category_id": g.ann_category_id[regular],
        "matched": (used == 1)[regular],
        "missed": missed[regular],
    }
    return TideResult(
        name=name,
        ap=ap / 100.0,
        main_errors={k_: v / 100.0 for k_, v in main.items()},
        special_errors={k_: v / 100.0 for k_, v in special.items()},
        counts=counts,
        pos_threshold=float(pos_threshold),
        background_threshold=float(background_threshold),
        iou_type=iou_type,
        detections=detections,
        ground_truth=ground_truth,
        image_ids=g.image_ids,
        category_names=dict(g.category_names),
    )


def summary(results: Sequence[TideResult] | Mapping[str, TideResult]) -> str:
    """tidecv's ``summarize()`` text for one or more models (dAP in AP points).

    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=10, n_categories=3, seed=0)
    >>> text = summary([evaluate(gt, dt, name="a"), evaluate(gt, dt[::2], name="b")])
    >>> text.count("Main Errors")
    2
    """
    runs = list(results.values()) if isinstance(results, Mapping) else list(results)
    out: list[str] = []
    for r in runs:
        out.append(f"-- {r.name} --\n")
        out.append(f"{r.iou_type} AP @ {int(r.pos_threshold * 100)}: {100 * r.ap:.2f}\n")
        out += _table(
            "Main Errors", MAIN_ERRORS, [f"{100 * r.main_errors[e]:6.2f}" for e in MAIN_ERRORS]
        )
        out.append("")
        out += _table(
            "Special Error",
            SPECIAL_ERRORS,
            [f"{100 * r.special_errors[e]:6.2f}" for e in SPECIAL_ERRORS],
        )
        out.append("")
    return "\n".join(out)


def _table(title: str, names: Sequence[str], values: Sequence[str]) -> list[str]:
    # tidecv plotting.print_table layout: right-aligned columns, = and - rules
    rows = [["Type", *names], [" dAP", *values]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    divider = "--" + "---".join("-" * w for w in widths) + "-"
    left = (len(divider) - len(title)) // 2
    lines = [" " * left + title, divider.replace("-", "=")]
    for i, row in enumerate(rows):
        lines.append("  " + "   ".join(v.rjust(w) for v, w in zip(row, widths)) + "  ")
        if i == 0:
            lines.append(divider)
    lines.append(divider.replace("-", "="))
    return lines


def compare(results: Sequence[TideResult] | Mapping[str, TideResult]) -> str:
    """Models side by side: one row per model, AP and every dAP in AP points.

    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=10, n_categories=3, seed=0)
    >>> print(compare([evaluate(gt, dt, name="a")]).splitlines()[0].split())
    ['model', 'AP', 'Cls', 'Loc', 'Both', 'Dupe', 'Bkg', 'Miss', 'FalsePos', 'FalseNeg']
    """
    runs = list(results.values()) if isinstance(results, Mapping) else list(results)
    head = ["model", "AP", *MAIN_ERRORS, *SPECIAL_ERRORS]
    rows = [head]
    for r in runs:
        vals = [r.ap, *(r.main_errors[e] for e in MAIN_ERRORS)]
        vals += [r.special_errors[e] for e in SPECIAL_ERRORS]
        rows.append([str(r.name), *(f"{100 * v:.2f}" for v in vals)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))
        for row in rows
    )


def plot(results: Sequence[TideResult] | Mapping[str, TideResult], ax: Any = None) -> Any:
    """Horizontal bars of each model's main and special dAP (AP points); one bar group
    per error type, one colour per model. Needs matplotlib (the ``report`` extra).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ioukit.synthetic import make_coco_dataset
    >>> gt, dt = make_coco_dataset(n_images=10, n_categories=3, seed=0)
    >>> ax = plot([evaluate(gt, dt, name="a"), evaluate(gt, dt[::2], name="b")])
    >>> len(ax.patches)
    16
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("tide.plot needs matplotlib: pip install 'ioukit[report]'") from e
    runs = list(results.values()) if isinstance(results, Mapping) else list(results)
    names = [*MAIN_ERRORS, *SPECIAL_ERRORS]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.45 * len(names) * max(len(runs), 1) + 1))
    h = 0.8 / max(len(runs), 1)
    y = np.arange(len(names))
    for i, r in enumerate(runs):
        vals = [100 * r.main_errors[e] for e in MAIN_ERRORS]
        vals += [100 * r.special_errors[e] for e in SPECIAL_ERRORS]
        ax.barh(y + i * h, vals, height=h, label=f"{r.name} (AP {100 * r.ap:.1f})")
    ax.set_yticks(y + h * (len(runs) - 1) / 2, names)
    ax.invert_yaxis()
    ax.axhline(len(MAIN_ERRORS) - 0.5 + h * (len(runs) - 1) / 2, color="0.6", lw=0.8)
    ax.set_xlabel("dAP (AP points)")
    ax.set_title(f"TIDE errors @ IoU {runs[0].pos_threshold:g}" if runs else "TIDE errors")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right")
    return ax
