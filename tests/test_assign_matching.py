"""SimOTA (hand case + a reference from YOLOX's code), DETR's Hungarian matcher (the
same total cost as scipy on an independently built cost matrix), targets, codings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ioukit.assign import (
    gather_targets,
    hungarian_assign,
    iou_aware_targets,
    simota_assign,
)
from ioukit.errors import InvalidParameterError, ShapeMismatchError
from ioukit.losses import decode_distances, encode_distances

torch = pytest.importorskip("torch")
scipy_opt = pytest.importorskip("scipy.optimize")
tv_ops = pytest.importorskip("torchvision.ops")


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# ------------------------------------------------------------------------ SimOTA
def simota_reference(scores, preds, points, strides, labels, gts, radius=2.5):
    """YOLOX yolo_head.py (get_in_boxes_info, get_assignments, dynamic_k_matching)."""
    n, m = len(preds), len(gts)
    in_box = [[min(x - g[0], y - g[1], g[2] - x, g[3] - y) > 0 for (x, y) in points] for g in gts]
    in_ctr = []
    for g in gts:
        cx, cy = (g[0] + g[2]) / 2, (g[1] + g[3]) / 2
        row = []
        for (x, y), s in zip(points, strides):
            r = radius * s
            row.append(min(x - (cx - r), y - (cy - r), (cx + r) - x, (cy + r) - y) > 0)
        in_ctr.append(row)
    fg = [any(in_box[g][i] or in_ctr[g][i] for g in range(m)) for i in range(n)]
    cand = [i for i in range(n) if fg[i]]
    ious = [[iou(preds[i], gts[g]) for i in cand] for g in range(m)]

    def bce(p, y):
        return -(y * max(math.log(p), -100) + (1 - y) * max(math.log(1 - p), -100))

    cost = []
    for g in range(m):
        row = []
        for j, i in enumerate(cand):
            cls = sum(bce(scores[i][c], float(c == labels[g])) for c in range(len(scores[i])))
            both = in_box[g][i] and in_ctr[g][i]
            row.append(cls + 3.0 * -math.log(ious[g][j] + 1e-8) + 100000.0 * (not both))
        cost.append(row)
    match = [[False] * len(cand) for _ in range(m)]
    for g in range(m):
        k = max(1, int(sum(sorted(ious[g], reverse=True)[: min(10, len(cand))])))
        for j in sorted(range(len(cand)), key=lambda j: (cost[g][j], j))[:k]:
            match[g][j] = True
    gt_index = np.full(n, -1)
    for j, i in enumerate(cand):
        owners = [g for g in range(m) if match[g][j]]
        if len(owners) > 1:
            owners = [min(range(m), key=lambda g: (cost[g][j], g))]
        if owners:
            gt_index[i] = owners[0]
    return gt_index


def test_simota_hand_case():
    # 4 predictions on stride-8 points; GT 0 = [0, 0, 16, 16] (class 0), GT 1 = [16, 0, 32,
    # 16] (class 1); scores 0.5 everywhere, so the class cost is the same 2 ln 2 for all.
    points = np.array([[4.0, 4.0], [12.0, 12.0], [20.0, 4.0], [60.0, 60.0]])
    preds = np.array([[0, 0, 16, 16], [0, 0, 16, 8], [16, 0, 32, 16], [56, 56, 64, 64.0]])
    gts = np.array([[0.0, 0.0, 16.0, 16.0], [16.0, 0.0, 32.0, 16.0]])
    a = simota_assign(np.full((4, 2), 0.5), preds, points, np.full(4, 8.0), [0, 1], gts)
    # candidates: points 0-2 (inside a box); point 3 is outside every box and centre region.
    # GT 0: IoUs 1, 1/2, 0 -> k = int(1.5) = 1, the lowest cost: prediction 0 (IoU 1).
    # GT 1: IoUs 0, 0, 1 -> k = 1: prediction 2.
    np.testing.assert_array_equal(a.gt_index, [0, -1, 1, -1])
    np.testing.assert_allclose(a.iou, [1, 0, 1, 0])
    np.testing.assert_array_equal(a.quality, a.iou)


def test_simota_dynamic_k_and_conflict():
    # one GT covering three predictions of IoU 0.9, 0.8, 0.7 -> k = int(2.4) = 2; a second
    # identical-class GT wants prediction 0 as well, which stays with the lower cost
    points = np.array([[5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
    gt = np.array([[0.0, 0.0, 10.0, 10.0]])
    preds = np.array([[0, 0, 10, 9], [0, 0, 10, 8], [0, 0, 10, 7.0]])
    a = simota_assign(np.full((3, 1), 0.5), preds, points, np.ones(3), [0], gt)
    np.testing.assert_array_equal(a.gt_index, [0, 0, -1])
    gts = np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 9.5]])
    a = simota_assign(np.full((3, 1), 0.5), preds, points, np.ones(3), [0, 0], gts)
    # GT 1 (IoUs 9/9.5, 8/9.5, 7/9.5 -> k = 2) takes 0 (cost lower: IoU 0.947 > 0.9) and 1
    want = simota_reference(np.full((3, 1), 0.5), preds, points, np.ones(3), [0, 0], gts)
    np.testing.assert_array_equal(a.gt_index, want)
    np.testing.assert_array_equal(a.gt_index, [1, 1, -1])


def test_simota_equals_reference_on_random_images():
    rng = np.random.default_rng(4)
    ys, xs = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    points = np.stack([xs, ys], -1).reshape(-1, 2) * 8 + 4.0
    strides = np.full(len(points), 8.0)
    for i in range(12):
        m = int(rng.integers(1, 5))
        xy = rng.uniform(0, 36, (m, 2))
        gts = np.concatenate([xy, xy + rng.uniform(6, 20, (m, 2))], 1)
        preds = np.concatenate([points - 6, points + 6], 1) + rng.normal(0, 2, (36, 4))
        preds[:, 2:] = np.maximum(preds[:, 2:], preds[:, :2] + 1)
        scores = rng.uniform(0.05, 0.95, (36, 3))
        labels = rng.integers(0, 3, m)
        got = simota_assign(scores, preds, points, strides, labels, gts)
        want = simota_reference(scores, preds, points, strides, labels, gts)
        np.testing.assert_array_equal(got.gt_index, want, err_msg=f"image {i}")
        tg = simota_assign(
            *(torch.as_tensor(x) for x in (scores, preds, points, strides)),
            torch.as_tensor(labels),
            torch.as_tensor(gts),
        )
        np.testing.assert_array_equal(tg.gt_index.numpy(), want)


# -------------------------------------------------------------------- Hungarian
def detr_cost(logits, boxes, labels, gts, kind="prob"):
    """DETR's HungarianMatcher cost (detr/models/matcher.py) with torch / torchvision."""
    lg, bx = torch.as_tensor(logits), torch.as_tensor(boxes)
    lab, gt = torch.as_tensor(labels), torch.as_tensor(gts)
    if kind == "prob":
        c_cls = -lg.softmax(-1)[:, lab]
    else:
        p = lg.sigmoid()
        neg = 0.75 * p**2 * -(1 - p + 1e-8).log()
        pos = 0.25 * (1 - p) ** 2 * -(p + 1e-8).log()
        c_cls = (pos - neg)[:, lab]
    c_l1 = torch.cdist(bx, gt, p=1)
    c_giou = -tv_ops.generalized_box_iou(bx, gt)
    return (5 * c_l1 + 1 * c_cls + 2 * c_giou).numpy()


