"""ioukit.matching: the group layout, grouped box IoU and the VOC greedy rule."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import _threads, matching
from ioukit.errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from ioukit.matching import (
    FP,
    IGNORED,
    TP,
    build_groups,
    grouped_box_iou,
    match_voc,
)


def test_compiled_doctests():
    from ioukit.matching import _greedy, _iou_kernel

    for mod in (_greedy, _iou_kernel):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, mod.__name__


# -------------------------------------------------------------------- groups
def test_groups_order_detections_by_score_stably():
    g = build_groups(
        np.array([1, 0, 1, 1, 0]),
        np.array([0, 1, 1]),
        2,
        dt_score=np.array([0.5, 0.3, 0.9, 0.5, 0.3]),
    )
    assert g.dt_index.tolist() == [1, 4, 2, 0, 3]  # ties keep input order
    assert g.dt_offsets.tolist() == [0, 2, 5]
    assert g.gt_index.tolist() == [0, 1, 2] and g.gt_offsets.tolist() == [0, 1, 3]
    assert g.iou_offsets.tolist() == [0, 2, 8]
    assert g.n_groups == 2 and g.gt_iscrowd is None


def test_groups_without_scores_keep_input_order_and_skip_minus_one():
    g = build_groups(np.array([0, -1, 0]), np.array([-1]), 1)
    assert g.dt_index.tolist() == [0, 2] and g.gt_index.tolist() == []
    assert g.iou_offsets.tolist() == [0, 0]


def test_groups_validate():
    with pytest.raises(InvalidParameterError, match=r"dt_group\[1\] = 3"):
        build_groups(np.array([0, 3]), np.array([0]), 2)
    with pytest.raises(InvalidParameterError, match="integers"):
        build_groups(np.array([0.5]), np.array([0]), 1)
    with pytest.raises(InvalidParameterError, match="NaN"):
        build_groups(np.array([0]), np.array([0]), 1, dt_score=np.array([np.nan]))
    with pytest.raises(ShapeMismatchError):
        build_groups(np.array([0]), np.array([0]), 1, dt_score=np.array([1.0, 2.0]))


def test_groups_match_the_coco_layout():
    # same fields, same order, as ioukit.coco's Groups (the engine's shared layout)
    from dataclasses import fields

    from ioukit.coco import Groups as CocoGroups

    assert [f.name for f in fields(matching.Groups)] == [f.name for f in fields(CocoGroups)]


# ----------------------------------------------------------------------- IoU
def _voc_iou_rows(d, gts):
    # py-faster-rcnn voc_eval lines 158-179, one detection against all GT
    ixmin = np.maximum(gts[:, 0], d[0])
    iymin = np.maximum(gts[:, 1], d[1])
    ixmax = np.minimum(gts[:, 2], d[2])
    iymax = np.minimum(gts[:, 3], d[3])
    iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
    ih = np.maximum(iymax - iymin + 1.0, 0.0)
    inters = iw * ih
    uni = (
        (d[2] - d[0] + 1.0) * (d[3] - d[1] + 1.0)
        + (gts[:, 2] - gts[:, 0] + 1.0) * (gts[:, 3] - gts[:, 1] + 1.0)
        - inters
    )
    return inters / uni


def _tv_iou_rows(d, gts):
    # torchvision box_iou: inter / (area_d + area_g - inter), clamp(min=0)
    w = np.clip(np.minimum(gts[:, 2], d[2]) - np.maximum(gts[:, 0], d[0]), 0, None)
    h = np.clip(np.minimum(gts[:, 3], d[3]) - np.maximum(gts[:, 1], d[1]), 0, None)
    inter = w * h
    union = (
        (d[2] - d[0]) * (d[3] - d[1]) + (gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1]) - inter
    )
    return inter / union


def _random_boxes(rng, n, integer):
    xy = rng.uniform(0, 80, (n, 2))
    wh = rng.uniform(0, 40, (n, 2))
    b = np.concatenate([xy, xy + wh], 1)
    return np.round(b) if integer else b


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("legacy", [True, False])
def test_grouped_iou_is_bit_identical_to_the_references(integer, legacy):
    rng = np.random.default_rng(7)
    nd, ng, n_groups = 300, 120, 9
    dt, gt = _random_boxes(rng, nd, integer), _random_boxes(rng, ng, integer)
    dg, gg = rng.integers(0, n_groups, nd), rng.integers(0, n_groups, ng)
    g = build_groups(dg, gg, n_groups, dt_score=rng.uniform(size=nd))
    out = grouped_box_iou(dt, gt, g, legacy=legacy)
    ref = _voc_iou_rows if legacy else _tv_iou_rows
    for k in range(n_groups):
        drows = g.dt_index[g.dt_offsets[k] : g.dt_offsets[k + 1]]
        grows = g.gt_index[g.gt_offsets[k] : g.gt_offsets[k + 1]]
        block = out[g.iou_offsets[k] : g.iou_offsets[k + 1]].reshape(len(drows), len(grows))
        for i, r in enumerate(drows):
            with np.errstate(invalid="ignore", divide="ignore"):
                want = ref(dt[r], gt[grows])
            want = np.where(np.isnan(want), 0.0, want)  # zero-area pairs: 0 by convention
            assert np.array_equal(block[i], want), (k, i)


def test_legacy_iou_exactly_half():
    # [1,1,10,5] inside [1,1,10,10]: +1 areas 50 and 100, so IoU is exactly 0.5
    g = build_groups(np.array([0]), np.array([0]), 1)
    v = grouped_box_iou(np.array([[1, 1, 10, 5]]), np.array([[1, 1, 10, 10]]), g)
    assert v.tolist() == [0.5]


def test_grouped_iou_validates_boxes():
    g = build_groups(np.array([0]), np.array([0]), 1)
    with pytest.raises(InvalidBoxesError, match="dt_boxes row 0"):
        grouped_box_iou(np.array([[0, 0, np.inf, 1]]), np.zeros((1, 4)), g)
    with pytest.raises(ShapeMismatchError):
        grouped_box_iou(np.zeros((1, 5)), np.zeros((1, 4)), g)


# -------------------------------------------------------------------- VOC rule
def _voc_rule(ious, g, difficult, thr, ge):
    # the rule as py-faster-rcnn writes it (voc_eval lines 176-189), group by group
    n = len(g.dt_index)
    flags, rows = np.zeros(n, np.uint8), np.full(n, -1)
    for k in range(g.n_groups):
        d0, d1 = g.dt_offsets[k], g.dt_offsets[k + 1]
        grows = g.gt_index[g.gt_offsets[k] : g.gt_offsets[k + 1]]
        block = ious[g.iou_offsets[k] : g.iou_offsets[k + 1]].reshape(d1 - d0, len(grows))
        det = [False] * len(grows)
        for i in range(d1 - d0):
            ovmax = -np.inf
            if len(grows):
                ovmax, jmax = np.max(block[i]), np.argmax(block[i])
            if (ovmax >= thr) if ge else (ovmax > thr):
                if not difficult[grows[jmax]]:
                    if not det[jmax]:
                        flags[d0 + i], rows[d0 + i], det[jmax] = TP, grows[jmax], True
                else:
                    flags[d0 + i], rows[d0 + i] = IGNORED, grows[jmax]
    return flags, rows


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_match_voc_equals_the_rule_written_out(seed, ge):
    rng = np.random.default_rng(seed)
    nd, ng, n_groups = int(rng.integers(0, 40)), int(rng.integers(0, 25)), int(rng.integers(1, 6))
    g = build_groups(
        rng.integers(0, n_groups, nd),
        rng.integers(0, n_groups, ng),
        n_groups,
        dt_score=rng.uniform(size=nd),
    )
    # IoUs on a coarse grid, so ties between GT and values equal to a threshold occur
    ious = rng.integers(0, 5, int(g.iou_offsets[-1])) / 4.0
    difficult = rng.uniform(size=ng) < 0.25
    thrs = np.array([0.25, 0.5, 0.75])
    r = match_voc(ious, g, difficult, thrs, threshold_rule=">=" if ge else ">")
    for t, thr in enumerate(thrs):
        flags, rows = _voc_rule(ious, g, difficult, thr, ge)
        assert np.array_equal(r.flags[:, t], flags), t
        assert np.array_equal(r.gt_row[:, t], rows), t
    assert np.array_equal(r.dt_row, g.dt_index)


def test_match_voc_records_best_gt_and_iou():
    # group 0: GT 0 (free) and GT 1; detection 0 hits GT 0 (0.8), detection 1's best is
    # GT 0 too (0.7, taken) although GT 1 overlaps 0.6: the VOC rule makes it a FP.
    # Group 1 has no GT.
    g = build_groups(np.array([0, 0, 1]), np.array([0, 0]), 2, dt_score=np.array([0.9, 0.8, 0.7]))
    r = match_voc(np.array([0.8, 0.1, 0.7, 0.6]), g, np.array([False, False]))
    assert r.flags[:, 0].tolist() == [TP, FP, FP]
    assert r.gt_row[:, 0].tolist() == [0, -1, -1]
    assert r.best_gt.tolist() == [0, 0, -1]
    assert r.best_iou.tolist() == [0.8, 0.7, 0.0]
    by_row = r.by_row(4)
    assert by_row["flags"][:, 0].tolist() == [TP, FP, FP, FP]
    assert by_row["best_gt"].tolist() == [0, 0, -1, -1]


def test_match_voc_threshold_rules_at_equality():
    g = build_groups(np.array([0]), np.array([0]), 1)
    assert match_voc(np.array([0.5]), g, np.array([False])).flags.tolist() == [[FP]]
    r = match_voc(np.array([0.5]), g, np.array([False]), threshold_rule=">=")
    assert r.flags.tolist() == [[TP]]
    with pytest.raises(InvalidParameterError, match="threshold_rule"):
        match_voc(np.array([0.5]), g, np.array([False]), threshold_rule="=>")


def test_match_voc_difficult_gt_is_not_taken():
    # three detections on one difficult GT: all ignored
    g = build_groups(np.zeros(3, int), np.array([0]), 1, dt_score=np.array([0.9, 0.8, 0.7]))
    r = match_voc(np.array([0.9, 0.8, 0.7]), g, np.array([True]))
    assert r.flags[:, 0].tolist() == [IGNORED] * 3 and r.gt_row[:, 0].tolist() == [0, 0, 0]


def test_match_voc_validates():
    g = build_groups(np.array([0]), np.array([0]), 1)
    with pytest.raises(ShapeMismatchError, match="ious"):
        match_voc(np.zeros(2), g, np.array([False]))
    with pytest.raises(ShapeMismatchError, match="gt_difficult"):
        match_voc(np.zeros(1), g, np.zeros(0, bool))
    with pytest.raises(InvalidParameterError, match=r"\[0, 1\]"):
        match_voc(np.zeros(1), g, np.array([False]), 1.5)


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(11)
    nd, ng, n_groups = 40000, 6000, 400  # above the parallel cut-offs
    dt, gt = _random_boxes(rng, nd, True), _random_boxes(rng, ng, True)
    g = build_groups(
        rng.integers(0, n_groups, nd),
        rng.integers(0, n_groups, ng),
        n_groups,
        dt_score=rng.uniform(size=nd),
    )
    diff = rng.uniform(size=ng) < 0.1
    old = _threads.get_num_threads()
    outs = []
    try:
        for n in (1, 2, 3):
            _threads.set_num_threads(n)
            ious = grouped_box_iou(dt, gt, g)
            r = match_voc(ious, g, diff, [0.3, 0.5])
            outs.append((ious, r.flags, r.gt_row, r.best_gt, r.best_iou))
    finally:
        _threads.set_num_threads(old)
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            assert np.array_equal(a, b)
