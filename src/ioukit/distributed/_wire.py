"""A compact, lossless wire form of :class:`~ioukit.coco.EvalState` (worker -> driver).

The state's integer columns are int64 and its outcome flags one byte per (area range,
IoU threshold): about 72 bytes per kept detection at COCO's defaults, more than the
detection itself (~64 bytes). On the wire the integer columns take the smallest
integer type that holds their range, and the flags (values 0 false positive, 1 true
positive, 2 ignored) become two bit planes: about 30 bytes per detection. The driver
restores the exact arrays (dtypes included) before merging.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..coco import EvalState

__all__ = ["PackedState", "pack_state", "unpack_state"]

_INTS = (np.int8, np.int16, np.int32, np.int64)


def _narrow(a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        return a.astype(np.int8)
    lo, hi = int(a.min()), int(a.max())
    for t in _INTS:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return a.astype(t)
    return a  # pragma: no cover - int64 always fits


@dataclass
class PackedState:
    """An EvalState with narrowed integer columns and bit-packed flags."""

    state: EvalState  # image_ids, num_gt, num_dt, params, names; record columns emptied
    dt_image_id: np.ndarray
    dt_category: np.ndarray
    dt_score: np.ndarray
    dt_rank: np.ndarray
    tp_bits: np.ndarray  # uint8 (N, ceil(A*T/8))
    ignore_bits: np.ndarray
    flag_shape: tuple[int, int]
    raw_flags: np.ndarray | None = None  # flags outside {0, 1, 2}: sent as they are

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays that travel."""
        arrays = (
            self.state.image_ids,
            self.state.num_gt,
            self.state.num_dt,
            self.dt_image_id,
            self.dt_category,
            self.dt_score,
            self.dt_rank,
            self.tp_bits,
            self.ignore_bits,
        )
        extra = self.raw_flags.nbytes if self.raw_flags is not None else 0
        return sum(a.nbytes for a in arrays) + extra


def pack_state(s: EvalState) -> PackedState:
    """Compact form of ``s`` (lossless: :func:`unpack_state` gives ``s`` back).

    Example
    -------
    >>> from ioukit.coco import prepare, evaluate_images
    >>> from ioukit.synthetic import make_coco_dataset
    >>> g, d, p = prepare(*make_coco_dataset(n_images=20, n_categories=3, polygons=False))
    >>> s = evaluate_images(g, d, p)
    >>> w = pack_state(s)
    >>> w.nbytes < s.nbytes, bool((unpack_state(w).dt_flags == s.dt_flags).all())
    (True, True)
    """
    n, a, t = s.dt_flags.shape
    flat = s.dt_flags.reshape(n, a * t)
    raw = None
    if flat.size and int(flat.max()) > 2:
        raw = s.dt_flags
    tp = np.packbits(flat == 1, axis=1)
    ig = np.packbits(flat == 2, axis=1)
    empty = replace(
        s,
        dt_image_id=s.dt_image_id[:0],
        dt_category=s.dt_category[:0],
        dt_score=s.dt_score[:0],
        dt_rank=s.dt_rank[:0],
        dt_flags=s.dt_flags[:0],
    )
    return PackedState(
        state=empty,
        dt_image_id=_narrow(s.dt_image_id),
        dt_category=_narrow(s.dt_category),
        dt_score=s.dt_score,
        dt_rank=_narrow(s.dt_rank),
        tp_bits=tp,
        ignore_bits=ig,
        flag_shape=(a, t),
        raw_flags=raw,
    )


def unpack_state(w: PackedState) -> EvalState:
    """The EvalState that :func:`pack_state` packed, with its original dtypes."""
    a, t = w.flag_shape
    n = w.dt_score.size
    if w.raw_flags is not None:
        flags = w.raw_flags
    else:
        tp = np.unpackbits(w.tp_bits, axis=1, count=a * t)
        ig = np.unpackbits(w.ignore_bits, axis=1, count=a * t)
        flags = (tp + 2 * ig).astype(np.uint8).reshape(n, a, t)
    return replace(
        w.state,
        dt_image_id=w.dt_image_id.astype(np.int64),
        dt_category=w.dt_category.astype(np.int64),
        dt_score=w.dt_score,
        dt_rank=w.dt_rank.astype(np.int64),
        dt_flags=flags,
    )