def random_detr_image(rng, q, m, c):
    xy = rng.uniform(0, 0.7, (q + m, 2))
    b = np.concatenate([xy, xy + rng.uniform(0.05, 0.3, (q + m, 2))], 1)
    return rng.normal(0, 2, (q, c)), b[:q], rng.integers(0, c, m), b[q:]


@pytest.mark.parametrize("kind", ["prob", "focal"])
def test_hungarian_same_total_cost_as_scipy_per_image(kind):
    rng = np.random.default_rng(7 + len(kind))
    b, q, c, mmax = 6, 12, 5, 7
    logits = np.zeros((b, q, c))
    boxes = np.zeros((b, q, 4))
    labels = np.zeros((b, mmax), dtype=np.int64)
    gts = np.zeros((b, mmax, 4))
    mask = np.zeros((b, mmax), dtype=bool)
    per_image = []
    for k in range(b):
        m = int(rng.integers(0, mmax + 1))
        lg, bx, lab, gt = random_detr_image(rng, q, m, c)
        logits[k], boxes[k], labels[k, :m], gts[k, :m], mask[k, :m] = lg, bx, lab, gt, True
        gts[k, m:] = [0, 0, 1, 1]  # padding
        per_image.append((lg, bx, lab, gt))
    for backend in ("numpy", "torch"):
        args = (logits, boxes, labels, gts)
        if backend == "torch":
            args = tuple(torch.as_tensor(x) for x in args)
        got = hungarian_assign(
            *args, gt_mask=mask if backend == "numpy" else torch.as_tensor(mask), class_cost=kind
        )
        cost = np.asarray(got.cost)
        gi = np.asarray(got.gt_index)
        for k, (lg, bx, lab, gt) in enumerate(per_image):
            if len(gt) == 0:
                assert cost[k] == 0 and (gi[k] == -1).all()
                continue
            cmat = detr_cost(lg, bx, lab, gt, kind)
            r, cc = scipy_opt.linear_sum_assignment(cmat)
            assert cost[k] == pytest.approx(cmat[r, cc].sum(), rel=1e-12, abs=1e-12)
            # a valid one-to-one matching whose cost, read from the oracle matrix, is optimal
            rows = np.flatnonzero(gi[k] >= 0)
            assert len(rows) == len(gt) and len(set(gi[k][rows])) == len(gt)
            assert cmat[rows, gi[k][rows]].sum() == pytest.approx(cmat[r, cc].sum(), rel=1e-12)
            np.testing.assert_array_equal(np.asarray(got.pred_index)[k, gi[k][rows]], rows)


