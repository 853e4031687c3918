"""Device-agnostic torch implementations (used for CUDA tensors).

CPU tensors go through the compiled kernels (:mod:`ioukit.nms._kernels`, zero-copy);
this module is what runs on a GPU. It is written in plain torch ops so it also runs
on CPU tensors, which is how the test suite checks it against the compiled path:
same keep lists, bit for bit, because every IoU is computed with the same sequence
of IEEE operations (:func:`_box_iou_tv`, the torch twin of the kernels' primitive).

Greedy NMS here is *blocked*: boxes are sorted by score and processed B rows at
a time. For a block the (B, N - start) suppression relation is computed in one
vectorised step; inside the block the greedy decisions are the unique fixed
point of ``keep[j] = alive[j] and not any(keep[i] and S[i, j], i < j)``, reached
by iterating that map (exact after at most B rounds, usually a handful); the
kept rows of the block then remove later boxes. Memory is O(B * N), never N^2.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..errors import InvalidBoxesError, ShapeMismatchError
from . import _kernels as K

# Elements of one (B, N) block; bounds the temporaries to a few hundred MB.
_BLOCK_ELEMENTS = 1 << 23


def _as_boxes(boxes: Any) -> torch.Tensor:
    b = torch.as_tensor(boxes)
    if b.numel() == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ShapeMismatchError(f"boxes must have shape (N, 4), got {tuple(b.shape)}")
    if b.dtype in (torch.float16, torch.bfloat16) or not b.dtype.is_floating_point:
        b = b.to(torch.float32)
    return b.contiguous()


def _as_scores(scores: Any, n: int, device: torch.device) -> torch.Tensor:
    s = torch.as_tensor(scores, device=device)
    if s.ndim != 1 or s.shape[0] != n:
        raise ShapeMismatchError(f"scores must have shape ({n},) to match boxes, got {s.shape}")
    if s.dtype in (torch.float16, torch.bfloat16):
        s = s.to(torch.float32)
    elif not s.dtype.is_floating_point:
        s = s.to(torch.float64)
    return s


def _check(b: torch.Tensor, s: torch.Tensor | None, allow_inverted: bool = False) -> None:
    """Same rule and messages as ``_common.check_numpy`` (first bad row wins)."""
    nonfinite = ~torch.isfinite(b).all(1)
    inverted = torch.zeros_like(nonfinite)
    if not allow_inverted:
        inverted = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    nan_score = torch.isnan(s) if s is not None else torch.zeros_like(nonfinite)
    bad = nonfinite | inverted | nan_score
    if not bool(bad.any()):
        return
    row = int(torch.nonzero(bad)[0, 0])
    if bool(nonfinite[row]):
        raise InvalidBoxesError(f"boxes row {row} is not finite: {b[row].tolist()}")
    if bool(inverted[row]):
        raise InvalidBoxesError(
            f"boxes row {row} has x2 < x1 or y2 < y1 (negative width or height): {b[row].tolist()}"
        )
    raise InvalidBoxesError(f"scores row {row} is NaN")


def _order(s: torch.Tensor) -> torch.Tensor:
    # Stable descending sort: equal scores keep the lower index first (the
    # documented tie rule, identical to the NumPy path).
    return torch.sort(s, descending=True, stable=True)[1]


def _threshold_in(dtype: torch.dtype, thr: float, device: torch.device) -> torch.Tensor:
    """A threshold t in ``dtype`` with ``x > t`` equivalent to ``double(x) > thr``.

    torchvision compares a float32 IoU with a double threshold; rounding the
    threshold *down* to the largest float32 <= thr keeps that comparison exact.
    """
    t = torch.tensor(thr, dtype=dtype, device=device)
    if float(t) > thr:
        t = torch.nextafter(t, torch.tensor(-math.inf, dtype=dtype, device=device))
    return t


def _box_iou_tv(
    a: torch.Tensor, b: torch.Tensor, area_a: torch.Tensor, area_b: torch.Tensor
) -> torch.Tensor:
    """(A, B) IoU of xyxy boxes ``a`` (A, 4) and ``b`` (B, 4) with their areas, unguarded.

    torchvision ``nms_kernel_impl``'s ``ovr``, one op at a time (no fusion, no +1, the
    boxes' dtype): the torch twin of ``box_iou_tv_nms`` in
    ``ioukit/geometry/_primitives.pxd``, which torch code cannot ``cimport``. Every torch
    path here computes box IoU through this function, so it cannot drift from the kernels.
    """
    w = torch.minimum(a[:, None, 2], b[None, :, 2]) - torch.maximum(a[:, None, 0], b[None, :, 0])
    h = torch.minimum(a[:, None, 3], b[None, :, 3]) - torch.maximum(a[:, None, 1], b[None, :, 1])
    inter = w.clamp_min(0) * h.clamp_min(0)
    return inter / ((area_a[:, None] + area_b[None, :]) - inter)


def _diou_penalty(r: torch.Tensor, c: torch.Tensor, beta: float, eps: float) -> torch.Tensor:
    # Zheng et al. 2020 (DIoU penalty): rho^2 / c^2 in float64, 0 where c^2 <= eps,
    # operation for operation as diou_penalty in geometry/_primitives.pxd.
    r = r.to(torch.float64)
    c = c.to(torch.float64)
    dx = (r[:, None, 0] + r[:, None, 2]) * 0.5 - (c[None, :, 0] + c[None, :, 2]) * 0.5
    dy = (r[:, None, 1] + r[:, None, 3]) * 0.5 - (c[None, :, 1] + c[None, :, 3]) * 0.5
    rho2 = dx * dx + dy * dy
    cw = torch.maximum(r[:, None, 2], c[None, :, 2]) - torch.minimum(r[:, None, 0], c[None, :, 0])
    ch = torch.maximum(r[:, None, 3], c[None, :, 3]) - torch.minimum(r[:, None, 1], c[None, :, 1])
    c2 = cw * cw + ch * ch
    ok = c2 > eps
    # the masked-out denominator is replaced before dividing (no 0 / 0 anywhere)
    ratio = torch.where(ok, rho2 / torch.where(ok, c2, torch.ones_like(c2)), torch.zeros_like(c2))
    return ratio if beta == 1.0 else ratio**beta


def greedy(
    b: torch.Tensor,
    s: torch.Tensor,
    labels: torch.Tensor | None,
    thr: float,
    mode: int = K.MODE_IOU,
    beta: float = 1.0,
    eps: float = 0.0,
    block: int | None = None,
) -> torch.Tensor:
    """Blocked exact greedy NMS on any device (see the module docstring)."""
    n = b.shape[0]
    dev = b.device
    if n == 0:
        return torch.empty((0,), dtype=torch.int64, device=dev)
    order = _order(s)
    sb = b[order]
    area = (sb[:, 2] - sb[:, 0]) * (sb[:, 3] - sb[:, 1])
    slab = labels[order] if labels is not None else None
    t_iou = _threshold_in(b.dtype, thr, dev)
    if block is None:
        block = int(min(4096, max(64, _BLOCK_ELEMENTS // max(n, 1))))
    removed = torch.zeros(n, dtype=torch.bool, device=dev)
    for start in range(0, n, block):
        end = min(start + block, n)
        m = end - start
        rows = sb[start:end]
        cols = sb[start:]
        ovr = _box_iou_tv(rows, cols, area[start:end], area[start:])
        if mode == K.MODE_IOU:
            sup = ovr > t_iou
        else:
            sup = (ovr.to(torch.float64) - _diou_penalty(rows, cols, beta, eps)) > thr
        if slab is not None:
            sup &= slab[start:end, None] == slab[None, start:]
        diag = torch.triu(sup[:, :m], diagonal=1)
        alive = ~removed[start:end]
        keep = alive.clone()
        for _ in range(m + 1):
            hit = (keep[:, None] & diag).any(0)
            new = alive & ~hit
            if torch.equal(new, keep):
                break
            keep = new
        removed[start:end] = ~keep
        if end < n:
            removed[end:] |= (keep[:, None] & sup[:, m:]).any(0)
    return order[~removed]


def nms(boxes: Any, scores: Any, thr: float) -> torch.Tensor:
    b = _as_boxes(boxes)
    s = _as_scores(scores, b.shape[0], b.device)
    _check(b, s)
    return greedy(b, s, None, thr)


def class_offsets(b: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Offsets from the min and max coordinate (see ``_hard.class_offsets``) + exactness."""
    _, dense = torch.unique(labels, return_inverse=True)
    lo = float(b.min())
    hi = float(b.max())
    stride = 2.0 ** math.ceil(math.log2(hi - lo + 1.0))
    want = dense.to(torch.float64) * stride
    offs = want.to(b.dtype)
    if not torch.equal(offs.to(torch.float64), want):
        return offs, False
    a = b
    o = offs[:, None]
    tot = a + o
    # Knuth TwoSum: exact rounding error of a + o; all zero means exact shifts.
    bb = tot - a
    err = (a - (tot - bb)) + (o - bb)
    return offs, bool(((err == 0) & torch.isfinite(tot)).all())


