"""``ioukit.tracking.evaluate``: MOT metrics of a tracker, per sequence and combined."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidParameterError
from ._io import as_sequences, as_table
from ._sequence import prepare_sequence
from .metrics import ALPHAS, METRICS

__all__ = ["evaluate", "TrackingResult", "SUMMARY_FIELDS"]

#: the columns of :meth:`TrackingResult.summary` per metric (TrackEval's summary fields)
SUMMARY_FIELDS = {
    "HOTA": ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA"),
    "CLEAR": ("MOTA", "MOTP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_FP", "CLR_FN"),
    "Identity": ("IDF1", "IDP", "IDR"),
    "Count": ("Dets", "GT_Dets", "IDs", "GT_IDs"),
}
_INT_FIELDS = {"IDSW", "MT", "PT", "ML", "Frag", "CLR_FP", "CLR_FN", "CLR_TP", "CLR_Frames",
               "IDTP", "IDFN", "IDFP", "Dets", "GT_Dets", "IDs", "GT_IDs"}  # fmt: skip


@dataclass
class TrackingResult:
    """Metrics per sequence and combined, under TrackEval's field names.

    sequences : name -> {field: value}; combined : {field: value} over all sequences.
    HOTA's per-alpha fields (HOTA, DetA, ... OWTA, HOTA_TP/FN/FP) appear as their mean
    over alpha (TrackEval's summary); the arrays themselves are in ``curves`` (name ->
    {field: (19,) array}, the combined ones under ``"COMBINED"``), at :attr:`alphas`.
    """

    sequences: dict[str, dict[str, float]]
    combined: dict[str, float]
    metrics: tuple[str, ...]
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    alphas: np.ndarray = field(default_factory=lambda: ALPHAS.copy())

    def summary(self) -> str:
        """A text table: one row per sequence and a COMBINED row (fractions).

        >>> from ioukit.tracking import evaluate
        >>> f = [([1], [[0, 0, 10, 10]])]
        >>> print(evaluate({"s": f}, {"s": f}, metrics=("Identity",)).summary())
        sequence      IDF1      IDP      IDR
        s           1.0000   1.0000   1.0000
        COMBINED    1.0000   1.0000   1.0000
        """
        cols = [c for m in self.metrics for c in SUMMARY_FIELDS[m]]
        width = max([8] + [len(n) for n in self.sequences])
        head = "sequence".ljust(width) + "".join(f"{c:>9}" for c in cols)
        rows = [head]
        for name, vals in [*self.sequences.items(), ("COMBINED", self.combined)]:
            cells = "".join(
                f"{int(vals[c]):>9d}" if c in _INT_FIELDS else f"{vals[c]:>9.4f}" for c in cols
            )
            rows.append(name.ljust(width) + cells)
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: sequences, combined, alphas and the per-alpha curves.

        >>> from ioukit.tracking import evaluate
        >>> f = [([1], [[0, 0, 10, 10]])]
        >>> sorted(evaluate({"s": f}, {"s": f}).to_dict())
        ['alphas', 'combined', 'curves', 'metrics', 'sequences']
        """
        return {
            "metrics": list(self.metrics),
            "sequences": self.sequences,
            "combined": self.combined,
            "alphas": self.alphas.tolist(),
            "curves": {k: {f: v.tolist() for f, v in c.items()} for k, c in self.curves.items()},
        }


