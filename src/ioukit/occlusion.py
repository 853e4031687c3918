"""Occlusion and amodal diagnostics: visible fraction, the IoU ceiling of visible-only
predictions, and AP split by occlusion.

An *amodal* annotation covers the whole object, hidden parts included; the *visible*
annotation covers what the camera sees. With ``|.|`` the area:

    visible fraction   v = |V n A| / |A|,        hidden fraction  alpha = 1 - v

**The ceiling.** A prediction P that covers only visible parts (P inside V) scores
at most ``1 - alpha`` against the amodal annotation:

    IoU(P, A) = |P n A| / |P u A| <= |V n A| / |A| = 1 - alpha,

since ``P n A`` lies in ``V n A`` (P lies in V) and ``P u A`` contains ``A``. When V
lies inside A (the usual case) the bound is reached by P = V: ``IoU(V, A) = |V| / |A|``.
The same argument holds for masks (pixel counts) and for boxes (V the visible box,
A the amodal box, P any box inside V). So a detector that boxes only the visible part
of an object hidden at more than half (``alpha > 0.5``) is a false positive at IoU 0.5
against amodal ground truth, however well it localises what it sees.

**AP by occlusion** (:func:`evaluate_by_occlusion`) is a sliced COCO evaluation
(``ioukit.coco.evaluate_slices``, annotation-level): per occlusion bin, the GT outside
the bin are ignored, as COCO's area ranges ignore GT outside a range. Detections carry
no occlusion, so an unmatched detection is a false positive in every bin (KITTI
counts unmatched detections the same way at every difficulty).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .boxes import ioa
from .errors import InvalidParameterError, MissingFieldError, ShapeMismatchError

__all__ = [
    "visible_fraction",
    "hidden_fraction",
    "amodal_iou_bound",
    "evaluate_by_occlusion",
    "VISIBILITY_BINS",
]

#: default bins of the visible fraction (closed intervals, COCO's area-range rule)
VISIBILITY_BINS = {"heavy": (0.0, 0.35), "partial": (0.35, 0.8), "none": (0.8, 1.0)}


def visible_fraction(visible: Any, amodal: Any, *, kind: str = "box", fmt: str = "xyxy") -> Any:
    """``|V n A| / |A|``: the part of the amodal region that is visible, in [0, 1].

    Parameters
    ----------
    visible, amodal :
        ``kind="box"``: boxes ``[..., 4]`` (any array library ``ioukit.boxes`` takes),
        one visible box per amodal box; ``kind="mask"``: boolean masks ``[..., H, W]``
        (NumPy), compared pixel by pixel.
    kind : "box" | "mask"
    fmt : box layout (``"xyxy"``, ``"xywh"``, ``"cxcywh"``)

    Returns
    -------
    ``[...]`` fractions; an empty amodal region gives 0.

    Example
    -------
    >>> import numpy as np
    >>> visible_fraction(np.array([[0., 0., 10., 4.]]), np.array([[0., 0., 10., 10.]]))
    array([0.4])
    >>> m = np.zeros((1, 4, 4), bool); m[0, :2] = True
    >>> visible_fraction(m, np.ones((1, 4, 4), bool), kind="mask")
    array([0.5])
    """
    if kind == "box":
        return ioa(amodal, visible, aligned=True, fmt=fmt)
    if kind != "mask":
        raise InvalidParameterError(f"kind must be 'box' or 'mask', got {kind!r}")
    v, a = np.asarray(visible, dtype=bool), np.asarray(amodal, dtype=bool)
    if v.shape != a.shape or v.ndim < 2:
        raise ShapeMismatchError(f"visible {v.shape} and amodal {a.shape}: equal [..., H, W]")
    inter = np.count_nonzero(v & a, axis=(-2, -1)).astype(np.float64)
    area = np.count_nonzero(a, axis=(-2, -1)).astype(np.float64)
    return np.divide(inter, area, out=np.zeros_like(inter), where=area > 0)


def hidden_fraction(visible: Any, amodal: Any, *, kind: str = "box", fmt: str = "xyxy") -> Any:
    """``alpha = 1 - visible_fraction``: the hidden part of the amodal region.

    >>> import numpy as np
    >>> hidden_fraction(np.array([[0., 0., 10., 4.]]), np.array([[0., 0., 10., 10.]]))
    array([0.6])
    """
    return 1 - visible_fraction(visible, amodal, kind=kind, fmt=fmt)


def amodal_iou_bound(visible: Any, amodal: Any, *, kind: str = "box", fmt: str = "xyxy") -> Any:
    """The best IoU against the amodal region of any prediction inside the visible one.

    ``1 - alpha = |V n A| / |A|`` (the proof is in the module docstring); reached by
    the visible region itself when it lies inside the amodal one.

    Example
    -------
    A person hidden at 60% (legs behind a car): boxing what is visible gives IoU 0.4
    against the amodal box, below the 0.5 threshold.

    >>> import numpy as np
    >>> from ioukit.boxes import iou
    >>> v, a = np.array([[0., 0., 10., 4.]]), np.array([[0., 0., 10., 10.]])
    >>> amodal_iou_bound(v, a), iou(v, a, aligned=True)
    (array([0.4]), array([0.4]))
    """
    return visible_fraction(visible, amodal, kind=kind, fmt=fmt)


# ------------------------------------------------------------------ AP by occlusion
def _raw(gt: Any) -> Mapping:
    if isinstance(gt, Mapping):
        return gt
    if isinstance(gt, (str, os.PathLike)):
        import json

        with open(gt, "rb") as f:
            return json.load(f)
    raise InvalidParameterError("gt must be a COCO JSON path or dict")


def _visibility_values(anns: list, field: str) -> dict[int, float | None]:
    # COCO-style: "bbox" is the amodal box, `field` the visible box, both [x, y, w, h]
    ids, vis, full = [], [], []
    out: dict[int, float | None] = {}
    for a in anns:
        if field in a and a[field] is not None and "bbox" in a:
            ids.append(int(a["id"]))
            vis.append(a[field])
            full.append(a["bbox"])
        else:
            out[int(a["id"])] = None
    if ids:
        v = visible_fraction(
            np.asarray(vis, dtype=np.float64), np.asarray(full, dtype=np.float64), fmt="xywh"
        )
        out.update(zip(ids, np.asarray(v).tolist()))
    return out


def evaluate_by_occlusion(
    gt: Any,
    dt: Any,
    *,
    visibility: str | Callable = "visible_bbox",
    bins: Mapping | list | None = None,
    iou_type: str = "bbox",
    **params: Any,
) -> dict[str, Any]:
    """COCO AP / AR per occlusion bin: ``{bin: CocoResult}``.

    Parameters
    ----------
    gt, dt : as :func:`ioukit.coco.evaluate` (the GT's ``bbox`` is the amodal box)
    visibility :
        ``"visible_bbox"`` (default) or the name of another annotation field holding
        the visible box ``[x, y, w, h]``: binned by visible fraction
        (:data:`VISIBILITY_BINS`, or ``bins``); ``"occluded"`` / ``"occlusion"`` or any
        field holding a level (KITTI: 0 fully visible, 1 partly occluded, 2 largely
        occluded, 3 unknown): one slice per level, or binned with ``bins``; a
        callable on each annotation record returning a level or fraction.
        Annotations without the field are in no bin.
    bins : ``{name: (lo, hi)}`` or edges (closed intervals)
    iou_type, **params : as :func:`ioukit.coco.evaluate`

    Example
    -------
    A fully visible and a half-hidden object; the detector finds only the first:

    >>> ann = lambda i, vis: {"id": i, "image_id": 1, "category_id": 1, "iscrowd": 0,
    ...     "bbox": [20 * i, 0, 10, 10], "area": 100, "visible_bbox": vis}
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
    ...       "annotations": [ann(1, [20, 0, 10, 10]), ann(2, [40, 0, 10, 5])]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [20, 0, 10, 10], "score": 0.9}]
    >>> r = evaluate_by_occlusion(gt, dt)
    >>> {k: round(float(v.stats[1]), 3) for k, v in r.items()}  # AP at IoU 0.5
    {'heavy': -1.0, 'partial': 0.0, 'none': 1.0}
    """
    from .coco import evaluate_slices

    anns = list(_raw(gt).get("annotations", []))
    if callable(visibility):
        values = {int(a["id"]): visibility(a) for a in anns}
    elif not isinstance(visibility, str):
        raise InvalidParameterError("visibility must be a field name or a callable")
    elif not any(visibility in a for a in anns):
        raise MissingFieldError(f"no annotation has the field {visibility!r}")
    elif all(
        isinstance(a.get(visibility), (list, tuple)) for a in anns if a.get(visibility) is not None
    ):
        values = _visibility_values(anns, visibility)
        bins = VISIBILITY_BINS if bins is None else bins
    else:
        values = {int(a["id"]): a.get(visibility) for a in anns}
    return evaluate_slices(
        gt, dt, values, level="annotation", bins=bins, iou_type=iou_type, **params
    )
