"""ioukit.semantic against the peers: torchmetrics (installed) and the reference code of
mmseg, detectron2, scikit-learn and medpy written out as hand loops (named below)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex
from torchmetrics.functional.segmentation import mean_iou as tm_mean_iou
from torchmetrics.segmentation import MeanIoU

from ioukit import semantic
from ioukit.errors import InvalidMaskError, InvalidParameterError, ShapeMismatchError
from ioukit.semantic import SemanticEvaluator, _kernels, evaluate
from ioukit.semantic._confusion import _count_torch_device


# ------------------------------------------------------------- peer hand loops
def mmseg_intersect_and_union(pred, label, num_classes, ignore_index, label_map=None, rzl=False):
    """mmseg 0.x ``mmseg/core/evaluation/metrics.py::intersect_and_union``, step for step."""
    label = label.astype(np.int64).copy()
    if label_map:
        label_copy = label.copy()
        for old_id, new_id in label_map.items():
            label[label_copy == old_id] = new_id
    if rzl:
        label[label == 0] = 255
        label = label - 1
        label[label == 254] = 255
    mask = label != ignore_index
    pred, label = pred[mask], label[mask]
    intersect = pred[pred == label]
    hist = lambda x: np.histogram(x, bins=num_classes, range=(0, num_classes - 1))[0]  # noqa: E731 (torch.histc's bins)
    a_i, a_p, a_l = hist(intersect), hist(pred), hist(label)
    return a_i, a_i * 0 + a_p + a_l - a_i, a_p, a_l


def mmseg_total_area_to_metrics(preds, labels, num_classes, ignore_index, **kw):
    """mmseg ``total_area_to_metrics``: per-class IoU / Acc / Dice, means by nanmean."""
    tot = [0, 0, 0, 0]
    for p, t in zip(preds, labels):
        for k, v in enumerate(mmseg_intersect_and_union(p, t, num_classes, ignore_index, **kw)):
            tot[k] = tot[k] + v
    ti, tu, tp_, tl = (np.asarray(x, np.float64) for x in tot)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = ti / tu
        acc = ti / tl
        dice = 2 * ti / (tp_ + tl)
    return {"aAcc": ti.sum() / tl.sum(), "IoU": iou, "Acc": acc, "Dice": dice}


def detectron2_sem_seg(preds, labels, num_classes, ignore_label):
    """detectron2 ``SemSegEvaluator.process`` / ``evaluate``: conf[pred, gt] with an
    extra ignore bin; classes without GT pixels are not averaged."""
    conf = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    for p, g in zip(preds, labels):
        g = g.astype(np.int64).copy()
        g[g == ignore_label] = num_classes
        conf += np.bincount(
            (num_classes + 1) * p.reshape(-1) + g.reshape(-1), minlength=conf.size
        ).reshape(conf.shape)
    acc = np.full(num_classes, np.nan, dtype=float)
    iou = np.full(num_classes, np.nan, dtype=float)
    tp = conf.diagonal()[:-1].astype(float)
    pos_gt = np.sum(conf[:-1, :-1], axis=0).astype(float)
    class_weights = pos_gt / np.sum(pos_gt)
    pos_pred = np.sum(conf[:-1, :-1], axis=1).astype(float)
    acc_valid = pos_gt > 0
    acc[acc_valid] = tp[acc_valid] / pos_gt[acc_valid]
    union = pos_gt + pos_pred - tp
    iou_valid = np.logical_and(acc_valid, union > 0)
    iou[iou_valid] = tp[iou_valid] / union[iou_valid]
    return {
        "IoU": iou,
        "mIoU": np.sum(iou[iou_valid]) / np.sum(iou_valid),
        "fwIoU": np.sum(iou[iou_valid] * class_weights[iou_valid]),
        "mACC": np.sum(acc[acc_valid]) / np.sum(acc_valid),
        "pACC": np.sum(tp) / np.sum(pos_gt),
    }


def sklearn_jaccard_labels(y_true, y_pred, labels):
    """scikit-learn ``jaccard_score(y_true, y_pred, labels=labels, average=None,
    zero_division=0)`` on flattened maps: tp / (tp + fp + fn), 0 where that is 0 / 0."""
    out = []
    for c in labels:
        tp = np.sum((y_true == c) & (y_pred == c))
        den = np.sum((y_true == c) | (y_pred == c))
        out.append(tp / den if den else 0.0)
    return np.array(out)


def medpy_jc(result, reference):
    """medpy >= 0.5 ``medpy.metric.binary.jc``: 1.0 when both masks are empty."""
    inter = np.count_nonzero(result & reference)
    union = np.count_nonzero(result | reference)
    return inter / union if union else 1.0


# ------------------------------------------------------------------- golden test
# class 0 in both, class 1 half missed, class 2 predicted but absent from the target,
# class 3 absent from both
GT = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
PRED = np.array([[0, 2, 1, 0], [0, 0, 1, 2]])


def test_golden_absent_conventions_against_each_peer():
    c = 4
    # "nan": torchmetrics macro (the peer itself) and mmseg's nanmean
    r = evaluate(PRED, GT, num_classes=c, absent="nan")
    tm = MulticlassJaccardIndex(num_classes=c, average="macro")
    assert r.miou == pytest.approx(float(tm(torch.from_numpy(PRED), torch.from_numpy(GT))), 1e-6)
    mm = mmseg_total_area_to_metrics([PRED], [GT], c, 255)
    np.testing.assert_array_equal(r.iou, mm["IoU"])  # [3/5, 1/2, 0, nan]
    assert r.miou == np.nanmean(mm["IoU"]) == pytest.approx((0.6 + 0.5 + 0.0) / 3)
    # "exclude_gt_absent": detectron2 leaves class 2 (predicted, no GT) out as well
    r = evaluate(PRED, GT, num_classes=c, absent="exclude_gt_absent")
    d2 = detectron2_sem_seg([PRED], [GT], c, 255)
    np.testing.assert_array_equal(r.iou, d2["IoU"])
    assert r.miou == d2["mIoU"] == pytest.approx(0.55)
    assert r.fwiou == d2["fwIoU"] and r.pixel_accuracy == d2["pACC"]
    assert r.mean_class_accuracy == d2["mACC"]
    # "zero": scikit-learn with labels=range(C) scores the class absent from both as 0
    r = evaluate(PRED, GT, num_classes=c, absent="zero")
    sk = sklearn_jaccard_labels(GT.ravel(), PRED.ravel(), range(c))
    np.testing.assert_array_equal(r.iou, sk)
    assert r.miou == sk.mean() == pytest.approx(1.1 / 4)
    # "one": medpy's jc per class gives 1 on two empty masks
    r = evaluate(PRED, GT, num_classes=c, absent="one")
    md = np.array([medpy_jc(PRED == k, GT == k) for k in range(c)])
    np.testing.assert_array_equal(r.iou, md)
    assert r.miou == md.mean() == pytest.approx(2.1 / 4)
    # torchmetrics per class with zero_division=1 is the same vector
    tm1 = MulticlassJaccardIndex(num_classes=c, average="none", zero_division=1.0)
    np.testing.assert_allclose(r.iou, tm1(torch.from_numpy(PRED), torch.from_numpy(GT)), 1e-6)


def test_default_policy_is_nan_and_dataset():
    r = evaluate(PRED, GT, num_classes=4)
    assert (r.absent, r.average) == ("nan", "dataset")


# -------------------------------------------------------- random differential sets
def blocky_maps(rng, n, h, w, c, ignore=None, p_noise=0.2):
    """Label maps with regions (upsampled coarse labels) and noisy predictions."""
    low = rng.integers(0, c, (n, h // 4 + 1, w // 4 + 1))
    t = np.repeat(np.repeat(low, 4, 1), 4, 2)[:, :h, :w]
    p = t.copy()
    noise = rng.random(t.shape) < p_noise
    p[noise] = rng.integers(0, c, int(noise.sum()))
    if ignore is not None:
        t = t.copy()
        t[rng.random(t.shape) < 0.05] = ignore
    return t.astype(np.uint8), p.astype(np.int64)


@pytest.mark.parametrize("seed", range(4))
def test_random_against_torchmetrics_and_mmseg(seed):
    rng = np.random.default_rng(seed)
    c = int(rng.integers(2, 12))
    t, p = blocky_maps(rng, 6, 37, 53, c, ignore=255)
    r = evaluate(p, t, num_classes=c, ignore_index=255)
    # torchmetrics confusion matrix (its own counting) and macro / per-class IoU
    tt, pp = torch.from_numpy(t.astype(np.int64)), torch.from_numpy(p)
    cm = MulticlassConfusionMatrix(num_classes=c, ignore_index=255)(pp, tt)
    np.testing.assert_array_equal(r.confusion, cm.numpy())
    jac = MulticlassJaccardIndex(num_classes=c, ignore_index=255, average="none")(pp, tt)
    present = (r.confusion.sum(0) + r.confusion.sum(1)) > 0
    np.testing.assert_allclose(r.iou[present], jac.numpy()[present], rtol=1e-6)
    macro = MulticlassJaccardIndex(num_classes=c, ignore_index=255, average="macro")(pp, tt)
    assert r.miou == pytest.approx(float(macro), rel=1e-6)
    # mmseg (hand loop): every per-class number, bit for bit
    mm = mmseg_total_area_to_metrics(list(p), list(t), c, 255)
    np.testing.assert_array_equal(r.iou, mm["IoU"])
    np.testing.assert_array_equal(r.recall, mm["Acc"])
    np.testing.assert_array_equal(r.dice, mm["Dice"])
    assert r.pixel_accuracy == mm["aAcc"]
    assert r.mean_class_accuracy == np.nanmean(mm["Acc"])


def test_label_map_and_reduce_zero_label_as_mmseg():
    rng = np.random.default_rng(7)
    c = 5
    t, p = blocky_maps(rng, 4, 20, 24, c + 1)
    p = np.clip(p - 1, 0, c - 1)
    lm = {1: 3, 3: 1}
    r = evaluate(p, t, num_classes=c, ignore_index=255, label_map=lm, reduce_zero_label=True)
    mm = mmseg_total_area_to_metrics(list(p), list(t), c, 255, label_map=lm, rzl=True)
    np.testing.assert_array_equal(r.iou, mm["IoU"])
    np.testing.assert_array_equal(r.dice, mm["Dice"])
    assert r.ignored_pixels == int((t == 0).sum())


def test_void_predictions_miss_their_target_as_in_mmseg():
    t = np.array([[0, 0, 1, 1]])
    p = np.array([[0, 255, 1, 7]])  # 255 and 7 are outside [0, 2)
    r = evaluate(p, t, num_classes=2)
    mm = mmseg_total_area_to_metrics([p], [t], 2, 254)
    np.testing.assert_array_equal(r.iou, mm["IoU"])
    assert r.void_predictions.tolist() == [1, 1] and r.confusion.tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("seed", range(2))
def test_detectron2_and_sklearn_and_medpy_on_random_maps(seed):
    rng = np.random.default_rng(100 + seed)
    c = 7
    t, p = blocky_maps(rng, 3, 30, 30, 5, ignore=255)  # classes 5, 6 never in the target
    p[:, :2, :2] = 6  # ... but 6 is predicted
    r = evaluate(p, t, num_classes=c, ignore_index=255, absent="exclude_gt_absent")
    d2 = detectron2_sem_seg(list(p), list(t), c, 255)
    np.testing.assert_array_equal(r.iou, d2["IoU"])
    assert (r.miou, r.fwiou, r.pixel_accuracy) == (d2["mIoU"], d2["fwIoU"], d2["pACC"])
    keep = t != 255
    r0 = evaluate(p, t, num_classes=c, ignore_index=255, absent="zero")
    np.testing.assert_allclose(r0.iou, sklearn_jaccard_labels(t[keep], p[keep], range(c)), 0, 0)
    r1 = evaluate(p, t, num_classes=c, ignore_index=255, absent="one")
    med = [medpy_jc((p == k) & keep, (t == k) & keep) for k in range(c)]
    np.testing.assert_allclose(r1.iou, med, 0, 0)


def test_averaging_levels_against_torchmetrics():
    rng = np.random.default_rng(3)
    c = 6
    t, p = blocky_maps(rng, 5, 24, 32, 4)
    p[0, :4, :4] = 5  # class 5 only in image 0's prediction
    tt, pp = torch.from_numpy(t.astype(np.int64)), torch.from_numpy(p)
    # per (image, class): torchmetrics MeanIoU (sums IoU over pairs with a union)
    r = evaluate(p, t, num_classes=c, average="image_class")
    m = MeanIoU(num_classes=c, input_format="index")
    m.update(pp, tt)
    assert r.miou == pytest.approx(float(m.compute()), rel=1e-6)
    m = MeanIoU(num_classes=c, input_format="index", per_class=True)
    m.update(pp, tt)
    want = m.compute().numpy()
    np.testing.assert_allclose(np.nan_to_num(r.iou, nan=-1.0), want, rtol=1e-6)
    # per image: the mean over images of each image's mIoU (torchmetrics' functional form)
    r = evaluate(p, t, num_classes=c, average="image")
    per_image = tm_mean_iou(pp, tt, num_classes=c, input_format="index")
    assert r.miou == pytest.approx(float(per_image.mean()), rel=1e-6)
    # dataset-accumulated differs from both on this set (class 5 weighs differently)
    assert evaluate(p, t, num_classes=c).miou != pytest.approx(r.miou)


# ------------------------------------------------------------ counting properties
@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 3),
    st.sampled_from([np.uint8, np.int32, np.int64, np.int16, np.uint16]),
    st.sampled_from([np.uint8, np.int32, np.int64]),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_kernel_equals_bincount(c, n, tdtype, pdtype, with_ignore, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, (n, 5, 7)).astype(tdtype)
    p = rng.integers(0, c + 3, (n, 5, 7)).astype(pdtype)  # some void predictions
    ignore = 0 if with_ignore else None
    m = np.ones(t.shape, bool) if ignore is None else t != ignore
    pv = np.where(p < c, p, c).astype(np.int64)
    want = np.bincount(t[m].astype(np.int64) * (c + 1) + pv[m], minlength=c * (c + 1)).reshape(
        c, c + 1
    )
    ev = SemanticEvaluator(c, ignore_index=ignore)
    ev.update(p, t)
    np.testing.assert_array_equal(ev.confusion, want[:, :c])
    assert ev.compute().void_predictions.tolist() == want[:, c].tolist()
    assert ev.confusion.dtype == np.int64


def test_kernel_paths_and_thread_counts_agree():
    rng = np.random.default_rng(5)
    c = 19
    t, p = blocky_maps(rng, 3, 600, 1000, c, ignore=255)  # 600k pixels: 1 chunk each
    k = (c + 2) * (c + 1)
    outs = []
    for n_images, threads in ((3, 1), (3, 2), (3, 4)):
        o = np.zeros((n_images, k), np.int64)
        _kernels.confusion_counts(t.ravel(), p.ravel(), n_images, c, 255, threads, o)
        outs.append(o.sum(0))
    # one image of 1.8M pixels split into chunks across threads
    big_t, big_p = t.reshape(1, -1), p.reshape(1, -1)
    for threads in (1, 2, 3):
        o = np.zeros((1, k), np.int64)
        _kernels.confusion_counts(big_t.ravel(), big_p.ravel(), 1, c, 255, threads, o)
        outs.append(o[0])
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


@pytest.fixture(scope="module")
def big_zero_maps():
    shape = (4097, 4096)  # 2^24 + 4096 pixels: past float32's exact integers
    return np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(0, (1 << 24) + 4095), min_size=1, max_size=20, unique=True))
def test_counts_stay_exact_past_2_24(big_zero_maps, flips):
    t, p = big_zero_maps
    n = t.size
    p.reshape(-1)[flips] = 1
    try:
        ev = SemanticEvaluator(2)
        ev.update(p, t)
        ev.update(p, t)  # and past 2^25 accumulated
    finally:
        p.reshape(-1)[flips] = 0
    k = len(flips)
    assert ev.confusion.tolist() == [[2 * (n - k), 2 * k], [0, 0]]
    # what a float32 accumulator would have reported: the odd count is not representable
    assert int(np.float32(n - k)) != n - k or (n - k) % 2 == 0


def test_torch_cpu_and_device_code_path_equal_numpy():
    rng = np.random.default_rng(11)
    c = 8
    t, p = blocky_maps(rng, 4, 17, 19, c, ignore=255)
    p[0, 0, :3] = [-1, 8, 200]  # void predictions, negative included
    want = semantic.SemanticEvaluator(c, ignore_index=255)
    want.update(p, t)
    got = semantic.SemanticEvaluator(c, ignore_index=255)
    got.update(torch.from_numpy(p), torch.from_numpy(t))
    np.testing.assert_array_equal(got.confusion, want.confusion)
    # the CUDA path (torch.bincount) run on CPU tensors: the same tables
    from ioukit.semantic._confusion import count_batch

    tables = _count_torch_device(torch.from_numpy(t), torch.from_numpy(p), c, 255)
    np.testing.assert_array_equal(tables, count_batch(t, p, c, 255))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_count_on_device():  # pragma: no cover - needs a GPU
    rng = np.random.default_rng(12)
    t, p = blocky_maps(rng, 4, 64, 80, 10, ignore=255)
    r_gpu = evaluate(torch.from_numpy(p).cuda(), torch.from_numpy(t).cuda(), num_classes=10,
                     ignore_index=255)  # fmt: skip
    r_cpu = evaluate(p, t, num_classes=10, ignore_index=255)
    np.testing.assert_array_equal(r_gpu.confusion, r_cpu.confusion)


# -------------------------------------------------------------- streaming, inputs
def test_streaming_merge_and_iterables_equal_one_pass():
    rng = np.random.default_rng(2)
    c = 5
    t, p = blocky_maps(rng, 6, 16, 16, c, ignore=255)
    one = evaluate(p, t, num_classes=c, ignore_index=255, average="image")
    a = SemanticEvaluator(c, ignore_index=255, average="image")
    b = SemanticEvaluator(c, ignore_index=255, average="image")
    a.update(p[:2], t[:2])
    b.update(list(p[2:]), list(t[2:]))  # an iterable of single maps
    r = a.merge(b).compute()
    np.testing.assert_array_equal(r.confusion, one.confusion)
    np.testing.assert_array_equal(r.image_iou, one.image_iou)
    assert r.miou == one.miou and r.num_images == 6
    gen = evaluate((x for x in p), (y for y in t), num_classes=c, ignore_index=255)
    np.testing.assert_array_equal(gen.confusion, one.confusion)


def test_volumes_with_spatial_dims_3():
    rng = np.random.default_rng(4)
    t, p = blocky_maps(rng, 6, 12, 12, 3)
    vol_t, vol_p = t.reshape(2, 3, 12, 12), p.reshape(2, 3, 12, 12)
    r = evaluate(vol_p, vol_t, num_classes=3, spatial_dims=3, average="image")
    assert r.num_images == 2
    whole = [evaluate(vol_p[i], vol_t[i], num_classes=3, spatial_dims=3).miou for i in range(2)]
    assert r.miou == pytest.approx(np.mean(whole), abs=0)


def test_metrics_closed_form():
    # 2 classes, tp = [3, 1], target [4, 2], predicted [4, 2]
    t = np.array([[0, 0, 0, 0, 1, 1]])
    p = np.array([[0, 0, 0, 1, 0, 1]])
    r = evaluate(p, t, num_classes=2)
    assert r.iou.tolist() == [3 / 5, 1 / 3]
    assert r.dice.tolist() == [6 / 8, 2 / 4] and np.array_equal(r.f1, r.dice)
    assert r.precision.tolist() == [3 / 4, 1 / 2] and r.recall.tolist() == [3 / 4, 1 / 2]
    assert r.pixel_accuracy == 4 / 6
    assert r.fwiou == pytest.approx(4 / 6 * 3 / 5 + 2 / 6 * 1 / 3)


def test_cityscapes_category_iou_by_hand():
    cs = semantic.cityscapes
    rng = np.random.default_rng(9)
    t, p = blocky_maps(rng, 2, 32, 32, 19, ignore=255)
    r = evaluate(p, t, num_classes=19, ignore_index=255, category_map=cs.CATEGORY_OF_CLASS,
                 category_names=cs.CATEGORIES)  # fmt: skip
    cat = np.asarray(cs.CATEGORY_OF_CLASS)
    keep = t != 255
    for k in range(7):  # getIouScoreForCategory: tp / (tp + fp + fn) among evaluated labels
        in_t, in_p = np.isin(t, np.flatnonzero(cat == k)), np.isin(p, np.flatnonzero(cat == k))
        tp = np.sum(keep & in_t & in_p)
        fn = np.sum(keep & in_t & ~in_p)
        fp = np.sum(keep & ~in_t & in_p)
        assert r.category_iou[k] == tp / (tp + fp + fn)
    assert r.to_dict()["category_iou"]["vehicle"] == r.category_iou[6]


def test_cityscapes_label_ids_to_train_ids():
    lm = semantic.cityscapes.LABEL_ID_TO_TRAIN_ID
    t = np.array([[7, 26, 0, 33]], np.uint8)  # road, car, unlabeled, bicycle
    p = np.array([[7, 26, 7, 32]], np.uint8)
    r = evaluate(p, t, num_classes=19, ignore_index=255, label_map=lm, pred_label_map=lm)
    assert r.ignored_pixels == 1 and r.confusion[0, 0] == 1 and r.confusion[13, 13] == 1
    assert r.confusion[18, 17] == 1


# ------------------------------------------------------------------ boundary IoU
def band_by_erosion(mask, d):
    """boundary-iou-api's band: mask minus its erosion by a (2d+1) square, zero-padded."""
    padded = np.pad(mask, 1)
    er = ndimage.binary_erosion(padded, np.ones((3, 3), bool), iterations=d, border_value=0)
    return mask & ~er[1:-1, 1:-1]


