"""ioukit.boxes3d: exact 3-D IoU against independent oracles.

Yaw-only: shapely BEV polygons x the z overlap (1e-9); general oriented: Monte-Carlo
volume estimates (1e-3 with 4e5 samples ... see MC_SAMPLES) and hand cases; axis-aligned:
closed forms. pytorch3d (the reference of box3d_overlap) does not install here, so it is
not an oracle in this suite.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit import boxes3d
from ioukit.errors import InvalidBoxesError, InvalidFormatError, ShapeMismatchError

RNG_SEED = 20261206


def _bev_polygons(b: np.ndarray) -> np.ndarray:
    c, s = np.cos(b[:, 6]), np.sin(b[:, 6])
    hl, hw = b[:, 3] / 2, b[:, 4] / 2
    pts = []
    for sl, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        pts.append(
            np.stack([b[:, 0] + sl * hl * c - sw * hw * s, b[:, 1] + sl * hl * s + sw * hw * c], 1)
        )
    return shapely.polygons(np.stack(pts, 1))


def shapely_iou3d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Oracle: shapely BEV intersection x z overlap / union (pairwise)."""
    pa, pb = _bev_polygons(a), _bev_polygons(b)
    bev = shapely.area(shapely.intersection(pa[:, None], pb[None, :]))
    za0, za1 = a[:, 2] - a[:, 5] / 2, a[:, 2] + a[:, 5] / 2
    zb0, zb1 = b[:, 2] - b[:, 5] / 2, b[:, 2] + b[:, 5] / 2
    dz = np.clip(np.minimum(za1[:, None], zb1[None]) - np.maximum(za0[:, None], zb0[None]), 0, None)
    inter = bev * dz
    va, vb = a[:, 3] * a[:, 4] * a[:, 5], b[:, 3] * b[:, 4] * b[:, 5]
    union = va[:, None] + vb[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def random_yaw(rng: np.random.Generator, n: int, spread: float = 3.0) -> np.ndarray:
    c = rng.uniform(-spread, spread, (n, 3))
    size = rng.uniform(0.2, 4.0, (n, 3))
    yaw = rng.uniform(-np.pi, np.pi, (n, 1))
    return np.concatenate([c, size, yaw], 1)


# ----------------------------------------------------------------------- yaw-only
def test_yaw_iou_matches_shapely_on_random_pairs():
    rng = np.random.default_rng(RNG_SEED)
    a, b = random_yaw(rng, 120, 1.5), random_yaw(rng, 120, 1.5)  # 14 400 pairs
    ours = boxes3d.iou(a, b)
    ref = shapely_iou3d(a, b)
    assert (ref > 0).mean() > 0.3
    np.testing.assert_allclose(ours, ref, atol=1e-9, rtol=0)
    np.testing.assert_allclose(boxes3d.iou(a, b, aligned=True), np.diag(ref), atol=1e-9, rtol=0)


def test_bev_iou_matches_shapely():
    rng = np.random.default_rng(RNG_SEED + 1)
    a, b = random_yaw(rng, 50), random_yaw(rng, 40)
    pa, pb = _bev_polygons(a), _bev_polygons(b)
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None, :]))
    union = shapely.area(pa)[:, None] + shapely.area(pb)[None] - inter
    np.testing.assert_allclose(boxes3d.bev_iou(a, b), inter / union, atol=1e-9, rtol=0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 0, 2, 2, 2, 0], [0, 0, 0, 2, 2, 2, 0], 1.0),  # identical
        ([0, 0, 0, 2, 2, 2, 0.3], [0, 0, 0, 2, 2, 2, 0.3 + np.pi], 1.0),  # same box, yaw + pi
        ([0, 0, 0, 2, 2, 2, 0], [2, 0, 0, 2, 2, 2, 0], 0.0),  # touching faces in x
        ([0, 0, 0, 2, 2, 2, 0], [0, 0, 2, 2, 2, 2, 0], 0.0),  # touching in z
        ([0, 0, 0, 4, 4, 4, 0], [0, 0, 0, 2, 2, 2, 0.7], 1 / 8),  # nested: 8 / 64
        ([0, 0, 0, 2, 2, 0, 0], [0, 0, 0, 2, 2, 0, 0], 0.0),  # zero height: empty union
        ([0, 0, 0, 2, 2, 2, 0], [1, 0, 1, 2, 2, 2, 0], 1 / 7),  # 1 x 2 x 1 of 8 + 8 - 2
        ([0, 0, 0, 2, 2, 2, 0], [0, 0, 0, 2, 2, 2, np.pi / 4], (np.sqrt(2) - 1) / (2 - np.sqrt(2))),
    ],
)
def test_yaw_degenerate_and_hand_cases(a, b, expected):
    got = float(boxes3d.iou(np.array([a], float), np.array([b], float))[0, 0])
    assert got == pytest.approx(expected, abs=1e-12)
    if min(a[3:6]) == 0:
        return  # a flat box has no corner frame (an undefined axis)
    gen = float(boxes3d.iou(boxes3d.corners([a]), boxes3d.corners([b]), fmt="corners")[0, 0])
    assert gen == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------- general oriented
