"""Class confusion matrix for a detector, from class-agnostic matching at an IoU.

COCO's AP matches detections to ground truth *within* a category, so it cannot
say that a model calls cats dogs. The confusion matrix answers that: per image,
detections (score >= ``score_threshold``, highest score first) are matched
greedily to the unmatched ground-truth box of highest IoU >= ``iou_threshold``
whatever its class, as in YOLO-style detection confusion matrices.

Rows are the ground-truth class, columns the predicted class, plus one extra
row and column, ``background``:

- ``matrix[g, p]``: a GT of class g matched by a detection of class p;
- ``matrix[g, K]`` (last column): a GT of class g that no detection matched (missed);
- ``matrix[K, p]`` (last row): a detection of class p that matched no GT (false alarm).

Crowd GT regions are not matchable; an unmatched detection that lies inside one
(intersection over the detection's area >= ``iou_threshold``, COCO's crowd rule)
is dropped rather than counted as a false alarm, as COCO ignores it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidParameterError, MissingFieldError, UnknownIdError

__all__ = ["ConfusionMatrix", "confusion_matrix"]


@dataclass
class ConfusionMatrix:
    """Result of :func:`confusion_matrix`.

    Attributes
    ----------
    matrix : (K+1, K+1) int64; rows GT class, columns predicted class, index K
        is ``background`` (see the module docstring).
    category_ids : the K category ids, in row order (sorted ascending).
    names : K+1 labels (category names, then ``"background"``).
    iou_threshold, score_threshold : the matching parameters used.
    """

    matrix: np.ndarray
    category_ids: list[Any]
    names: list[str]
    iou_threshold: float
    score_threshold: float

    def top_confusions(self, n: int = 10) -> list[tuple[str, str, int]]:
        """The ``n`` largest off-diagonal cells between two real classes.

        Returns ``[(gt_name, predicted_name, count)]``, largest first.

        >>> import numpy as np
        >>> cm = ConfusionMatrix(np.array([[5, 2, 1], [0, 4, 0], [1, 1, 0]]), [1, 2],
        ...                      ["cat", "dog", "background"], 0.5, 0.0)
        >>> cm.top_confusions()
        [('cat', 'dog', 2)]
        """
        k = len(self.category_ids)
        m = self.matrix[:k, :k].copy()
        np.fill_diagonal(m, 0)
        flat = np.argsort(-m, axis=None, kind="stable")[:n]
        out = []
        for f in flat:
            i, j = divmod(int(f), k)
            if m[i, j] == 0:
                break
            out.append((self.names[i], self.names[j], int(m[i, j])))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        >>> import numpy as np
        >>> ConfusionMatrix(np.zeros((2, 2), int), [7], ["a", "background"], 0.5, 0.0).to_dict()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'matrix': [[0, 0], [0, 0]], 'category_ids': [7], 'names': ['a', 'background'],
         'iou_threshold': 0.5, 'score_threshold': 0.0}
        """
        return {
            "matrix": self.matrix.tolist(),
            "category_ids": list(self.category_ids),
            "names": list(self.names),
            "iou_threshold": self.iou_threshold,
            "score_threshold": self.score_threshold,
        }


def _xyxy(b: np.ndarray) -> np.ndarray:
    out = b.astype(np.float64, copy=True)
    out[:, 2:] += out[:, :2]
    return out


def _overlap(d: np.ndarray, g: np.ndarray, union: str) -> np.ndarray:
    """IoU (union="iou") or intersection over d's area (union="ioa"), xyxy boxes, (N, M)."""
    try:
        from .. import boxes as _boxes

        fn = getattr(_boxes, union)
        return np.asarray(fn(d, g))
    except (ImportError, AttributeError):
        pass
    # IoU = |A ∩ B| / |A ∪ B| (Jaccard 1901); a zero union gives 0, not NaN.
    iw = np.clip(
        np.minimum(d[:, None, 2], g[None, :, 2]) - np.maximum(d[:, None, 0], g[None, :, 0]), 0, None
    )
    ih = np.clip(
        np.minimum(d[:, None, 3], g[None, :, 3]) - np.maximum(d[:, None, 1], g[None, :, 1]), 0, None
    )
    inter = iw * ih
    ad = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1])
    if union == "ioa":
        den = np.broadcast_to(ad[:, None], inter.shape)
    else:
        ag = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
        den = ad[:, None] + ag[None, :] - inter
    return np.divide(inter, den, out=np.zeros_like(inter), where=den > 0)


def _overlaps(
    dgeo: list[Any], ggeo: list[Any], crowd: np.ndarray, geo: str, size: Any
) -> np.ndarray:
    """(N, M) overlaps: IoU for real GT columns, intersection over detection for crowds."""
    n, m = len(dgeo), len(ggeo)
    if m == 0:
        return np.zeros((n, 0))
    if geo == "segmentation":
        from .. import rle

        hw = tuple(size) if size and None not in size else None
        return np.asarray(rle.iou(dgeo, ggeo, crowd.astype(np.uint8), size=hw), dtype=np.float64)
    db = _xyxy(np.array(dgeo, dtype=np.float64).reshape(-1, 4))
    gb = _xyxy(np.array(ggeo, dtype=np.float64).reshape(-1, 4))
    out = np.empty((n, m))
    if (~crowd).any():
        out[:, ~crowd] = _overlap(db, gb[~crowd], "iou")
    if crowd.any():
        out[:, crowd] = _overlap(db, gb[crowd], "ioa")
    return out