def test_boundary_iou_against_erosion_bands():
    rng = np.random.default_rng(21)
    c = 4
    t, p = blocky_maps(rng, 3, 40, 50, c, ignore=255, p_noise=0.05)
    ratio = 0.05
    r = evaluate(p, t, num_classes=c, ignore_index=255, boundary=True, dilation_ratio=ratio)
    d = max(1, int(round(ratio * np.hypot(40, 50))))
    inter = np.zeros(c)
    union = np.zeros(c)
    for ti, pi in zip(t, p):
        keep = ti != 255
        for k in range(c):
            bg = band_by_erosion(ti == k, d) & keep
            bd = band_by_erosion(pi == k, d) & keep
            inter[k] += np.sum(bg & bd)
            union[k] += np.sum(bg | bd)
    np.testing.assert_array_equal(r.boundary_iou, inter / union)
    assert r.mboundary_iou == np.mean(inter / union)
    assert "BIoU" in r.summary()


# ------------------------------------------------------------------------- errors
def test_errors_name_what_and_where():
    t = np.zeros((2, 3, 3), np.int64)
    t[1, 2, 2] = 9
    with pytest.raises(InvalidMaskError, match=r"image 1: label 9 is outside \[0, 3\)"):
        evaluate(np.zeros_like(t), t, num_classes=3)
    with pytest.raises(InvalidMaskError, match="integers"):
        evaluate(np.zeros((2, 2)), np.zeros((2, 2)), num_classes=2)
    with pytest.raises(ShapeMismatchError, match="differ in shape"):
        evaluate(np.zeros((2, 2), int), np.zeros((2, 3), int), num_classes=2)
    with pytest.raises(InvalidParameterError, match="absent must be one of"):
        evaluate(t, t, num_classes=10, absent="skip")
    with pytest.raises(InvalidParameterError, match="average must be one of"):
        evaluate(t, t, num_classes=10, average="micro")
    with pytest.raises(InvalidParameterError, match="reduce_zero_label"):
        evaluate(t, t, num_classes=10, reduce_zero_label=True)
    with pytest.raises(ShapeMismatchError, match="more items"):
        evaluate([t[0], t[1]], [t[0]], num_classes=10)
    ev = SemanticEvaluator(3)
    with pytest.raises(InvalidParameterError, match="same settings"):
        ev.merge(SemanticEvaluator(4))


def test_empty_and_all_ignored_inputs():
    r = evaluate(np.zeros((0, 4, 4), int), np.zeros((0, 4, 4), int), num_classes=3)
    assert r.num_images == 0 and np.isnan(r.miou) and np.isnan(r.pixel_accuracy)
    r = evaluate(np.zeros((4, 4), int), np.full((4, 4), 255), num_classes=3, ignore_index=255)
    assert r.ignored_pixels == 16 and np.isnan(r.miou) and r.confusion.sum() == 0