def _rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - z * w),
            2 * (x * z + y * w),
            2 * (x * y + z * w),
            1 - 2 * (x * x + z * z),
            2 * (y * z - x * w),
            2 * (x * z - y * w),
            2 * (y * z + x * w),
            1 - 2 * (x * x + y * y),
        ],
        1,
    )


def test_oriented_intersection_matches_monte_carlo():
    rng = np.random.default_rng(RNG_SEED + 2)
    n = 40
    a = np.concatenate(
        [rng.uniform(-0.5, 0.5, (n, 3)), rng.uniform(0.5, 2, (n, 3)), _rotations(rng, n)], 1
    )
    b = np.concatenate(
        [rng.uniform(-0.5, 0.5, (n, 3)), rng.uniform(0.5, 2, (n, 3)), _rotations(rng, n)], 1
    )
    ours = boxes3d.iou(a, b, fmt="xyzlwhmat", aligned=True)
    inter = boxes3d.intersection(a, b, fmt="xyzlwhmat", aligned=True)
    fa, fb = boxes3d.to_frames(a, "xyzlwhmat"), boxes3d.to_frames(b, "xyzlwhmat")
    samples = 400_000
    for i in range(n):
        q = rng.uniform(-1, 1, (samples, 3)) * fa[i, 12:15]
        pts = fa[i, :3] + q @ fa[i, 3:12].reshape(3, 3)
        local = (pts - fb[i, :3]) @ fb[i, 3:12].reshape(3, 3).T
        frac = (np.abs(local) <= fb[i, 12:15]).all(1).mean()
        va, vb = 8 * fa[i, 12:15].prod(), 8 * fb[i, 12:15].prod()
        mc_inter = frac * va
        mc_iou = mc_inter / (va + vb - mc_inter)
        # binomial standard error of frac is <= 0.5 / sqrt(samples) = 8e-4 (in units of va)
        assert abs(ours[i] - mc_iou) < 1e-3 * max(1.0, 4 * va / (va + vb)), i
        assert abs(inter[i] - mc_inter) < 4e-3 * va


