"""``CocoResult``: what an evaluation returns, and the views built on it."""

from __future__ import annotations

import math
import warnings
from dataclasses import field
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError, UnknownIdError
from ..metrics._thresholds import find_threshold, threshold_index
from ._accumulate import summary_lines
from ._params import Params

__all__ = ["CocoResult"]


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


@lightclass
class CocoResult:
    """The outcome of a COCO evaluation, as ``COCOeval.eval`` and ``stats`` hold it.

    Attributes
    ----------
    params : Params
    stats : float64 (12,)            the summary numbers (``COCOeval.stats``)
    precision : float64 [T, R, K, A, M]   -1 where a category has no GT
    recall : float64 [T, K, A, M]
    scores : float64 [T, R, K, A, M]
    category_names : dict[int, str]   for ``params.catIds`` ({-1: "all"} with useCats=0)
    num_gt : int64 (K,)   non-ignored GT per category (area range "all")
    num_dt : int64 (K,)   detections per category
    state : EvalState     the match records (exact PR / F1 views come from them)

    Example
    -------
    >>> from ioukit.coco import evaluate
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "dog"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
    ...                    "score": 0.9}])
    >>> r.precision.shape, r.num_gt.tolist(), r.category_names
    ((10, 101, 1, 4, 3), [1], {1: 'dog'})
    """

    params: Params
    stats: np.ndarray
    # precision and scores: given, or computed from ``state`` on first use (the printed
    # summary needs one maxDets of precision only; see :attr:`precision`)
    _precision: np.ndarray | None
    recall: np.ndarray
    _scores: np.ndarray | None
    state: Any = None
    summary_rows: list = field(default_factory=list)
    fix_summary: bool = False

    # ------------------------------------------------------------------ arrays
    @property
    def precision(self) -> np.ndarray:
        """float64 [T, R, K, A, M]: ``COCOeval.eval["precision"]`` (-1 without GT).

        Computed from the match records on first use when the evaluation made only the
        summary's slice (``ioukit eval`` prints the summary and needs nothing more).
        """
        if self._precision is None:
            self._fill_arrays()
        return self._precision  # type: ignore[return-value]

    @property
    def scores(self) -> np.ndarray:
        """float64 [T, R, K, A, M]: ``COCOeval.eval["scores"]``."""
        if self._scores is None:
            self._fill_arrays()
        return self._scores  # type: ignore[return-value]

    def _fill_arrays(self) -> None:
        from ._accumulate import accumulate_state

        self._precision, _, self._scores = accumulate_state(self.state)

    # ------------------------------------------------------------------ basics
    @property
    def cat_ids(self) -> list[int]:
        """Category ids along the K axis (``[-1]`` with useCats=0)."""
        return list(self.params.catIds) if self.params.useCats else [-1]

    @property
    def category_names(self) -> dict[int, str]:
        names = self.state.category_names if self.state is not None else {}
        if not self.params.useCats:
            return {-1: "all"}
        return {int(c): names.get(int(c), str(c)) for c in self.params.catIds}

    def _area_index(self, area: str) -> int:
        try:
            return list(self.params.areaRngLbl).index(area)
        except ValueError:
            raise InvalidParameterError(
                f"unknown area range {area!r}; have {list(self.params.areaRngLbl)}"
            ) from None

    def _all_area(self) -> int:
        lbl = list(self.params.areaRngLbl)
        return lbl.index("all") if "all" in lbl else 0

    def _iou_index(self, iou: float) -> int:
        # one look-up rule for every threshold by value (ioukit.metrics.threshold_index)
        return threshold_index(self.params.iouThrs, iou)

    def _maxdet_index(self, max_dets: int) -> int:
        md = list(self.params.maxDets)
        if max_dets not in md:
            raise InvalidParameterError(f"max_dets={max_dets} not in maxDets {md}")
        return md.index(max_dets)

    def _cat_index(self, category_id: int) -> int:
        ids = self.cat_ids
        if category_id not in ids:
            raise UnknownIdError(f"category id {category_id} was not evaluated (have {ids})")
        return ids.index(category_id)

    @property
    def num_gt(self) -> np.ndarray:
        return self.state.num_gt[:, self._all_area()].copy()

    @property
    def num_dt(self) -> np.ndarray:
        return self.state.num_dt.copy()

    def summary(self) -> str:
        """The 12 lines ``COCOeval.summarize()`` prints, joined by newlines.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
        >>> print(evaluate(gt, []).summary().splitlines()[0])
         Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = -1.000
        """
        return "\n".join(summary_lines(self.summary_rows, np.asarray(self.params.iouThrs)))

    def __str__(self) -> str:
        return self.summary()

    # --------------------------------------------------------------- per class
    @staticmethod
    def _mean_valid(s: np.ndarray) -> float:
        v = s[s > -1]
        return float(np.mean(v)) if v.size else -1.0

    def per_class(self, as_frame: bool | None = None) -> Any:
        """Per-category table: AP, AP50, AP75, APs, APm, APl, AR100, counts, F1 point.

        AP values average ``precision`` over IoU thresholds and recall points (entries
        of -1 excluded, as ``summarize`` does) at ``maxDets[-1]``; -1 means no GT.
        Returns a pandas DataFrame when pandas is installed and ``as_frame`` is not
        False, else a list of dicts.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "dog"}],
        ...       "annotations": []}
        >>> evaluate(gt, []).per_class(as_frame=False)[0]["AP"]
        -1.0
        """
        p = self.params
        m = len(p.maxDets) - 1
        a_all = self._all_area()
        lbl = list(p.areaRngLbl)
        t50 = find_threshold(p.iouThrs, 0.5)
        t75 = find_threshold(p.iouThrs, 0.75)
        f1 = self.f1_optimal(0.5) if t50 is not None else None
        rows = []
        for k, cid in enumerate(self.cat_ids):

            def ap(t_sel: Any, a: int | None, k: int = k) -> float:
                if a is None:
                    return -1.0
                s = self.precision[:, :, k, a, m]
                return self._mean_valid(s if t_sel is None else s[t_sel])

            row = {
                "category_id": int(cid),
                "name": self.category_names.get(int(cid), str(cid)),
                "AP": ap(None, a_all),
                "AP50": ap([t50], a_all) if t50 is not None else -1.0,
                "AP75": ap([t75], a_all) if t75 is not None else -1.0,
                "APs": ap(None, lbl.index("small") if "small" in lbl else None),
                "APm": ap(None, lbl.index("medium") if "medium" in lbl else None),
                "APl": ap(None, lbl.index("large") if "large" in lbl else None),
                "AR100": self._mean_valid(self.recall[:, k, a_all, m]),
                "num_gt": int(self.num_gt[k]),
                "num_dt": int(self.num_dt[k]),
            }
            c = f1["categories"][int(cid)] if f1 else {}
            row["f1"] = c.get("f1", float("nan"))
            row["f1_precision"] = c.get("precision", float("nan"))
            row["f1_recall"] = c.get("recall", float("nan"))
            row["f1_threshold"] = c.get("threshold", float("nan"))
            rows.append(row)
        if as_frame is not False:
            try:
                import pandas as pd
            except ImportError:
                if as_frame:
                    raise
                return rows
            return pd.DataFrame(rows)
        return rows

    # -------------------------------------------------------------- PR curves
    def pr_curve(
        self,
        category_id: int | None = None,
        iou: float = 0.5,
        area: str = "all",
        max_dets: int = 100,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The interpolated PR curve at the R recall points: (recall, precision, scores).

        ``category_id=None`` averages over the categories that have GT in ``area``.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
        ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
        >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
        ...                    "score": 0.9}])
        >>> rc, pr, sc = r.pr_curve(1)
        >>> rc.shape, float(pr[-1]), float(sc[0])
        ((101,), 1.0, 0.9)
        """
        t = self._iou_index(iou)
        a = self._area_index(area)
        m = self._maxdet_index(max_dets)
        rec = np.asarray(self.params.recThrs, dtype=np.float64).copy()
        if category_id is not None:
            k = self._cat_index(category_id)
            return rec, self.precision[t, :, k, a, m].copy(), self.scores[t, :, k, a, m].copy()
        valid = self.precision[t, 0, :, a, m] > -1
        if not valid.any():
            return rec, -np.ones_like(rec), -np.ones_like(rec)
        return (
            rec,
            self.precision[t, :, valid, a, m].mean(axis=0),
            self.scores[t, :, valid, a, m].mean(axis=0),
        )

    def f1_optimal(self, iou: float = 0.5) -> dict[str, Any]:
        """Precision, recall and F1 at the score threshold that maximises F1.

        Computed exactly from the match records (area range "all", all kept
        detections, ``maxDets[-1]`` per image), not from the 101-point interpolation:
        keeping detections with ``score >= s``, ``P = TP / (TP + FP)``,
        ``R = TP / n_gt``, ``F1 = 2 P R / (P + R) = 2 TP / (TP + FP + n_gt)``
        (van Rijsbergen 1979, F-measure with beta = 1). Ignored detections count
        neither way. ``overall`` pools every category under one threshold
        (micro-average). Ties in F1 go to the higher threshold. NaN where a category
        has no GT; F1 = 0 with threshold NaN when nothing is matched. The curve and
        the choice are :func:`ioukit.metrics.precision_recall_curve` and
        :func:`ioukit.metrics.best_f1` on the records ranked as pycocotools ranks them
        (score, then image, then rank in the image).

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
        ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
        >>> dts = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        ...        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 5, 5], "score": 0.3}]
        >>> f = evaluate(gt, dts).f1_optimal(0.5)
        >>> f["overall"]["f1"], f["overall"]["threshold"]
        (1.0, 0.9)
        """
        t = self._iou_index(iou)
        a = self._all_area()
        st = self.state
        flags = st.dt_flags[:, a, t]
        out: dict[str, Any] = {"iou": float(self.params.iouThrs[t]), "categories": {}}
        order = np.lexsort((st.dt_rank, st.dt_image_id, -st.dt_score))
        ngt = st.num_gt[:, a]
        for k, cid in enumerate(self.cat_ids):
            sel = order[st.dt_category[order] == k]
            out["categories"][int(cid)] = _best_f1(st.dt_score[sel], flags[sel], int(ngt[k]))
        out["overall"] = _best_f1(st.dt_score[order], flags[order], int(ngt.sum()))
        return out

    # ----------------------------------------------------------------- matches
    def matches(self, iou_threshold: float | None = None, *, as_frame: bool = False) -> Any:
        """The match records: per kept detection, the GT it matched and the IoU.

        Needs ``evaluate(..., keep_matches=True)``. A dict of arrays (or a pandas
        DataFrame with ``as_frame=True``): ``dt_row``, ``image_id``, ``category_id``,
        ``score``, ``best_gt_id``, ``best_iou`` and, per IoU threshold (area range
        "all"), ``flag`` (0 FP, 1 TP, 2 ignored), ``gt_id`` (-1: none), ``iou`` (NaN:
        none); see :meth:`ioukit.coco.EvalState.match_table`.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
        ...       "annotations": [{"id": 4, "image_id": 1, "category_id": 1,
        ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
        >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 8],
        ...                    "score": 0.9}], keep_matches=True)
        >>> m = r.matches()
        >>> m["gt_id"][0].tolist()  # matched at IoU 0.50 ... 0.80, not above
        [4, 4, 4, 4, 4, 4, 4, -1, -1, -1]
        >>> float(r.matches(0.5)["iou"][0])
        0.8
        """
        return self.state.match_table(iou_threshold, as_frame=as_frame)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-able Python objects (arrays as nested lists).

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
        >>> sorted(evaluate(gt, []).to_dict())[:4]
        ['category_names', 'f1_optimal', 'num_dt', 'num_gt']
        """
        f1 = self.f1_optimal(0.5) if find_threshold(self.params.iouThrs, 0.5) is not None else None
        if f1 is not None:
            import json

            f1 = json.loads(json.dumps(f1, default=float).replace("NaN", "null"))
        per_class = [
            {k: _nan_to_none(v) for k, v in row.items()} for row in self.per_class(as_frame=False)
        ]
        return {
            "params": self.params.to_dict(),
            "stats": [float(s) for s in self.stats],
            "summary": self.summary(),
            "category_names": {str(k): v for k, v in self.category_names.items()},
            "num_gt": [int(n) for n in self.num_gt],
            "num_dt": [int(n) for n in self.num_dt],
            "per_class": per_class,
            "f1_optimal": f1,
            "precision": self.precision.tolist(),
            "recall": self.recall.tolist(),
            "scores": self.scores.tolist(),
        }

    def to_json(self, path: Any = None) -> str:
        """:meth:`to_dict` as a JSON string, also written to ``path`` when given.

        >>> from ioukit.coco import evaluate
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
        >>> evaluate(gt, []).to_json()[:10]
        '{"params":'
        """
        import json

        s = json.dumps(self.to_dict())
        if path is not None:
            with open(path, "w") as f:
                f.write(s)
        return s

    # ------------------------------------------------------- report delegates
    # Deprecated: the report layer takes the result (ioukit.report.write_html(result,
    # path), ioukit.report.plot_pr(result)); evaluation does not depend on it. These
    # aliases are the only upward imports of ioukit.coco, allowlisted in
    # tests/test_layers.py until they are removed.
    def report(self, path: Any, **kw: Any) -> Any:
        """Deprecated alias of ``ioukit.report.write_html(result, path, **kw)``."""
        warnings.warn(
            "CocoResult.report(path) is deprecated; use ioukit.report.write_html(result, path)",
            DeprecationWarning,
            stacklevel=2,
        )
        from ioukit.report import write_html

        return write_html(self, path, **kw)

    def plot_pr(self, **kw: Any) -> Any:
        """Deprecated alias of ``ioukit.report.plot_pr(result, **kw)``."""
        warnings.warn(
            "CocoResult.plot_pr() is deprecated; use ioukit.report.plot_pr(result)",
            DeprecationWarning,
            stacklevel=2,
        )
        from ioukit.report import plot_pr

        return plot_pr(self, **kw)


def _best_f1(score: np.ndarray, flags: np.ndarray, n_gt: int) -> dict[str, float]:
    """:func:`ioukit.metrics.best_f1` of records already in rank order (best first)."""
    from ..metrics import best_f1, precision_recall_curve

    # the stable ranking of precision_recall_curve keeps an order that is already sorted
    return best_f1(precision_recall_curve(score, flags, n_gt))
