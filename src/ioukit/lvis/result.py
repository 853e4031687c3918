"""``LvisResult``: what an LVIS evaluation returns (``LVISEval.results`` and ``eval``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..coco import Params

__all__ = ["LvisResult"]


@dataclass
class LvisResult:
    """The outcome of an LVIS evaluation, as ``LVISEval`` holds it.

    Attributes
    ----------
    params : Params        ``maxDets`` = [the per-image cap]; imgIds, catIds, thresholds
    results : dict[str, float]
        ``LVISEval.results``: AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@300,
        ARs@300, ARm@300, ARl@300, in that order (-1: no GT)
    precision : float64 [T, R, K, A]  ``LVISEval.eval["precision"]`` (-1: no GT)
    recall : float64 [T, K, A]        ``LVISEval.eval["recall"]``
    scores : float64 [T, R, K, A]     the score at each recall point (as pycocotools'
                                      ``eval["scores"]``; lvis has none)
    freq_groups : list of 3 lists     category positions (K axis) of r, c, f
    state : EvalState                 the match records

    Example
    -------
    >>> from ioukit.lvis import evaluate
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "c"}], "annotations": []}
    >>> r = evaluate(gt, [])
    >>> list(r.results)[:3], r.recall.shape
    (['AP', 'AP50', 'AP75'], (10, 1, 4))
    """

    params: Params
    results: dict[str, float]
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    freq_groups: list[list[int]]
    state: Any = None

    @property
    def cat_ids(self) -> list[int]:
        """Category ids along the K axis (sorted)."""
        return list(self.params.catIds)

    def summary(self) -> str:
        """The lines ``LVISEval.print_results()`` prints, joined by newlines.

        >>> from ioukit.lvis import evaluate
        >>> gt = {"images": [{"id": 1, "neg_category_ids": [],
        ...                   "not_exhaustive_category_ids": []}],
        ...       "categories": [{"id": 1, "frequency": "c"}], "annotations": []}
        >>> print(evaluate(gt, []).summary().splitlines()[6])
         Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=  r] = -1.000
        """
        # lvis/eval.py print_results (the "300" is lvis' Params.max_dets label)
        template = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} catIds={:>3s}] = {:0.3f}"
        thr = np.asarray(self.params.iouThrs)
        lines = []
        for key, value in self.results.items():
            ap = "AP" in key
            title, typ = ("Average Precision", "(AP)") if ap else ("Average Recall", "(AR)")
            if len(key) > 2 and key[2].isdigit():
                iou = f"{float(key[2:]) / 100:0.2f}"
            else:
                iou = f"{thr[0]:0.2f}:{thr[-1]:0.2f}"
            group = key[2] if len(key) > 2 and key[2] in "rcf" else "all"
            area = key[2] if len(key) > 2 and key[2] in "sml" else "all"
            lines.append(template.format(title, typ, iou, area, 300, group, value))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def matches(self, iou_threshold: float | None = None, *, as_frame: bool = False) -> Any:
        """The match records (``evaluate(..., keep_matches=True)``): per kept detection
        the GT it matched and the IoU; see :meth:`ioukit.coco.EvalState.match_table`.

        >>> from ioukit.lvis import evaluate
        >>> gt = {"images": [{"id": 1, "neg_category_ids": [],
        ...                   "not_exhaustive_category_ids": []}],
        ...       "categories": [{"id": 1, "frequency": "c"}],
        ...       "annotations": [{"id": 3, "image_id": 1, "category_id": 1,
        ...                        "bbox": [0, 0, 10, 10], "area": 100}]}
        >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 8],
        ...                    "score": 0.9}], keep_matches=True)
        >>> r.matches(0.75)["gt_id"].tolist(), r.matches(0.85)["gt_id"].tolist()
        ([3], [-1])
        """
        return self.state.match_table(iou_threshold, as_frame=as_frame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: params, results, freq_groups, precision and recall as nested lists.

        >>> from ioukit.lvis import evaluate
        >>> gt = {"images": [], "categories": [{"id": 1, "frequency": "c"}],
        ...       "annotations": []}
        >>> sorted(evaluate(gt, []).to_dict())
        ['freq_groups', 'params', 'precision', 'recall', 'results']
        """
        return {
            "params": self.params.to_dict(),
            "results": {k: float(v) for k, v in self.results.items()},
            "freq_groups": [list(g) for g in self.freq_groups],
            "precision": self.precision.tolist(),
            "recall": self.recall.tolist(),
        }
