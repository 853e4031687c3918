"""MOTChallenge text files and per-frame arrays -> one columnar table per sequence.

A MOTChallenge row is ``frame, id, x, y, w, h, conf, class, visibility`` (comma- or
space-separated; MOT15 files carry world coordinates or -1 after ``conf``). Frame and id
are truncated to integers as TrackEval does (``int(float(x))``).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from ..errors import DatasetError, InvalidParameterError
from . import _kernels

__all__ = ["MotTable", "read_mot_txt", "as_table", "find_sequences", "seq_length"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class MotTable:
    """Rows of one sequence (GT or tracker), in file order.

    frame, ids : (N,) int64; boxes : (N, 4) float64 xywh; conf : (N,) float64 (column 7:
    GT's "consider" flag, a tracker's score); cls : (N,) int64 (column 8; 1 = pedestrian
    when absent); source : where the rows came from (for error messages).
    """

    frame: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    conf: np.ndarray
    cls: np.ndarray
    source: str

    def __len__(self) -> int:
        return int(self.frame.shape[0])


def _from_columns(data: np.ndarray, source: str) -> MotTable:
    n, k = data.shape
    if n and k < 6:
        raise DatasetError(
            f"{source}: a MOTChallenge row needs at least 6 columns "
            f"(frame, id, x, y, w, h), found {k}"
        )
    if n and not np.isfinite(data[:, :6]).all():
        row = int(np.nonzero(~np.isfinite(data[:, :6]).all(1))[0][0])
        raise DatasetError(f"{source}: row {row + 1} has a non-finite frame, id or box")
    frame = data[:, 0].astype(np.int64) if n else np.zeros(0, np.int64)
    ids = data[:, 1].astype(np.int64) if n else np.zeros(0, np.int64)
    boxes = np.ascontiguousarray(data[:, 2:6], dtype=np.float64) if n else np.zeros((0, 4))
    conf = data[:, 6].astype(np.float64) if k > 6 else np.ones(n)
    cls = data[:, 7].astype(np.int64) if k > 7 else np.ones(n, np.int64)
    if n and frame.min() < 1:
        row = int(np.argmin(frame))
        raise DatasetError(f"{source}: row {row + 1} has frame {frame[row]}; frames start at 1")
    return MotTable(frame, ids, boxes, conf, cls, source)


def read_mot_txt(path: PathLike) -> MotTable:
    """Read one MOTChallenge text file (``gt.txt`` or a tracker's ``<seq>.txt``).

    Example
    -------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "seq.txt")
    >>> _ = open(p, "w").write("1,1,10,20,30,40,1,1,1\\n2,1,12,20,30,40,1,1,1\\n")
    >>> t = read_mot_txt(p)
    >>> t.frame.tolist(), t.boxes[1].tolist()
    ([1, 2], [12.0, 20.0, 30.0, 40.0])
    """
    source = os.fspath(path)
    with open(source, "rb") as fh:
        text = fh.read()
    # compiled parser (strtod per field): np.loadtxt costs ~6 us a row
    data, bad_line = _kernels.parse_table(text)
    if data is None:
        raise DatasetError(
            f"{source}: line {bad_line} is not a row of numbers like the first one "
            "(comma- or space-separated, the same number of fields)"
        )
    if data.shape[0] == 0:
        data = np.zeros((0, 9))
    return _from_columns(data, source)


def _from_frames(frames: Sequence[Any], source: str) -> MotTable:
    """``[(ids, boxes_xywh), ...]`` one entry per frame (frame = position + 1)."""
    fr, ids, boxes = [], [], []
    for t, entry in enumerate(frames):
        try:
            i, b = entry[0], entry[1]
        except (TypeError, IndexError, KeyError):
            raise InvalidParameterError(
                f"{source}: frame {t + 1} must be a pair (ids, boxes)"
            ) from None
        i = np.asarray(i, dtype=np.int64).reshape(-1)
        b = np.asarray(b, dtype=np.float64).reshape(-1, 4) if len(i) else np.zeros((0, 4))
        if b.shape[0] != i.shape[0]:
            raise InvalidParameterError(
                f"{source}: frame {t + 1} has {i.shape[0]} ids but {b.shape[0]} boxes"
            )
        fr.append(np.full(i.shape[0], t + 1, np.int64))
        ids.append(i)
        boxes.append(b)
    n = sum(len(i) for i in ids)
    data = np.zeros((n, 6))
    if n:
        data[:, 0] = np.concatenate(fr)
        data[:, 1] = np.concatenate(ids)
        data[:, 2:6] = np.concatenate(boxes)
    return _from_columns(data, source)


def as_table(value: Any, source: str) -> MotTable:
    """A path, an (N, >=6) array in MOTChallenge columns, or per-frame (ids, boxes) pairs."""
    if isinstance(value, MotTable):
        return value
    if isinstance(value, (str, os.PathLike)):
        return read_mot_txt(value)
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return _from_columns(np.asarray(value, dtype=np.float64), source)
    if isinstance(value, Sequence):
        return _from_frames(value, source)
    raise InvalidParameterError(
        f"{source}: expected a MOTChallenge file path, an (N, >=6) array or a list of "
        f"per-frame (ids, boxes) pairs, got {type(value).__name__}"
    )


def seq_length(seq_dir: PathLike) -> int | None:
    """``seqLength`` from ``<seq_dir>/seqinfo.ini`` (None without the file)."""
    ini = Path(seq_dir) / "seqinfo.ini"
    if not ini.is_file():
        return None
    cp = configparser.ConfigParser()
    cp.read(ini)
    try:
        return int(cp["Sequence"]["seqLength"])
    except (KeyError, ValueError):
        raise DatasetError(f"{ini}: no integer [Sequence] seqLength") from None


def find_sequences(
    gt_dir: PathLike, tracker_dir: PathLike, tracker_file: str | None = None
) -> tuple[dict[str, Path], dict[str, Path], dict[str, int | None]]:
    """The directory layout of ``ioukit track-eval`` (docs/tracking.md).

    Every sub-folder ``<seq>`` of ``gt_dir`` holding ``gt/gt.txt`` (MOTChallenge) or
    ``gt.txt`` is a sequence; its tracker output is ``tracker_dir/<seq>.txt``, or
    ``tracker_dir/<seq>/<tracker_file>`` when ``tracker_file`` is given. Returns the GT
    paths, the tracker paths and each sequence's ``seqLength`` (None without seqinfo.ini),
    sequences sorted by name.

    Example
    -------
    >>> import tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "S1"))
    >>> _ = open(os.path.join(root, "S1", "gt.txt"), "w").write("1,1,0,0,5,5,1,1,1\\n")
    >>> _ = open(os.path.join(root, "S1", "t.txt"), "w").write("1,1,0,0,5,5,1\\n")
    >>> gt, tr, n = find_sequences(root, root, tracker_file="t.txt")
    >>> list(gt), tr["S1"].name, n["S1"]
    (['S1'], 't.txt', None)
    """
    gt_root, tr_root = Path(gt_dir), Path(tracker_dir)
    if not gt_root.is_dir():
        raise FileNotFoundError(2, "No such directory", os.fspath(gt_root))
    if not tr_root.is_dir():
        raise FileNotFoundError(2, "No such directory", os.fspath(tr_root))
    gts: dict[str, Path] = {}
    trs: dict[str, Path] = {}
    lengths: dict[str, int | None] = {}
    for seq_dir in sorted(p for p in gt_root.iterdir() if p.is_dir()):
        for cand in (seq_dir / "gt" / "gt.txt", seq_dir / "gt.txt"):
            if cand.is_file():
                break
        else:
            continue
        name = seq_dir.name
        tr = tr_root / name / tracker_file if tracker_file else tr_root / f"{name}.txt"
        if not tr.is_file():
            raise DatasetError(f"sequence {name}: tracker file {tr} not found")
        gts[name], trs[name], lengths[name] = cand, tr, seq_length(seq_dir)
    if not gts:
        raise DatasetError(f"{gt_root}: no sequence folder with gt/gt.txt or gt.txt")
    return gts, trs, lengths


def sequence_name(path: PathLike) -> str:
    """``.../TUD-Campus/gt.txt`` and ``.../MOT17-02/gt/gt.txt`` -> the sequence folder."""
    p = Path(path)
    if p.name == "gt.txt":
        parent = p.parent
        return parent.parent.name if parent.name == "gt" else parent.name
    return p.stem


def as_sequences(value: Any, what: str) -> dict[str, Any]:
    """A dict name -> input, or one input (a path names its sequence, arrays are 'seq')."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (str, os.PathLike)):
        return {sequence_name(value): value}
    return {"seq": value}
