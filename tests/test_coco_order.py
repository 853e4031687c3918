"""ioukit.coco._order: the compiled orderings equal NumPy's stable sorts (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ioukit.coco._order import counting_order, group_detections, score_desc_order

# finite scores with many ties, both zeros, negatives, subnormals and large values
SCORES = hnp.arrays(
    np.float64,
    st.integers(0, 300),
    elements=st.one_of(
        st.sampled_from([0.0, -0.0, 0.5, 1.0, -1.0, 5e-324, -5e-324, 1e308]),
        st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    ),
)


@settings(max_examples=200, deadline=None)
@given(SCORES)
def test_score_desc_order_is_numpys_stable_sort_of_minus_score(s):
    assert score_desc_order(s).tolist() == np.argsort(-s, kind="stable").tolist()


def test_score_desc_order_long_input():
    s = np.round(np.random.default_rng(0).random(200_000), 3)
    assert np.array_equal(score_desc_order(s), np.argsort(-s, kind="stable"))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_counting_order_is_stable_sort(data):
    n = data.draw(st.integers(0, 200))
    n_keys = data.draw(st.integers(1, 20))
    key = np.array(
        data.draw(st.lists(st.integers(0, n_keys - 1), min_size=n, max_size=n)), np.int64
    )
    src = np.array(data.draw(st.permutations(list(range(n)))), dtype=np.int64)
    out, off = counting_order(key, n_keys, src)
    ref = src[np.argsort(key[src], kind="stable")]
    assert out.tolist() == ref.tolist()
    assert off.tolist() == np.r_[0, np.cumsum(np.bincount(key, minlength=n_keys))].tolist()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_group_detections_matches_lexsort(data):
    n = data.draw(st.integers(0, 400))
    n_k = data.draw(st.integers(1, 5))
    n_img = data.draw(st.integers(1, 6))
    max_det = data.draw(st.integers(1, 120))
    k = np.array(data.draw(st.lists(st.integers(0, n_k - 1), min_size=n, max_size=n)), np.int64)
    img = np.array(data.draw(st.lists(st.integers(0, n_img - 1), min_size=n, max_size=n)), np.int64)
    # few distinct scores: ties inside groups, and groups longer than insertion sort's
    score = np.array(
        data.draw(
            st.lists(st.sampled_from([0.1, 0.5, 0.5, 0.9, -0.0, 0.0]), min_size=n, max_size=n)
        )
    )
    kept, rank, off, gk, gi = group_detections(k, img, score, n_k, n_img, max_det)
    # the reference: (category, image, -score, file order), first max_det per group
    o = np.lexsort((np.arange(n), -score, img, k))
    key = k[o] * n_img + img[o]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if n else np.zeros(0, int)
    r = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    keep = r < max_det
    assert kept.tolist() == o[keep].tolist()
    assert rank.tolist() == r[keep].tolist()
    assert gk.tolist() == k[o][starts].tolist() and gi.tolist() == img[o][starts].tolist()
    assert np.diff(off).tolist() == np.minimum(np.diff(np.r_[starts, n]), max_det).tolist()
