"""ATSS and task-aligned assignment: independent references written from the papers'
definitions (plain Python loops, one GT at a time) and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ioukit.assign import atss_assign, task_aligned_assign
from ioukit.errors import InvalidParameterError, ShapeMismatchError

torch = pytest.importorskip("torch")


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre(b):
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


# ------------------------------------------------------------------ ATSS reference
def atss_reference(gts, anchors, levels, topk):
    """Zhang et al. 2020, Algorithm 1, one GT at a time."""
    n = len(anchors)
    positive_for = [[] for _ in range(n)]  # (iou, gt) pairs
    for g, gt in enumerate(gts):
        gx, gy = centre(gt)
        cands, start = [], 0
        for size in levels:
            level = range(start, start + size)
            dist = {i: math.dist(centre(anchors[i]), (gx, gy)) for i in level}
            cands += sorted(level, key=lambda i: (dist[i], i))[:topk]
            start += size
        ious = [iou(anchors[i], gt) for i in cands]
        mean = sum(ious) / len(ious)
        var = sum((v - mean) ** 2 for v in ious) / (len(ious) - 1) if len(ious) > 1 else 0.0
        thr = mean + math.sqrt(var)
        for i, v in zip(cands, ious):
            cx, cy = centre(anchors[i])
            inside = min(cx - gt[0], cy - gt[1], gt[2] - cx, gt[3] - cy) > 0.01
            if v >= thr and inside:
                positive_for[i].append((v, g))
    out = []
    for pairs in positive_for:  # highest IoU, the first GT on ties
        out.append(max(pairs, key=lambda p: (p[0], -p[1]))[1] if pairs else -1)
    return np.array(out)


def grid_anchors(levels=((4, 8, 8), (2, 16, 16))):
    """(cells per side, stride, size) per level -> anchors [N, 4], sizes per level."""
    out, sizes = [], []
    for cells, stride, size in levels:
        for r in range(cells):
            for c in range(cells):
                cx, cy = stride * c + stride / 2, stride * r + stride / 2
                out.append([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2])
        sizes.append(cells * cells)
    return np.array(out), sizes


def test_atss_hand_case_3_gts_20_anchors_2_levels():
    anchors, sizes = grid_anchors()  # level 0: 16 cells of 8 px; level 1: 4 cells of 16 px
    gts = np.array([[0.0, 0.0, 16.0, 16.0], [16.0, 0.0, 32.0, 8.0], [0.0, 16.0, 12.0, 28.0]])
    # GT 0: candidates 0, 1 (4-way distance tie, lower indices), 16 (dist 0), 17 (tie with
    #   18): IoUs 1/4, 1/4, 1, 0 -> mean 3/8, std sqrt(0.1875) = 0.433: only anchor 16.
    # GT 1: candidates 2, 3 (IoU 1/2), 17 (IoU 1/2), 16 (IoU 0) -> mean 3/8, std 1/4,
    #   threshold 5/8: no positive (ATSS can leave a GT without anchors).
    # GT 2: candidates 8 (4/9), 9 (2/11; tie with 12), 18 (9/16), 16 (0) -> mean 0.2972,
    #   std 0.2541, threshold 0.5513: anchor 18, whose centre (8, 24) is inside.
    want = np.full(20, -1)
    want[16], want[18] = 0, 2
    got = atss_assign(gts, anchors, sizes, topk=2)
    np.testing.assert_array_equal(got.gt_index, want)
    np.testing.assert_allclose(got.iou[[16, 18]], [1.0, 9 / 16])
    assert got.iou[want < 0].max() == 0
    np.testing.assert_array_equal(atss_reference(gts, anchors, sizes, 2), want)


def test_atss_conflict_takes_highest_iou():
    anchors, sizes = grid_anchors()
    gts = np.array([[0.0, 0.0, 16.0, 14.0], [0.0, 0.0, 16.0, 16.0]])
    # GT 0 (centre (8, 7)): candidates 0, 1 (IoU 64/224), 16 (IoU 224/256), 17 (IoU 0) ->
    #   mean 0.3616, std 0.3678: anchor 16. GT 1: anchor 16 as in the case above (IoU 1).
    # Anchor 16 is positive for both and goes to the higher IoU, GT 1.
    want = np.full(20, -1)
    want[16] = 1
    np.testing.assert_array_equal(atss_assign(gts, anchors, sizes, topk=2).gt_index, want)
    np.testing.assert_array_equal(atss_reference(gts, anchors, sizes, 2), want)


def random_gts(rng, m, span=64.0):
    xy = rng.uniform(0, span - 8, (m, 2))
    wh = rng.uniform(4, 40, (m, 2))
    return np.concatenate([xy, np.minimum(xy + wh, span)], 1)


@pytest.mark.parametrize("topk", [1, 3, 9])
def test_atss_equals_reference_on_random_images(topk):
    rng = np.random.default_rng(topk)
    anchors, sizes = grid_anchors(((8, 8, 12), (4, 16, 24), (2, 32, 48)))
    for i in range(25):
        gts = random_gts(rng, int(rng.integers(1, 7)))
        got = atss_assign(gts, anchors, sizes, topk=topk)
        np.testing.assert_array_equal(
            got.gt_index, atss_reference(gts, anchors, sizes, topk), err_msg=f"image {i}"
        )


def test_atss_batched_padded_torch_equals_numpy_per_image():
    rng = np.random.default_rng(3)
    anchors, sizes = grid_anchors()
    images = [random_gts(rng, m, 32.0) for m in (3, 1, 0)]
    gt = np.zeros((3, 3, 4))
    mask = np.zeros((3, 3), dtype=bool)
    for k, g in enumerate(images):
        gt[k, : len(g)], mask[k, : len(g)] = g, True
    got = atss_assign(
        torch.as_tensor(gt), torch.as_tensor(anchors), sizes, gt_mask=torch.as_tensor(mask), topk=3
    )
    assert got.gt_index.shape == (3, 20)
    for k, g in enumerate(images):
        want = atss_assign(g, anchors, sizes, topk=3)
        np.testing.assert_array_equal(got.gt_index[k].numpy(), want.gt_index)
        np.testing.assert_allclose(got.iou[k].numpy(), want.iou)
    assert (got.gt_index[2] == -1).all()


def test_atss_errors():
    anchors, sizes = grid_anchors()
    with pytest.raises(InvalidParameterError, match="num_anchors_per_level"):
        atss_assign(anchors[:1], anchors, [10, 5])
    with pytest.raises(InvalidParameterError, match="topk"):
        atss_assign(anchors[:1], anchors, sizes, topk=0)


# ---------------------------------------------------------- task-aligned reference
def tal_reference(scores, preds, points, labels, gts, topk, alpha, beta, eps=1e-9):
    """TOOD eq. 3 and YOLOv8's TaskAlignedAssigner, one GT at a time."""
    n, m = len(preds), len(gts)
    ov = [[0.0] * n for _ in range(m)]
    t = [[0.0] * n for _ in range(m)]
    pos = [set() for _ in range(m)]
    for g, gt in enumerate(gts):
        for i, (x, y) in enumerate(points):
            if min(x - gt[0], y - gt[1], gt[2] - x, gt[3] - y) > eps:
                ov[g][i] = max(iou(preds[i], gt), 0.0)
                t[g][i] = scores[i][labels[g]] ** alpha * ov[g][i] ** beta
        top = sorted(range(n), key=lambda i: (-t[g][i], i))[:topk]
        pos[g] = {
            i
            for i in top
            if ov[g][i] > 0
            or min(
                points[i][0] - gt[0],
                points[i][1] - gt[1],
                gt[2] - points[i][0],
                gt[3] - points[i][1],
            )
            > eps
        }
    gt_index = [-1] * n
    for i in range(n):
        owners = [g for g in range(m) if i in pos[g]]
        if len(owners) == 1:
            gt_index[i] = owners[0]
        elif owners:  # several: the GT of highest IoU among all GTs (first on ties)
            gt_index[i] = max(range(m), key=lambda g: (ov[g][i], -g))
    quality = [0.0] * n
    for g in range(m):
        mine = [i for i in range(n) if gt_index[i] == g]
        if mine:
            max_t = max(t[g][i] for i in mine)
            max_ov = max(ov[g][i] for i in mine)
            for i in mine:
                quality[i] = t[g][i] * max_ov / (max_t + eps)
    ious = [ov[gt_index[i]][i] if gt_index[i] >= 0 else 0.0 for i in range(n)]
    return np.array(gt_index), np.array(ious), np.array(quality)


