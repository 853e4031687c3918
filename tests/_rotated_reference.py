"""Shapely-based references for rotated boxes (test oracle, independent of ioukit's clipping)."""

from __future__ import annotations

import numpy as np
import shapely


def corners(x: np.ndarray) -> np.ndarray:
    """[N, 4, 2] corners of (cx, cy, w, h, angle in radians) rows, written out directly."""
    x = np.asarray(x, dtype=np.float64)
    c, s = np.cos(x[:, 4]), np.sin(x[:, 4])
    u = np.stack([x[:, 2] / 2 * c, x[:, 2] / 2 * s], -1)
    v = np.stack([-x[:, 3] / 2 * s, x[:, 3] / 2 * c], -1)
    ctr = x[:, :2]
    return np.stack([ctr - u - v, ctr + u - v, ctr + u + v, ctr - u + v], 1)


def shapely_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise [N, M] IoU with shapely's intersection / area."""
    pa, pb = shapely.polygons(corners(a)), shapely.polygons(corners(b))
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None]))
    union = shapely.area(pa)[:, None] + shapely.area(pb)[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def shapely_nms(boxes: np.ndarray, scores: np.ndarray, thr: float, labels=None) -> np.ndarray:
    """Greedy NMS: by decreasing score (stable), suppress IoU > thr (same label)."""
    order = np.argsort(-scores, kind="stable")
    polys = shapely.polygons(corners(boxes))
    areas = shapely.area(polys)
    alive = np.ones(len(order), bool)
    keep = []
    for k, i in enumerate(order):
        if not alive[k]:
            continue
        keep.append(i)
        rest = order[k + 1 :][alive[k + 1 :]]
        if labels is not None:
            rest = rest[labels[rest] == labels[i]]
        if rest.size == 0:
            continue
        inter = shapely.area(shapely.intersection(polys[i], polys[rest]))
        iou = inter / (areas[i] + areas[rest] - inter)
        dead = set(rest[iou > thr].tolist())
        for kk in range(k + 1, len(order)):
            if order[kk] in dead:
                alive[kk] = False
    return np.array(keep, dtype=np.int64)


def clustered_boxes(rng: np.random.Generator, n: int, clusters: int, extent: float = 1000.0):
    """Boxes jittered around cluster centres (NMS-like data) and random scores."""
    centres = rng.uniform(0, extent, (clusters, 2))
    size = rng.uniform(10, 60, (clusters, 2))
    ang = rng.uniform(-np.pi / 2, np.pi / 2, clusters)
    k = rng.integers(0, clusters, n)
    boxes = np.column_stack(
        [
            centres[k] + rng.normal(0, 4, (n, 2)),
            size[k] * rng.uniform(0.8, 1.2, (n, 2)),
            ang[k] + rng.normal(0, 0.15, n),
        ]
    )
    return boxes, rng.uniform(0, 1, n)
