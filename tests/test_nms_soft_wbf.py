"""soft_nms and weighted_boxes_fusion against ensemble-boxes (the reference)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.errors import InvalidBoxesError, InvalidParameterError, ShapeMismatchError
from ioukit.nms import soft_nms, weighted_boxes_fusion

eb_nms = pytest.importorskip("ensemble_boxes.ensemble_boxes_nms")
eb_wbf = pytest.importorskip("ensemble_boxes.ensemble_boxes_wbf")


def norm_boxes(n, seed, quantize=None, clusters=4):
    """Normalised boxes in [0, 1] around a few centres; optional grid for ties."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.2, 0.8, (clusters, 2))[rng.integers(0, clusters, n)]
    c = c + rng.normal(0, 0.03, (n, 2))
    wh = rng.uniform(0.05, 0.3, (n, 2))
    b = np.clip(np.concatenate([c - wh / 2, c + wh / 2], 1), 0, 1)
    s = rng.random(n)
    if quantize:
        b = np.round(b * quantize) / quantize
        s = np.round(s * 10) / 10
    ok = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    return b[ok], s[ok]


class _LibmExpNumpy:
    """NumPy as ensemble-boxes sees it, but with the C library's ``exp``.

    ioukit's compiled kernel calls the C library's ``exp`` (as ``math.exp`` does);
    NumPy's SIMD ``exp`` can be 1 ulp off it on some CPUs (NumPy 2.4 on this
    machine), and soft-NMS with tied scores turns one ulp into another keep order.
    The reference runs with the same ``exp`` so that the comparison stays exact.
    """

    _exp = staticmethod(np.vectorize(math.exp, otypes=[np.float64]))

    def exp(self, x):
        return self._exp(np.asarray(x, dtype=np.float64))

    def __getattr__(self, name):
        return getattr(np, name)


def eb_soft(b, s, nt, sigma, thresh, method):
    """The reference kernel; it permutes and decays its `sc` argument in place."""
    sc = s.copy()
    real_np = eb_nms.np
    eb_nms.np = _LibmExpNumpy()
    try:
        keep = eb_nms.cpu_soft_nms_float(
            b.copy(), sc, Nt=nt, sigma=sigma, thresh=thresh, method=method
        )
    finally:
        eb_nms.np = real_np
    return keep, sc[sc > thresh]


# --- soft_nms -------------------------------------------------------------------------


def test_soft_nms_hand_worked_gaussian():
    # IoU([0,0,2,2], [1,0,3,2]) = 2 / (4 + 4 - 2) = 1/3; gaussian: 0.8 * exp(-(1/9) / 0.5).
    b = np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float)
    keep, s = soft_nms(b, np.array([0.9, 0.8]), sigma=0.5, method="gaussian")
    assert keep.tolist() == [0, 1]
    np.testing.assert_allclose(s, [0.9, 0.8 * np.exp(-(1 / 9) / 0.5)], rtol=1e-12)


def test_soft_nms_linear_threshold_is_strict():
    # IoU exactly 0.5 ([0,0,2,1] vs [0,0,1,1]): 0.5 > 0.5 is false, no decay.
    b = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], float)
    _, s = soft_nms(b, np.array([0.9, 0.8]), iou_threshold=0.5, method="linear")
    assert s.tolist() == [0.9, 0.8]
    _, s = soft_nms(b, np.array([0.9, 0.8]), iou_threshold=0.49, method="linear")
    np.testing.assert_allclose(s, [0.9, 0.4])


