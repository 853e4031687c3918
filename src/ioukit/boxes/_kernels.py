"""Numba kernels for the NumPy pairwise measures.

One pass over the N x M output: each element is computed from the two boxes'
coordinates in registers, so no N x M temporary exists for the intermediate
steps (intersection, union, enclosing box, ...), unlike a broadcast
implementation. The formulas are the scalar transcriptions of :mod:`._terms`
(same guards, same ``eps`` thresholds); tests check both agree.

IoU and IoA (the hot path) are computed in the inputs' dtype, float32 or
float64, in SIMD-friendly loops. The other measures are computed in float64
(one compiled variant keeps the cold-start compile short; float32 results are
rounded from it). float16 arrives as float32 from the caller and is cast back.
Each kernel has a serial and a multi-threaded variant; small problems use the
serial one.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .._numba_start import light_numba_start

light_numba_start()  # before any cached kernel loads (see there)

__all__ = ["pairwise_numpy", "MODES", "iou_pair"]

MODES = {
    "iou": 0,
    "ioa": 1,
    "giou": 2,
    "diou": 3,
    "ciou": 4,
    "eiou": 5,
    "siou": 6,
    "alpha_iou": 7,
    "mpdiou": 8,
}
_ALPHA_BASE = {"iou": 0, "giou": 1, "diou": 2, "ciou": 3}
_FOUR_OVER_PI2 = 4.0 / math.pi**2


@numba.njit(inline="always")
def _sdiv(num, den, eps):
    # safe_divide of _terms: exactly 0 below the threshold
    return num / den if den > eps else 0.0


@numba.njit(inline="always")
def _spow(x, p):
    return x**p if x > 0.0 else 0.0


@numba.njit(inline="always")
def _angle(w, h, eps):
    # atan(w / h) as atan2 (pi/2 for zero height, 0 for a point box)
    return math.atan2(w, h) if w * w + h * h > eps else 0.0


@numba.njit(inline="always")
def iou_pair(ax1, ay1, ax2, ay2, area_a, bx1, by1, bx2, by2, area_b, eps, zero):
    """IoU of one pair, in the inputs' dtype (``zero`` carries it)."""
    iw = max(min(ax2, bx2) - max(ax1, bx1), zero)
    ih = max(min(ay2, by2) - max(ay1, by1), zero)
    inter = iw * ih
    union = area_a + area_b - inter
    return inter / union if union > eps else zero


