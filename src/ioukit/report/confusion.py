"""Class confusion matrix for a detector, from class-agnostic matching at an IoU.

COCO's AP matches detections to ground truth *within* a category, so it cannot
say that a model calls cats dogs. The confusion matrix answers that: per image,
detections (score >= ``score_threshold``, highest score first) are matched
greedily to the unmatched ground-truth box of highest IoU >= ``iou_threshold``
whatever its class, as in YOLO-style detection confusion matrices. The matching is
COCO's rule itself (:func:`ioukit.matching.match_coco`, ``COCOeval.evaluateImg``)
over one group per image instead of one per (image, category): later GT win IoU
ties, and crowd regions are visited last.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidParameterError, MissingFieldError, UnknownIdError
from ..matching import FP, TP, build_groups, match_coco

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


def _grouped_overlaps(
    dgeo: list[Any], ggeo: list[Any], groups: Any, geo: str, sizes: list[Any]
) -> np.ndarray:
    """IoU of every group's (detection, GT) pairs, crowd GT as intersection over the
    detection's area (COCO), as one flat buffer in the ``Groups`` layout.

    Boxes: the COCO engine's ``bbox`` plug-in (pycocotools ``bbIou``, one compiled
    call). Masks: :func:`ioukit.rle.iou` (``maskUtils.iou``) group by group.
    """
    if geo == "bbox":
        from ..coco import get_iou_type

        db = np.array(dgeo, dtype=np.float64).reshape(-1, 4)
        gb = np.array(ggeo, dtype=np.float64).reshape(-1, 4)
        return get_iou_type("bbox").grouped_iou(db, gb, groups)
    from .. import rle

    out = np.zeros(int(groups.iou_offsets[-1]), dtype=np.float64)
    for g in range(groups.n_groups):
        d = groups.dt_index[groups.dt_offsets[g] : groups.dt_offsets[g + 1]]
        t = groups.gt_index[groups.gt_offsets[g] : groups.gt_offsets[g + 1]]
        if d.size == 0 or t.size == 0:
            continue
        size = sizes[g]
        hw = tuple(size) if size and None not in size else None
        crowd = groups.gt_iscrowd[t].astype(np.uint8)
        m = rle.iou([dgeo[i] for i in d], [ggeo[i] for i in t], crowd, size=hw)
        out[groups.iou_offsets[g] : groups.iou_offsets[g + 1]] = np.asarray(m).ravel()
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
    image_sizes = {
        im.get("id"): (im.get("height"), im.get("width"))
        for im in gt.get("images", [])
        if isinstance(im, Mapping)
    }

    # every GT and kept detection as flat rows, grouped by image (class-agnostic)
    img_index: dict[Any, int] = {}
    g_geo, g_cls, g_crowd, g_img = [], [], [], []
    for a in gt.get("annotations", []):
        what = f"annotation {a.get('id')!r}"
        c = _field(a, "category_id", what)
        if c not in cidx:
            raise UnknownIdError(f"{what}: unknown category_id {c!r}")
        g_img.append(img_index.setdefault(_field(a, "image_id", what), len(img_index)))
        g_geo.append(_field(a, geo, what))
        g_cls.append(cidx[c])
        g_crowd.append(bool(a.get("iscrowd", 0)))
    d_geo, d_cls, d_score, d_img = [], [], [], []
    for i, d in enumerate(dt):
        what = f"result #{i}"
        s = float(_field(d, "score", what))
        if s < score_threshold:
            continue
        c = _field(d, "category_id", what)
        if c not in cidx:
            raise UnknownIdError(f"{what}: unknown category_id {c!r}")
        d_img.append(img_index.setdefault(_field(d, "image_id", what), len(img_index)))
        d_geo.append(_field(d, geo, what))
        d_cls.append(cidx[c])
        d_score.append(s)
    gcls = np.array(g_cls, dtype=np.int64)
    dcls = np.array(d_cls, dtype=np.int64)
    crowd = np.array(g_crowd, dtype=bool)
    groups = build_groups(
        np.array(d_img, dtype=np.int64),
        np.array(g_img, dtype=np.int64),
        len(img_index),
        dt_score=np.array(d_score, dtype=np.float64),
        gt_iscrowd=crowd,
    )
    sizes = [None] * len(img_index)
    for im_id, g in img_index.items():
        sizes[g] = image_sizes.get(im_id)
    ious = _grouped_overlaps(d_geo, g_geo, groups, geo, sizes)
    # COCO's greedy rule (ioukit.matching.match_coco): best score first, each detection
    # takes the free GT of highest IoU >= iou_threshold (later GT win ties), regular GT
    # before crowd regions; a detection on a crowd region is ignored (flag 2).
    flags, rec = match_coco(
        ious,
        groups,
        np.zeros(gcls.size),
        np.zeros(dcls.size),
        float(iou_threshold),
        record_area=0,
    )
    flag = flags[:, 0, 0]
    rows = groups.dt_index
    tp = flag == TP
    matched_gt = rec.gt_row[tp, 0]
    np.add.at(M, (gcls[matched_gt], dcls[rows[tp]]), 1)
    missed = ~crowd
    missed[matched_gt] = False
    np.add.at(M[:, K], gcls[missed], 1)
    # unmatched detections are false alarms; those ignored on a crowd region are not
    np.add.at(M[K], dcls[rows[flag == FP]], 1)
    return ConfusionMatrix(M, cat_ids, names, float(iou_threshold), float(score_threshold))