def _field(obj: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise MissingFieldError(f"{what}: missing {key!r}") from None


def confusion_matrix(
    gt: Mapping[str, Any],
    dt: Sequence[Mapping[str, Any]],
    *,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.0,
    iou_type: str = "bbox",
) -> ConfusionMatrix:
    """Class confusion matrix from class-agnostic greedy matching at an IoU.

    Parameters
    ----------
    gt : loaded COCO ground truth dict (``images``, ``annotations``, ``categories``).
    dt : loaded COCO results list (``image_id``, ``category_id``, ``bbox`` xywh, ``score``).
    iou_threshold : a detection matches a GT box when IoU >= this.
    score_threshold : detections scoring below it are left out.
    iou_type : ``"bbox"`` overlaps the ``bbox`` fields; ``"segm"`` and ``"boundary"``
        overlap the ``segmentation`` masks (mask IoU via :func:`ioukit.rle.iou`;
        boundary IoU is not used here: the question is which class, not how sharp).

    Returns
    -------
    ConfusionMatrix with ``matrix`` of shape (K+1, K+1), K = number of categories.

    Example
    -------
    Two cats; one found as a cat, one called a dog; one detection on empty
    background:

    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "cat"},
    ...       {"id": 2, "name": "dog"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},
    ...                       {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 0, 10, 10]}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9},
    ...       {"image_id": 1, "category_id": 2, "bbox": [51, 0, 10, 10], "score": 0.8},
    ...       {"image_id": 1, "category_id": 2, "bbox": [90, 90, 5, 5], "score": 0.7}]
    >>> cm = confusion_matrix(gt, dt)
    >>> cm.names
    ['cat', 'dog', 'background']
    >>> cm.matrix
    array([[1, 1, 0],
           [0, 0, 0],
           [0, 1, 0]])
    """
    if not 0.0 <= iou_threshold <= 1.0:
        raise InvalidParameterError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    if not isinstance(gt, Mapping):
        raise DatasetError(f"ground truth must be a COCO dict, got {type(gt).__name__}")
    cats = sorted(gt.get("categories", []), key=lambda c: c["id"])
    cat_ids = [c["id"] for c in cats]
    names = [str(c.get("name", c["id"])) for c in cats] + ["background"]
    cidx = {c: i for i, c in enumerate(cat_ids)}
    K = len(cat_ids)
    M = np.zeros((K + 1, K + 1), dtype=np.int64)

    if iou_type not in ("bbox", "segm", "boundary"):
        raise InvalidParameterError(f"iou_type must be bbox, segm or boundary, got {iou_type!r}")
    geo = "bbox" if iou_type == "bbox" else "segmentation"
    sizes = {
        im.get("id"): (im.get("height"), im.get("width"))
        for im in gt.get("images", [])
        if isinstance(im, Mapping)
    }

    g_by_img: dict[Any, list[tuple[Any, int, bool]]] = defaultdict(list)
    for a in gt.get("annotations", []):
        what = f"annotation {a.get('id')!r}"
        c = _field(a, "category_id", what)
        if c not in cidx:
            raise UnknownIdError(f"{what}: unknown category_id {c!r}")
        g_by_img[_field(a, "image_id", what)].append(
            (_field(a, geo, what), cidx[c], bool(a.get("iscrowd", 0)))
        )
    d_by_img: dict[Any, list[tuple[Any, int, float]]] = defaultdict(list)
    for i, d in enumerate(dt):
        what = f"result #{i}"
        s = float(_field(d, "score", what))
        if s < score_threshold:
            continue
        c = _field(d, "category_id", what)
        if c not in cidx:
            raise UnknownIdError(f"{what}: unknown category_id {c!r}")
        d_by_img[_field(d, "image_id", what)].append((_field(d, geo, what), cidx[c], s))

    for img in set(g_by_img) | set(d_by_img):
        gs = g_by_img.get(img, [])
        ds = d_by_img.get(img, [])
        crowd = np.array([g[2] for g in gs], dtype=bool)
        gcls = np.array([g[1] for g in gs], dtype=np.int64)
        if not ds:
            np.add.at(M[:, K], gcls[~crowd], 1)
            continue
        # Stable sort by descending score, as COCO orders detections.
        ds = sorted(ds, key=lambda t: -t[2])
        dcls = np.array([d[1] for d in ds], dtype=np.int64)
        # (N, M): IoU with each real GT, intersection over the detection's area with
        # each crowd region (COCO's crowd rule).
        ov = _overlaps([d[0] for d in ds], [g[0] for g in gs], crowd, geo, sizes.get(img))
        real = ~crowd
        ious = ov[:, real]
        rcls = gcls[real]
        taken = np.zeros(ious.shape[1], dtype=bool)
        matched_d = np.zeros(len(ds), dtype=bool)
        for di in range(len(ds)):
            if not ious.shape[1]:
                break
            row = np.where(taken, -1.0, ious[di])
            j = int(np.argmax(row))
            if row[j] >= iou_threshold:
                taken[j] = True
                matched_d[di] = True
                M[rcls[j], dcls[di]] += 1
        np.add.at(M[:, K], rcls[~taken], 1)
        fa = ~matched_d
        if crowd.any() and fa.any():
            inside = (ov[:, crowd][fa] >= iou_threshold).any(axis=1)
            fa[np.flatnonzero(fa)[inside]] = False
        np.add.at(M[K], dcls[fa], 1)
    return ConfusionMatrix(M, cat_ids, names, float(iou_threshold), float(score_threshold))