def batched_nms(boxes: Any, scores: Any, labels: Any, thr: float, method: str) -> torch.Tensor:
    b = _as_boxes(boxes)
    s = _as_scores(scores, b.shape[0], b.device)
    lab = torch.as_tensor(labels, device=b.device)
    if lab.ndim != 1 or lab.shape[0] != b.shape[0]:
        raise ShapeMismatchError(
            f"labels must have shape ({b.shape[0]},) to match boxes, got {tuple(lab.shape)}"
        )
    _check(b, s)
    if b.shape[0] == 0:
        return torch.empty((0,), dtype=torch.int64, device=b.device)
    if method in ("auto", "offset") and thr >= 0:
        offs, exact = class_offsets(b, lab)
        if exact:
            return greedy(b + offs[:, None], s, None, thr)
    return greedy(b, s, lab, thr)


def diou_nms(boxes: Any, scores: Any, thr: float, beta: float, eps: float) -> torch.Tensor:
    b = _as_boxes(boxes)
    s = _as_scores(scores, b.shape[0], b.device)
    _check(b, s)
    return greedy(b, s, None, thr, K.MODE_DIOU, beta, eps)


def soft_nms(
    boxes: Any, scores: Any, nt: float, sigma: float, thresh: float, method: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """ensemble-boxes' Soft-NMS, step for step, as N vectorised torch steps."""
    b = _as_boxes(boxes).to(torch.float64)
    s = _as_scores(scores, b.shape[0], b.device).clone()
    _check(b, s)
    n = b.shape[0]
    idx = torch.arange(n, device=b.device)
    b = b.clone()
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    for i in range(n - 1):
        mp = i + 1 + int(torch.argmax(s[i + 1 :]))  # first maximum, as np.argmax
        if bool(s[i] < s[mp]):
            for t in (b, idx, s, area):
                t[[i, mp]] = t[[mp, i]]
        # (The reference multiplies the y overlap by the x overlap; IEEE products commute.)
        ovr = _box_iou_tv(b[i : i + 1], b[i + 1 :], area[i : i + 1], area[i + 1 :])[0]
        if method == 1:
            wt = torch.where(ovr > nt, 1.0 - ovr, torch.ones_like(ovr))
        else:
            wt = torch.exp(-(ovr * ovr) / sigma)
        s[i + 1 :] = (wt * s[i + 1 :].to(torch.float64)).to(s.dtype)
    m = s > thresh
    return idx[m], s[m]


def matrix_decay(
    x: torch.Tensor, labels: torch.Tensor | None, masks: bool, kernel: int, sigma: float, eps: float
) -> torch.Tensor:
    """Matrix-NMS decay for rows already sorted by score (dense N x N, as SOLOv2)."""
    n = x.shape[0]
    if masks:
        f = x.reshape(n, -1).to(torch.float32)
        inter = (f @ f.T).to(torch.float64)
        area = f.sum(1).to(torch.float64)
        iou = inter / ((area[:, None] + area[None, :]) - inter)
    else:
        b = x.to(torch.float64)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        iou = _box_iou_tv(b, b, area, area)
    same = torch.ones_like(iou, dtype=torch.bool)
    if labels is not None:
        same = labels[:, None] == labels[None, :]
    upper = torch.triu(same, diagonal=1)
    iou = torch.where(upper, iou, torch.zeros_like(iou))
    comp = iou.max(0).values if n else iou.new_zeros(0)
    if kernel == 0:
        # SOLOv2 Matrix-NMS decay, gaussian kernel.
        d = torch.exp(-sigma * (iou * iou)) / torch.exp(-sigma * (comp * comp))[:, None]
    else:
        # SOLOv2 Matrix-NMS decay, linear kernel; denominator floored at eps.
        d = (1.0 - iou) / torch.clamp(1.0 - comp, min=eps)[:, None]
    d = torch.where(upper, d, torch.ones_like(d))
    return d.min(0).values if n else d.new_zeros(0)
