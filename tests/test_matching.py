"""ioukit.matching: the group layout, grouped box IoU, the VOC rule and the COCO / LVIS rule."""

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
    match_coco,
    match_lvis,
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


def test_groups_is_the_coco_engines_class():
    # one group layout: ioukit.coco re-exports the matching layer's class
    from ioukit.coco import Groups as CocoGroups

    assert CocoGroups is matching.Groups


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


# ------------------------------------------------------------ COCO / LVIS rule
def _coco_rule(ious, g, ig0, reuse, gt_area, matchable, dt_area, unm, thr, lo, hi):
    # pycocotools 2.0.11 COCOeval.evaluateImg (lines 240-306) group by group, with the
    # flags generalised as lvis 0.5.3 evaluate_img does: flags and matched GT rows
    n = len(g.dt_index)
    flags, rows, ious_out = np.zeros(n, np.uint8), np.full(n, -1), np.full(n, np.nan)
    for k in range(g.n_groups):
        d0, d1 = g.dt_offsets[k], g.dt_offsets[k + 1]
        grows = g.gt_index[g.gt_offsets[k] : g.gt_offsets[k + 1]]
        block = ious[g.iou_offsets[k] : g.iou_offsets[k + 1]].reshape(d1 - d0, len(grows))
        gt_ig = [bool(ig0[r]) or gt_area[r] < lo or gt_area[r] > hi for r in grows]
        order = np.argsort(gt_ig, kind="mergesort")
        gtm = [False] * len(grows)
        for i in range(d1 - d0):
            iou, m = min(thr, 1 - 1e-10), -1
            for gi in order:
                if gtm[gi] and not reuse[grows[gi]]:
                    continue
                if m > -1 and not gt_ig[m] and gt_ig[gi]:
                    break
                if block[i, gi] < iou:
                    continue
                iou, m = block[i, gi], gi
            drow = g.dt_index[d0 + i]
            out_of_range = bool(unm[drow]) or dt_area[drow] < lo or dt_area[drow] > hi
            if m == -1:
                flags[d0 + i] = IGNORED if out_of_range else FP
                continue
            gtm[m] = True
            rows[d0 + i], ious_out[d0 + i] = grows[m], iou
            if gt_ig[m]:
                flags[d0 + i] = IGNORED
            elif matchable[grows[m]]:
                flags[d0 + i] = TP
            else:
                flags[d0 + i] = IGNORED if out_of_range else FP
    return flags, rows, ious_out


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_match_coco_equals_the_rule_written_out(seed):
    rng = np.random.default_rng(seed)
    nd, ng, n_groups = int(rng.integers(0, 40)), int(rng.integers(0, 25)), int(rng.integers(1, 6))
    g = build_groups(
        rng.integers(0, n_groups, nd),
        rng.integers(0, n_groups, ng),
        n_groups,
        dt_score=rng.integers(0, 4, nd) / 4.0,  # tied scores
    )
    # IoUs on a coarse grid: ties between GT, values equal to a threshold, and the
    # 1 - 1e-10 clamp at threshold 1
    ious = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0 - 1e-10, 1.0], int(g.iou_offsets[-1]))
    ig0, reuse = rng.uniform(size=ng) < 0.2, rng.uniform(size=ng) < 0.3
    matchable = rng.uniform(size=ng) < 0.9
    unm = rng.uniform(size=nd) < 0.2
    gt_area, dt_area = rng.choice([0.0, 10.0, 50.0, 100.0], ng), rng.choice([10.0, 50.0], nd)
    thrs = np.array([0.25, 0.5, 0.75, 1.0])
    rng_a = np.array([[0.0, 1e10], [0.0, 50.0], [50.0, 1e10]])
    flags, rec = match_coco(
        ious, g, gt_area, dt_area, thrs, rng_a, gt_ignore=ig0, gt_reusable=reuse,
        gt_matchable=matchable, dt_ignore_unmatched=unm, record_area=1,
    )  # fmt: skip
    assert flags.shape == (nd, 3, 4)
    for a, (lo, hi) in enumerate(rng_a):
        for t, thr in enumerate(thrs):
            f, rows, iou = _coco_rule(
                ious, g, ig0, reuse, gt_area, matchable, dt_area, unm, thr, lo, hi
            )
            assert np.array_equal(flags[:, a, t], f), (a, t)
            if a == 1:
                assert np.array_equal(rec.gt_row[:, t], rows), t
                assert np.array_equal(rec.iou[:, t], iou, equal_nan=True), t
                assert np.array_equal(rec.flags[:, t], f), t
    # best GT: the first maximal IoU of the detection's group
    for k in range(g.n_groups):
        d0, d1 = g.dt_offsets[k], g.dt_offsets[k + 1]
        grows = g.gt_index[g.gt_offsets[k] : g.gt_offsets[k + 1]]
        block = ious[g.iou_offsets[k] : g.iou_offsets[k + 1]].reshape(d1 - d0, len(grows))
        for i in range(d1 - d0):
            j = int(np.argmax(block[i])) if len(grows) else -1
            assert rec.best_gt[d0 + i] == (grows[j] if j >= 0 else -1)
            assert rec.best_iou[d0 + i] == (block[i, j] if j >= 0 else 0.0)
    # without records: the same flags
    assert np.array_equal(
        match_coco(ious, g, gt_area, dt_area, thrs, rng_a, gt_ignore=ig0, gt_reusable=reuse,
                   gt_matchable=matchable, dt_ignore_unmatched=unm)[0],
        flags,
    )  # fmt: skip