def _scalars(res: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    flat: dict[str, float] = {}
    arrays: dict[str, np.ndarray] = {}
    for k, v in res.items():
        if isinstance(v, np.ndarray):
            arrays[k] = v
            flat[k] = float(np.mean(v))
        elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            flat[k] = int(v)
        else:
            flat[k] = float(v)
    return flat, arrays


def evaluate(
    gt: Any,
    tracker: Any,
    *,
    metrics: Iterable[str] = ("HOTA", "CLEAR", "Identity"),
    benchmark: str = "MOT17",
    preprocess: bool = True,
    threshold: float = 0.5,
    num_frames: Mapping[str, int | None] | int | None = None,
) -> TrackingResult:
    """MOT metrics of tracker output against ground truth, exactly as TrackEval computes them.

    Parameters
    ----------
    gt, tracker : one sequence (a MOTChallenge ``.txt`` path, an (N, >=6) array in
        MOTChallenge columns ``frame, id, x, y, w, h[, conf, class, visibility]``, or a list
        with one ``(ids, boxes_xywh)`` pair per frame), or a dict name -> one of these.
        ``tracker`` must name the same sequences as ``gt``.
    metrics : any of "HOTA", "CLEAR", "Identity", "Count".
    benchmark : "MOT17" (default; also MOT16, MOT20) applies TrackEval's MOTChallenge
        preprocessing (pedestrian class only, tracker boxes on distractors removed);
        "MOT15" keeps every GT row whose flag is non-zero (files without classes).
    preprocess : False skips the class steps (TrackEval's ``DO_PREPROC``).
    threshold : IoU for a CLEAR / Identity match (TrackEval's ``THRESHOLD``, 0.5).
    num_frames : sequence length(s) (seqinfo.ini's ``seqLength``; default: the last frame
        in either file). Only CLR_Frames / FP_per_frame depend on it.

    Returns
    -------
    TrackingResult with ``.sequences`` (name -> {field: value}) and ``.combined``;
    fields are TrackEval's names (HOTA, DetA, AssA, LocA, MOTA, MOTP, IDF1, IDSW, ...),
    values fractions. See docs/tracking.md.

    Example
    -------
    >>> gt = [([1, 2], [[0, 0, 10, 10], [20, 0, 10, 10]])] * 3
    >>> tr = [([5, 6], [[0, 0, 10, 10], [20, 0, 10, 10]])] * 2 + [([6, 5], [[0, 0, 10, 10],
    ...                                                            [20, 0, 10, 10]])]
    >>> r = evaluate(gt, tr)
    >>> r.sequences["seq"]["IDSW"], round(r.combined["MOTA"], 4), r.combined["IDF1"]
    (2, 0.6667, 0.6666666666666666)
    """
    metrics = tuple(metrics)
    for m in metrics:
        if m not in METRICS:
            raise InvalidParameterError(
                f"metrics: unknown {m!r}, expected some of {tuple(METRICS)}"
            )
    if not metrics:
        raise InvalidParameterError("metrics: name at least one metric")
    gts = as_sequences(gt, "gt")
    trs = as_sequences(tracker, "tracker")
    if len(gts) == 1 and len(trs) == 1 and set(gts) != set(trs):
        trs = {next(iter(gts)): next(iter(trs.values()))}  # one file each: pair them
    missing = [s for s in gts if s not in trs]
    if missing:
        raise DatasetError(f"tracker: no output for sequence(s) {', '.join(map(str, missing))}")
    extra = [s for s in trs if s not in gts]
    if extra:
        raise DatasetError(f"tracker: sequence(s) {', '.join(map(str, extra))} not in gt")
    per_seq: dict[str, dict[str, dict[str, Any]]] = {}
    for name, g in gts.items():
        n = num_frames.get(name) if isinstance(num_frames, Mapping) else num_frames
        seq = prepare_sequence(
            str(name),
            as_table(g, f"gt[{name!r}]"),
            as_table(trs[name], f"tracker[{name!r}]"),
            num_frames=n,
            benchmark=benchmark,
            preprocess=preprocess,
        )
        per_seq[str(name)] = {}
        for m in metrics:
            fn = METRICS[m][0]
            per_seq[str(name)][m] = fn(seq, threshold) if m in ("CLEAR", "Identity") else fn(seq)
    sequences: dict[str, dict[str, float]] = {name: {} for name in per_seq}
    combined: dict[str, float] = {}
    curves: dict[str, dict[str, np.ndarray]] = {name: {} for name in per_seq}
    curves["COMBINED"] = {}
    for m in metrics:
        for name in per_seq:
            flat, arrays = _scalars(per_seq[name][m])
            sequences[name].update(flat)
            curves[name].update(arrays)
        flat, arrays = _scalars(METRICS[m][1]({n: r[m] for n, r in per_seq.items()}))
        combined.update(flat)
        curves["COMBINED"].update(arrays)
    return TrackingResult(sequences, combined, metrics, curves)