@numba.njit(cache=True)
def _measure_pair(mode, ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, eps, p0, p1, ibase):
    # float64 scalars in and out. Not inlined: one compiled copy serves both
    # loop kernels (compile time), and atan2/exp dominate the call anyway.
    wa = ax2 - ax1
    ha = ay2 - ay1
    wb = bx2 - bx1
    hb = by2 - by1
    iw = max(min(ax2, bx2) - max(ax1, bx1), 0.0)
    ih = max(min(ay2, by2) - max(ay1, by1), 0.0)
    inter = iw * ih
    union = wa * ha + wb * hb - inter
    iou = _sdiv(inter, union, eps)
    cw = max(ax2, bx2) - min(ax1, bx1)
    ch = max(ay2, by2) - min(ay1, by1)
    dx = (bx1 + bx2) * 0.5 - (ax1 + ax2) * 0.5
    dy = (by1 + by2) * 0.5 - (ay1 + ay2) * 0.5
    rho2 = dx * dx + dy * dy
    c2 = cw * cw + ch * ch
    if mode == 2:  # GIoU
        return iou - _sdiv(cw * ch - union, cw * ch, eps)
    if mode == 3:  # DIoU
        return iou - _sdiv(rho2, c2, eps)
    if mode == 4:  # CIoU
        d = _angle(wb, hb, eps) - _angle(wa, ha, eps)
        v = _FOUR_OVER_PI2 * d * d
        return iou - _sdiv(rho2, c2, eps) - _sdiv(v, (1.0 - iou) + v, eps) * v
    if mode == 5:  # EIoU
        return (
            iou
            - _sdiv(rho2, c2, eps)
            - _sdiv((wa - wb) ** 2, cw * cw, eps)
            - _sdiv((ha - hb) ** 2, ch * ch, eps)
        )
    if mode == 6:  # SIoU, p0 = theta
        lam = _sdiv(2.0 * abs(dx) * abs(dy), rho2, eps)
        gamma = 2.0 - lam
        dist = (1.0 - math.exp(-gamma * _sdiv(dx * dx, cw * cw, eps))) + (
            1.0 - math.exp(-gamma * _sdiv(dy * dy, ch * ch, eps))
        )
        om_w = _sdiv(abs(wa - wb), max(wa, wb), eps)
        om_h = _sdiv(abs(ha - hb), max(ha, hb), eps)
        shape = _spow(1.0 - math.exp(-om_w), p0) + _spow(1.0 - math.exp(-om_h), p0)
        return iou - 0.5 * (dist + shape)
    if mode == 7:  # Alpha-IoU, p0 = alpha, ibase = base measure
        out = _spow(iou, p0)
        if ibase == 1:
            out -= _spow(_sdiv(cw * ch - union, cw * ch, eps), p0)
        elif ibase == 2:
            out -= _spow(_sdiv(rho2, c2, eps), p0)
        elif ibase == 3:
            d = _angle(wb, hb, eps) - _angle(wa, ha, eps)
            v = _FOUR_OVER_PI2 * d * d
            beta = _sdiv(v, (1.0 - iou) + v, eps)
            out -= _spow(_sdiv(rho2, c2, eps), p0) + _spow(beta * v, p0)
        return out
    if mode == 8:  # MPDIoU, p0 = image width, p1 = image height
        d1 = (ax1 - bx1) ** 2 + (ay1 - by1) ** 2
        d2 = (ax2 - bx2) ** 2 + (ay2 - by2) ** 2
        return iou - _sdiv(d1 + d2, p0 * p0 + p1 * p1, eps)
    return iou


# Layout for every loop kernel: a (K, N, 4) xyxy; bt (K, 4, M), the columns of
# b, contiguous per coordinate so the inner loop is unit-stride and vectorises;
# out (K, N, M). A kernel handles rows start..stop of the flattened K * N.


@numba.njit(inline="always")
def _overlap_rows(a, bt, out, ioa, eps, zero, start, stop):
    # IoU (ioa False) or IoA (ioa True) in the inputs' dtype
    n = a.shape[1]
    m = bt.shape[2]
    for t in range(start, stop):
        k = t // n
        i = t - k * n
        ax1, ay1, ax2, ay2 = a[k, i, 0], a[k, i, 1], a[k, i, 2], a[k, i, 3]
        bx1, by1, bx2, by2 = bt[k, 0], bt[k, 1], bt[k, 2], bt[k, 3]
        row = out[k, i]
        area_a = (ax2 - ax1) * (ay2 - ay1)
        if ioa:
            for j in range(m):
                iw = max(min(ax2, bx2[j]) - max(ax1, bx1[j]), zero)
                ih = max(min(ay2, by2[j]) - max(ay1, by1[j]), zero)
                row[j] = iw * ih / area_a if area_a > eps else zero
        else:
            for j in range(m):
                row[j] = iou_pair(
                    ax1, ay1, ax2, ay2, area_a, bx1[j], by1[j], bx2[j], by2[j],
                    (bx2[j] - bx1[j]) * (by2[j] - by1[j]), eps, zero,
                )  # fmt: skip


@numba.njit(inline="always")
def _measure_rows(a, bt, out, mode, eps, p0, p1, ibase, start, stop):
    n = a.shape[1]
    m = bt.shape[2]
    for t in range(start, stop):
        k = t // n
        i = t - k * n
        ax1, ay1, ax2, ay2 = a[k, i, 0], a[k, i, 1], a[k, i, 2], a[k, i, 3]
        bx1, by1, bx2, by2 = bt[k, 0], bt[k, 1], bt[k, 2], bt[k, 3]
        row = out[k, i]
        for j in range(m):
            row[j] = _measure_pair(
                mode, ax1, ay1, ax2, ay2, bx1[j], by1[j], bx2[j], by2[j], eps, p0, p1, ibase
            )