def test_match_coco_crowd_defaults_and_lvis():
    # one GT flagged crowd (COCO: ignored and reusable); two detections on it
    g = build_groups(np.zeros(2, int), np.array([0]), 1, dt_score=np.array([0.9, 0.8]),
                     gt_iscrowd=np.array([True]))  # fmt: skip
    ious, area = np.array([0.9, 0.8]), np.array([100.0])
    f, _ = match_coco(ious, g, area, np.full(2, 100.0))
    assert f[:, 0, 0].tolist() == [IGNORED, IGNORED]
    # LVIS: no crowd regions, the GT is taken once
    f, rec = match_lvis(ious, g, area, np.full(2, 100.0), np.array([False]),
                        np.array([False, False]), record_area=0)  # fmt: skip
    assert f[:, 0, 0].tolist() == [TP, FP] and rec.gt_row[:, 0].tolist() == [0, -1]
    # LVIS, not exhaustive: the unmatched second detection is ignored
    f, _ = match_lvis(ious, g, area, np.full(2, 100.0), np.array([False]),
                      np.array([False, True]))  # fmt: skip
    assert f[:, 0, 0].tolist() == [TP, IGNORED]


def test_match_coco_validates():
    g = build_groups(np.array([0]), np.array([0]), 1)
    one = np.ones(1)
    with pytest.raises(ShapeMismatchError, match="ious"):
        match_coco(np.zeros(2), g, one, one)
    with pytest.raises(ShapeMismatchError, match="gt_area"):
        match_coco(np.zeros(1), g, np.zeros(0), one)
    with pytest.raises(InvalidParameterError, match="area_ranges"):
        match_coco(np.zeros(1), g, one, one, 0.5, [0.0, 1.0])
    with pytest.raises(InvalidParameterError, match="record_area"):
        match_coco(np.zeros(1), g, one, one, 0.5, record_area=1)
    with pytest.raises(InvalidParameterError, match=r"\[0, 1\]"):
        match_coco(np.zeros(1), g, one, one, -0.5)


def test_match_coco_does_not_depend_on_thread_count():
    rng = np.random.default_rng(12)
    nd, ng, n_groups = 40000, 6000, 400
    dt, gt = _random_boxes(rng, nd, False), _random_boxes(rng, ng, False)
    g = build_groups(
        rng.integers(0, n_groups, nd),
        rng.integers(0, n_groups, ng),
        n_groups,
        dt_score=rng.uniform(size=nd),
        gt_iscrowd=rng.uniform(size=ng) < 0.05,
    )
    ious = grouped_box_iou(dt, gt, g, legacy=False)
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area_d = (dt[:, 2] - dt[:, 0]) * (dt[:, 3] - dt[:, 1])
    rng_a = [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]]
    unm = rng.uniform(size=nd) < 0.1
    old = _threads.get_num_threads()
    outs = []
    try:
        for n in (1, 2, 3):
            _threads.set_num_threads(n)
            thr = np.linspace(0.5, 0.95, 10)
            f, r = match_coco(ious, g, area_g, area_d, thr, rng_a, dt_ignore_unmatched=unm,
                              record_area=0)  # fmt: skip
            outs.append((f, r.gt_row, r.iou, r.best_gt, r.best_iou))
    finally:
        _threads.set_num_threads(old)
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            assert np.array_equal(a, b, equal_nan=True)


# ----------------------------------------------- match records through the engine
def _pycoco_eval(gt, dt):
    import contextlib
    import copy
    import io

    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        E = COCOeval(cg, cg.loadRes(copy.deepcopy(dt)), "bbox")
        E.evaluate()
    return E