def test_hungarian_more_gts_than_queries_and_errors():
    rng = np.random.default_rng(1)
    lg, bx, lab, gt = random_detr_image(rng, 2, 4, 3)
    got = hungarian_assign(lg, bx, lab, gt)
    assert sorted(got.gt_index.tolist()) != [-1, -1]
    assert (got.pred_index >= 0).sum() == 2
    with pytest.raises(InvalidParameterError, match="class_cost"):
        hungarian_assign(lg, bx, lab, gt, class_cost="ce")
    with pytest.raises(ShapeMismatchError, match="pred_logits"):
        hungarian_assign(lg[:1], bx, lab, gt)


# ---------------------------------------------------------------------- targets
def test_gather_and_iou_aware_targets_by_hand_and_gradient():
    labels = torch.tensor([[2, 0]])
    boxes = torch.tensor([[[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 3.0]]])
    gi = torch.tensor([[1, -1, 0, -2]])
    t = gather_targets(labels, boxes, gi)
    assert t.labels.tolist() == [[0, -1, 2, -1]]
    assert t.positive.tolist() == [[True, False, True, False]]
    assert t.boxes[0, 0].tolist() == [1.0, 1.0, 3.0, 3.0] and t.boxes[0, 1].abs().sum() == 0
    q = torch.tensor([[0.8, 0.5, 0.3, 0.9]], dtype=torch.float64, requires_grad=True)
    target = iou_aware_targets(labels, gi, q, num_classes=3)
    want = torch.zeros(1, 4, 3, dtype=torch.float64)
    want[0, 0, 0], want[0, 2, 2] = 0.8, 0.3
    assert torch.equal(target, want)
    # d(sum of targets)/dq is 1 exactly where the prediction is positive
    target.sum().backward()
    assert q.grad.tolist() == [[1.0, 0.0, 1.0, 0.0]]


def test_iou_aware_targets_shape_error():
    with pytest.raises(ShapeMismatchError, match="quality"):
        iou_aware_targets(np.array([0]), np.array([0, -1]), np.array([0.5]), 2)


# ---------------------------------------------------------------------- codings
def test_distance_coding_hand_values_and_round_trip():
    pts = np.array([[4.0, 3.0], [8.0, 8.0]])
    bxs = np.array([[0.0, 0.0, 10.0, 5.0], [0.0, 4.0, 24.0, 12.0]])
    d = encode_distances(pts, bxs)
    np.testing.assert_array_equal(d, [[4, 3, 6, 2], [8, 4, 16, 4]])
    np.testing.assert_array_equal(
        encode_distances(pts, bxs, strides=np.array([1.0, 4.0]))[1], [2, 1, 4, 1]
    )
    np.testing.assert_array_equal(encode_distances(pts, bxs, max_distance=5.0)[1], [5, 4, 5, 4])
    for fmt in ("xyxy", "xywh", "cxcywh"):
        from ioukit.boxes import convert

        b = bxs if fmt == "xyxy" else convert(bxs, "xyxy", fmt)
        d = encode_distances(pts, b, fmt=fmt, strides=8.0)
        np.testing.assert_allclose(decode_distances(pts, d, fmt=fmt, strides=8.0), b, atol=1e-12)


def test_distance_coding_gradients():
    pts = torch.tensor([[4.0, 3.0]], dtype=torch.float64)
    d = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: decode_distances(pts, x, strides=2.0), (d,))
    bx = torch.tensor([[0.0, 0.0, 10.0, 5.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda b: encode_distances(pts, b, fmt="cxcywh"), (bx,))


def test_distance_coding_errors():
    with pytest.raises(ShapeMismatchError, match="points"):
        encode_distances(np.zeros((1, 3)), np.zeros((1, 4)))
    with pytest.raises(InvalidParameterError, match="max_distance"):
        encode_distances(np.zeros((1, 2)), np.ones((1, 4)), max_distance=0)