_CHUNK = 16  # rows per parallel task


@numba.njit(cache=True)
def _overlap_serial(a, bt, out, ioa, eps, zero):
    _overlap_rows(a, bt, out, ioa, eps, zero, 0, a.shape[0] * a.shape[1])


@numba.njit(cache=True, parallel=True)
def _overlap_parallel(a, bt, out, ioa, eps, zero):
    rows = a.shape[0] * a.shape[1]
    for c in numba.prange((rows + _CHUNK - 1) // _CHUNK):
        _overlap_rows(a, bt, out, ioa, eps, zero, c * _CHUNK, min(rows, (c + 1) * _CHUNK))


@numba.njit(cache=True)
def _measure_serial(a, bt, out, mode, eps, p0, p1, ibase):
    _measure_rows(a, bt, out, mode, eps, p0, p1, ibase, 0, a.shape[0] * a.shape[1])


@numba.njit(cache=True, parallel=True)
def _measure_parallel(a, bt, out, mode, eps, p0, p1, ibase):
    rows = a.shape[0] * a.shape[1]
    for c in numba.prange((rows + _CHUNK - 1) // _CHUNK):
        _measure_rows(a, bt, out, mode, eps, p0, p1, ibase, c * _CHUNK, min(rows, (c + 1) * _CHUNK))


# Below this many output elements the thread pool's wake-up (milliseconds on
# a busy machine) costs more than the work.
PARALLEL_MIN_ELEMENTS = 1 << 18


def pairwise_numpy(kind: str, a: np.ndarray, b: np.ndarray, eps: float, params: dict) -> Any:
    """Pairwise ``kind`` of xyxy float32/float64 arrays [..., N, 4] x [..., M, 4] -> [..., N, M].

    IoU and IoA run in the inputs' dtype; the other measures in float64 (one
    compiled variant; float32 results are rounded from it). Returns None when
    a parameter is not a plain number (e.g. per-image ``image_size`` arrays
    for MPDIoU); the caller then uses the array path.
    """
    p0 = p1 = 0.0
    ibase = 0
    if kind == "siou":
        p0 = params["theta"]
    elif kind == "alpha_iou":
        p0 = params["alpha"]
        ibase = _ALPHA_BASE[params["base"]]
    elif kind == "mpdiou":
        p0, p1 = params["width"], params["height"]
        if not all(isinstance(v, (int, float, np.number)) for v in (p0, p1)):
            return None
    out_dtype = np.result_type(a, b)
    if out_dtype not in (np.float32, np.float64):
        out_dtype = np.dtype(np.float64)
    overlap = kind in ("iou", "ioa")
    dtype = out_dtype if overlap else np.dtype(np.float64)
    lead = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    n, m = a.shape[-2], b.shape[-2]
    nk = math.prod(lead)
    a3 = np.ascontiguousarray(np.broadcast_to(a, lead + (n, 4)).reshape(nk, n, 4), dtype=dtype)
    b3 = np.broadcast_to(b, lead + (m, 4)).reshape(nk, m, 4)
    bt = np.ascontiguousarray(b3.transpose(0, 2, 1), dtype=dtype)
    out = np.empty((nk, n, m), dtype=dtype)
    parallel = out.size >= PARALLEL_MIN_ELEMENTS
    if out.size and overlap:
        kernel = _overlap_parallel if parallel else _overlap_serial
        kernel(a3, bt, out, kind == "ioa", dtype.type(eps), dtype.type(0))
    elif out.size:
        kernel = _measure_parallel if parallel else _measure_serial
        kernel(a3, bt, out, MODES[kind], float(eps), float(p0), float(p1), ibase)
    return out.reshape(lead + (n, m)).astype(out_dtype, copy=False)
