"""ioukit.semantic on PNG folders (Pillow) and through ``ioukit eval --protocol semantic``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ioukit import semantic
from ioukit.errors import DatasetError, InvalidMaskError, MissingDependencyError
from ioukit.semantic import cityscapes, evaluate, read_label_map


def maps(seed: int, n: int, h: int = 24, w: int = 40, c: int = 19, ignore: int | None = 255):
    rng = np.random.default_rng(seed)
    low = rng.integers(0, c, (n, h // 4, w // 4))
    t = np.repeat(np.repeat(low, 4, 1), 4, 2).astype(np.uint8)
    p = t.copy()
    noise = rng.random(t.shape) < 0.2
    p[noise] = rng.integers(0, c, int(noise.sum()))
    if ignore is not None:
        t[rng.random(t.shape) < 0.05] = ignore
    return t, p


def write_folders(root: Path, t: np.ndarray, p: np.ndarray, gt_suffix: str, pred_suffix: str):
    gt_dir, pred_dir = root / "gt", root / "pred"
    for i in range(len(t)):
        sub = f"city{i % 2}"
        (gt_dir / sub).mkdir(parents=True, exist_ok=True)
        (pred_dir / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(t[i]).save(gt_dir / sub / f"img_{i:03d}{gt_suffix}.png")
        Image.fromarray(p[i]).save(pred_dir / sub / f"img_{i:03d}{pred_suffix}.png")
    return gt_dir, pred_dir


def test_png_folder_round_trip_equals_arrays(tmp_path):
    t, p = maps(1, 5)
    gt_dir, pred_dir = write_folders(tmp_path, t, p, "_gtFine_labelTrainIds", "_leftImg8bit")
    r = evaluate(str(pred_dir), gt_dir, num_classes=19, ignore_index=255, average="image")
    want = evaluate(p, t, num_classes=19, ignore_index=255, average="image")
    np.testing.assert_array_equal(r.confusion, want.confusion)
    # images come in key order (sub-folder, then name)
    order = sorted(range(5), key=lambda i: f"city{i % 2}/img_{i:03d}")
    assert r.image_names == [f"city{i % 2}/img_{i:03d}" for i in order]
    np.testing.assert_array_equal(r.image_iou, want.image_iou[order])
    assert read_label_map(gt_dir / "city0" / "img_000_gtFine_labelTrainIds.png").dtype == np.uint8


def test_palette_and_16_bit_pngs_and_rgb_rejected(tmp_path):
    a = np.array([[0, 3], [200, 1]], np.uint8)
    im = Image.fromarray(a, mode="L").convert("P")
    im.putpalette([v for i in range(256) for v in (i, 0, 0)])
    f = tmp_path / "p.png"
    Image.fromarray(a).save(f)
    assert read_label_map(f).tolist() == a.tolist()
    f16 = tmp_path / "i16.png"
    Image.fromarray(np.array([[0, 1000], [65535, 2]], np.uint16)).save(f16)
    assert read_label_map(f16).tolist() == [[0, 1000], [65535, 2]]
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(rgb)
    with pytest.raises(InvalidMaskError, match="rgb.png.*single-channel"):
        read_label_map(rgb)


def test_missing_prediction_is_named(tmp_path):
    t, p = maps(2, 3)
    gt_dir, pred_dir = write_folders(tmp_path, t, p, "", "")
    os.remove(pred_dir / "city1" / "img_001.png")
    with pytest.raises(DatasetError, match="img_001.png.*has no prediction"):
        evaluate(pred_dir, gt_dir, num_classes=19, ignore_index=255)


def test_missing_pillow_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(MissingDependencyError, match=r"ioukit\[images\]"):
        read_label_map(tmp_path / "x.png")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("IOUKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "ioukit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cli_table_and_json(tmp_path):
    t, p = maps(3, 4, c=6)
    gt_dir, pred_dir = write_folders(tmp_path, t, p, "", "")
    r = evaluate(p, t, num_classes=6, ignore_index=255)
    out = run_cli("eval", "--protocol", "semantic", gt_dir, pred_dir, "--num-classes", "6",
                  "--ignore-index", "255")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert r.summary() in out.stdout and f"mIoU {r.miou:.4f}" in out.stdout
    js = run_cli("eval", "--protocol", "semantic", gt_dir, pred_dir, "--num-classes", "6",
                 "--ignore-index", "255", "--absent", "zero", "--json", "-")  # fmt: skip
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    rz = evaluate(p, t, num_classes=6, ignore_index=255, absent="zero")
    assert data["protocol"] == "semantic" and data["absent"] == "zero"
    assert data["miou"] == rz.miou and data["confusion"] == rz.confusion.tolist()
    assert [row["iou"] for row in data["per_class"]] == rz.iou.tolist()


def test_cli_cityscapes_label_ids(tmp_path):
    rng = np.random.default_rng(4)
    ids = np.array(sorted(cityscapes.LABEL_ID_TO_TRAIN_ID), np.uint8)
    t = ids[rng.integers(0, ids.size, (2, 8, 16))]
    p = ids[rng.integers(0, ids.size, (2, 8, 16))]
    gt_dir, pred_dir = write_folders(tmp_path, t, p, "_gtFine_labelIds", "_leftImg8bit")
    out = run_cli("eval", "--protocol", "semantic", gt_dir, pred_dir, "--cityscapes", "--json", "-")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    lm = cityscapes.LABEL_ID_TO_TRAIN_ID
    r = semantic.evaluate(p, t, num_classes=19, ignore_index=255, label_map=lm,
                          pred_label_map=lm, category_map=cityscapes.CATEGORY_OF_CLASS)  # fmt: skip
    assert data["classes"][13] == "car" and data["confusion"] == r.confusion.tolist()
    assert data["category_miou"] == r.category_miou


def test_cli_usage_errors(tmp_path):
    out = run_cli("eval", "--protocol", "semantic", tmp_path, tmp_path)
    assert out.returncode != 0 and "--num-classes" in out.stderr