def cell_setup():
    anchors, sizes = grid_anchors()
    points = (anchors[:, :2] + anchors[:, 2:]) / 2
    return anchors, points


def test_task_aligned_hand_case_3_gts_20_anchors_2_levels():
    preds, points = cell_setup()  # predictions = the cells themselves
    gts = np.array([[0.0, 0.0, 16.0, 16.0], [16.0, 0.0, 32.0, 16.0], [8.0, 8.0, 24.0, 24.0]])
    labels = np.array([0, 1, 0])
    scores = np.full((20, 2), 0.5)
    scores[5, 0] = 0.9
    got = task_aligned_assign(scores, preds, points, labels, gts, topk=2, alpha=1.0, beta=6.0)
    # GT 0: inside are cells 0, 1, 4, 5 (IoU 1/4) and 16 (IoU 1): t = 0.5 for 16,
    #   0.9/4096 for 5, 0.5/4096 for the others -> 16, 5.
    # GT 1: cells 2, 3, 6, 7 (IoU 1/4) and 17 (IoU 1) -> 17 and 2 (lowest of the ties).
    # GT 2: cells 5, 6, 9, 10 (IoU 1/4; the 16-px cells' centres lie on its border) ->
    #   5 (score 0.9) and 6. Cell 5 is also GT 0's: equal IoU 1/4, the first GT keeps it.
    want = np.full(20, -1)
    want[[16, 5, 17, 2, 6]] = [0, 0, 1, 1, 2]
    np.testing.assert_array_equal(got.gt_index, want)
    want_iou = np.zeros(20)
    want_iou[[16, 5, 17, 2, 6]] = [1, 0.25, 1, 0.25, 0.25]
    np.testing.assert_allclose(got.iou, want_iou)
    eps = 1e-9
    want_q = np.zeros(20)
    want_q[16] = 0.5 / (0.5 + eps)
    want_q[5] = 0.9 / 4096 / (0.5 + eps)
    want_q[17] = 0.5 / (0.5 + eps)
    want_q[2] = 0.5 / 4096 / (0.5 + eps)
    want_q[6] = (0.5 / 4096) * 0.25 / (0.5 / 4096 + eps)
    np.testing.assert_allclose(got.quality, want_q, rtol=1e-12)


