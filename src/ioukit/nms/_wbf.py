"""Weighted boxes fusion (Solovyev et al. 2021) with ensemble-boxes' semantics."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from .._backend import is_torch
from .._deprecation import UNSET, renamed
from ..errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from . import _kernels as K

__all__ = ["weighted_boxes_fusion"]

_CONF = {
    "avg": K.CONF_AVG,
    "max": K.CONF_MAX,
    "box_and_model_avg": K.CONF_BOX_AND_MODEL_AVG,
    "absent_model_aware_avg": K.CONF_ABSENT_MODEL_AWARE_AVG,
}


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if is_torch(x) else np.asarray(x)


def _prefilter(boxes_list, scores_list, labels_list, weights, thr):
    """ensemble-boxes' prefilter_boxes, vectorised: same rows, same values, same order."""
    cols = []
    n_swapped = n_clipped = n_zero = 0
    for t, (bt, st, lt) in enumerate(zip(boxes_list, scores_list, labels_list)):
        b = _np(bt).astype(np.float64).reshape(-1, 4) if len(bt) else np.zeros((0, 4))
        s = _np(st).reshape(-1)
        lab = _np(lt).reshape(-1)
        if len(b) != len(s) or len(b) != len(lab):
            raise ShapeMismatchError(
                f"model {t}: {len(b)} boxes, {len(s)} scores and {len(lab)} labels must match"
            )
        bad = np.flatnonzero(~np.isfinite(b).all(1))
        if bad.size:
            raise InvalidBoxesError(
                f"boxes_list[{t}] row {bad[0]} is not finite: {b[bad[0]].tolist()}"
            )
        bad = np.flatnonzero(np.isnan(s.astype(np.float64)))
        if bad.size:
            raise InvalidBoxesError(f"scores_list[{t}] row {bad[0]} is NaN")
        keep = ~(s < thr)
        b, s, lab = b[keep], s[keep], lab[keep]
        x1 = np.minimum(b[:, 0], b[:, 2])
        x2 = np.maximum(b[:, 0], b[:, 2])
        y1 = np.minimum(b[:, 1], b[:, 3])
        y2 = np.maximum(b[:, 1], b[:, 3])
        n_swapped += int(((b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])).sum())
        c = np.stack([x1, y1, x2, y2], 1)
        n_clipped += int(((c < 0) | (c > 1)).any(1).sum())
        c = np.clip(c, 0.0, 1.0)
        nz = (c[:, 2] - c[:, 0]) * (c[:, 3] - c[:, 1]) != 0.0
        n_zero += int((~nz).sum())
        sc = s[nz].astype(np.float64) * weights[t]
        cols.append(
            (
                lab[nz].astype(np.int64),
                sc,
                np.full(sc.shape, weights[t], np.float64),
                np.full(sc.shape, t, np.int64),
                c[nz],
            )
        )
    if n_swapped or n_clipped or n_zero:
        warnings.warn(
            f"weighted_boxes_fusion: swapped {n_swapped} inverted boxes, clipped {n_clipped} "
            f"boxes to [0, 1] and skipped {n_zero} zero-area boxes (as ensemble-boxes does)",
            stacklevel=3,
        )
    lab = np.concatenate([c[0] for c in cols]) if cols else np.zeros(0, np.int64)
    sc = np.concatenate([c[1] for c in cols]) if cols else np.zeros(0)
    wc = np.concatenate([c[2] for c in cols]) if cols else np.zeros(0)
    md = np.concatenate([c[3] for c in cols]) if cols else np.zeros(0, np.int64)
    co = np.concatenate([c[4] for c in cols]) if cols else np.zeros((0, 4))
    return lab, sc, wc, md, co