def test_oriented_hand_cases():
    # unit cube vs the same cube rotated 45 degrees about z: octagon prism
    cube = [0, 0, 0, 1, 1, 1, *np.eye(3).ravel()]
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    rot = [0, 0, 0, 1, 1, 1, c, -s, 0, s, c, 0, 0, 0, 1]
    oct_area = 2 * (np.sqrt(2) - 1)  # octagon of the two unit squares
    got = boxes3d.iou([cube], [rot], fmt="xyzlwhmat")[0, 0]
    assert got == pytest.approx(oct_area / (2 - oct_area), abs=1e-12)
    # rotated about x by 90 degrees: the same cube, coplanar faces everywhere
    rx = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, -1, 0, 1, 0]
    assert boxes3d.iou([cube], [rx], fmt="xyzlwhmat")[0, 0] == pytest.approx(1.0, abs=1e-12)
    # a 2x1x1 box sharing a face plane: half of it inside the cube -> 0.5 / 2.5
    half = [1.0, 0, 0, 2, 1, 1, *np.eye(3).ravel()]
    assert boxes3d.iou([cube], [half], fmt="xyzlwhmat")[0, 0] == pytest.approx(0.5 / 2.5, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    st.lists(st.floats(0.1, 3), min_size=3, max_size=3),
    st.floats(-np.pi, np.pi),
)
def test_oriented_agrees_with_yaw_kernel(center, size, yaw):
    a = np.array([[0.3, -0.2, 0.1, 2.0, 1.0, 1.5, 0.4]])
    b = np.array([[*center, *size, yaw]])
    ours = boxes3d.iou(boxes3d.corners(a), boxes3d.corners(b), fmt="corners")
    np.testing.assert_allclose(ours, boxes3d.iou(a, b), atol=1e-9)
    assert 0.0 <= boxes3d.giou(a, b)[0, 0] + 1 <= 2.0
    assert boxes3d.giou(a, b)[0, 0] <= boxes3d.iou(a, b)[0, 0] + 1e-12


# ----------------------------------------------------------------------- axis-aligned
def test_axis_aligned_closed_form_and_giou():
    a = np.array([[0, 0, 0, 2, 2, 2], [0, 0, 0, 1, 1, 1]], float)
    b = np.array([[1, 1, 1, 3, 3, 3], [3, 0, 0, 4, 1, 1]], float)
    np.testing.assert_allclose(
        boxes3d.iou(a, b, fmt="xyzxyz"), [[1 / 15, 0], [0, 0]]
    )  # a[1], b[0] touch at a corner
    # giou: enclosing [0, 4] x [0, 1] x [0, 1] = 4 for the disjoint unit cubes, union 2
    assert boxes3d.giou(a[1], b[1], fmt="xyzxyz", aligned=True) == pytest.approx(0 - 2 / 4)
    np.testing.assert_allclose(
        boxes3d.iou(a, b, fmt="xyzxyz"),
        boxes3d.iou(
            boxes3d.convert(a, "xyzxyz", "xyzlwhyaw"), boxes3d.convert(b, "xyzxyz", "xyzlwhyaw")
        ),
    )


def test_giou_yaw_hand_case():
    # two unit cubes 1 apart in x: hull 3 x 1 base, joint z span 1 -> 0 - (3 - 2) / 3
    a = [[0, 0, 0, 1, 1, 1, 0]]
    b = [[2, 0, 0, 1, 1, 1, 0]]
    assert boxes3d.giou(a, b)[0, 0] == pytest.approx(-1 / 3, abs=1e-12)


def test_batch_axes_dtype_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(RNG_SEED + 3)
    a, b = random_yaw(rng, 12).reshape(2, 6, 7), random_yaw(rng, 10).reshape(2, 5, 7)
    out = boxes3d.iou(a.astype(np.float32), b.astype(np.float32))
    assert out.shape == (2, 6, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out[1], shapely_iou3d(a[1], b[1]), atol=1e-6)
    t = boxes3d.iou(torch.tensor(a), torch.tensor(b))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_allclose(t.numpy(), boxes3d.iou(a, b))


def test_errors_name_what_and_where():
    with pytest.raises(InvalidFormatError):
        boxes3d.iou([[0] * 7], [[0] * 7], fmt="xyzwhl")
    with pytest.raises(ShapeMismatchError):
        boxes3d.iou([[0] * 6], [[0] * 6])
    with pytest.raises(InvalidBoxesError, match="row 1"):
        boxes3d.iou([[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, -1, 1, 1, 0]], [[0] * 7])
    with pytest.raises(InvalidBoxesError, match="corner order"):
        c = boxes3d.corners([[0, 0, 0, 1, 1, 1, 0]])
        c[0, 6] += 0.3
        boxes3d.iou(c, c, fmt="corners")