@pytest.mark.parametrize("method", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("q", [None, 20])
def test_soft_nms_equals_ensemble_boxes(method, dtype, q):
    for seed in range(4):
        b, s = norm_boxes(150, seed, quantize=q)
        s = s.astype(dtype)
        name = {1: "linear", 2: "gaussian"}[method]
        k_ref, s_ref = eb_soft(b, s, 0.3, 0.5, 0.001, method)
        keep, dec = soft_nms(b, s, 0.3, 0.5, name, 0.001)
        assert keep.tolist() == k_ref.tolist()
        assert dec.dtype == dtype
        np.testing.assert_allclose(dec, s_ref, rtol=0, atol=1e-6)


def test_soft_nms_ensemble_wrapper_same_keep():
    # ensemble-boxes' public soft_nms (single model, single label) keeps the same rows.
    b, s = norm_boxes(80, 7)
    rb, _, _ = eb_nms.soft_nms([b], [s], [np.zeros(len(b))], method=2, iou_thr=0.5, sigma=0.5)
    keep, _ = soft_nms(b, s)
    np.testing.assert_array_equal(rb, b[keep])


def test_soft_nms_torch_path_matches_numpy():
    torch = pytest.importorskip("torch")
    from ioukit.nms import _torch as T

    b, s = norm_boxes(120, 3, quantize=20)
    for mcode, name in ((1, "linear"), (2, "gaussian")):
        keep, dec = soft_nms(b, s, 0.3, 0.5, name, 0.001)
        tk, td = T.soft_nms(torch.from_numpy(b), torch.from_numpy(s), 0.3, 0.5, 0.001, mcode)
        assert tk.tolist() == keep.tolist()
        np.testing.assert_allclose(td.numpy(), dec, rtol=0, atol=1e-12)
        ck, cd = soft_nms(torch.from_numpy(b), torch.from_numpy(s), 0.3, 0.5, name, 0.001)
        assert ck.tolist() == keep.tolist() and cd.dtype == torch.float64


def test_soft_nms_edge_cases():
    k, s = soft_nms(np.zeros((0, 4)), np.zeros(0))
    assert k.shape == (0,) and s.shape == (0,)
    b = np.tile([[0.1, 0.1, 0.4, 0.4]], (3, 1))
    k, s = soft_nms(b, np.array([0.5, 0.5, 0.5]), method="linear", iou_threshold=0.3)
    # identical boxes, IoU 1: linear weight 1 - 1 = 0 for every later box.
    assert k.tolist() == [0] and s.tolist() == [0.5]
    with pytest.raises(InvalidBoxesError, match="scores row 2 is NaN"):
        soft_nms(b, np.array([0.5, 0.5, np.nan]))
    with pytest.raises(InvalidParameterError):
        soft_nms(b, np.ones(3), method="box")


# --- weighted_boxes_fusion -----------------------------------------------------------------


def make_models(n_models, n, seed, q=None, n_labels=3):
    rng = np.random.default_rng(seed)
    bl, sl, ll = [], [], []
    for m in range(n_models):
        b, s = norm_boxes(n, seed * 10 + m, quantize=q, clusters=3)
        bl.append(b)
        sl.append(s)
        ll.append(rng.integers(0, n_labels, len(b)).astype(float))
    return bl, sl, ll


CONF = ["avg", "max", "box_and_model_avg", "absent_model_aware_avg"]


def check_wbf(bl, sl, ll, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rb, rs, rl = eb_wbf.weighted_boxes_fusion(bl, sl, ll, **kw)
        # ensemble-boxes' iou_thr is ioukit's iou_threshold
        ours = {("iou_threshold" if k == "iou_thr" else k): v for k, v in kw.items()}
        b, s, lab = weighted_boxes_fusion(bl, sl, ll, **ours)
    assert b.shape == rb.shape
    np.testing.assert_allclose(s, rs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b, rb, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(lab, rl.astype(np.int64))


@pytest.mark.parametrize("conf_type", CONF)
@pytest.mark.parametrize("weights", [None, [2, 1, 0.5]])
def test_wbf_equals_ensemble_boxes(conf_type, weights):
    for seed in range(3):
        bl, sl, ll = make_models(3, 60, seed)
        check_wbf(bl, sl, ll, weights=weights, iou_thr=0.55, skip_box_thr=0.1, conf_type=conf_type)


def test_wbf_iou_thr_is_a_deprecated_alias():
    bl, sl, ll = make_models(3, 30, 5)
    want = weighted_boxes_fusion(bl, sl, ll, iou_threshold=0.4)
    with pytest.warns(DeprecationWarning, match="iou_threshold"):
        got = weighted_boxes_fusion(bl, sl, ll, iou_thr=0.4)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(InvalidParameterError, match="not both"):
        weighted_boxes_fusion(bl, sl, ll, iou_threshold=0.3, iou_thr=0.4)


@pytest.mark.parametrize("conf_type", CONF)
def test_wbf_ties_and_overflow(conf_type):
    # Quantised boxes and scores: equal scores and exact IoU ties everywhere.
    bl, sl, ll = make_models(4, 50, 11, q=10)
    check_wbf(bl, sl, ll, iou_thr=0.5, conf_type=conf_type)
    check_wbf(bl, sl, ll, iou_thr=0.4, conf_type=conf_type, allows_overflow=True)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_models=st.integers(1, 4),
    n=st.integers(0, 30),
    thr=st.sampled_from([0.3, 0.55, 0.8]),
    conf=st.sampled_from(CONF),
)
def test_wbf_property_equals_reference(seed, n_models, n, thr, conf):
    bl, sl, ll = make_models(n_models, n, seed, q=8 if seed % 2 else None)
    check_wbf(bl, sl, ll, iou_thr=thr, conf_type=conf, skip_box_thr=0.05)


def test_wbf_hand_worked_and_quirks():
    # Two boxes, IoU 0.4*0.4 / (0.16 + 0.24 - 0.16) = 0.667 > 0.55: one cluster.
    # x2 = (0.9 * 0.5 + 0.3 * 0.7) / 1.2 = 0.55; score avg (0.9 + 0.3) / 2 * min(2, 2) / 2.
    b, s, lab = weighted_boxes_fusion(
        [[[0.1, 0.1, 0.5, 0.5]], [[0.1, 0.1, 0.7, 0.5]]], [[0.9], [0.3]], [[1], [1]]
    )
    np.testing.assert_allclose(b, [[0.1, 0.1, 0.55, 0.5]], atol=1e-7)
    np.testing.assert_allclose(s, [0.6])
    assert lab.tolist() == [1]
    # Out-of-range and inverted coordinates are clipped / swapped, with one warning.
    with pytest.warns(UserWarning, match="swapped 1 inverted boxes, clipped 1"):
        b, _, _ = weighted_boxes_fusion([[[0.5, 0.1, 0.1, 1.5]]], [[0.9]], [[0]])
    np.testing.assert_allclose(b, [[0.1, 0.1, 0.5, 1.0]])


def test_wbf_errors_and_empty():
    b, s, lab = weighted_boxes_fusion([np.zeros((0, 4))], [np.zeros(0)], [np.zeros(0)])
    assert b.shape == (0, 4) and s.shape == (0,) and lab.shape == (0,)
    with pytest.raises(InvalidBoxesError, match=r"boxes_list\[1\] row 0"):
        weighted_boxes_fusion([[[0, 0, 1, 1]], [[np.nan, 0, 1, 1]]], [[0.5], [0.5]], [[0], [0]])
    with pytest.raises(InvalidBoxesError, match=r"scores_list\[0\] row 1 is NaN"):
        weighted_boxes_fusion([[[0, 0, 1, 1], [0, 0, 1, 1]]], [[0.5, np.nan]], [[0, 0]])
    with pytest.raises(ShapeMismatchError):
        weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.5]], [[0]], weights=[1, 2])
    with pytest.raises(InvalidParameterError):
        weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.5]], [[0]], conf_type="median")