def weighted_boxes_fusion(
    boxes_list: Any,
    scores_list: Any,
    labels_list: Any,
    weights: Any = None,
    iou_threshold: float = 0.55,
    skip_box_thr: float = 0.0,
    conf_type: Literal["avg", "max", "box_and_model_avg", "absent_model_aware_avg"] = "avg",
    allows_overflow: bool = False,
    *,
    iou_thr: float = UNSET,
) -> tuple[Any, Any, Any]:
    """Fuse the boxes of several models by score-weighted averaging of clusters.

    Solovyev et al. 2021 ("Weighted boxes fusion", Sec. 2), reproducing
    ``ensemble_boxes.weighted_boxes_fusion`` (v1.0.9) value for value, quirks included:

    - boxes with score ``< skip_box_thr`` are dropped; coordinates are swapped when
      inverted, clipped to [0, 1] (boxes are expected normalised) and zero-area boxes
      dropped (one summary warning instead of one per box);
    - per label (labels in first-appearance order), boxes are visited by decreasing
      ``score * weight`` in NumPy's ``argsort()[::-1]`` order; a box joins the
      cluster of highest IoU when that IoU is ``> iou_threshold`` (strict);
    - a fused box is the score-weighted mean of its members, rounded to float32 as
      the reference does; singletons keep their float64 values;
    - cluster confidence by ``conf_type``: ``"avg"`` mean score times
      ``min(n_models, n_boxes) / sum(weights)`` (``n_boxes / sum(weights)`` with
      ``allows_overflow``), ``"max"`` max score / max weight, ``"box_and_model_avg"``
      and ``"absent_model_aware_avg"`` as in ensemble-boxes.

    Args:
        boxes_list: per model, (N_m, 4) normalised ``xyxy`` boxes.
        scores_list: per model, (N_m,) scores.
        labels_list: per model, (N_m,) labels (truncated to integers).
        weights: per-model weights, default all 1.
        iou_threshold: IoU above which a box joins a cluster (ensemble-boxes' ``iou_thr``;
            ``iou_thr=`` is accepted as a deprecated alias).
        skip_box_thr: boxes scoring below this are ignored.
        conf_type: ``"avg"``, ``"max"``, ``"box_and_model_avg"`` or ``"absent_model_aware_avg"``.
        allows_overflow: with ``"avg"``, let confidence exceed 1 (see above).

    Returns:
        ``(boxes (K, 4) float64, scores (K,) float64, labels (K,) int64)`` by
        decreasing score. Torch inputs give torch outputs on the first box
        tensor's device (the fusion itself runs on the CPU).

    Example:
        >>> import numpy as np
        >>> from ioukit.nms import weighted_boxes_fusion
        >>> b, s, l = weighted_boxes_fusion(
        ...     [np.array([[0.1, 0.1, 0.5, 0.5]]), np.array([[0.1, 0.1, 0.7, 0.5]])],
        ...     [np.array([0.9]), np.array([0.3])], [np.array([0]), np.array([0])])
        >>> b.round(4)  # x2 = (0.9 * 0.5 + 0.3 * 0.7) / 1.2
        array([[0.1 , 0.1 , 0.55, 0.5 ]])
        >>> s.round(4), l  # mean score 0.6 times min(2 models, 2 boxes) / 2
        (array([0.6]), array([0]))
    """
    iou_threshold = renamed(
        "weighted_boxes_fusion", "iou_thr", "iou_threshold", iou_thr, iou_threshold, 0.55
    )
    if conf_type not in _CONF:
        raise InvalidParameterError(f"conf_type must be one of {tuple(_CONF)}, got {conf_type!r}")
    nm = len(boxes_list)
    if len(scores_list) != nm or len(labels_list) != nm:
        raise ShapeMismatchError(
            f"boxes_list, scores_list and labels_list must have one entry per model; got "
            f"{nm}, {len(scores_list)} and {len(labels_list)}"
        )
    w = (
        np.ones(nm)
        if weights is None
        else np.asarray(_np(weights) if is_torch(weights) else weights)
    )
    if w.shape != (nm,):
        raise ShapeMismatchError(f"weights must have one value per model ({nm}), got {w.shape}")
    wsum = w.sum()
    wmax = w.max() if nm else 1.0
    w64 = w.astype(np.float64)
    like = next((b for b in boxes_list if is_torch(b)), None)
    lab, sc, wc, md, co = _prefilter(boxes_list, scores_list, labels_list, w, skip_box_thr)
    if lab.size == 0:
        return _out(np.zeros((0, 4)), np.zeros((0,)), np.zeros((0,), np.int64), like)
    uniq, first = np.unique(lab, return_index=True)
    groups = uniq[np.argsort(first, kind="stable")]
    rows = []
    offsets = [0]
    for g in groups:
        ix = np.flatnonzero(lab == g)
        # The reference sorts an (n, 8) float64 array by its column 1 with
        # argsort()[::-1]; the same call on the same values gives the same order.
        tmp = np.empty((ix.size, 8))
        tmp[:, 1] = sc[ix]
        rows.append(ix[tmp[:, 1].argsort()[::-1]])
        offsets.append(offsets[-1] + ix.size)
    r = np.concatenate(rows)
    og, ob, os_ = K.wbf(
        np.ascontiguousarray(co[r]),
        np.ascontiguousarray(sc[r]),
        np.ascontiguousarray(wc[r]),
        np.ascontiguousarray(md[r]),
        np.asarray(offsets, np.int64),
        w64,
        float(wsum),
        float(wmax),
        float(iou_threshold),
        _CONF[conf_type],
        bool(allows_overflow),
    )
    tmp = np.empty((os_.size, 8))
    tmp[:, 1] = os_
    o = tmp[:, 1].argsort()[::-1]
    return _out(ob[o], os_[o], groups[og[o]], like)


def _out(b, s, lab, like):
    if like is None:
        return b, s, lab
    import torch

    dev = like.device
    return (
        torch.from_numpy(np.ascontiguousarray(b)).to(dev),
        torch.from_numpy(np.ascontiguousarray(s)).to(dev),
        torch.from_numpy(np.ascontiguousarray(lab)).to(dev),
    )
