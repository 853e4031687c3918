"""ioukit.boxes.iou_pairs: sparse pairs against the dense matrix; errors; backends."""

from __future__ import annotations

import numpy as np
import pytest

from ioukit import boxes
from ioukit.errors import (
    InvalidBoxesError,
    InvalidFormatError,
    InvalidParameterError,
    ShapeMismatchError,
)


def clustered(rng, n, clusters, extent=2000.0):
    centres = rng.uniform(0, extent, (clusters, 2))
    sizes = rng.uniform(10, 150, (clusters, 2))
    k = rng.integers(0, clusters, n)
    c = centres[k] + rng.normal(0, 0.2, (n, 2)) * sizes[k]
    wh = sizes[k] * rng.uniform(0.6, 1.4, (n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], 1)


def dense_pairs(a, b, t):
    d = boxes.iou(a, b)
    i, j = np.nonzero(d >= t)
    return i, j, d[i, j]


@pytest.mark.parametrize("t", [0.05, 0.5, 0.95, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_dense_on_clustered_boxes(t, dtype):
    rng = np.random.default_rng(int(t * 100))
    a = clustered(rng, 1500, 60).astype(dtype)
    b = clustered(rng, 1200, 60).astype(dtype)
    b[:20] = a[:20]  # identical pairs (IoU exactly 1)
    b[20:25, 2:] = b[20:25, :2]  # zero-area boxes
    # a few far outliers stretch the grid
    b[25] = [1e6, 1e6, 1e6 + 50, 1e6 + 40]
    a[25] = b[25]
    i, j, v = dense_pairs(a, b, t)
    p = boxes.iou_pairs(a, b, t)
    assert len(i) > 20
    np.testing.assert_array_equal(p.index_a, i)
    np.testing.assert_array_equal(p.index_b, j)
    np.testing.assert_array_equal(p.iou, v)
    assert p.iou.dtype == dtype and p.index_a.dtype == np.int64


def test_parallel_path_matches_dense():
    # large enough for the multi-threaded sweep
    rng = np.random.default_rng(9)
    a = clustered(rng, 3000, 100)
    b = clustered(rng, 3000, 100)
    i, j, v = dense_pairs(a, b, 0.3)
    p = boxes.iou_pairs(a, b, 0.3)
    np.testing.assert_array_equal(p.index_a, i)
    np.testing.assert_array_equal(p.index_b, j)
    np.testing.assert_array_equal(p.iou, v)


def test_crowded_cells_match_dense(monkeypatch):
    # hundreds of jittered copies of a few boxes: a window's candidates in one row of
    # grid cells exceed the kernel's block of candidates; both kernel builds agree
    from ioukit.boxes import _kernels, _pairs

    rng = np.random.default_rng(11)
    a = clustered(rng, 2000, 3, extent=300.0)
    b = clustered(rng, 1800, 3, extent=300.0)
    i, j, v = dense_pairs(a, b, 0.6)
    for kernels in (_pairs._cpu_kernels, _kernels):
        monkeypatch.setattr(_pairs, "_cpu_kernels", kernels)
        p = boxes.iou_pairs(a, b, 0.6)
        np.testing.assert_array_equal(p.index_a, i)
        np.testing.assert_array_equal(p.index_b, j)
        np.testing.assert_array_equal(p.iou, v)


def test_hand_example_and_formats():
    # (0,0,2,2) vs (0,0,2,1): inter 2, union 4 -> 0.5; far box: nothing
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    b = np.array([[0.0, 0.0, 2.0, 1.0], [5.0, 5.0, 6.0, 6.0]])
    p = boxes.iou_pairs(a, b, 0.5)
    assert p.index_a.tolist() == [0] and p.index_b.tolist() == [0] and p.iou.tolist() == [0.5]
    assert len(boxes.iou_pairs(a, b, 0.51).iou) == 0
    pw = boxes.iou_pairs(
        boxes.convert(a, "xyxy", "xywh"), boxes.convert(b, "xyxy", "xywh"), 0.5, fmt="xywh"
    )
    assert pw.iou.tolist() == [0.5]
    # unpacks like a tuple
    ia, ib, v = p
    assert ia.tolist() == [0]


def test_empty_and_degenerate_inputs():
    a = np.zeros((0, 4))
    b = np.array([[0.0, 0.0, 1.0, 1.0]])
    for x, y in ((a, b), (b, a), (a, a)):
        p = boxes.iou_pairs(x, y, 0.5)
        assert len(p.index_a) == len(p.index_b) == len(p.iou) == 0
    # all boxes of b on one point: zero grid extent
    pts = np.repeat(np.array([[3.0, 3.0, 3.0, 3.0]]), 5, axis=0)
    assert len(boxes.iou_pairs(pts, pts, 0.1).iou) == 0
    same = np.repeat(np.array([[3.0, 3.0, 5.0, 4.0]]), 5, axis=0)
    p = boxes.iou_pairs(same, same, 1.0)
    assert len(p.iou) == 25 and np.all(p.iou == 1.0)


def test_float16_and_ints():
    a = np.array([[0, 0, 2, 2]], dtype=np.int32)
    b = np.array([[0, 0, 2, 1]], dtype=np.int32)
    p = boxes.iou_pairs(a, b, 0.5)
    assert p.iou.dtype == np.float64 and p.iou.tolist() == [0.5]
    p16 = boxes.iou_pairs(a.astype(np.float16), b.astype(np.float16), 0.5)
    assert p16.iou.dtype == np.float16 and p16.iou.tolist() == [0.5]


def test_torch_and_jax_inputs_come_back_in_kind():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(2)
    a = clustered(rng, 200, 10)
    b = clustered(rng, 150, 10)
    i, j, v = dense_pairs(a, b, 0.4)
    pt = boxes.iou_pairs(torch.tensor(a), torch.tensor(b), 0.4)
    assert isinstance(pt.iou, torch.Tensor) and pt.iou.dtype == torch.float64
    np.testing.assert_array_equal(pt.index_a.numpy(), i)
    np.testing.assert_array_equal(pt.iou.numpy(), v)
    pj = boxes.iou_pairs(jnp.asarray(a, dtype=jnp.float32), jnp.asarray(b, dtype=jnp.float32), 0.4)
    assert pj.iou.dtype == jnp.float32
    i32, j32, _ = dense_pairs(a.astype(np.float32), b.astype(np.float32), 0.4)
    np.testing.assert_array_equal(np.asarray(pj.index_b), j32)


def test_errors():
    a = np.array([[0.0, 0.0, 1.0, 1.0]])
    for t in (0, 0.0, -0.5, 1.5, float("nan"), "0.5", None):
        with pytest.raises(InvalidParameterError, match="iou_threshold"):
            boxes.iou_pairs(a, a, t)
    with pytest.raises(TypeError, match="iou_threshold"):
        boxes.iou_pairs(a, a)
    with pytest.raises(InvalidParameterError, match="eps"):
        boxes.iou_pairs(a, a, 0.5, eps=-1.0)
    with pytest.raises(ShapeMismatchError, match=r"a must be \[K, 4\]"):
        boxes.iou_pairs(np.zeros((2, 2, 4)), a, 0.5)
    with pytest.raises(ShapeMismatchError, match="last axis"):
        boxes.iou_pairs(a, np.zeros((2, 5)), 0.5)
    with pytest.raises(InvalidFormatError):
        boxes.iou_pairs(a, a, 0.5, fmt="xxyy")
    bad = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, np.inf, 1.0]])
    with pytest.raises(InvalidBoxesError, match="b: row 1"):
        boxes.iou_pairs(a, bad, 0.5)


def test_min_iou_is_a_deprecated_alias():
    rng = np.random.default_rng(4)
    a, b = clustered(rng, 60, 5), clustered(rng, 80, 5)
    want = boxes.iou_pairs(a, b, iou_threshold=0.3)
    with pytest.warns(DeprecationWarning, match="iou_threshold"):
        got = boxes.iou_pairs(a, b, min_iou=0.3)
    for x, y in zip(got, want):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(InvalidParameterError, match="not both"):
        boxes.iou_pairs(a, b, 0.3, min_iou=0.3)
