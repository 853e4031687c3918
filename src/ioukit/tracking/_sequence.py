"""One sequence ready for the metrics: TrackEval's MOTChallenge preprocessing, flat.

trackeval/datasets/mot_challenge_2d_box.py ``get_preprocessed_seq_data``, step for step:

1. MOT16/17/20 (``preprocess=True``): per frame, tracker boxes matched (IoU >= 0.5, one
   assignment over every GT row of any class) to a GT box of a distractor class
   (person_on_vehicle 2, static_person 7, distractor 8, reflection 12; MOT20 adds
   non_mot_vehicle 6) are removed;
2. GT rows are kept when their flag (column 7) is non-zero and, except for MOT15, their
   class (column 8) is pedestrian (1);
3. ids are relabelled 0 .. G-1 and 0 .. T-1 in sorted order of the kept ids.

Rows are ordered by frame, stably (file order within a frame, which TrackEval keeps and
which decides tied assignments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DatasetError, InvalidParameterError
from . import _kernels
from ._io import MotTable

__all__ = ["SequenceData", "prepare_sequence", "BENCHMARKS"]

BENCHMARKS = ("MOT15", "MOT16", "MOT17", "MOT20")
_VALID_CLASSES = np.arange(1, 14)
_DISTRACTORS = (2, 7, 8, 12)


@dataclass
class SequenceData:
    """Flat per-frame layout of one preprocessed sequence (see ``_kernels``).

    gt_off, tr_off : (F+1,) row offsets per frame; sim_off : (F+1,) offsets of the
    per-frame IoU blocks in ``sim``; gt_id, tr_id : contiguous ids per row.
    """

    name: str
    num_frames: int
    gt_off: np.ndarray
    tr_off: np.ndarray
    sim_off: np.ndarray
    sim: np.ndarray
    gt_id: np.ndarray
    tr_id: np.ndarray
    num_gt_ids: int
    num_tr_ids: int

    @property
    def num_gt_dets(self) -> int:
        return int(self.gt_id.shape[0])

    @property
    def num_tr_dets(self) -> int:
        return int(self.tr_id.shape[0])


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    out = np.array(xywh, dtype=np.float64, order="C", copy=True)
    out[:, 2] = xywh[:, 0] + xywh[:, 2]
    out[:, 3] = xywh[:, 1] + xywh[:, 3]
    return out


def _offsets(frame: np.ndarray, num_frames: int) -> np.ndarray:
    counts = np.bincount(frame - 1, minlength=num_frames)
    off = np.zeros(num_frames + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def _sim_offsets(gt_off: np.ndarray, tr_off: np.ndarray) -> np.ndarray:
    cells = np.diff(gt_off) * np.diff(tr_off)
    off = np.zeros(gt_off.shape[0], np.int64)
    np.cumsum(cells, out=off[1:])
    return off


def _ious(gt_xyxy, gt_off, tr_xyxy, tr_off):
    sim_off = _sim_offsets(gt_off, tr_off)
    sim = np.empty(int(sim_off[-1]), np.float64)
    _kernels.iou_blocks(gt_xyxy, gt_off, tr_xyxy, tr_off, sim_off, sim)
    return sim_off, sim


def _check_unique(frame: np.ndarray, ids: np.ndarray, what: str, source: str) -> None:
    if frame.shape[0] < 2:
        return
    key = np.stack([frame, ids], 1)
    order = np.lexsort((ids, frame))
    k = key[order]
    dup = np.nonzero((k[1:] == k[:-1]).all(1))[0]
    if dup.size:
        f, i = k[dup[0]]
        raise DatasetError(f"{source}: {what} id {i} appears more than once in frame {f}")


def _relabel(ids: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, inv = np.unique(ids, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), int(uniq.shape[0])


def prepare_sequence(
    name: str,
    gt: MotTable,
    tracker: MotTable,
    *,
    num_frames: int | None = None,
    benchmark: str = "MOT17",
    preprocess: bool = True,
) -> SequenceData:
    """Preprocess one sequence as TrackEval's MotChallenge2DBox does (module docstring)."""
    if benchmark not in BENCHMARKS:
        raise InvalidParameterError(f"benchmark {benchmark!r}: expected one of {BENCHMARKS}")
    last = max(int(gt.frame.max(initial=0)), int(tracker.frame.max(initial=0)))
    if num_frames is None:
        num_frames = last
    elif last > num_frames:
        src = gt if int(gt.frame.max(initial=0)) > num_frames else tracker
        raise DatasetError(
            f"{src.source}: frame {last} is past the sequence length {num_frames} of {name}"
        )
    _check_unique(gt.frame, gt.ids, "ground-truth", gt.source)
    _check_unique(tracker.frame, tracker.ids, "tracker", tracker.source)
    if tracker.cls.size and tracker.cls.max() > 1:
        row = int(np.argmax(tracker.cls))
        raise DatasetError(
            f"{tracker.source}: row {row + 1} has class {tracker.cls[row]}; MOTChallenge "
            "tracker output is pedestrian only (class 1, or -1 / absent)"
        )
    classes = preprocess and benchmark != "MOT15"
    if classes and gt.cls.size:
        bad = ~np.isin(gt.cls, _VALID_CLASSES)
        if bad.any():
            row = int(np.argmax(bad))
            raise DatasetError(
                f"{gt.source}: row {row + 1} has class {gt.cls[row]}, not a MOTChallenge "
                f"class (1-13); MOT15 files have no classes: use benchmark='MOT15' "
                "(or preprocess=False)"
            )

    g_order = np.argsort(gt.frame, kind="stable")
    t_order = np.argsort(tracker.frame, kind="stable")
    g_frame, t_frame = gt.frame[g_order], tracker.frame[t_order]
    g_box, t_box = _xyxy(gt.boxes[g_order]), _xyxy(tracker.boxes[t_order])
    g_off, t_off = _offsets(g_frame, num_frames), _offsets(t_frame, num_frames)
    t_keep = np.ones(t_frame.shape[0], bool)

    if classes and g_frame.size and t_frame.size:
        distractors = list(_DISTRACTORS) + ([6] if benchmark == "MOT20" else [])
        sim_off, sim = _ious(g_box, g_off, t_box, t_off)
        remove = np.zeros(t_frame.shape[0], np.uint8)
        is_distractor = np.isin(gt.cls[g_order], distractors).astype(np.uint8)
        _kernels.distractor_matches(sim, g_off, t_off, sim_off, is_distractor, remove)
        t_keep = remove == 0
    zero_marked = gt.conf[g_order].astype(np.int64)  # TrackEval: astype(int), truncation
    g_keep = zero_marked != 0
    if classes:
        g_keep &= gt.cls[g_order] == 1

    g_frame, g_box, g_ids = g_frame[g_keep], g_box[g_keep], gt.ids[g_order][g_keep]
    t_frame, t_box, t_ids = t_frame[t_keep], t_box[t_keep], tracker.ids[t_order][t_keep]
    g_off, t_off = _offsets(g_frame, num_frames), _offsets(t_frame, num_frames)
    sim_off, sim = _ious(g_box, g_off, t_box, t_off)
    gt_id, n_g = _relabel(g_ids)
    tr_id, n_t = _relabel(t_ids)
    return SequenceData(name, num_frames, g_off, t_off, sim_off, sim, gt_id, tr_id, n_g, n_t)
