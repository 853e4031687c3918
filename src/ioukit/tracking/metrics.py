"""MOT metrics per sequence and combined: CLEAR, Identity, HOTA, Count (TrackEval's fields).

Each ``<metric>(seq)`` takes a preprocessed sequence (``SequenceData``, built by
:func:`ioukit.tracking.evaluate`) and returns TrackEval's fields for it; each
``combine_<metric>(results)`` merges per-sequence fields as TrackEval's
``combine_sequences`` does. HOTA's array fields hold one value per alpha
(:data:`ALPHAS`). Values are fractions, not percentages.

Definitions (and their quirks, reproduced on purpose):

- CLEAR, Bernardin & Stiefelhagen 2008; trackeval/metrics/clear.py: per frame an
  assignment at IoU >= 0.5 - eps that first keeps the previous frame's pairs (score 1000 +
  IoU); IDSW against the last matched tracker id of any earlier frame; MT > 80 %,
  PT >= 20 % of a GT track's frames matched; MOTP = mean IoU of matches (``MOTP_distance``
  = 1 - MOTP is py-motmetrics' MOTP).
- Identity, Ristani et al. 2016; trackeval/metrics/identity.py: one global id-to-id
  assignment maximising the frames with IoU >= 0.5 (solved on the G x T overlap-count
  matrix, equivalent to TrackEval's (G+T)^2 cost matrix: IDTP is the same integer).
- HOTA, Luiten et al. 2021 (IJCV); trackeval/metrics/hota.py: alpha =
  ``np.arange(0.05, 0.99, 0.05)``, a match at IoU >= alpha - eps, one assignment per frame
  maximising (global alignment x IoU); LocA is 1 when there is no TP.

Example
-------
>>> from ioukit.tracking import evaluate
>>> frames = [([1], [[0, 0, 10, 10]]), ([1], [[1, 0, 10, 10]])]
>>> r = evaluate({"s": frames}, {"s": frames})
>>> r.combined["MOTA"], r.combined["IDF1"], r.combined["HOTA"]
(1.0, 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import _kernels
from ._sequence import SequenceData

__all__ = [
    "ALPHAS",
    "METRICS",
    "clear",
    "identity",
    "hota",
    "count",
    "combine_clear",
    "combine_identity",
    "combine_hota",
    "combine_count",
]

#: HOTA's localisation thresholds, exactly TrackEval's array (19 values)
ALPHAS = np.arange(0.05, 0.99, 0.05)
_EPS = np.finfo("float").eps

Fields = dict[str, Any]

HOTA_ARRAY_FIELDS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")
HOTA_INT_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
CLEAR_SUMMED = (
    "CLR_TP",
    "CLR_FN",
    "CLR_FP",
    "IDSW",
    "MT",
    "PT",
    "ML",
    "Frag",
    "CLR_Frames",
    "MOTP_sum",
)


# ------------------------------------------------------------------ CLEAR
def _clear_final(res: Fields) -> Fields:
    # trackeval/metrics/clear.py: _compute_final_fields
    num_gt_ids = res["MT"] + res["ML"] + res["PT"]
    tp, fn, fp, idsw = res["CLR_TP"], res["CLR_FN"], res["CLR_FP"], res["IDSW"]
    res["MTR"] = res["MT"] / np.maximum(1.0, num_gt_ids)
    res["MLR"] = res["ML"] / np.maximum(1.0, num_gt_ids)
    res["PTR"] = res["PT"] / np.maximum(1.0, num_gt_ids)
    res["CLR_Re"] = tp / np.maximum(1.0, tp + fn)
    res["CLR_Pr"] = tp / np.maximum(1.0, tp + fp)
    res["MODA"] = (tp - fp) / np.maximum(1.0, tp + fn)
    res["MOTA"] = (tp - fp - idsw) / np.maximum(1.0, tp + fn)
    res["MOTP"] = res["MOTP_sum"] / np.maximum(1.0, tp)
    res["sMOTA"] = (res["MOTP_sum"] - fp - idsw) / np.maximum(1.0, tp + fn)
    res["CLR_F1"] = tp / np.maximum(1.0, tp + 0.5 * fn + 0.5 * fp)
    res["FP_per_frame"] = fp / np.maximum(1.0, res["CLR_Frames"])
    safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    res["MOTAL"] = (tp - fp - safe_log_idsw) / np.maximum(1.0, tp + fn)
    return _with_distance(res)


def _with_distance(res: Fields) -> Fields:
    res["MOTP_distance"] = 1.0 - res["MOTP"] if res["CLR_TP"] > 0 else 0.0
    return res


def clear(seq: SequenceData, threshold: float = 0.5) -> Fields:
    """CLEAR MOT fields of one sequence (MOTA, MOTP, MT/PT/ML, Frag, IDSW, ...).

    Example
    -------
    >>> from ioukit.tracking._io import as_table
    >>> from ioukit.tracking._sequence import prepare_sequence
    >>> gt = as_table([([1], [[0, 0, 10, 10]])] * 4, "gt")
    >>> tr = as_table([([7], [[0, 0, 10, 10]])] * 2 + [([8], [[0, 0, 10, 10]])] * 2, "tr")
    >>> res = clear(prepare_sequence("s", gt, tr))
    >>> res["IDSW"], float(res["MOTA"])  # one identity switch over 4 frames
    (1, 0.75)
    """
    res: Fields = {k: 0 for k in CLEAR_SUMMED}
    res["CLR_Frames"] = 0
    if seq.num_tr_dets == 0 or seq.num_gt_dets == 0:
        # TrackEval returns early here, before its final fields
        out: Fields = {k: 0 for k in _CLEAR_FIELDS}
        if seq.num_tr_dets == 0:
            out["CLR_FN"] = seq.num_gt_dets
            out["ML"] = seq.num_gt_ids
        else:
            out["CLR_FP"] = seq.num_tr_dets
        out["MLR"] = 1.0
        return _with_distance(out)
    tp, fn, fp, idsw, motp_sum, count, matched, frag = _kernels.clear_counts(
        seq.sim, seq.gt_off, seq.tr_off, seq.sim_off, seq.gt_id, seq.tr_id,
        seq.num_gt_ids, float(threshold),
    )  # fmt: skip
    res.update(CLR_TP=int(tp), CLR_FN=int(fn), CLR_FP=int(fp), IDSW=int(idsw))
    res["MOTP_sum"] = motp_sum
    present = count > 0
    tracked_ratio = matched[present] / count[present]
    res["MT"] = int(np.sum(np.greater(tracked_ratio, 0.8)))
    res["PT"] = int(np.sum(np.greater_equal(tracked_ratio, 0.2))) - res["MT"]
    res["ML"] = seq.num_gt_ids - res["MT"] - res["PT"]
    res["Frag"] = int(np.sum(frag[frag > 0] - 1))
    res["CLR_Frames"] = seq.num_frames
    return _clear_final(res)


_CLEAR_FIELDS = CLEAR_SUMMED + (
    "MOTA",
    "MOTP",
    "MODA",
    "CLR_Re",
    "CLR_Pr",
    "MTR",
    "PTR",
    "MLR",
    "sMOTA",
    "CLR_F1",
    "FP_per_frame",
    "MOTAL",
)


def combine_clear(results: Mapping[str, Fields]) -> Fields:
    """Sum the counts over sequences, then recompute the ratios (TrackEval).

    >>> a = {"CLR_TP": 3, "CLR_FN": 1, "CLR_FP": 0, "IDSW": 1, "MT": 1, "PT": 0, "ML": 0,
    ...      "Frag": 0, "CLR_Frames": 4, "MOTP_sum": 3.0}
    >>> float(combine_clear({"s1": a, "s2": a})["MOTA"])
    0.5
    """
    res: Fields = {k: sum(r[k] for r in results.values()) for k in CLEAR_SUMMED}
    return _clear_final(res)


# ------------------------------------------------------------------ Identity
def _identity_final(res: Fields) -> Fields:
    # trackeval/metrics/identity.py: _compute_final_fields
    idtp, idfn, idfp = res["IDTP"], res["IDFN"], res["IDFP"]
    res["IDR"] = idtp / np.maximum(1.0, idtp + idfn)
    res["IDP"] = idtp / np.maximum(1.0, idtp + idfp)
    res["IDF1"] = idtp / np.maximum(1.0, idtp + 0.5 * idfp + 0.5 * idfn)
    return res


def identity(seq: SequenceData, threshold: float = 0.5) -> Fields:
    """Identity fields of one sequence (IDF1, IDP, IDR, IDTP, IDFN, IDFP).

    Example
    -------
    >>> from ioukit.tracking._io import as_table
    >>> from ioukit.tracking._sequence import prepare_sequence
    >>> gt = as_table([([1], [[0, 0, 10, 10]])] * 4, "gt")
    >>> tr = as_table([([7], [[0, 0, 10, 10]])] * 3 + [([8], [[0, 0, 10, 10]])], "tr")
    >>> res = identity(prepare_sequence("s", gt, tr))
    >>> res["IDTP"], res["IDFN"], res["IDFP"], float(res["IDF1"])  # id 7 covers 3 of 4 frames
    (3, 1, 1, 0.75)
    """
    if seq.num_tr_dets == 0 or seq.num_gt_dets == 0:
        res = {"IDTP": 0, "IDFN": seq.num_gt_dets, "IDFP": 0}
        if seq.num_tr_dets and seq.num_gt_dets == 0:
            res["IDFP"] = seq.num_tr_dets
        res.update(IDR=0, IDP=0, IDF1=0)
        return res
    potential = np.zeros((seq.num_gt_ids, seq.num_tr_ids))
    _kernels.identity_counts(
        seq.sim, seq.gt_off, seq.tr_off, seq.sim_off, seq.gt_id, seq.tr_id, potential,
        float(threshold),
    )  # fmt: skip
    rows, cols = linear_sum_assignment(-potential)
    idtp = int(round(potential[rows, cols].sum()))
    res = {
        "IDTP": idtp,
        "IDFN": seq.num_gt_dets - idtp,
        "IDFP": seq.num_tr_dets - idtp,
    }
    return _identity_final(res)


def combine_identity(results: Mapping[str, Fields]) -> Fields:
    """Sum IDTP / IDFN / IDFP over sequences, then recompute (TrackEval).

    >>> float(combine_identity({"a": {"IDTP": 3, "IDFN": 1, "IDFP": 1},
    ...                         "b": {"IDTP": 1, "IDFN": 0, "IDFP": 0}})["IDF1"])
    0.8
    """
    res: Fields = {k: sum(r[k] for r in results.values()) for k in ("IDTP", "IDFN", "IDFP")}
    return _identity_final(res)


# ------------------------------------------------------------------ HOTA
def _hota_final(res: Fields) -> Fields:
    # trackeval/metrics/hota.py: _compute_final_fields
    tp, fn, fp = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"]
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["OWTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    res["HOTA(0)"] = res["HOTA"][0]
    res["LocA(0)"] = res["LocA"][0]
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    return res


def hota(seq: SequenceData) -> Fields:
    """HOTA fields of one sequence; array fields hold one value per alpha (:data:`ALPHAS`).

    Example
    -------
    >>> from ioukit.tracking._io import as_table
    >>> from ioukit.tracking._sequence import prepare_sequence
    >>> gt = as_table([([1], [[0, 0, 10, 10]])] * 2, "gt")
    >>> tr = as_table([([7], [[0, 0, 10, 10]]), ([8], [[0, 0, 10, 10]])], "tr")
    >>> res = hota(prepare_sequence("s", gt, tr))
    >>> float(res["DetA"][0]), float(res["AssA"][0])  # each pair shares 1 of 3 frames
    (1.0, 0.5)
    """
    n_a = ALPHAS.shape[0]
    res: Fields = {k: np.zeros(n_a) for k in HOTA_ARRAY_FIELDS + HOTA_INT_FIELDS}
    for k in ("HOTA(0)", "LocA(0)", "HOTALocA(0)"):
        res[k] = 0
    if seq.num_tr_dets == 0 or seq.num_gt_dets == 0:
        # TrackEval returns early here, without its final fields
        if seq.num_tr_dets == 0:
            res["HOTA_FN"] = seq.num_gt_dets * np.ones(n_a)
        else:
            res["HOTA_FP"] = seq.num_tr_dets * np.ones(n_a)
        res["LocA"] = np.ones(n_a)
        res["LocA(0)"] = 1.0
        return res
    n_g, n_t = seq.num_gt_ids, seq.num_tr_ids
    potential = np.zeros((n_g, n_t))
    gt_count = np.zeros(n_g)
    tr_count = np.zeros(n_t)
    args = (seq.sim, seq.gt_off, seq.tr_off, seq.sim_off, seq.gt_id, seq.tr_id)
    _kernels.hota_alignment(*args, potential, gt_count, tr_count)
    alignment = potential / (gt_count[:, None] + tr_count[None, :] - potential)
    cap = int(np.minimum(np.diff(seq.gt_off), np.diff(seq.tr_off)).sum())
    m_gt, m_tr, m_k = (np.empty(cap, np.int64) for _ in range(3))
    tp, fn, fp, loc = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"], res["LocA"]
    n = _kernels.hota_matches(*args, alignment, ALPHAS - _EPS, tp, fn, fp, loc, m_gt, m_tr, m_k)
    # matches per (GT id, tracker id) pair and alpha, from the pairs' alpha counts
    key = m_gt[:n] * n_t + m_tr[:n]
    pairs, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    p_gt, p_tr = pairs // n_t, pairs % n_t
    union_base = gt_count[p_gt] + tr_count[p_tr]
    ks = m_k[:n]
    for a in range(n_a):
        mc = np.bincount(inverse, weights=ks > a, minlength=pairs.shape[0])
        denom_tp = np.maximum(1, tp[a])
        res["AssA"][a] = np.sum(mc * (mc / np.maximum(1, union_base - mc))) / denom_tp
        res["AssRe"][a] = np.sum(mc * (mc / np.maximum(1, gt_count[p_gt]))) / denom_tp
        res["AssPr"][a] = np.sum(mc * (mc / np.maximum(1, tr_count[p_tr]))) / denom_tp
    res["LocA"] = np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    return _hota_final(res)


def combine_hota(results: Mapping[str, Fields]) -> Fields:
    """Sum TP/FN/FP, weight AssA/AssRe/AssPr/LocA by HOTA_TP per alpha (TrackEval).

    >>> one = {"HOTA_TP": np.ones(19), "HOTA_FN": np.zeros(19), "HOTA_FP": np.zeros(19),
    ...        "AssA": np.ones(19), "AssRe": np.ones(19), "AssPr": np.ones(19),
    ...        "LocA": np.ones(19)}
    >>> float(combine_hota({"a": one, "b": one})["HOTA"].mean())
    1.0
    """
    res: Fields = {k: sum(r[k] for r in results.values()) for k in HOTA_INT_FIELDS}
    weight = np.maximum(1.0, res["HOTA_TP"])
    for k in ("AssRe", "AssPr", "AssA"):
        res[k] = sum(r[k] * r["HOTA_TP"] for r in results.values()) / weight
    loca = sum(r["LocA"] * r["HOTA_TP"] for r in results.values())
    res["LocA"] = np.maximum(1e-10, loca) / np.maximum(1e-10, res["HOTA_TP"])
    return _hota_final(res)


# ------------------------------------------------------------------ Count
def count(seq: SequenceData) -> Fields:
    """TrackEval's Count: Dets, GT_Dets, IDs, GT_IDs (after preprocessing).

    >>> from ioukit.tracking._io import as_table
    >>> from ioukit.tracking._sequence import prepare_sequence
    >>> t = as_table([([1, 2], [[0, 0, 5, 5], [9, 9, 5, 5]])], "t")
    >>> count(prepare_sequence("s", t, t))
    {'Dets': 2, 'GT_Dets': 2, 'IDs': 2, 'GT_IDs': 2}
    """
    return {
        "Dets": seq.num_tr_dets,
        "GT_Dets": seq.num_gt_dets,
        "IDs": seq.num_tr_ids,
        "GT_IDs": seq.num_gt_ids,
    }


def combine_count(results: Mapping[str, Fields]) -> Fields:
    """Sums over sequences.

    >>> combine_count({"a": {"Dets": 1, "GT_Dets": 2, "IDs": 1, "GT_IDs": 1},
    ...                "b": {"Dets": 3, "GT_Dets": 0, "IDs": 1, "GT_IDs": 0}})["Dets"]
    4
    """
    return {k: sum(r[k] for r in results.values()) for k in ("Dets", "GT_Dets", "IDs", "GT_IDs")}


#: metric name -> (per-sequence function, combine function)
METRICS = {
    "HOTA": (hota, combine_hota),
    "CLEAR": (clear, combine_clear),
    "Identity": (identity, combine_identity),
    "Count": (count, combine_count),
}