def test_kitti_camera_conversion_round_trip_and_iou_invariance():
    rng = np.random.default_rng(RNG_SEED + 4)
    dims = rng.uniform(1, 4, (20, 3))
    loc = rng.uniform(-10, 10, (20, 3))
    ry = rng.uniform(-np.pi, np.pi, 20)
    boxes = boxes3d.from_kitti_camera(dims, loc, ry)
    d2, l2, r2 = boxes3d.to_kitti_camera(boxes)
    np.testing.assert_allclose(d2, dims)
    np.testing.assert_allclose(l2, loc, atol=1e-12)
    np.testing.assert_allclose(np.cos(r2 - ry), 1.0)
    # camera-frame corners (KITTI devkit: x right, y down, z forward, ry about y) give the
    # same IoU through the general kernel
    h, w, l_ = dims.T
    xc = np.stack([l_ / 2, l_ / 2, -l_ / 2, -l_ / 2] * 2, 1)
    yc = np.stack([0 * h] * 4 + [-h] * 4, 1)
    zc = np.stack([w / 2, -w / 2, -w / 2, w / 2] * 2, 1)
    c, s = np.cos(ry)[:, None], np.sin(ry)[:, None]
    cam = np.stack(
        [c * xc + s * zc + loc[:, :1], yc + loc[:, 1:2], -s * xc + c * zc + loc[:, 2:]], 2
    )
    # to pytorch3d's order: 0..3 one face, 4..7 the opposite, sharing edges
    order = [2, 1, 0, 3, 6, 5, 4, 7]
    cam_iou = boxes3d.iou(cam[:, order], cam[:, order], fmt="corners")
    np.testing.assert_allclose(cam_iou, boxes3d.iou(boxes, boxes), atol=1e-9)


# ------------------------------------------------------------------------------ voxels
def test_voxel_iou_dense_and_sparse_hand_cases():
    a = np.zeros((2, 3, 3, 3), bool)
    b = np.zeros((2, 3, 3, 3), bool)
    a[0, 0] = True  # 9 voxels
    b[0, :, 0] = True  # 9 voxels, 3 shared
    np.testing.assert_allclose(boxes3d.voxel_iou(a, b), [3 / 15, 0.0])
    assert boxes3d.voxel_iou(a, b, zero_division=1.0)[1] == 1.0
    ca, cb = np.argwhere(a[0]), np.argwhere(b[0])
    assert boxes3d.sparse_voxel_iou(ca, cb) == pytest.approx(3 / 15)
    assert boxes3d.sparse_voxel_iou(np.zeros((0, 3), int), np.zeros((0, 3), int)) == 0.0
    torch = pytest.importorskip("torch")
    assert float(boxes3d.voxel_iou(torch.tensor(a), torch.tensor(b))[0]) == pytest.approx(0.2)


# --------------------------------------------------------------------------------- nms
def test_nms3d_against_a_greedy_loop_on_the_oracle():
    rng = np.random.default_rng(RNG_SEED + 5)
    b = random_yaw(rng, 60, spread=2.0)
    s = rng.permutation(60).astype(float)
    ref_iou = shapely_iou3d(b, b)
    order = np.argsort(-s, kind="stable")
    keep = []
    for i in order:
        if all(ref_iou[i, k] <= 0.3 for k in keep):
            keep.append(i)
    np.testing.assert_array_equal(boxes3d.nms3d(b, s, 0.3), keep)
    labels = rng.integers(0, 3, 60)
    got = boxes3d.batched_nms3d(b, s, labels, 0.3)
    ref = np.concatenate(
        [
            np.flatnonzero(labels == c)[boxes3d.nms3d(b[labels == c], s[labels == c], 0.3)]
            for c in range(3)
        ]
    )
    np.testing.assert_array_equal(got, ref[np.argsort(-s[ref], kind="stable")])
    bev_keep = boxes3d.nms3d(b, s, 0.3, bev=True)
    assert set(bev_keep) <= set(keep)  # BEV IoU >= 3-D IoU: suppresses at least as much