def _assert_records_equal_pycocotools(gt, dt):
    from ioukit.coco import evaluate

    E = _pycoco_eval(gt, dt)
    r = evaluate(gt, dt, keep_matches=True)
    m = r.matches()
    by_id = {int(row) + 1: k for k, row in enumerate(m["dt_row"])}  # loadRes ids: row + 1
    seen = 0
    for e in E.evalImgs:
        if e is None or e["aRng"] != [0, 1e10]:
            continue
        for i, did in enumerate(e["dtIds"]):
            k = by_id[did]
            gid = np.where(m["gt_id"][k] >= 0, m["gt_id"][k], 0)
            # pycocotools: the GT id, 0 for none (and for a GT with id 0)
            assert np.array_equal(gid, e["dtMatches"][:, i]), did
            assert np.array_equal(m["flag"][k] == IGNORED, e["dtIgnore"][:, i]), did
            tp = (e["dtMatches"][:, i] > 0) & ~e["dtIgnore"][:, i]
            assert np.array_equal(m["flag"][k] == TP, tp), did
            seen += 1
    assert seen == len(by_id) > 0
    # the IoU recorded is the pair's: pycocotools' ious for that (image, category)
    for (img, cat), ious in E.ious.items():
        if len(ious) == 0:
            continue
        d = E._dts[img, cat]
        d = [d[j] for j in np.argsort([-x["score"] for x in d], kind="mergesort")]
        gids = [x["id"] for x in E._gts[img, cat]]
        for i, x in enumerate(d[: E.params.maxDets[-1]]):
            k = by_id[x["id"]]
            for t in range(10):
                if m["gt_id"][k, t] >= 0 and m["gt_id"][k, t] in gids:
                    assert m["iou"][k, t] == ious[i, gids.index(m["gt_id"][k, t])]
    return r


def test_coco_records_equal_pycocotools_dt_matches(coco100):
    import json

    gt = json.loads((coco100 / "instances_val2014_100.json").read_text())
    dt = json.loads((coco100 / "instances_val2014_fakebbox100_results.json").read_text())
    r = _assert_records_equal_pycocotools(gt, dt)
    # records cost nothing in the numbers
    from ioukit.coco import evaluate

    assert np.array_equal(evaluate(gt, dt).precision, r.precision)


def test_coco_records_on_synthetic_crowds_and_ties():
    from ioukit.synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(n_images=40, n_categories=5, crowd_fraction=0.1, seed=5)
    for d in dt:
        d["score"] = round(d["score"], 1)  # ties
    _assert_records_equal_pycocotools(gt, dt)


def test_coco_records_merge_and_stream():
    from ioukit.coco import CocoEvaluator, evaluate, evaluate_images, merge_states, prepare
    from ioukit.errors import InvalidParameterError as IPE
    from ioukit.synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(n_images=30, n_categories=4, polygons=False, seed=2)
    whole = evaluate(gt, dt, keep_matches=True).matches()
    g, d, p = prepare(gt, dt)
    img = np.asarray(p.imgIds)
    parts = [evaluate_images(g, d, p, img[k::4], keep_matches=True) for k in range(4)]
    merged = merge_states(parts[::-1]).match_table()
    for k in whole:
        assert np.array_equal(whole[k], merged[k], equal_nan=True), k
    plain = evaluate_images(g, d, p, img[1::4])
    with pytest.raises(IPE, match="keep_matches"):
        merge_states([parts[0], plain])
    with pytest.raises(IPE, match="keep_matches"):
        evaluate(gt, dt).matches()
    # streaming: rows and GT ids are positions in each image's update() arrays
    ev = CocoEvaluator([c["id"] for c in gt["categories"]], fmt="xywh",
                       keep_matches=True, batch_images=7)  # fmt: skip
    by_img: dict = {}
    for a in gt["annotations"]:
        by_img.setdefault(a["image_id"], ([], []))[0].append(a)
    for x in dt:
        by_img.setdefault(x["image_id"], ([], []))[1].append(x)
    for i in sorted(by_img):
        ga, da = by_img[i]
        ev.update(
            i,
            gt_boxes=np.array([a["bbox"] for a in ga]).reshape(-1, 4),
            gt_labels=np.array([a["category_id"] for a in ga], int),
            gt_iscrowd=np.array([a["iscrowd"] for a in ga], int),
            gt_area=np.array([a["area"] for a in ga], float),
            dt_boxes=np.array([x["bbox"] for x in da]).reshape(-1, 4),
            dt_scores=np.array([x["score"] for x in da]),
            dt_labels=np.array([x["category_id"] for x in da], int),
        )
    s = ev.compute().matches()
    pos_of, row_pos = {}, {}
    for ga, da in by_img.values():
        pos_of.update({a["id"]: j for j, a in enumerate(ga)})
        row_pos.update({id(x): j for j, x in enumerate(da)})
    want_gt = np.where(whole["gt_id"] >= 0, 0, -1)
    hit = whole["gt_id"] >= 0
    want_gt[hit] = [pos_of[int(v)] for v in whole["gt_id"][hit]]
    assert np.array_equal(s["gt_id"], want_gt)
    assert np.array_equal(s["iou"], whole["iou"], equal_nan=True)
    assert s["dt_row"].tolist() == [row_pos[id(dt[r])] for r in whole["dt_row"]]
