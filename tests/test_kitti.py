"""ioukit.kitti.evaluate: golden hand-computed cases of kitti-object-eval-python's rules.

Every expected value below is worked out by hand from the reference's rules (get_thresholds'
recall sampling, the precision envelope, get_mAP's indices 0, 4, ..., 40 / 11 and
get_mAP_R40's indices 1..40 / 40), not read from ioukit's output.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from ioukit import kitti
from ioukit.cli import main as cli_main


def _obj(n, *, name="Car", x0=0.0, height=60.0, occluded=0, truncated=0.0, score=None):
    """n objects 20 m apart along z, shifted by x0 along x (their l axis), 2-D boxes apart."""
    z = 10.0 + 20.0 * np.arange(n)
    px = 100.0 + 300.0 * np.arange(n) + 100.0 * x0  # image boxes apart unless x0 matches
    d = {
        "name": [name] * n,
        "truncated": [truncated] * n,
        "occluded": [occluded] * n,
        "alpha": [0.0] * n,
        "bbox": [[p, 100.0, p + 100.0, 100.0 + height] for p in px],
        "dimensions": [[1.5, 1.6, 4.0]] * n,
        "location": [[x0, 1.5, zi] for zi in z],  # x0 shifts along l (rotation_y 0)
        "rotation_y": [0.0] * n,
    }
    if score is not None:
        d["score"] = list(score)
    return d


def _cat(*ds):
    return {k: sum((list(d[k]) for d in ds), []) for k in ds[0]}


def _ap(r, metric="3d", interp="R40", diff="easy", cls="Car"):
    return r.ap(metric, interp)[cls][diff]


def test_perfect_detector_40_and_80_gt():
    # 40 GT all found: 40 thresholds (one per TP), precision[40] stays 0
    gt = _obj(40)
    r = kitti.evaluate([gt], [_obj(40, score=np.linspace(0.9, 0.5, 40))], classes=["Car"])
    assert _ap(r) == pytest.approx(39 / 40)
    assert _ap(r, interp="R11") == pytest.approx(10 / 11)
    # 80 GT: thresholds at TP ranks 0, 1, 3, 5, ..., 79 -> 41 points, all precision 1
    gt = _obj(80)
    r = kitti.evaluate([gt], [_obj(80, score=np.linspace(0.9, 0.1, 80))], classes=["Car"])
    for m in ("bbox", "bev", "3d"):
        assert _ap(r, m) == pytest.approx(1.0)
        assert _ap(r, m, "R11") == pytest.approx(1.0)


def test_interleaved_false_positives():
    # 80 TP, each followed by one FP just below it: at TP rank i, precision (i+1)/(2i+1);
    # sampled ranks 0, 1, 3, ..., 79 (rank 2j - 1 for j >= 1): p_0 = 1, p_j = 2j / (4j - 1)
    tp_scores = np.linspace(0.9, 0.1, 80)
    dets = _cat(_obj(80, score=tp_scores), _obj(80, x0=10.0, score=tp_scores - 1e-3))
    r = kitti.evaluate([_obj(80)], [dets], classes=["Car"], metrics=["3d"])
    p = [1.0] + [2 * j / (4 * j - 1) for j in range(1, 41)]
    assert _ap(r) == pytest.approx(sum(p[1:]) / 40, abs=1e-12)
    assert _ap(r, interp="R11") == pytest.approx(sum(p[0::4]) / 11, abs=1e-12)


def test_difficulty_filters():
    # 80 easy cars + 80 cars 30 px high and occluded=1: not easy (height <= 40, occlusion > 0)
    easy, small = _obj(80), _obj(80, x0=10.0, height=30.0, occluded=1)
    gt = _cat(easy, small)
    only_easy = kitti.evaluate([gt], [_obj(80, score=np.linspace(0.9, 0.1, 80))], classes=["Car"])
    assert only_easy.num_gt[0].tolist() == [80, 160, 160]
    assert _ap(only_easy, diff="easy") == pytest.approx(1.0)
    # moderate / hard: 80 of 160 found; thresholds at ranks 0, 3, 7, ..., 79 -> 21 points
    for diff in ("moderate", "hard"):
        assert _ap(only_easy, diff=diff) == pytest.approx(20 / 40)
        assert _ap(only_easy, diff=diff, interp="R11") == pytest.approx(6 / 11)
    # detecting the small ones too (higher scores): ignored GT at easy -> no FP
    dets = _cat(
        _obj(80, score=np.linspace(0.9, 0.1, 80)), _obj(80, x0=10.0, height=30.0, score=[0.95] * 80)
    )
    both = kitti.evaluate([gt], [dets], classes=["Car"])
    # ...but a detection lower than 40 px is itself ignored at easy, so nothing changes there
    assert _ap(both, diff="easy") == pytest.approx(1.0)
    assert _ap(both, diff="moderate") == pytest.approx(1.0)
    # truncation 0.2: moderate (<= 0.3) but not easy (<= 0.15)
    trunc = kitti.evaluate(
        [_obj(80, truncated=0.2)], [_obj(80, score=np.linspace(0.9, 0.1, 80))], classes=["Car"]
    )
    assert trunc.num_gt[0].tolist() == [0, 80, 80]
    assert _ap(trunc, diff="easy") == 0.0 and _ap(trunc, diff="moderate") == pytest.approx(1.0)


def test_neighbouring_class_and_plain_false_positive():
    gt80, det80 = _obj(80), _obj(80, score=np.linspace(0.9, 0.1, 80))
    extra_det = _obj(1, x0=5.0, score=[0.99])  # a Car detection on the extra object
    for other, expected in (("Van", 1.0), ("Truck", 80 / 81)):
        gt = _cat(gt80, _obj(1, name=other, x0=5.0))
        r = kitti.evaluate([gt], [_cat(det80, extra_det)], classes=["Car"])
        # Truck: a FP above every TP, precision (i+1)/(i+2) rising to 80/81 -> envelope 80/81
        assert _ap(r) == pytest.approx(expected, abs=1e-12), other
        assert _ap(r, interp="R11") == pytest.approx(expected, abs=1e-12), other
    # Person_sitting is ignored for Pedestrian (and a Pedestrian GT is not a Car)
    gt = _cat(_obj(80, name="Pedestrian"), _obj(1, name="Person_sitting", x0=5.0))
    dets = _cat(
        _obj(80, name="Pedestrian", score=np.linspace(0.9, 0.1, 80)),
        _obj(1, name="Pedestrian", x0=5.0, score=[0.99]),
    )
    r = kitti.evaluate([gt], [dets], classes=["Pedestrian", "Car"])
    assert _ap(r, cls="Pedestrian") == pytest.approx(1.0)
    assert r.num_gt[1].tolist() == [0, 0, 0] and _ap(r, cls="Car") == 0.0


def test_dontcare_regions():
    gt = _cat(_obj(80), _obj(1, name="DontCare", x0=5.0))
    dets = _cat(_obj(80, score=np.linspace(0.9, 0.1, 80)), _obj(1, x0=5.0, score=[0.99]))
    r = kitti.evaluate([gt], [dets], classes=["Car"])
    # kitti-object-eval-python: DontCare only for the 2-D metric (metric == 0)
    assert _ap(r, "bbox") == pytest.approx(1.0)
    assert _ap(r, "3d") == pytest.approx(80 / 81)
    r_all = kitti.evaluate([gt], [dets], classes=["Car"], dontcare_metrics=("bbox", "bev", "3d"))
    assert _ap(r_all, "3d") == pytest.approx(1.0)


def test_iou_threshold_is_strict_and_per_class():
    # a detection shifted along its length by s: 3-D IoU (4 - s) / (4 + s); s = 0.4 -> 9/11 > 0.7
    gt = _obj(80)
    shifted = _obj(80, x0=0.4, score=np.linspace(0.9, 0.1, 80))
    r = kitti.evaluate([gt], [shifted], classes=["Car"], metrics=["3d"])
    assert _ap(r) == pytest.approx(1.0)
    r = kitti.evaluate([gt], [shifted], classes=["Car"], metrics=["3d"], min_overlap=0.85)
    assert _ap(r) == 0.0
    # 2-D boxes of half the width, same left edge: IoU exactly 0.5 (3000 / 6000)
    half = _obj(80, score=np.linspace(0.9, 0.1, 80))
    half["bbox"] = [[b[0], b[1], b[0] + 50.0, b[3]] for b in half["bbox"]]
    at = kitti.evaluate([gt], [half], classes=["Car"], metrics=["bbox"], min_overlap={"Car": 0.5})
    below = kitti.evaluate([gt], [half], classes=["Car"], metrics=["bbox"], min_overlap=0.49)
    assert _ap(at, "bbox") == 0.0 and _ap(below, "bbox") == pytest.approx(1.0)
    r = kitti.evaluate([gt], [shifted], classes=["Car"], metrics=["3d"], min_overlap="loose")
    assert r.min_overlap["3d"].tolist() == [0.5]


def test_label_files_and_cli(tmp_path):
    lab, res = tmp_path / "label_2", tmp_path / "results"
    lab.mkdir()
    res.mkdir()
    gt = _obj(80)
    det = _obj(80, score=np.linspace(0.9, 0.1, 80))
    for f in range(2):  # 40 objects per frame
        sl = slice(40 * f, 40 * f + 40)
        with open(lab / f"{f:06d}.txt", "w") as fh:
            for b, d, loc in zip(gt["bbox"][sl], gt["dimensions"][sl], gt["location"][sl]):
                fh.write(" ".join(map(str, ["Car", 0.0, 0, 0.0, *b, *d, *loc, 0.0])) + "\n")
            fh.write("DontCare -1 -1 -10 0 0 10 10 -1 -1 -1 -1000 -1000 -1000 -10\n")
        with open(res / f"{f:06d}.txt", "w") as fh:
            for b, d, loc, s in zip(
                det["bbox"][sl], det["dimensions"][sl], det["location"][sl], det["score"][sl]
            ):
                fh.write(" ".join(map(str, ["Car", 0.0, 0, 0.0, *b, *d, *loc, 0.0, s])) + "\n")
    r = kitti.evaluate(str(lab), str(res), classes=["Car"])
    assert r.frame_ids == ["000000", "000001"] and _ap(r) == pytest.approx(1.0)
    out = tmp_path / "out.json"
    rc = cli_main(
        [
            "eval",
            "--protocol",
            "kitti",
            str(lab),
            str(res),
            "--kitti-classes",
            "Car",
            "--json",
            str(out),
        ]
    )
    assert rc == 0 and os.path.exists(out)
    import json

    data = json.loads(out.read_text())
    assert data["R40"]["3d"]["Car"]["moderate"] == pytest.approx(1.0)
    os.remove(res / "000001.txt")  # a frame without results: its GT are misses
    r = kitti.evaluate(str(lab), str(res), classes=["Car"])
    assert r.num_gt[0, 0] == 80 and _ap(r) == pytest.approx(0.5)


def test_bad_input_names_the_place(tmp_path):
    from ioukit.errors import DatasetError, InvalidParameterError

    (tmp_path / "000000.txt").write_text("Car 0 0 0 1 2 3\n")
    with pytest.raises(DatasetError, match="000000.txt, line 1"):
        kitti.evaluate(str(tmp_path), str(tmp_path))
    with pytest.raises(InvalidParameterError, match="metrics"):
        kitti.evaluate([_obj(1)], [_obj(1, score=[1])], metrics=["aos"])


def _random_frames(seed, n_frames):
    rng = np.random.default_rng(seed)
    names = np.array(
        ["Car", "Car", "Car", "Van", "Pedestrian", "Person_sitting", "Cyclist", "DontCare"]
    )
    gts, dts = [], []
    for _ in range(n_frames):
        n = int(rng.integers(0, 9))
        name = list(rng.choice(names, n))
        x1 = rng.uniform(0, 1000, n)
        y1 = rng.uniform(100, 250, n)
        hgt = rng.uniform(15, 120, n)
        bbox = np.stack([x1, y1, x1 + rng.uniform(20, 200, n), y1 + hgt], 1)
        dims = np.stack(
            [rng.uniform(1.4, 1.8, n), rng.uniform(0.6, 2, n), rng.uniform(0.8, 5, n)], 1
        )
        loc = np.stack([rng.uniform(-15, 15, n), rng.uniform(1, 2, n), rng.uniform(5, 40, n)], 1)
        ry = rng.uniform(-np.pi, np.pi, n)
        g = {
            "name": name,
            "truncated": list(rng.choice([0.0, 0.1, 0.2, 0.4, 0.8], n)),
            "occluded": list(rng.integers(0, 4, n)),
            "alpha": [0.0] * n,
            "bbox": bbox.tolist(),
            "dimensions": np.where(np.array(name)[:, None] == "DontCare", -1.0, dims)
            .reshape(n, 3)
            .tolist(),
            "location": loc.tolist(),
            "rotation_y": ry.tolist(),
        }
        # detections: jittered copies of most objects (sometimes with another class), plus FPs
        keep = rng.random(n) < 0.8
        m = int(keep.sum())
        k = int(rng.integers(0, 4))
        dname = [
            c if rng.random() < 0.85 else str(rng.choice(names[:7]))
            for c in np.array(name, dtype=object)[keep]
        ]
        dname = [c if c != "DontCare" else "Car" for c in dname] + list(rng.choice(names[:7], k))
        fx, fy = rng.uniform(0, 1000, k), rng.uniform(100, 250, k)
        fp_box = np.stack([fx, fy, fx + 80, fy + 60], 1)
        jb = np.concatenate([bbox[keep] + rng.normal(0, 6, (m, 4)), fp_box], 0)
        jd = np.concatenate(
            [dims[keep] * rng.uniform(0.85, 1.15, (m, 3)), rng.uniform(1, 4, (k, 3))], 0
        )
        jl = np.concatenate(
            [loc[keep] + rng.normal(0, 0.3, (m, 3)), rng.uniform(-15, 40, (k, 3))], 0
        )
        jr = np.concatenate([ry[keep] + rng.normal(0, 0.2, m), rng.uniform(-3, 3, k)])
        dts.append(
            {
                "name": dname,
                "truncated": [0.0] * (m + k),
                "occluded": [0] * (m + k),
                "alpha": [0.0] * (m + k),
                "bbox": jb.tolist(),
                "dimensions": jd.tolist(),
                "location": jl.tolist(),
                "rotation_y": jr.tolist(),
                "score": rng.random(m + k).tolist(),
            }
        )
        gts.append(g)
    return gts, dts


@pytest.mark.parametrize("metric", ["bbox", "bev", "3d"])
def test_equals_an_independent_transcription_of_the_reference(metric):
    import _kitti_reference as ref  # tests/ is on sys.path (rootdir conftest)

    gts, dts = _random_frames(11, 60)
    r = kitti.evaluate(
        gts, dts, classes=["Car", "Pedestrian", "Cyclist"], metrics=[metric], min_overlap="loose"
    )
    for k, cls in enumerate(["Car", "Pedestrian", "Cyclist"]):
        r11, r40 = ref.evaluate(gts, dts, cls, metric, float(r.min_overlap[metric][k]))
        np.testing.assert_allclose(r.ap_r11[metric][k], r11, atol=1e-12, err_msg=cls)
        np.testing.assert_allclose(r.ap_r40[metric][k], r40, atol=1e-12, err_msg=cls)
    assert (r.ap_r40[metric] > 0).sum() >= 4  # the set exercises real curves