def test_wbf_torch_inputs():
    torch = pytest.importorskip("torch")
    bl, sl, ll = make_models(2, 40, 5)
    b, s, lab = weighted_boxes_fusion(bl, sl, ll)
    tb, ts, tl = weighted_boxes_fusion(
        [torch.from_numpy(x) for x in bl], [torch.from_numpy(x) for x in sl], ll
    )
    assert isinstance(tb, torch.Tensor)
    np.testing.assert_array_equal(tb.numpy(), b)
    np.testing.assert_array_equal(ts.numpy(), s)
    np.testing.assert_array_equal(tl.numpy(), lab)


@pytest.mark.parametrize("method", [1, 2])
def test_soft_nms_heavy_tail_and_zero_area(method):
    # Log-normal sizes (many "big" boxes in the candidate index), some zero-area
    # boxes (0 / 0 IoU is NaN in the reference) and one box covering everything.
    rng = np.random.default_rng(3)
    n = 300
    ctr = rng.uniform(0, 1, (n, 2))
    wh = np.exp(rng.normal(-3, 1, (n, 2)))
    b = np.clip(np.concatenate([ctr - wh / 2, ctr + wh / 2], 1), 0, 1)
    b[:10, 2] = b[:10, 0]
    b[10] = [0, 0, 1, 1]
    s = np.round(rng.random(n), 2)
    with np.errstate(invalid="ignore"):
        k_ref, s_ref = eb_soft(b, s, 0.3, 0.5, 0.001, method)
    keep, dec = soft_nms(b, s, 0.3, 0.5, {1: "linear", 2: "gaussian"}[method], 0.001)
    assert keep.tolist() == k_ref.tolist()
    np.testing.assert_allclose(dec, s_ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", [1, 2])
def test_soft_nms_negative_scores_and_many_ties(method):
    # Negative scores grow toward 0 when decayed; heavy ties test the argmax rule.
    b, s = norm_boxes(400, 21, quantize=10)
    s = np.round(s * 4 - 2) / 2  # values in {-2, -1.5, ..., 2}
    k_ref, s_ref = eb_soft(b, s, 0.1, 0.5, -10.0, method)
    keep, dec = soft_nms(b, s, 0.1, 0.5, {1: "linear", 2: "gaussian"}[method], -10.0)
    assert keep.tolist() == k_ref.tolist()
    np.testing.assert_allclose(dec, s_ref, rtol=0, atol=1e-6)
