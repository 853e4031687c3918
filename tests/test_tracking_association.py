"""ioukit.tracking association (brute-force optimum), the LSAP port (SciPy), SORT."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioukit.tracking._kernels import linear_sum_assignment as port_lsa
from scipy.optimize import linear_sum_assignment as scipy_lsa

from ioukit.errors import InvalidParameterError, ShapeMismatchError
from ioukit.tracking import SortTracker, associate, associate_two_stage, evaluate, iou_matrix


def random_boxes(rng, n, grid=False):
    xy = rng.integers(0, 6, (n, 2)) * 4.0 if grid else rng.uniform(0, 40, (n, 2))
    wh = rng.integers(1, 4, (n, 2)) * 4.0 if grid else rng.uniform(4, 20, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def brute_force_best(iou, thr):
    """Largest total IoU over every partial matching with pairs >= thr (tiny inputs)."""
    n, m = iou.shape
    best = 0.0
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                vals = iou[list(rows), list(cols)]
                if (vals >= thr).all():
                    best = max(best, float(vals.sum()))
    return best


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 4), st.integers(0, 4), st.booleans())
def test_hungarian_reaches_the_brute_force_optimum(seed, n, m, grid):
    rng = np.random.default_rng(seed)
    t, d = random_boxes(rng, n, grid), random_boxes(rng, m, grid)
    r = associate(t, d, 0.0, "hungarian")
    total = float(r.iou[r.matches[:, 0], r.matches[:, 1]].sum()) if len(r.matches) else 0.0
    assert total == pytest.approx(brute_force_best(r.iou, 0.0), abs=1e-12)
    # partition: every track / detection is matched or listed unmatched, once
    assert sorted([*r.matches[:, 0], *r.unmatched_tracks]) == list(range(n))
    assert sorted([*r.matches[:, 1], *r.unmatched_detections]) == list(range(m))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 5), st.integers(0, 5))
def test_threshold_and_greedy_rule(seed, n, m):
    rng = np.random.default_rng(seed)
    t, d = random_boxes(rng, n), random_boxes(rng, m)
    thr = 0.3
    r = associate(t, d, thr, "hungarian")
    assert (r.iou[r.matches[:, 0], r.matches[:, 1]] >= thr).all()
    g = associate(t, d, thr, "greedy")
    # greedy by hand: highest IoU first, both free, IoU >= thr
    iou = iou_matrix(t, d)
    free_t, free_d, pairs = set(range(n)), set(range(m)), []
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        i, j = divmod(int(flat), m)
        if iou[i, j] >= thr and i in free_t and j in free_d:
            pairs.append((i, j))
            free_t.discard(i)
            free_d.discard(j)
    assert sorted(map(tuple, g.matches.tolist())) == sorted(pairs)


def test_iou_conventions():
    a, b = [[0, 0, 10, 10]], [[5, 0, 15, 10]]
    assert iou_matrix(a, b)[0, 0] == pytest.approx(50 / 150)  # continuous
    assert iou_matrix(a, b, legacy=True)[0, 0] == pytest.approx(66 / (121 + 121 - 66))
    assert iou_matrix([[0, 0, 10, 10]], [[5, 0, 10, 10]], fmt="xywh")[0, 0] == pytest.approx(
        50 / 150
    )
    # the threshold is inclusive
    assert len(associate(a, b, 50 / 150).matches) == 1
    assert len(associate(a, b, 50 / 150 + 1e-12).matches) == 0


def test_two_stage_bytetrack_rule():
    tracks = [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]]
    dets = [
        [0, 0, 10, 10],  # high score, track 0
        [21, 0, 31, 10],  # low score, track 1 (IoU 0.82 >= 0.5)
        [43, 0, 53, 10],  # low score, track 2 at IoU 0.54
        [90, 0, 99, 10],  # high, new
        [70, 0, 80, 10],  # low, nothing: dropped
    ]
    scores = [0.9, 0.3, 0.3, 0.8, 0.2]
    r = associate_two_stage(tracks, dets, scores)
    assert r.matches.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert r.unmatched_high.tolist() == [3] and r.unmatched_low.tolist() == [4]
    # only "tracked" tracks take part in the second stage
    r2 = associate_two_stage(tracks, dets, scores, second_stage_tracks=[True, True, False])
    assert r2.matches.tolist() == [[0, 0], [1, 1]] and r2.unmatched_tracks.tolist() == [2]
    # scores at or below low_score are ignored entirely
    r3 = associate_two_stage(tracks, dets, [0.9, 0.05, 0.05, 0.8, 0.2])
    assert r3.matches.tolist() == [[0, 0]] and r3.unmatched_low.tolist() == [4]


def test_association_errors():
    with pytest.raises(InvalidParameterError, match="method"):
        associate([[0, 0, 1, 1]], [[0, 0, 1, 1]], 0.5, "auction")
    with pytest.raises(ShapeMismatchError, match="tracks"):
        associate([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ShapeMismatchError, match="scores"):
        associate_two_stage([[0, 0, 1, 1]], [[0, 0, 1, 1]], [0.5, 0.4])
    empty = associate(np.zeros((0, 4)), [[0, 0, 1, 1]])
    assert empty.matches.shape == (0, 2) and empty.unmatched_detections.tolist() == [0]


def test_lsap_port_equals_scipy_on_ties():
    # the metrics' per-frame assignment must pick SciPy's pair among tied optima
    rng = np.random.default_rng(0)
    for _ in range(3000):
        n, m = rng.integers(0, 7, 2)
        c = rng.integers(0, 3, (n, m)).astype(float) * rng.choice([1.0, -0.25, -1000.5])
        a, b = scipy_lsa(c), port_lsa(np.ascontiguousarray(c))
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), c


def test_sort_tracks_linear_motion_without_switches():
    rng = np.random.default_rng(0)
    n_frames, starts = 40, np.array([[10.0, 10.0], [100.0, 40.0], [200.0, 120.0]])
    vel = np.array([[3.0, 1.0], [-2.0, 0.5], [0.0, -1.5]])
    trk = SortTracker(max_age=2, min_hits=1, iou_threshold=0.3)
    gt_frames, tr_frames = [], []
    for t in range(n_frames):
        xy = starts + vel * t
        boxes = np.concatenate([xy, xy + [30.0, 60.0]], 1)
        gt_frames.append(([1, 2, 3], np.concatenate([xy, np.full((3, 2), [30.0, 60.0])], 1)))
        noisy = boxes + rng.normal(0, 0.5, boxes.shape)
        out = trk.update(np.concatenate([noisy, np.ones((3, 1))], 1))
        xywh = np.concatenate([out[:, :2], out[:, 2:4] - out[:, :2]], 1)
        tr_frames.append((out[:, 4], xywh))
    r = evaluate(gt_frames, tr_frames).combined
    assert r["IDSW"] == 0 and r["MOTA"] > 0.95 and r["IDF1"] > 0.95


def test_sort_drops_tracks_after_max_age():
    trk = SortTracker(max_age=1, min_hits=1)
    trk.update([[0, 0, 10, 10]])
    assert len(trk.tracks) == 1
    trk.update(np.zeros((0, 5)))
    trk.update(np.zeros((0, 5)))
    assert trk.tracks == []
    out = trk.update([[0, 0, 10, 10]])
    assert out[:, 4].tolist() == [2.0]  # a new id
