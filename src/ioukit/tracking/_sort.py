"""A minimal SORT tracker (Bewley et al. 2016): an example and a test vehicle, not a product.

Each track is a constant-velocity Kalman filter on (cx, cy, area, aspect) with velocities
of the first three (state of 7), as in SORT's ``KalmanBoxTracker``; each frame predicts
every track, associates by IoU (:func:`ioukit.tracking.associate`), updates matched tracks,
starts tracks for unmatched detections and drops tracks unseen for more than ``max_age``
frames. No appearance, no camera motion, no re-identification.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeMismatchError
from ._association import associate

__all__ = ["SortTracker"]

# SORT's model (sort.py, KalmanBoxTracker): state x = [cx, cy, s, r, vcx, vcy, vs]
_F = np.eye(7)
_F[0, 4] = _F[1, 5] = _F[2, 6] = 1.0
_H = np.eye(4, 7)
_R = np.diag([1.0, 1.0, 10.0, 10.0])
_P0 = np.diag([10.0, 10.0, 10.0, 10.0, 1e4, 1e4, 1e4])
_Q = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 1e-4])


def _to_z(b: np.ndarray) -> np.ndarray:
    w, h = b[2] - b[0], b[3] - b[1]
    return np.array([b[0] + w / 2, b[1] + h / 2, w * h, w / max(h, 1e-12)])


def _to_box(x: np.ndarray) -> np.ndarray:
    s, r = max(x[2], 0.0), max(x[3], 0.0)
    w = np.sqrt(s * r)
    h = s / w if w > 0 else 0.0
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


class _Track:
    def __init__(self, box: np.ndarray, track_id: int) -> None:
        self.x = np.zeros(7)
        self.x[:4] = _to_z(box)
        self.P = _P0.copy()
        self.id = track_id
        self.hits = 1
        self.hit_streak = 1
        self.since_update = 0

    def predict(self) -> np.ndarray:
        if self.x[2] + self.x[6] <= 0:  # SORT: an area may not go negative
            self.x[6] = 0.0
        self.x = _F @ self.x
        self.P = _F @ self.P @ _F.T + _Q
        if self.since_update > 0:
            self.hit_streak = 0
        self.since_update += 1
        return _to_box(self.x)

    def update(self, box: np.ndarray) -> None:
        y = _to_z(box) - _H @ self.x
        S = _H @ self.P @ _H.T + _R
        K = self.P @ _H.T @ np.linalg.inv(S)
        self.x = self.x + K @ y
        self.P = (np.eye(7) - K @ _H) @ self.P
        self.since_update = 0
        self.hits += 1
        self.hit_streak += 1


class SortTracker:
    """SORT: Kalman prediction + IoU association, one call to :meth:`update` per frame.

    Parameters
    ----------
    max_age : frames a track survives without a detection (SORT: 1).
    min_hits : consecutive hits before a track is reported (SORT: 3; reported anyway in
        the first ``min_hits`` frames of the video).
    iou_threshold : the association's minimum IoU (SORT: 0.3).
    method, legacy : passed to :func:`ioukit.tracking.associate`.

    Example
    -------
    >>> trk = SortTracker(min_hits=1)
    >>> for t in range(5):  # one box moving right by 2 px per frame
    ...     out = trk.update([[10 + 2 * t, 10, 30 + 2 * t, 50, 0.9]])
    >>> out[:, 4].tolist()  # one track, the same id throughout
    [1.0]
    """

    def __init__(
        self,
        max_age: int = 1,
        min_hits: int = 3,
        iou_threshold: float = 0.3,
        method: str = "hungarian",
        legacy: bool = False,
    ) -> None:
        self.max_age = max_age
        self.min_hits = min_hits
        self.iou_threshold = iou_threshold
        self.method = method
        self.legacy = legacy
        self.tracks: list[_Track] = []
        self.frame_count = 0
        self._next_id = 1

    def update(self, detections: Any) -> np.ndarray:
        """One frame: (N, 4 or 5) xyxy detections (a score column is ignored).

        Returns (K, 5): xyxy boxes of the reported tracks and their ids (>= 1), float64.
        """
        d = np.asarray(detections, dtype=np.float64)
        d = d.reshape(-1, d.shape[-1]) if d.size else np.zeros((0, 4))
        if d.shape[1] not in (4, 5):
            raise ShapeMismatchError(f"detections: expected (N, 4) or (N, 5), got {d.shape}")
        self.frame_count += 1
        predicted = [t.predict() for t in self.tracks]
        keep = [i for i, p in enumerate(predicted) if np.all(np.isfinite(p))]
        self.tracks = [self.tracks[i] for i in keep]
        pred = np.array([predicted[i] for i in keep]).reshape(-1, 4)
        r = associate(pred, d[:, :4], self.iou_threshold, self.method, legacy=self.legacy)
        for ti, di in r.matches:
            self.tracks[ti].update(d[di, :4])
        for di in r.unmatched_detections:
            self.tracks.append(_Track(d[di, :4], self._next_id))
            self._next_id += 1
        out = []
        alive = []
        for t in self.tracks:
            if t.since_update < 1 and (
                t.hit_streak >= self.min_hits or self.frame_count <= self.min_hits
            ):
                out.append([*_to_box(t.x), float(t.id)])
            if t.since_update <= self.max_age:
                alive.append(t)
        self.tracks = alive
        return np.array(out).reshape(-1, 5)