# ------------------------------------------------------------- COCO iou_type="bbox3d"
def test_coco_bbox3d_equals_bbox_for_flat_upright_boxes():
    # yaw 0, z in [0, 1]: the 3-D IoU is the 2-D box IoU, so COCO's numbers must agree
    from ioukit import coco
    from ioukit.synthetic import make_coco_dataset

    gt, dt = make_coco_dataset(40, 4, polygons=False, seed=3)

    def lift(x, y, w, h):
        return [x + w / 2, y + h / 2, 0.5, w, h, 1.0, 0.0]

    for a in gt["annotations"]:
        a["bbox3d"] = lift(*a["bbox"])
    for d in dt:
        d["bbox3d"] = lift(*d["bbox"])
    ref = coco.evaluate(gt, dt, iou_type="bbox")
    got = coco.evaluate(gt, dt, iou_type="bbox3d")
    np.testing.assert_allclose(got.stats, ref.stats, atol=1e-9)
    assert any(a["iscrowd"] for a in gt["annotations"])  # the crowd rule is exercised


def test_results_do_not_depend_on_the_thread_count():
    from ioukit import get_num_threads, set_num_threads

    rng = np.random.default_rng(RNG_SEED + 6)
    a, b = random_yaw(rng, 600, 8.0), random_yaw(rng, 600, 8.0)  # above the threaded size
    ca, cb = boxes3d.corners(a[:60]), boxes3d.corners(b[:60])
    old = get_num_threads()
    try:
        set_num_threads(1)
        one = boxes3d.iou(a, b), boxes3d.iou(ca, cb, fmt="corners")
        set_num_threads(4)
        many = boxes3d.iou(a, b), boxes3d.iou(ca, cb, fmt="corners")
    finally:
        set_num_threads(old)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])


def _halfspaces(frame: np.ndarray) -> np.ndarray:
    # the six faces of a box frame (centre, axes as rows, half sizes) as a.x + b <= 0
    c, axes, half = frame[:3], frame[3:12].reshape(3, 3), frame[12:15]
    rows = []
    for k in range(3):
        rows.append(np.r_[axes[k], -(axes[k] @ c) - half[k]])
        rows.append(np.r_[-axes[k], axes[k] @ c - half[k]])
    return np.array(rows)


def test_oriented_intersection_matches_halfspace_oracle_on_1000_pairs():
    # An exact, independent oracle for the general oriented case: scipy's halfspace
    # intersection of the 12 face planes (interior point from a Chebyshev-centre LP),
    # then the convex hull's volume (Qhull). 1000 random pairs, to 1e-9.
    from scipy.optimize import linprog
    from scipy.spatial import ConvexHull, HalfspaceIntersection

    rng = np.random.default_rng(RNG_SEED + 7)
    n = 1000
    a = np.concatenate(
        [rng.uniform(-0.5, 0.5, (n, 3)), rng.uniform(0.5, 2, (n, 3)), _rotations(rng, n)], 1
    )
    b = np.concatenate(
        [rng.uniform(-0.5, 0.5, (n, 3)), rng.uniform(0.5, 2, (n, 3)), _rotations(rng, n)], 1
    )
    inter = boxes3d.intersection(a, b, fmt="xyzlwhmat", aligned=True)
    iou = boxes3d.iou(a, b, fmt="xyzlwhmat", aligned=True)
    fa, fb = boxes3d.to_frames(a, "xyzlwhmat"), boxes3d.to_frames(b, "xyzlwhmat")
    vol_a, vol_b = 8 * fa[:, 12:15].prod(1), 8 * fb[:, 12:15].prod(1)
    for i in range(n):
        h = np.vstack([_halfspaces(fa[i]), _halfspaces(fb[i])])
        norm = np.linalg.norm(h[:, :3], axis=1)
        lp = linprog(
            [0, 0, 0, -1],
            A_ub=np.c_[h[:, :3], norm],
            b_ub=-h[:, 3],
            bounds=[(None, None)] * 3 + [(0, None)],
        )
        if lp.status != 0 or lp.x[3] <= 1e-9:  # disjoint (or touching): no volume
            expected = 0.0
        else:
            expected = ConvexHull(HalfspaceIntersection(h, lp.x[:3]).intersections).volume
        assert abs(inter[i] - expected) <= 1e-9, i
        assert abs(iou[i] - expected / (vol_a[i] + vol_b[i] - expected)) <= 1e-9, i
