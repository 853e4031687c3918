"""ioukit.boxes measures against shapely and hand-worked values; shapes; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from ioukit import boxes
from ioukit.boxes import _measures
from ioukit.errors import (
    BackendError,
    InvalidBoxesError,
    InvalidFormatError,
    InvalidParameterError,
    ShapeMismatchError,
)

MEASURES = ["iou", "ioa", "giou", "diou", "ciou", "eiou", "siou", "alpha_iou", "mpdiou"]


def call(name, a, b, **kw):
    if name == "mpdiou":
        kw.setdefault("image_size", (40, 30))
    return getattr(boxes, name)(a, b, **kw)


def grid_boxes(rng, n):
    """Small-integer boxes: many touching, nested, identical, disjoint and zero-area ones."""
    p = rng.integers(0, 7, size=(n, 4)).astype(np.float64)
    return np.concatenate([np.minimum(p[:, :2], p[:, 2:]), np.maximum(p[:, :2], p[:, 2:])], 1)


def float_boxes(rng, n):
    xy = rng.uniform(-50, 50, (n, 2))
    wh = rng.uniform(0, 40, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


@pytest.fixture(scope="module")
def shapely_case():
    rng = np.random.default_rng(12)
    a = np.concatenate([grid_boxes(rng, 60), float_boxes(rng, 40)])
    b = np.concatenate([grid_boxes(rng, 70), float_boxes(rng, 30)])
    b[:5] = a[:5]  # identical pairs
    ga = shapely.box(*a.T)[:, None]
    gb = shapely.box(*b.T)[None, :]
    inter = shapely.area(shapely.intersection(ga, gb))
    union = shapely.area(shapely.union(ga, gb))
    # the enclosing box, from shapely's envelope of both boxes together
    both = shapely.geometrycollections(np.stack(np.broadcast_arrays(ga, gb), -1))
    encl = shapely.area(shapely.envelope(both))
    return a, b, inter, union, encl, shapely.area(ga)


def test_shapely_case_has_the_special_configurations(shapely_case):
    a, b, inter, union, encl, area_a = shapely_case
    assert (area_a == 0).sum() > 3  # zero-area boxes
    assert ((inter == 0) & (union > 0)).sum() > 100  # disjoint or touching
    assert (
        (inter > 0) & (inter == np.minimum(area_a, shapely.area(shapely.box(*b.T))[None]))
    ).sum() > 10  # nested


def test_iou_ioa_giou_match_shapely(shapely_case):
    a, b, inter, union, encl, area_a = shapely_case
    with np.errstate(invalid="ignore", divide="ignore"):
        iou_ref = np.where(union > 0, inter / union, 0.0)
        ioa_ref = np.where(area_a > 0, inter / area_a, 0.0)
        giou_ref = iou_ref - np.where(encl > 0, (encl - union) / encl, 0.0)
    np.testing.assert_allclose(boxes.iou(a, b), iou_ref, atol=1e-12)
    np.testing.assert_allclose(boxes.ioa(a, b), ioa_ref, atol=1e-12)
    np.testing.assert_allclose(boxes.giou(a, b), giou_ref, atol=1e-12)
    # the aligned (array-API) path gives the same numbers
    np.testing.assert_allclose(boxes.iou(a[:, None], b[None], aligned=True), iou_ref, atol=1e-12)
    np.testing.assert_allclose(boxes.giou(a[:, None], b[None], aligned=True), giou_ref, atol=1e-12)


# One non-trivial pair for every measure, worked out by hand from the papers:
# a = (0, 0, 4, 2): w 4, h 2, centre (2, 1), area 8
# b = (2, 1, 5, 5): w 3, h 4, centre (3.5, 3), area 12
# intersection x [2, 4] y [1, 2] = 2 x 1 = 2; union 8 + 12 - 2 = 18; IoU = 1/9
# enclosing box (0, 0, 5, 5): cw = ch = 5, C = 25, c^2 = 50
# centre offset (1.5, 2): rho^2 = 2.25 + 4 = 6.25
A = np.array([[0.0, 0.0, 4.0, 2.0]])
B = np.array([[2.0, 1.0, 5.0, 5.0]])
IOU = 1 / 9
# CIoU (Zheng et al. 2020): v = 4/pi^2 (atan(3/4) - atan(4/2))^2, alpha = v / (1 - IoU + v)
V = 4 / math.pi**2 * (math.atan(3 / 4) - math.atan(4 / 2)) ** 2
ALPHA = V / (1 - IOU + V)


def _siou_ref(theta=4.0):
    # Gevorgyan 2022. sigma = 2.5; sin(alpha) = 2 / 2.5 = 0.8 > sin(pi/4), so the
    # paper switches to beta: x = 1.5 / 2.5 = 0.6
    lam = 1 - 2 * math.sin(math.asin(0.6) - math.pi / 4) ** 2  # = 0.96
    gamma = 2 - lam  # the paper's sign: gamma = 2 - Lambda = 1.04
    rho_x, rho_y = (1.5 / 5) ** 2, (2 / 5) ** 2  # 0.09, 0.16
    dist = (1 - math.exp(-gamma * rho_x)) + (1 - math.exp(-gamma * rho_y))  # 0.242646
    om_w, om_h = abs(4 - 3) / 4, abs(2 - 4) / 4  # 0.25, 0.5
    shape = (1 - math.exp(-om_w)) ** theta + (1 - math.exp(-om_h)) ** theta  # 0.026363
    return IOU - (dist + shape) / 2  # -0.023394


HAND = {
    "iou": ({}, IOU),
    "ioa": ({}, 2 / 8),
    # Rezatofighi et al. 2019: 1/9 - (25 - 18) / 25 = -0.168889
    "giou": ({}, IOU - 7 / 25),
    # 1/9 - 6.25 / 50 = -0.0138889
    "diou": ({}, IOU - 6.25 / 50),
    # -0.0138889 - 0.0892649 * 0.0871237 = -0.0216660
    "ciou": ({}, IOU - 6.25 / 50 - ALPHA * V),
    # Zhang et al. 2021: 1/9 - 6.25/50 - (4-3)^2/5^2 - (2-4)^2/5^2 = 1/9 - 0.325 = -0.213889
    "eiou": ({}, IOU - 0.125 - 1 / 25 - 4 / 25),
    "siou": ({}, _siou_ref()),
    # He et al. 2021, alpha = 3: IoU^3 = 0.00137174
    "alpha_iou": ({}, IOU**3),
    # MPDIoU (Ma & Xu 2023), image 10 x 8: d1^2 = 2^2 + 1^2 = 5, d2^2 = 1^2 + 3^2 = 10,
    # w^2 + h^2 = 164: 1/9 - 15/164 = 0.0196477
    "mpdiou": ({"image_size": (10, 8)}, IOU - 15 / 164),
}
HAND_ALPHA = {
    # (1/9)^3 - (7/25)^3 = 0.00137174 - 0.021952 = -0.0205803
    ("giou", 3.0): IOU**3 - (7 / 25) ** 3,
    # (1/9)^3 - (1/8)^3 = -0.00058141
    ("diou", 3.0): IOU**3 - (1 / 8) ** 3,
    # beta = CIoU's alpha from the plain IoU: - (0.0892649 * 0.0871237)^3
    ("ciou", 3.0): IOU**3 - (1 / 8) ** 3 - (ALPHA * V) ** 3,
    # alpha = 1/2 on the IoU alone: sqrt(1/9) = 1/3
    ("iou", 0.5): 1 / 3,
    # alpha = 1 recovers GIoU
    ("giou", 1.0): IOU - 7 / 25,
}


@pytest.mark.parametrize("name", MEASURES)
@pytest.mark.parametrize("aligned", [False, True])
def test_hand_worked_values(name, aligned):
    kw, expected = HAND[name]
    got = getattr(boxes, name)(A, B, aligned=aligned, **kw)
    assert got.shape == ((1,) if aligned else (1, 1))
    assert float(got.ravel()[0]) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("base", "alpha"), list(HAND_ALPHA))
@pytest.mark.parametrize("aligned", [False, True])
def test_alpha_iou_hand_values(base, alpha, aligned):
    got = boxes.alpha_iou(A, B, alpha=alpha, base=base, aligned=aligned)
    assert float(got.ravel()[0]) == pytest.approx(HAND_ALPHA[(base, alpha)], rel=1e-12)


def test_siou_theta():
    got = boxes.siou(A, B, theta=2.0)
    assert float(got[0, 0]) == pytest.approx(_siou_ref(2.0), rel=1e-12)


def test_siou_angle_below_45_degrees():
    # centres offset (3, 1): sin(alpha) = 1 / sqrt(10) < sin(pi/4): no switch
    # Lambda = 1 - 2 sin^2(asin(1/sqrt(10)) - pi/4) = 2 * 3 * 1 / 10 = 0.6
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    b = np.array([[3.0, 1.0, 5.0, 3.0]])
    lam = 1 - 2 * math.sin(math.asin(1 / math.sqrt(10)) - math.pi / 4) ** 2
    # disjoint: IoU 0; enclosing 5 x 3; identical shapes: Omega = 0
    dist = (1 - math.exp(-(2 - lam) * (3 / 5) ** 2)) + (1 - math.exp(-(2 - lam) * (1 / 3) ** 2))
    assert float(boxes.siou(a, b)[0, 0]) == pytest.approx(-dist / 2, rel=1e-12)


@pytest.mark.parametrize("name", MEASURES)
def test_degenerate_boxes_give_zero_iou_part_never_nan(name):
    pts = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 3.0]])
    for aligned in (False, True):
        out = call(name, pts, pts, aligned=aligned)
        assert np.all(np.isfinite(out))
    # two identical points: zero union -> every measure is 0 (no penalty: same centre,
    # same corners, same (degenerate) shape)
    out = call(name, pts[:1], pts[:1])
    assert float(out[0, 0]) == 0.0


def test_degenerate_penalties():
    p = np.array([[0.0, 0.0, 0.0, 0.0]])
    q = np.array([[3.0, 4.0, 3.0, 4.0]])
    # IoU 0 (zero union); GIoU: C = 3 * 4 = 12, U = 0 -> 0 - 12/12 = -1
    assert float(boxes.giou(p, q)[0, 0]) == -1.0
    # DIoU: rho^2 = 25 = c^2 -> -1
    assert float(boxes.diou(p, q)[0, 0]) == -1.0
    assert float(boxes.iou(p, q)[0, 0]) == 0.0


@pytest.mark.parametrize("name", MEASURES)
def test_identical_boxes_give_one(name):
    a = np.array([[1.0, 2.0, 5.0, 3.5], [0.0, 0.0, 10.0, 10.0]])
    np.testing.assert_allclose(np.diag(call(name, a, a)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(call(name, a, a, aligned=True), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", MEASURES)
def test_compiled_kernel_matches_array_path(name):
    rng = np.random.default_rng(3)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        a = np.concatenate([grid_boxes(rng, 20), float_boxes(rng, 20)]).astype(dtype)
        b = np.concatenate([grid_boxes(rng, 25), float_boxes(rng, 15)]).astype(dtype)
        kernel = call(name, a, b)
        ref = call(name, a[:, None], b[None], aligned=True)
        assert kernel.dtype == dtype
        np.testing.assert_allclose(kernel, ref, atol=tol, rtol=tol)


def test_baseline_and_avx2_kernel_builds_agree_bitwise(monkeypatch):
    # the kernels are built twice (x86-64 baseline, AVX2) and the CPU picks one: the
    # other must give the same bits (on a CPU without AVX2 both runs use the baseline)
    from ioukit.boxes import _kernels

    rng = np.random.default_rng(6)
    a = np.concatenate([grid_boxes(rng, 300), float_boxes(rng, 300)])
    b = np.concatenate([grid_boxes(rng, 250), float_boxes(rng, 250)])  # parallel: > 2^18
    params = {"siou": {"theta": 4.0}, "alpha_iou": {"alpha": 3.0, "base": "ciou"}}
    params["mpdiou"] = {"width": 40.0, "height": 30.0}
    for dtype in (np.float32, np.float64):
        for name in MEASURES:
            x, y = a.astype(dtype), b.astype(dtype)
            picked = _measures._pairwise_numpy(name, x, y, 1e-12, params.get(name, {}))
            with monkeypatch.context() as m:
                m.setattr(_measures, "_cpu_kernels", _kernels)
                base = _measures._pairwise_numpy(name, x, y, 1e-12, params.get(name, {}))
            assert picked.dtype == base.dtype
            np.testing.assert_array_equal(picked.view(np.uint8), base.view(np.uint8))


def test_alpha_iou_bases_kernel_vs_array():
    rng = np.random.default_rng(4)
    a, b = float_boxes(rng, 30), float_boxes(rng, 20)
    for base in ("iou", "giou", "diou", "ciou"):
        for alpha in (0.5, 3.0):
            k = boxes.alpha_iou(a, b, base=base, alpha=alpha)
            r = boxes.alpha_iou(a[:, None], b[None], base=base, alpha=alpha, aligned=True)
            np.testing.assert_allclose(k, r, atol=1e-12)


def test_shapes_and_broadcasting():
    rng = np.random.default_rng(5)
    a = float_boxes(rng, 2 * 3 * 4).reshape(2, 3, 4, 4)
    b = float_boxes(rng, 5).reshape(5, 4)
    out = boxes.giou(a, b)
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(out[1, 2], boxes.giou(a[1, 2], b))
    b2 = float_boxes(rng, 3 * 6).reshape(1, 3, 6, 4)
    assert boxes.iou(a, b2).shape == (2, 3, 4, 6)
    np.testing.assert_allclose(boxes.iou(a, b2)[0, 1], boxes.iou(a[0, 1], b2[0, 1]))
    # aligned broadcasting: one box against many
    assert boxes.ciou(a, b[0], aligned=True).shape == (2, 3, 4)
    # empty inputs
    assert boxes.iou(np.zeros((0, 4)), b).shape == (0, 5)
    assert boxes.diou(b, np.zeros((0, 4))).shape == (5, 0)
    assert boxes.iou([], [], aligned=True).shape == (0,)
    # lists accepted
    np.testing.assert_allclose(boxes.iou([[0, 0, 2, 2]], [[1, 1, 3, 3]]), [[1 / 7]])


def test_formats_are_converted_before_measuring():
    axywh = np.array([[0.0, 0.0, 4.0, 2.0]])
    bxywh = np.array([[2.0, 1.0, 3.0, 4.0]])
    assert float(boxes.ciou(axywh, bxywh, fmt="xywh")[0, 0]) == pytest.approx(
        HAND["ciou"][1], rel=1e-12
    )
    # normalized by a 10 x 8 image: distances are measured in pixels
    an = np.array([[0.0, 0.0, 0.4, 0.25]])
    bn = np.array([[0.2, 0.125, 0.5, 0.625]])
    assert float(boxes.diou(an, bn, fmt="xyxyn", image_size=(10, 8))[0, 0]) == pytest.approx(
        HAND["diou"][1], rel=1e-12
    )
    assert float(
        boxes.mpdiou(an, bn, fmt="xyxyn", image_size=(10, 8), aligned=True)[0]
    ) == pytest.approx(HAND["mpdiou"][1], rel=1e-12)


def test_mpdiou_image_size_arrays_use_array_path():
    w = np.array([[10.0]])
    got = boxes.mpdiou(A, B, image_size=(w, np.array([[8.0]])))
    assert float(got[0, 0]) == pytest.approx(HAND["mpdiou"][1], rel=1e-12)


def test_eps_threshold():
    # union of two 1e-4 x 1e-4 boxes = 1e-8 <= eps = 1e-6: ratio 0 by definition
    a = np.array([[0.0, 0.0, 1e-4, 1e-4]])
    assert float(boxes.iou(a, a, eps=1e-6)[0, 0]) == 0.0
    assert float(boxes.iou(a, a)[0, 0]) == 1.0


def test_dtypes_numpy():
    a = np.array([[0, 0, 4, 2]], dtype=np.int32)
    b = np.array([[2, 1, 5, 5]], dtype=np.int64)
    out = boxes.iou(a, b)
    assert out.dtype == np.float64 and out[0, 0] == pytest.approx(IOU)
    for dt in (np.float16, np.float32, np.float64):
        for aligned in (False, True):
            out = boxes.ciou(A.astype(dt), B.astype(dt), aligned=aligned)
            assert out.dtype == dt
            assert float(out.ravel()[0]) == pytest.approx(HAND["ciou"][1], rel=2e-3)
    # mixed precision promotes like NumPy
    assert boxes.iou(A.astype(np.float32), B).dtype == np.float64
    # float16 areas overflow above 65504: computed in float32 inside
    big = np.array([[0.0, 0.0, 1000.0, 1000.0]], dtype=np.float16)
    assert float(boxes.iou(big, big)[0, 0]) == 1.0
    assert float(boxes.iou(big, big, aligned=True)[0]) == 1.0


@pytest.mark.parametrize("name", MEASURES)
def test_invalid_boxes_name_row_and_side(name):
    good = np.array([[0.0, 0.0, 1.0, 1.0]] * 4)
    bad = good.copy()
    bad[2] = [0.0, 0.0, np.nan, 1.0]
    with pytest.raises(InvalidBoxesError, match="^a: row 2 has a NaN"):
        call(name, bad, good)
    bad[2] = [0.0, 3.0, 1.0, 1.0]
    with pytest.raises(InvalidBoxesError, match="^b: row 2 has y2 < y1"):
        call(name, good, bad, aligned=True)
    # validate=False skips the check (hot loops)
    call(name, good, bad, validate=False)


def test_parameter_errors():
    with pytest.raises(InvalidFormatError):
        boxes.iou(A, B, fmt="xyzw")
    for eps in (-1.0, float("nan"), "1e-7"):
        with pytest.raises(InvalidParameterError, match="eps"):
            boxes.iou(A, B, eps=eps)
    for alpha in (0.0, -2.0, float("inf")):
        with pytest.raises(InvalidParameterError, match="alpha"):
            boxes.alpha_iou(A, B, alpha=alpha)
    with pytest.raises(InvalidParameterError, match="base"):
        boxes.alpha_iou(A, B, base="eiou")
    with pytest.raises(InvalidParameterError, match="theta"):
        boxes.siou(A, B, theta=0)
    with pytest.raises(InvalidParameterError, match="image_size"):
        boxes.mpdiou(A, B, image_size=None)
    with pytest.raises(InvalidParameterError, match="width"):
        boxes.mpdiou(A, B, image_size=(-1, 5))
    with pytest.raises(InvalidParameterError, match="image_size"):
        boxes.iou(A, B, fmt="cxcywhn")


def test_shape_and_backend_errors():
    with pytest.raises(ShapeMismatchError, match="a must have a last axis of 4"):
        boxes.iou(np.zeros((3, 5)), B)
    with pytest.raises(ShapeMismatchError, match="b must have a last axis of 4"):
        boxes.iou(A, np.zeros((3,)))
    with pytest.raises(ShapeMismatchError, match="pairwise: a must be"):
        boxes.iou(np.zeros(4), B)
    with pytest.raises(ShapeMismatchError, match="batch dimensions"):
        boxes.iou(np.zeros((2, 3, 4)), np.zeros((3, 3, 4)))
    with pytest.raises(ShapeMismatchError, match="aligned"):
        boxes.iou(np.zeros((3, 4)), np.zeros((2, 4)), aligned=True)
    torch = pytest.importorskip("torch")
    with pytest.raises(BackendError, match="one array library"):
        boxes.iou(A, torch.tensor(B))


def test_default_eps_is_documented():
    assert _measures.DEFAULT_EPS == 1e-12
    for name in MEASURES:
        assert "eps : float, default 1e-12" in getattr(boxes, name).__doc__, name
