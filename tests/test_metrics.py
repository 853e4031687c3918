"""ioukit.metrics: PR curves, the three AP interpolations and F1.

Hand-computed values are worked out in the comments; the interpolations are also
compared with ``==`` to the test oracle (a transcription of py-faster-rcnn's
``voc_ap``, tests/_voc_reference.py) and to pycocotools' own ``accumulate``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _voc_reference import voc_ap
from ioukit import metrics
from ioukit.errors import InvalidParameterError, ShapeMismatchError
from ioukit.metrics import (
    COCO101_RECALLS,
    VOC11_RECALLS,
    average_precision,
    best_f1,
    f1,
    f1_from_counts,
    interpolated_precision,
    precision_recall_curve,
    rank,
)

FP, TP, IG = 0, 1, 2


def _curve(flags, num_gt, rule="plain"):
    s = np.linspace(1.0, 0.0, len(flags), endpoint=False)  # already ranked, no ties
    return precision_recall_curve(s, np.array(flags, dtype=np.uint8), num_gt, precision_rule=rule)


# ------------------------------------------------------------------- curves
def test_curve_counts_and_ignored_points():
    # ranked TP, ignored, FP, TP with 3 GT: ignored adds to neither count but stays a point
    c = _curve([TP, IG, FP, TP], 3)
    assert c.tp.tolist() == [1, 1, 1, 2]
    assert c.fp.tolist() == [0, 0, 1, 1]
    assert c.recall.tolist() == [1 / 3, 1 / 3, 1 / 3, 2 / 3]
    assert c.precision.tolist() == [1.0, 1.0, 0.5, 2 / 3]
    assert c.flags.tolist() == [TP, IG, FP, TP]


def test_curve_ranks_by_score_stable_then_tiebreak():
    s = np.array([0.5, 0.9, 0.5, 0.7])
    c = precision_recall_curve(s, np.array([TP, FP, FP, TP]), 2)
    assert c.order.tolist() == [1, 3, 0, 2]  # ties (0.5) in input order
    assert c.scores.tolist() == [0.9, 0.7, 0.5, 0.5]
    c = precision_recall_curve(s, np.array([TP, FP, FP, TP]), 2, tiebreak=np.array([9, 0, 1, 2]))
    assert c.order.tolist() == [1, 3, 2, 0]
    assert rank(np.array([1.0, 1.0, 1.0])).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "rule, first",
    [("plain", math.nan), ("guarded", 0.0), ("coco", 0.0)],
)
def test_precision_rules_on_leading_ignored(rule, first):
    # an ignored detection first: tp = fp = 0, so precision is 0/0 there
    c = _curve([IG, TP, FP], 2, rule)
    p0 = c.precision[0]
    assert (math.isnan(p0) and math.isnan(first)) or p0 == first
    eps = np.finfo(np.float64).eps
    expected = {
        "plain": [1.0, 0.5],  # py-faster-rcnn: tp / (tp + fp)
        "guarded": [1 / max(1.0, eps), 1 / max(2.0, eps)],  # Detectron
        "coco": [1 / (0 + 1 + np.spacing(1)), 1 / (1 + 1 + np.spacing(1))],  # pycocotools
    }[rule]
    assert c.precision[1:].tolist() == expected


def test_curve_bool_flags_and_no_gt():
    c = precision_recall_curve(np.array([0.9, 0.1]), np.array([True, False]), 1)
    assert c.recall.tolist() == [1.0, 1.0]
    c = precision_recall_curve(np.array([0.9]), np.array([FP]), 0)
    assert np.isnan(c.recall).all()


def test_curve_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match=r"flags\[1\] = 5"):
        precision_recall_curve(np.array([0.9, 0.8]), np.array([1, 5]), 1)
    with pytest.raises(InvalidParameterError, match=r"scores\[0\] is NaN"):
        precision_recall_curve(np.array([np.nan]), np.array([1]), 1)
    with pytest.raises(ShapeMismatchError):
        precision_recall_curve(np.array([0.9, 0.8]), np.array([1]), 1)
    with pytest.raises(InvalidParameterError, match="precision_rule"):
        precision_recall_curve(np.array([0.9]), np.array([1]), 1, precision_rule="x")
    with pytest.raises(InvalidParameterError, match="num_gt"):
        precision_recall_curve(np.array([0.9]), np.array([1]), -1)


# ------------------------------------------------------- hand-computed AP
def test_hand_computed_11_point_vs_all_point():
    # 3 GT; ranked TP, FP, TP, FP:
    #   recall    1/3 1/3 2/3 2/3     precision 1 1/2 2/3 1/2
    # all-point: envelope 1 1 2/3 2/3 (then 0 at recall 1), recall steps of 1/3 at
    #   1/3 (p 1), 2/3 (p 2/3), 1 (p 0): AP = 1/3 + 2/9 = 5/9
    # 11-point: t = 0, .1, .2, .30000000000000004 <= 1/3 -> p 1 (4 points);
    #   t = .4, .5, .6000000000000001 <= 2/3 -> p 2/3 (3 points); t >= .7 -> 0:
    #   AP = (4 + 3 * 2/3) / 11 = 6/11
    c = _curve([TP, FP, TP, FP], 3)
    assert average_precision(c.recall, c.precision, "all_point") == pytest.approx(5 / 9, abs=1e-15)
    assert average_precision(c.recall, c.precision, "voc11") == pytest.approx(6 / 11, abs=1e-15)
    # coco101: envelope 1 1 2/3 2/3; recall thresholds 0..0.33 (34 of them) -> 1,
    #   0.34..0.66 (33) -> 2/3, 0.67..1 (34) -> 0: AP = (34 + 22) / 101
    c = _curve([TP, FP, TP, FP], 3, "coco")
    assert average_precision(c.recall, c.precision, "coco101") == pytest.approx(56 / 101, abs=1e-6)


def test_11_point_uses_numpy_arange_thresholds():
    # 10 GT and 3 TP: recall reaches exactly 0.3, which is below arange's
    # 0.30000000000000004, so only t = 0, .1, .2 see precision 1: AP = 3/11, not 4/11
    c = _curve([TP, TP, TP], 10)
    assert c.recall[-1] == 0.3
    assert VOC11_RECALLS[3] == 0.30000000000000004
    assert average_precision(c.recall, c.precision, "voc11") == 1 / 11 + 1 / 11 + 1 / 11
    k10 = np.array([k / 10 for k in range(11)])
    got = average_precision(c.recall, c.precision, "voc11", recall_thresholds=k10)
    assert got == 1 / 11 + 1 / 11 + 1 / 11 + 1 / 11


def test_11_point_is_a_sequential_sum():
    # a perfect detector: eleven times p / 11 summed in order, as py-faster-rcnn
    c = _curve([TP, TP], 2)
    ap = 0.0
    for _ in range(11):
        ap = ap + 1.0 / 11.0
    assert average_precision(c.recall, c.precision, "voc11") == ap == 1.0000000000000002
    assert average_precision(c.recall, c.precision, "all_point") == 1.0


def test_empty_curve_gives_zero():
    e = np.zeros(0)
    for interp in metrics.INTERPOLATIONS:
        assert average_precision(e, e, interp) == 0.0


def test_nan_precision_propagates_as_in_the_reference():
    # plain rule, first detection ignored: precision [nan, 1]; recall [0, .5]
    r, p = np.array([0.0, 0.5]), np.array([np.nan, 1.0])
    assert math.isnan(average_precision(r, p, "voc11"))  # np.max sees the NaN at t = 0
    assert average_precision(r, p, "all_point") == 0.5  # the NaN sits at recall 0
    assert math.isnan(voc_ap(r, p, True)) and voc_ap(r, p, False) == 0.5


def test_interpolation_name_is_checked():
    with pytest.raises(InvalidParameterError, match="interpolation"):
        average_precision(np.zeros(1), np.zeros(1), "voc10")
    with pytest.raises(ShapeMismatchError):
        average_precision(np.zeros(2), np.zeros(1))


# ------------------------------------------------------------- vs references
_flags = st.lists(st.sampled_from([FP, TP, IG]), min_size=0, max_size=40)


@settings(max_examples=300, deadline=None)
@given(_flags, st.integers(0, 12), st.sampled_from(["plain", "guarded"]))
def test_voc_interpolations_equal_the_reference(flags, extra_gt, rule):
    n_gt = sum(f == TP for f in flags) + extra_gt
    if n_gt == 0:
        return
    c = _curve(flags, n_gt, rule)
    for use07, interp in ((True, "voc11"), (False, "all_point")):
        got = average_precision(c.recall, c.precision, interp)
        want = voc_ap(c.recall, c.precision, use07)
        assert got == want or (math.isnan(got) and math.isnan(want)), (interp, got, want)


def _pycocotools_q(rc, pr):
    # COCOeval.accumulate (pycocotools 2.0.11, cocoeval.py lines 384-409), one curve
    nd, q = len(rc), np.zeros((len(COCO101_RECALLS),)).tolist()
    pr = pr.tolist()
    for i in range(nd - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    inds = np.searchsorted(rc, COCO101_RECALLS, side="left")
    try:
        for ri, pi in enumerate(inds):
            q[ri] = pr[pi]
    except IndexError:
        pass
    return np.array(q)


@settings(max_examples=300, deadline=None)
@given(_flags, st.integers(0, 12))
def test_coco101_equals_the_accumulate_loop(flags, extra_gt):
    n_gt = sum(f == TP for f in flags) + extra_gt
    if n_gt == 0:
        return
    c = _curve(flags, n_gt, "coco")
    q = interpolated_precision(c.recall, c.precision)
    assert np.array_equal(q, _pycocotools_q(c.recall, c.precision))
    assert average_precision(c.recall, c.precision, "coco101") == np.mean(q)


def test_coco101_with_nan_keeps_the_loop_semantics():
    # NaN compares False in the reference loop: it neither spreads nor is overwritten
    r, p = np.array([0.2, 0.5, 1.0]), np.array([0.5, np.nan, 0.9])
    got = interpolated_precision(r, p)
    assert np.array_equal(got, _pycocotools_q(r, p), equal_nan=True)


def test_coco101_equals_pycocotools_on_a_dataset():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from ioukit.synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(n_images=40, n_categories=4, seed=5)
    cg = COCO()
    cg.dataset = gt
    cg.createIndex()
    ev = COCOeval(cg, cg.loadRes(dt), "bbox")
    ev.params.iouThrs = np.array([0.5])
    ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e5**2]], ["all"]
    ev.params.maxDets = [100]
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
    n_img = len(ev.params.imgIds)
    for k in range(len(ev.params.catIds)):
        E = [e for e in ev.evalImgs[k * n_img : (k + 1) * n_img] if e is not None]
        if not E:
            continue
        scores = np.concatenate([e["dtScores"][:100] for e in E])
        dtm = np.concatenate([e["dtMatches"][0, :100] for e in E])
        dtig = np.concatenate([e["dtIgnore"][0, :100] for e in E])
        npig = int(np.count_nonzero(np.concatenate([e["gtIgnore"] for e in E]) == 0))
        if npig == 0:
            continue
        flags = np.where(dtig, IG, np.where(dtm > 0, TP, FP))
        c = precision_recall_curve(scores, flags, npig, precision_rule="coco")
        q = interpolated_precision(c.recall, c.precision)
        assert np.array_equal(q, ev.eval["precision"][0, :, k, 0, 0]), k


def test_interpolated_precision_index():
    q, idx = interpolated_precision(
        np.array([0.5, 1.0]), np.array([1.0, 0.5]), np.array([0.4, 1.0, 1.1]), return_index=True
    )
    assert q.tolist() == [1.0, 0.5, 0.0] and idx.tolist() == [0, 1, 2]


@settings(max_examples=200, deadline=None)
@given(_flags, st.integers(1, 12))
def test_ap_properties(flags, extra_gt):
    n_gt = sum(f == TP for f in flags) + extra_gt
    c = _curve(flags, n_gt, "guarded")
    for interp in metrics.INTERPOLATIONS:
        ap = average_precision(c.recall, c.precision, interp)
        assert 0.0 <= ap <= 1.0 + 1e-12
    # all-point AP is the area under the envelope: never above the max precision
    ap = average_precision(c.recall, c.precision, "all_point")
    assert ap <= (c.precision.max() if len(flags) else 0.0) * c.recall.max(initial=0) + 1e-12


# ------------------------------------------------------------------------ F1
def test_f1_values_and_zero_division():
    assert f1(0.5, 1.0) == 2 * 0.5 * 1.0 / 1.5
    assert f1(0.0, 0.0) == 0.0
    assert math.isnan(f1(0.0, 0.0, zero_division=math.nan))
    assert f1(0.0, 0.0, zero_division=1.0) == 1.0
    assert math.isnan(f1(math.nan, 0.5))
    out = f1(np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    assert out.tolist() == [1.0, 0.0]
    assert f1_from_counts(3, 1, 5) == 6 / 9
    got = f1_from_counts(np.array([0, 2]), np.array([0, 2]), np.array([0, 2]))
    assert got.tolist() == [0.0, 4 / 6]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 50))
def test_f1_spellings_agree(tp, fp, extra):
    n_gt = tp + extra - 1 if tp + extra - 1 > 0 else 1
    tp = min(tp, n_gt)
    if tp + fp == 0:
        return
    p, r = tp / (tp + fp), tp / n_gt
    assert f1(p, r) == pytest.approx(f1_from_counts(tp, fp, n_gt), abs=1e-15)


def test_best_f1_picks_the_end_of_a_score_run():
    # scores .9 .8 .8 .5: a threshold keeps both .8s or neither
    s = np.array([0.9, 0.8, 0.8, 0.5])
    c = precision_recall_curve(s, np.array([TP, TP, FP, TP]), 3)
    b = best_f1(c)
    # candidates: >=.9: tp1 fp0 -> 2/4; >=.8: tp2 fp1 -> 4/6; >=.5: tp3 fp1 -> 6/7
    assert b["f1"] == 6 / 7 and b["threshold"] == 0.5
    assert b["precision"] == 3 / 4 and b["recall"] == 1.0
    none = best_f1(precision_recall_curve(np.array([0.9]), np.array([FP]), 2))
    assert none["f1"] == 0.0 and math.isnan(none["threshold"])
    assert math.isnan(best_f1(precision_recall_curve(np.zeros(0), np.zeros(0), 0))["f1"])


def _brute_best_f1(scores, flags, n_gt):
    # every threshold "score >= s" counted from scratch; ties in F1 to the higher s
    best = None
    for s in sorted(set(scores.tolist()), reverse=True):
        keep = scores >= s
        tp, fp = int((flags[keep] == TP).sum()), int((flags[keep] == FP).sum())
        f = 2 * tp / (tp + fp + n_gt)
        if best is None or f > best[0]:
            best = (f, s, tp, fp)
    return best


def test_best_f1_equals_brute_force():
    # the helper behind ioukit.coco's f1_optimal, against thresholds counted one by one
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        s = np.round(rng.uniform(size=n), 1)
        f = rng.integers(0, 3, n).astype(np.uint8)
        n_gt = int((f == TP).sum() + rng.integers(0, 4))
        got = best_f1(precision_recall_curve(s, f, n_gt))
        if n_gt == 0:
            assert math.isnan(got["f1"]) and math.isnan(got["threshold"])
            continue
        want = _brute_best_f1(s, f, n_gt)
        if want is None or want[2] == 0:
            assert got["f1"] == 0.0 and math.isnan(got["threshold"])
            continue
        f1_, thr, tp, fp = want
        assert (got["f1"], got["threshold"]) == (f1_, thr)
        assert (got["precision"], got["recall"]) == (tp / (tp + fp), tp / n_gt)
