"""Per-image diagnostics from TIDE's match records: the worst images and their errors.

Everything is read from one :func:`ioukit.tide.evaluate` run (its per-detection and
per-GT records); nothing is matched again. Per image:

- ``ap``: TIDE's AP (101-point, ``tidecv ap.py``) of the image alone, the mean over
  the categories with GT or detections in it; ``missed_ap = 1 - ap``. An image with
  neither has ``ap = 1`` (nothing to miss); detections on an image without GT give 0.
- ``tp``, ``fp``, ``fn``, ``ignored``: detections matched, unmatched, left out on a
  crowd region; GT unmatched.
- ``errors``: the count of each TIDE error type (``Miss``: GT no error explains).

The class confusion matrix at an IoU ``tau`` is :func:`ioukit.report.confusion_matrix`
(``iou_threshold=tau``), shown in the HTML report next to these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ._kernels import class_ap

__all__ = ["worst_images", "image_table"]

_BY = ("missed_ap", "fn", "fp")


def image_table(result: Any) -> dict[str, np.ndarray]:
    """Per-image columns (in the GT's image order) from a ``TideResult``.

    Keys: ``image_id``, ``ap``, ``missed_ap``, ``n_gt``, ``tp``, ``fp``, ``fn``,
    ``ignored`` and one count column per error type (``Cls`` ... ``Miss``).

    >>> from ioukit import tide
    >>> from ioukit.synthetic import make_coco_dataset
    >>> t = image_table(tide.evaluate(*make_coco_dataset(n_images=4, n_categories=2, seed=0)))
    >>> t["image_id"].tolist()
    [1, 2, 3, 4]
    """
    from .evaluate import MAIN_ERRORS

    det, gt = result.detections, result.ground_truth
    ids = np.asarray(result.image_ids)
    n_img = ids.size
    order = np.argsort(ids, kind="stable")

    def img_index(v: np.ndarray) -> np.ndarray:
        return order[np.searchsorted(ids[order], v)].astype(np.int64)

    d_img, g_img = img_index(det["image_id"]), img_index(gt["image_id"])
    status = det["status"]
    cols: dict[str, np.ndarray] = {"image_id": ids}
    cols["n_gt"] = np.bincount(g_img, minlength=n_img)
    cols["tp"] = np.bincount(d_img[status == 1], minlength=n_img)
    cols["fp"] = np.bincount(d_img[status == 0], minlength=n_img)
    cols["ignored"] = np.bincount(d_img[status == -1], minlength=n_img)
    cols["fn"] = np.bincount(g_img[~gt["matched"]], minlength=n_img)
    for e in MAIN_ERRORS[:5]:
        cols[e] = np.bincount(d_img[det["error"] == e], minlength=n_img)
    cols["Miss"] = np.bincount(g_img[gt["missed"]], minlength=n_img)

    # per (image, category) segments: the image's AP averaged over its categories
    cats = np.unique(np.concatenate([det["category_id"], gt["category_id"]]))
    n_cat = max(cats.size, 1)
    d_cat = np.searchsorted(cats, det["category_id"])
    g_cat = np.searchsorted(cats, gt["category_id"])
    scored = status >= 0
    key = d_img[scored] * n_cat + d_cat[scored]
    # records are in image order, best score first: a stable sort keeps that per segment
    srt = np.argsort(key, kind="stable")
    tp = (status[scored] == 1)[srt].astype(np.uint8)
    seg_keys = np.unique(np.concatenate([key, g_img * n_cat + g_cat]))
    counts = np.bincount(np.searchsorted(seg_keys, key), minlength=seg_keys.size)
    offsets = np.zeros(seg_keys.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n_gt = np.bincount(
        np.searchsorted(seg_keys, g_img * n_cat + g_cat), minlength=seg_keys.size
    ).astype(np.int64)
    aps = np.zeros(seg_keys.size)
    class_ap(np.ascontiguousarray(tp), offsets, n_gt, aps)
    seg_img = seg_keys // n_cat
    n_seg = np.bincount(seg_img, minlength=n_img)
    ap_sum = np.bincount(seg_img, weights=aps / 100.0, minlength=n_img)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["ap"] = np.where(n_seg > 0, ap_sum / np.maximum(n_seg, 1), 1.0)
    cols["missed_ap"] = 1.0 - cols["ap"]
    return cols


def worst_images(result: Any, n: int = 10, *, by: str = "missed_ap") -> list[dict[str, Any]]:
    """The ``n`` worst images of a ``TideResult``, worst first, with their errors.

    Parameters
    ----------
    result : from :func:`ioukit.tide.evaluate`.
    n : how many images.
    by : ``"missed_ap"`` (1 - the image's AP), ``"fn"`` (unmatched GT) or ``"fp"``
        (unmatched detections); ties keep the GT's image order.

    Returns
    -------
    A list of dicts: ``image_id``, ``missed_ap``, ``ap``, ``n_gt``, ``tp``, ``fp``,
    ``fn``, ``ignored``, ``errors`` (type -> count, non-zero only) and
    ``error_list``: one ``(type, category_id, score, gt_id)`` per error of the image,
    detections best score first, then the missed GT (score None).

    Example
    -------
    >>> from ioukit import tide
    >>> gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
    ...       "annotations": [{"id": 5, "image_id": 2, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]
    >>> w = worst_images(tide.evaluate(gt, dt), 2, by="fp")
    >>> [(x["image_id"], x["fp"], x["errors"]) for x in w]
    [(1, 1, {'Bkg': 1}), (2, 0, {'Miss': 1})]
    """
    from .evaluate import MAIN_ERRORS

    if by not in _BY:
        raise InvalidParameterError(f"worst_images: by must be one of {_BY}, got {by!r}")
    t = image_table(result)
    pick = np.argsort(-np.asarray(t[by], dtype=np.float64), kind="stable")[: max(int(n), 0)]
    det, gt = result.detections, result.ground_truth
    out = []
    for i in pick.tolist():
        img = int(t["image_id"][i])
        rows = np.flatnonzero((det["image_id"] == img) & (det["status"] != 1))
        errs: list[tuple] = [
            (str(det["error"][r]), int(det["category_id"][r]), float(det["score"][r]),
             int(det["gt_id"][r]))
            for r in rows
        ]  # fmt: skip
        miss = np.flatnonzero((gt["image_id"] == img) & gt["missed"])
        errs += [("Miss", int(gt["category_id"][r]), None, int(gt["gt_id"][r])) for r in miss]
        out.append(
            {
                "image_id": img,
                "missed_ap": float(t["missed_ap"][i]),
                "ap": float(t["ap"][i]),
                **{k: int(t[k][i]) for k in ("n_gt", "tp", "fp", "fn", "ignored")},
                "errors": {e: int(t[e][i]) for e in MAIN_ERRORS if t[e][i]},
                "error_list": errs,
            }
        )
    return out
