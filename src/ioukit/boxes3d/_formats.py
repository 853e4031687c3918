"""3-D box formats, their conversions and the frame every kernel reads.

Formats (last axis):

- ``"xyzxyz"``: axis-aligned ``(x1, y1, z1, x2, y2, z2)``, ``x1 <= x2`` etc.
- ``"xyzlwhyaw"``: ``(cx, cy, cz, l, w, h, yaw)``, the LiDAR box of KITTI (after the
  camera-to-LiDAR conversion), nuScenes and mmdet3d's ``LiDARInstance3DBoxes`` with
  its center at the box center: ``l`` along the box's heading, ``w`` across it, ``h``
  along +z; ``yaw`` is a rotation about +z, counter-clockwise from +x to the ``l`` axis
  (seen from above, right-handed x forward / y left / z up). ``cz`` is the center, not
  the bottom (mmdet3d's ``LiDARInstance3DBoxes`` store the bottom center: add ``h / 2``).
- ``"xyzlwhmat"``: ``(cx, cy, cz, l, w, h, r00, r01, ..., r22)``, 15 numbers: center,
  sizes along the box's own axes and a rotation matrix ``R`` (row-major) whose columns
  are the box's ``l``, ``w``, ``h`` axes: a point ``p`` of the box is ``c + R @ q``
  with ``|q_k| <= size_k / 2``.
- ``"corners"``: ``[..., 8, 3]``, the 8 corners in pytorch3d's ``box3d_overlap`` order:
  corner ``i`` is ``c0 + u e0 + v e1 + w e2`` with ``(u, v, w)`` =
  (0,0,0), (1,0,0), (1,1,0), (0,1,0), (0,0,1), (1,0,1), (1,1,1), (0,1,1).

Every format becomes a *frame*: 15 float64 numbers, center (3), the three unit axes
(one per row, 3 x 3) and the three half sizes (3) (:func:`to_frames`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidBoxesError, InvalidFormatError, ShapeMismatchError

__all__ = [
    "FORMATS",
    "WIDTH",
    "to_frames",
    "corners",
    "volume",
    "convert",
    "from_kitti_camera",
    "to_kitti_camera",
]

FORMATS = ("xyzxyz", "xyzlwhyaw", "xyzlwhmat", "corners")
#: numbers per box (the last axis) of each format; "corners" is [..., 8, 3]
WIDTH = {"xyzxyz": 6, "xyzlwhyaw": 7, "xyzlwhmat": 15, "corners": 24}

# pytorch3d's box3d_overlap corner order (unit-cube vertices)
_CUBE = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
    dtype=np.float64,
)


def _check_fmt(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidFormatError(f"fmt must be one of {FORMATS}, got {fmt!r}")


def _as_rows(boxes: Any, fmt: str, name: str = "boxes") -> np.ndarray:
    """float64 (N, width) rows of a box array of format ``fmt`` (leading axes flattened)."""
    _check_fmt(fmt)
    b = np.asarray(boxes, dtype=np.float64)
    if fmt == "corners":
        if b.ndim < 2 or b.shape[-2:] != (8, 3):
            raise ShapeMismatchError(f"{name}: fmt='corners' needs [..., 8, 3], got {b.shape}")
        return b.reshape(-1, 24)
    w = WIDTH[fmt]
    if b.ndim < 1 or b.shape[-1] != w:
        raise ShapeMismatchError(f"{name}: fmt={fmt!r} needs a last axis of {w}, got {b.shape}")
    return b.reshape(-1, w)


def _bad_row(mask: np.ndarray, name: str, what: str) -> None:
    if mask.any():
        row = int(np.flatnonzero(mask)[0])
        raise InvalidBoxesError(f"{name}: row {row} {what}")


def to_frames(boxes: Any, fmt: str = "xyzlwhyaw", *, name: str = "boxes") -> np.ndarray:
    """(N, 15) float64 frames: center, unit axes (rows), half sizes. Checks the boxes.

    >>> to_frames([[0, 0, 0, 4, 2, 1, 0]]).tolist()[0][-3:]
    [2.0, 1.0, 0.5]
    """
    b = _as_rows(boxes, fmt, name)
    n = len(b)
    _bad_row(~np.isfinite(b).all(axis=1), name, "is not finite")
    out = np.zeros((n, 15), dtype=np.float64)
    if fmt == "xyzxyz":
        _bad_row((b[:, 3:6] < b[:, 0:3]).any(axis=1), name, "has x2 < x1, y2 < y1 or z2 < z1")
        out[:, 0:3] = (b[:, 0:3] + b[:, 3:6]) * 0.5
        out[:, 3:12] = np.eye(3).ravel()
        out[:, 12:15] = (b[:, 3:6] - b[:, 0:3]) * 0.5
    elif fmt == "xyzlwhyaw":
        _bad_row((b[:, 3:6] < 0).any(axis=1), name, "has a negative l, w or h")
        c, s = np.cos(b[:, 6]), np.sin(b[:, 6])
        out[:, 0:3] = b[:, 0:3]
        out[:, 3], out[:, 4] = c, s
        out[:, 6], out[:, 7] = -s, c
        out[:, 11] = 1.0
        out[:, 12:15] = b[:, 3:6] * 0.5
    elif fmt == "xyzlwhmat":
        _bad_row((b[:, 3:6] < 0).any(axis=1), name, "has a negative size")
        r = b[:, 6:15].reshape(n, 3, 3)
        _check_rotation(r, name)
        out[:, 0:3] = b[:, 0:3]
        out[:, 3:12] = np.swapaxes(r, 1, 2).reshape(n, 9)  # columns of R -> rows
        out[:, 12:15] = b[:, 3:6] * 0.5
    else:  # corners
        p = b.reshape(n, 8, 3)
        e = np.stack([p[:, 1] - p[:, 0], p[:, 3] - p[:, 0], p[:, 4] - p[:, 0]], axis=1)
        size = np.linalg.norm(e, axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = e / size[:, :, None]
        _bad_row((size <= 0).any(axis=1), name, "has coincident corners (a zero edge)")
        _check_rotation(np.swapaxes(u, 1, 2), name)
        rebuilt = p[:, :1] + np.einsum("vk,nkc->nvc", _CUBE, e)
        scale = 1.0 + np.abs(p).max(axis=(1, 2))
        _bad_row(
            np.abs(rebuilt - p).max(axis=(1, 2)) > 1e-6 * scale,
            name,
            "is not a box in pytorch3d's corner order (docs/boxes3d.md)",
        )
        out[:, 0:3] = p.mean(axis=1)
        out[:, 3:12] = u.reshape(n, 9)
        out[:, 12:15] = size * 0.5
    return out


def _check_rotation(r: np.ndarray, name: str) -> None:
    # orthonormal within 1e-6 (a right- or left-handed set of axes is a box either way)
    err = np.abs(np.einsum("nij,nik->njk", r, r) - np.eye(3)).max(axis=(1, 2)) if len(r) else r
    _bad_row(np.asarray(err > 1e-6), name, "has axes that are not orthonormal (within 1e-6)")


def corners(boxes: Any, fmt: str = "xyzlwhyaw") -> np.ndarray:
    """The 8 corners ``[..., 8, 3]`` (pytorch3d's order) of boxes of any format.

    >>> corners([[0, 0, 0, 2, 2, 2, 0]])[0, [0, 6]].tolist()
    [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]
    """
    b = np.asarray(boxes, dtype=np.float64)
    lead = b.shape[:-2] if fmt == "corners" else b.shape[:-1]
    f = to_frames(b, fmt)
    axes = f[:, 3:12].reshape(-1, 3, 3)
    full = 2.0 * f[:, 12:15]
    c0 = f[:, 0:3] - 0.5 * np.einsum("nk,nkc->nc", full, axes)
    pts = c0[:, None, :] + np.einsum("vk,nk,nkc->nvc", _CUBE, full, axes)
    return pts.reshape(*lead, 8, 3)


def volume(boxes: Any, fmt: str = "xyzlwhyaw") -> np.ndarray:
    """Box volumes ``[...]`` (float64).

    >>> volume([[0, 0, 0, 1, 2, 3]], fmt="xyzxyz").tolist()
    [6.0]
    """
    b = np.asarray(boxes, dtype=np.float64)
    lead = b.shape[:-2] if fmt == "corners" else b.shape[:-1]
    f = to_frames(b, fmt)
    return (8.0 * f[:, 12] * f[:, 13] * f[:, 14]).reshape(lead)


def convert(boxes: Any, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Convert between formats (float64). To ``"xyzxyz"`` only from axis-aligned boxes
    (yaw a multiple of pi/2, or axes along x, y, z); to ``"xyzlwhyaw"`` only from boxes
    whose third axis is +z or -z.

    >>> convert([[0, 0, 0, 2, 4, 6]], "xyzxyz", "xyzlwhyaw").tolist()
    [[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0]]
    """
    _check_fmt(out_fmt)
    b = np.asarray(boxes, dtype=np.float64)
    lead = b.shape[:-2] if in_fmt == "corners" else b.shape[:-1]
    f = to_frames(b, in_fmt)
    n = len(f)
    c, ax, h = f[:, 0:3], f[:, 3:12].reshape(n, 3, 3), f[:, 12:15]
    if out_fmt == "corners":
        return corners(b, in_fmt)
    if out_fmt == "xyzlwhmat":
        out = np.concatenate([c, 2 * h, np.swapaxes(ax, 1, 2).reshape(n, 9)], axis=1)
    elif out_fmt == "xyzlwhyaw":
        if n and (np.abs(np.abs(ax[:, 2, 2]) - 1) > 1e-9).any():
            row = int(np.flatnonzero(np.abs(np.abs(ax[:, 2, 2]) - 1) > 1e-9)[0])
            raise InvalidBoxesError(f"boxes: row {row} is not yaw-only (its h axis is not z)")
        yaw = np.arctan2(ax[:, 0, 1], ax[:, 0, 0])
        out = np.concatenate([c, 2 * h, yaw[:, None]], axis=1)
    else:  # xyzxyz: the extent of the corners
        aligned = np.abs(np.abs(ax) - np.round(np.abs(ax))) <= 1e-9
        if n and not aligned.all():
            row = int(np.flatnonzero(~aligned.all(axis=(1, 2)))[0])
            raise InvalidBoxesError(f"boxes: row {row} is not axis-aligned")
        half = np.einsum("nk,nkc->nc", h, np.abs(np.round(ax)))
        out = np.concatenate([c - half, c + half], axis=1)
    return out.reshape(*lead, out.shape[-1])


def from_kitti_camera(dimensions: Any, location: Any, rotation_y: Any) -> np.ndarray:
    """KITTI camera-frame labels -> ``"xyzlwhyaw"`` boxes in a LiDAR-like frame.

    KITTI labels give ``dimensions`` (h, w, l), ``location`` (x, y, z: the *bottom*
    center in the rectified camera frame: x right, y down, z forward) and
    ``rotation_y`` (about the camera's y axis; 0 = the l axis along +x). Without
    calibration the frame is the camera frame with its axes renamed, not the Velodyne
    frame (no translation or small rotation applied):

        X = z_cam, Y = -x_cam, Z = -y_cam + h / 2 (the center), yaw = -rotation_y - pi / 2

    ``l`` stays the heading axis and ``w`` the lateral one. The map is a proper rotation,
    so volumes, IoU and BEV IoU are the same as in the camera frame (the BEV plane is
    the camera's x-z plane).

    >>> from_kitti_camera([[1.5, 1.6, 4.0]], [[1.0, 1.7, 10.0]], [0.0]).round(6).tolist()
    [[10.0, -1.0, -0.95, 4.0, 1.6, 1.5, -1.570796]]
    """
    d = np.asarray(dimensions, dtype=np.float64).reshape(-1, 3)
    loc = np.asarray(location, dtype=np.float64).reshape(-1, 3)
    ry = np.asarray(rotation_y, dtype=np.float64).reshape(-1)
    if not (len(d) == len(loc) == len(ry)):
        raise ShapeMismatchError(
            f"dimensions {len(d)}, location {len(loc)}, rotation_y {len(ry)}: equal counts"
        )
    h, w, l_ = d[:, 0], d[:, 1], d[:, 2]
    return np.stack([loc[:, 2], -loc[:, 0], -loc[:, 1] + h / 2, l_, w, h, -ry - np.pi / 2], axis=1)


def to_kitti_camera(boxes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`from_kitti_camera`: ``(dimensions hwl, location xyz, rotation_y)``.

    >>> d, loc, ry = to_kitti_camera([[10.0, -1.0, -0.95, 4.0, 1.6, 1.5, -np.pi / 2]])
    >>> d.tolist(), loc.round(6).tolist(), ry.round(6).tolist()
    ([[1.5, 1.6, 4.0]], [[1.0, 1.7, 10.0]], [0.0])
    """
    b = _as_rows(boxes, "xyzlwhyaw")
    h = b[:, 5]
    dims = np.stack([h, b[:, 4], b[:, 3]], axis=1)
    loc = np.stack([-b[:, 1], -(b[:, 2] - h / 2), b[:, 0]], axis=1)
    ry = -b[:, 6] - np.pi / 2
    ry = (ry + np.pi) % (2 * np.pi) - np.pi  # into [-pi, pi), KITTI's range
    return dims, loc, ry
