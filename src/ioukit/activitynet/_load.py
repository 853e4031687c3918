"""ActivityNet-format JSON -> flat columns (ground truth and predictions).

Ground truth: ``{"database": {video_id: {"subset": ..., "annotations": [{"segment":
[start, end], "label": ...}, ...]}, ...}}``. Predictions: ``{"results": {video_id:
[{"label": ..., "score": ..., "segment": [start, end]}, ...]}}``. As the official
``Evaluation/eval_detection.py`` (``ANETdetection._import_ground_truth`` /
``_import_prediction``): only the videos of the chosen ``subset`` give ground truth, class
indices follow the order in which labels first appear there, and predictions are *not*
filtered by subset (a prediction on a video without ground truth of its class is a false
positive). The other top-level fields (``taxonomy``, ``version``, ``external_data``) are
not read.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from ..errors import DatasetError, MalformedJSONError, MissingFieldError, UnknownIdError

__all__ = ["GroundTruth", "Predictions", "read_ground_truth", "read_predictions"]


@dataclass
class GroundTruth:
    """Ground-truth instances of one subset, as columns (G instances, V videos, K labels).

    Attributes
    ----------
    video_ids : list of str      videos with at least one instance, in file order
    labels : list of str         class names, in order of first appearance
    video : int64 (G,)           index into ``video_ids``
    label : int64 (G,)           index into ``labels``
    segment : float64 (G, 2)     ``(start, end)``
    """

    video_ids: list
    labels: list
    video: np.ndarray
    label: np.ndarray
    segment: np.ndarray


@dataclass
class Predictions:
    """Predicted segments as columns (N predictions, in file order).

    Attributes
    ----------
    video : int64 (N,)        index into ``GroundTruth.video_ids``; -1 for a video without
                              ground truth in the subset (all its predictions are FP)
    label : int64 (N,)        index into ``GroundTruth.labels``
    score : float64 (N,)
    segment : float64 (N, 2)
    """

    video: np.ndarray
    label: np.ndarray
    score: np.ndarray
    segment: np.ndarray


def _read(src: Any, key: str, what: str) -> tuple[Mapping, str]:
    if isinstance(src, Mapping):
        data, name = src, f"<{what} dict>"
    elif isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)
        try:
            with open(name, "rb") as f:
                data = json.loads(f.read())
        except FileNotFoundError:
            raise DatasetError(f"{what} file not found: {name}") from None
        except json.JSONDecodeError as e:
            raise MalformedJSONError(
                f"{name}: not valid JSON ({e.msg} at position {e.pos})"
            ) from None
    else:
        raise DatasetError(f"{what} must be a JSON path or a dict; got {type(src).__name__}")
    if not isinstance(data, Mapping) or key not in data:
        raise MissingFieldError(f"{name}: an ActivityNet {what} file needs a top-level {key!r}")
    if not isinstance(data[key], Mapping):
        raise DatasetError(f"{name}: {key!r} must map video ids to entries")
    return data, name


def _segment(seg: Any, where: str) -> tuple[float, float]:
    try:
        s, e = (float(v) for v in seg)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: 'segment' must be [start, end]; got {seg!r}") from None
    if not (math.isfinite(s) and math.isfinite(e)):
        raise DatasetError(f"{where}: segment {seg!r} is not finite")
    if e < s:
        raise DatasetError(f"{where}: segment {seg!r} ends before it starts")
    return s, e


def read_ground_truth(
    ground_truth: Any, subset: str | None = "validation", exclude_videos: Iterable[str] = ()
) -> GroundTruth:
    """Read an ActivityNet ground-truth JSON (path or dict) for one ``subset``.

    ``subset=None`` takes every video. ``exclude_videos``: video ids left out (the
    official code's blocked videos).

    >>> gt = read_ground_truth({"database": {
    ...     "v1": {"subset": "validation", "annotations": [
    ...         {"segment": [1.0, 5.0], "label": "Dive"}]},
    ...     "v2": {"subset": "training", "annotations": [
    ...         {"segment": [0.0, 2.0], "label": "Run"}]}}})
    >>> gt.video_ids, gt.labels, gt.segment.tolist()
    (['v1'], ['Dive'], [[1.0, 5.0]])
    """
    data, name = _read(ground_truth, "database", "ground truth")
    excluded = set(exclude_videos)
    label_index: dict[Any, int] = {}
    video_index: dict[str, int] = {}
    vids: list[int] = []
    labs: list[int] = []
    segs: list[tuple[float, float]] = []
    for vid, v in data["database"].items():
        if not isinstance(v, Mapping):
            raise DatasetError(f"{name}: database[{vid!r}] must be an object")
        if subset is not None:
            if "subset" not in v:
                raise MissingFieldError(f"{name}: database[{vid!r}] has no 'subset'")
            if v["subset"] != subset:
                continue
        if vid in excluded:
            continue
        anns = v.get("annotations")
        if anns is None:
            raise MissingFieldError(f"{name}: database[{vid!r}] has no 'annotations'")
        for k, ann in enumerate(anns):
            where = f"{name}: database[{vid!r}] annotation {k}"
            if "label" not in ann or "segment" not in ann:
                raise MissingFieldError(f"{where} needs 'segment' and 'label'")
            lab = ann["label"]
            if lab not in label_index:
                label_index[lab] = len(label_index)
            if vid not in video_index:
                video_index[vid] = len(video_index)
            vids.append(video_index[vid])
            labs.append(label_index[lab])
            segs.append(_segment(ann["segment"], where))
    return GroundTruth(
        list(video_index),
        list(label_index),
        np.array(vids, dtype=np.int64),
        np.array(labs, dtype=np.int64),
        np.array(segs, dtype=np.float64).reshape(-1, 2),
    )


def read_predictions(
    prediction: Any,
    gt: GroundTruth,
    *,
    unknown_labels: str = "error",
    exclude_videos: Iterable[str] = (),
) -> Predictions:
    """Read an ActivityNet results JSON (path or dict) against ``gt``'s videos and labels.

    A label absent from the ground truth's subset raises UnknownIdError (the official
    code's ``KeyError``), or is skipped with ``unknown_labels="ignore"``.

    >>> gt = read_ground_truth({"database": {"v1": {"subset": "validation",
    ...     "annotations": [{"segment": [1.0, 5.0], "label": "Dive"}]}}})
    >>> p = read_predictions({"results": {"v1": [
    ...     {"label": "Dive", "score": 0.9, "segment": [1.0, 4.0]}],
    ...     "v9": [{"label": "Dive", "score": 0.5, "segment": [0.0, 1.0]}]}}, gt)
    >>> p.video.tolist(), p.score.tolist()
    ([0, -1], [0.9, 0.5])
    """
    if unknown_labels not in ("error", "ignore"):
        raise DatasetError(f"unknown_labels must be 'error' or 'ignore', got {unknown_labels!r}")
    data, name = _read(prediction, "results", "prediction")
    excluded = set(exclude_videos)
    label_index = {lab: k for k, lab in enumerate(gt.labels)}
    video_index = {vid: k for k, vid in enumerate(gt.video_ids)}
    vids: list[int] = []
    labs: list = []
    scores: list = []
    segs: list = []
    counts: list[int] = []
    kept_videos: list = []
    # C-level passes (itemgetter maps) over each video's list; checks run on the arrays
    g_label, g_score, g_seg = itemgetter("label"), itemgetter("score"), itemgetter("segment")
    for vid, preds in data["results"].items():
        if vid in excluded:
            continue
        try:
            labs.extend(map(g_label, preds))
            scores.extend(map(g_score, preds))
            segs.extend(map(g_seg, preds))
        except (KeyError, TypeError):
            k = next(k for k, p in enumerate(preds) if not _has_fields(p))
            raise MissingFieldError(
                f"{name}: results[{vid!r}][{k}] needs 'label', 'score' and 'segment'"
            ) from None
        vids.append(video_index.get(vid, -1))
        counts.append(len(preds))
        kept_videos.append(vid)
    n = len(labs)
    ids = _Ids(kept_videos, counts)
    try:
        lab = np.fromiter(map(label_index.__getitem__, labs), np.int64, n)
    except (KeyError, TypeError):  # some label unknown (or unhashable): the slow path
        lab = np.array([label_index.get(x, -1) if _hashable(x) else -1 for x in labs], np.int64)
    unknown = np.flatnonzero(lab < 0)
    if unknown.size and unknown_labels == "error":
        i = int(unknown[0])
        raise UnknownIdError(
            f"{name}: prediction {ids.where(i)} has label {labs[i]!r}, which no ground-truth "
            "instance of the subset has (unknown_labels='ignore' skips it)"
        )
    sc = _floats(scores, ids, name, "score")
    seg = _segments(segs, ids, name)
    video = np.repeat(np.array(vids, dtype=np.int64), np.array(counts, dtype=np.int64))
    if unknown.size:
        keep = lab >= 0
        return Predictions(video[keep], lab[keep], sc[keep], seg[keep])
    return Predictions(video, lab, sc, seg)


class _Ids:
    """Where prediction ``i`` sits in the file: its video and position in that list."""

    def __init__(self, videos: list, counts: list[int]) -> None:
        self.videos = videos
        self.ends = np.cumsum(np.array(counts, dtype=np.int64))

    def where(self, i: int) -> str:
        v = int(np.searchsorted(self.ends, i, side="right"))
        start = int(self.ends[v - 1]) if v else 0
        return f"results[{self.videos[v]!r}][{i - start}]"


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _has_fields(p: Any) -> bool:
    return isinstance(p, Mapping) and all(k in p for k in ("label", "score", "segment"))


def _floats(values: list, ids: _Ids, name: str, what: str) -> np.ndarray:
    try:
        out = np.fromiter(values, np.float64, len(values))
    except (TypeError, ValueError):
        out = None
    if out is None:
        i = next(i for i, v in enumerate(values) if not isinstance(v, (int, float)))
        raise DatasetError(f"{name}: {ids.where(i)} has a {what} that is not a number")
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise DatasetError(f"{name}: {ids.where(int(bad[0]))} has a non-finite {what}")
    return out


def _segments(values: list, ids: _Ids, name: str) -> np.ndarray:
    try:
        flat = np.fromiter(chain.from_iterable(values), np.float64, 2 * len(values))
        lens = np.fromiter(map(len, values), np.int64, len(values))
        out = flat.reshape(-1, 2) if bool(np.all(lens == 2)) else None
    except (TypeError, ValueError):
        out = None
    if out is None:
        for i, v in enumerate(values):
            _segment(v, f"{name}: {ids.where(i)}")
        out = np.array(values, dtype=np.float64).reshape(-1, 2)
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1) | (out[:, 1] < out[:, 0]))
    if bad.size:
        i = int(bad[0])
        _segment(values[i], f"{name}: {ids.where(i)}")
    return out.reshape(-1, 2)