@pytest.mark.parametrize("topk,alpha,beta", [(13, 1.0, 6.0), (10, 0.5, 6.0), (3, 1.0, 2.0)])
def test_task_aligned_equals_reference_on_random_images(topk, alpha, beta):
    rng = np.random.default_rng(topk)
    anchors, _ = grid_anchors(((8, 8, 8), (4, 16, 16)))
    points = (anchors[:, :2] + anchors[:, 2:]) / 2
    for i in range(15):
        m = int(rng.integers(1, 6))
        gts = random_gts(rng, m)
        preds = anchors + rng.normal(0, 3, anchors.shape)
        preds[:, 2:] = np.maximum(preds[:, 2:], preds[:, :2] + 1)
        scores = rng.uniform(0, 1, (len(anchors), 3))
        labels = rng.integers(0, 3, m)
        got = task_aligned_assign(
            scores, preds, points, labels, gts, topk=topk, alpha=alpha, beta=beta
        )
        want = tal_reference(scores, preds, points, labels, gts, topk, alpha, beta)
        np.testing.assert_array_equal(got.gt_index, want[0], err_msg=f"image {i}")
        np.testing.assert_allclose(got.iou, want[1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got.quality, want[2], rtol=1e-9, atol=1e-15)


def test_task_aligned_batched_torch_equals_numpy_per_image():
    rng = np.random.default_rng(11)
    preds, points = cell_setup()
    images = [random_gts(rng, m, 32.0) for m in (2, 3, 0)]
    gt = np.zeros((3, 3, 4))
    mask = np.zeros((3, 3), dtype=bool)
    labels = np.zeros((3, 3), dtype=np.int64)
    for k, g in enumerate(images):
        gt[k, : len(g)], mask[k, : len(g)] = g, True
    scores = rng.uniform(0, 1, (3, 20, 2))
    got = task_aligned_assign(
        torch.as_tensor(scores),
        torch.as_tensor(preds),
        torch.as_tensor(points),
        torch.as_tensor(labels),
        torch.as_tensor(gt),
        gt_mask=torch.as_tensor(mask),
        topk=4,
    )
    for k, g in enumerate(images):
        want = task_aligned_assign(scores[k], preds, points, labels[k, : len(g)], g, topk=4)
        np.testing.assert_array_equal(got.gt_index[k].numpy(), want.gt_index)
        np.testing.assert_allclose(got.quality[k].numpy(), want.quality, rtol=1e-12)


def test_task_aligned_errors():
    preds, points = cell_setup()
    with pytest.raises(InvalidParameterError, match="iou_type"):
        task_aligned_assign(np.ones((20, 1)), preds, points, [0], preds[:1], iou_type="giou")
    with pytest.raises(ShapeMismatchError, match="gt_labels"):
        task_aligned_assign(np.ones((20, 1)), preds, points, [0, 1], preds[:1])
    with pytest.raises(InvalidParameterError, match="gt_labels: row 0 has class 1"):
        task_aligned_assign(np.ones((20, 1)), preds, points, [1], preds[:1])
    with pytest.raises(ShapeMismatchError, match="anchor_points"):
        task_aligned_assign(np.ones((20, 1)), preds, points[:, :1], [0], preds[:1])
