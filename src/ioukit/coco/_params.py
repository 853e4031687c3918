"""Evaluation parameters, named and built exactly as pycocotools' ``Params`` does.

The thresholds are made with ``np.linspace`` the way pycocotools 2.0.11 makes them
(``cocoeval.py``, ``Params.setDetParams``), so that ``iouThrs[1]`` is the very same
float (``0.55000000000000004...``) and the ``min(t, 1 - 1e-10)`` tweak and the
``iouThr == p.iouThrs`` look-ups in ``summarize`` behave identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import field
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import InvalidParameterError

__all__ = ["Params", "make_params", "PARAM_NAMES"]

PARAM_NAMES = (
    "imgIds",
    "catIds",
    "iouThrs",
    "recThrs",
    "areaRng",
    "areaRngLbl",
    "maxDets",
    "useCats",
)


def _default_iou_thrs() -> np.ndarray:
    # pycocotools cocoeval.py Params.setDetParams (np.arange would drift: see its comment)
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _default_rec_thrs() -> np.ndarray:
    # pycocotools cocoeval.py Params.setDetParams
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def _default_area_rng() -> list[list[float]]:
    return [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]


_DEFAULT_LABELS = ["all", "small", "medium", "large"]


@lightclass
class Params:
    """COCO evaluation parameters under pycocotools' names.

    Attributes
    ----------
    iouType : str
        ``"bbox"``, ``"segm"`` or ``"boundary"``.
    imgIds : list[int]
        Images evaluated (sorted, unique, as ``COCOeval.evaluate`` makes them).
    catIds : list[int]
        Categories (sorted and unique when ``useCats``; the given order otherwise).
    iouThrs : ndarray, shape (T,)
    recThrs : ndarray, shape (R,)
    maxDets : list[int], length M, sorted ascending
    areaRng : list[[lo, hi]], length A
    areaRngLbl : list[str], length A
    useCats : int
        1: match within categories; 0: ignore labels (proposal recall).

    Example
    -------
    >>> p = Params()
    >>> p.iouThrs.shape, p.recThrs.shape, p.maxDets
    ((10,), (101,), [1, 10, 100])
    """

    iouType: str = "bbox"
    imgIds: list[int] = field(default_factory=list)
    catIds: list[int] = field(default_factory=list)
    iouThrs: np.ndarray = field(default_factory=_default_iou_thrs)
    recThrs: np.ndarray = field(default_factory=_default_rec_thrs)
    maxDets: list[int] = field(default_factory=lambda: [1, 10, 100])
    areaRng: list[list[float]] = field(default_factory=_default_area_rng)
    areaRngLbl: list[str] = field(default_factory=lambda: list(_DEFAULT_LABELS))
    useCats: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy (arrays as lists).

        >>> Params().to_dict()["maxDets"]
        [1, 10, 100]
        """
        return {
            "iouType": self.iouType,
            "imgIds": [int(i) for i in self.imgIds],
            "catIds": [int(c) for c in self.catIds],
            "iouThrs": [float(t) for t in self.iouThrs],
            "recThrs": [float(r) for r in self.recThrs],
            "maxDets": [int(m) for m in self.maxDets],
            "areaRng": [[float(a), float(b)] for a, b in self.areaRng],
            "areaRngLbl": list(self.areaRngLbl),
            "useCats": int(self.useCats),
        }

    def fingerprint(self) -> tuple:
        """What must agree for two evaluation states to be merged (everything but imgIds).

        >>> Params().fingerprint() == Params().fingerprint()
        True
        """
        d = self.to_dict()
        d.pop("imgIds")
        return tuple((k, repr(v)) for k, v in sorted(d.items()))


def _float_vector(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(
            f"{name} must be a 1-D sequence of numbers; got {value!r}"
        ) from e
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidParameterError(
            f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite; got {arr.tolist()}")
    return arr


def _int_list(name: str, value: Any) -> list[int]:
    if isinstance(value, (int, np.integer)):
        value = [value]
    try:
        out = [int(v) for v in value]
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(
            f"{name} must be a sequence of integer ids; got {value!r}"
        ) from e
    for v, o in zip(value, out):
        if isinstance(v, (float, np.floating)) and float(v) != o:
            raise InvalidParameterError(f"{name} must hold integers; got {v!r}")
    return out


def make_params(
    iou_type: str = "bbox",
    *,
    gt_img_ids: Iterable[int] = (),
    gt_cat_ids: Iterable[int] = (),
    **overrides: Any,
) -> Params:
    """Build :class:`Params` the way ``COCOeval.__init__`` + ``evaluate`` normalise them.

    ``imgIds`` defaults to every GT image and ``catIds`` to every GT category; both
    are then sorted and de-duplicated (as pycocotools' ``np.unique``), ``maxDets`` is sorted.

    Parameters
    ----------
    iou_type : str
        Geometry used for IoU (see :func:`ioukit.coco.iou_types`).
    gt_img_ids, gt_cat_ids : iterable of int
        Defaults for ``imgIds`` / ``catIds``.
    **overrides
        Any of ``imgIds, catIds, iouThrs, recThrs, areaRng, areaRngLbl, maxDets, useCats``.

    Example
    -------
    >>> p = make_params(gt_img_ids=[3, 1, 2], gt_cat_ids=[7], maxDets=[100, 1, 10])
    >>> p.imgIds, p.maxDets
    ([1, 2, 3], [1, 10, 100])
    """
    unknown = sorted(set(overrides) - set(PARAM_NAMES))
    if unknown:
        raise InvalidParameterError(
            f"unknown evaluation parameter(s) {unknown}; expected some of {list(PARAM_NAMES)}"
        )
    p = Params(iouType=iou_type)
    use_cats = overrides.get("useCats", 1)
    if use_cats not in (0, 1, True, False):
        raise InvalidParameterError(f"useCats must be 0 or 1; got {use_cats!r}")
    p.useCats = int(use_cats)
    img_ids = overrides.get("imgIds")
    img_ids = list(gt_img_ids) if img_ids is None else img_ids
    p.imgIds = sorted(set(_int_list("imgIds", img_ids)))
    cat_ids = overrides.get("catIds")
    cat_ids = list(gt_cat_ids) if cat_ids is None else cat_ids
    cats = _int_list("catIds", cat_ids)
    if p.useCats:
        cats = sorted(set(cats))
    elif len(set(cats)) != len(cats):
        # pycocotools would count such annotations twice with useCats=0
        raise InvalidParameterError(f"catIds has duplicates: {cats}")
    p.catIds = cats
    if "iouThrs" in overrides:
        p.iouThrs = _float_vector("iouThrs", overrides["iouThrs"])
    if "recThrs" in overrides:
        p.recThrs = _float_vector("recThrs", overrides["recThrs"])
    if "maxDets" in overrides:
        md = sorted(_int_list("maxDets", overrides["maxDets"]))
        if not md or md[0] < 1:
            raise InvalidParameterError(f"maxDets must be positive integers; got {md}")
        p.maxDets = md
    if "areaRng" in overrides:
        rng = overrides["areaRng"]
        try:
            arr = np.asarray(rng, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidParameterError(
                f"areaRng must be a list of [lo, hi] pairs; got {rng!r}"
            ) from e
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
            raise InvalidParameterError(f"areaRng must be a list of [lo, hi] pairs; got {rng!r}")
        p.areaRng = [list(r) for r in rng]
        if "areaRngLbl" not in overrides and len(p.areaRng) != 4:
            raise InvalidParameterError(
                f"areaRng has {len(p.areaRng)} ranges: give areaRngLbl with as many labels"
            )
    if "areaRngLbl" in overrides:
        lbl = [str(s) for s in overrides["areaRngLbl"]]
        if len(lbl) != len(p.areaRng):
            raise InvalidParameterError(
                f"areaRngLbl has {len(lbl)} labels for {len(p.areaRng)} area ranges"
            )
        p.areaRngLbl = lbl
    _check_memory(p)
    return p


def _check_memory(p: Params) -> None:
    """Refuse parameters whose result arrays cannot fit in this machine's memory.

    ``precision`` and ``scores`` are (T, R, K, A, M) float64 and ``recall`` (T, K, A, M):
    their size is known before any work, so a product too large for the RAM is refused
    here, naming the factors, instead of failing after minutes of matching.
    """
    t, r = int(np.size(p.iouThrs)), int(np.size(p.recThrs))
    k = len(p.catIds) if p.useCats else 1
    a, m = len(p.areaRng), len(p.maxDets)
    need = 8 * t * k * a * m * (2 * r + 1)
    if need < 1 << 30:  # the common case: no system call
        return
    import os

    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        ram = 1 << 40
    if need > ram // 2:
        raise InvalidParameterError(
            f"the result arrays need ~{need / 2**30:.1f} GiB ({t} IoU thresholds x {r} recall "
            f"thresholds x {k} categories x {a} area ranges x {m} maxDets, float64, "
            f"precision and scores), more than half of this machine's {ram / 2**30:.0f} GiB: "
            "use fewer thresholds, area ranges or maxDets"
        )


def area_bounds(p: Params) -> np.ndarray:
    """``areaRng`` as a float64 array of shape (A, 2)."""
    return np.asarray(p.areaRng, dtype=np.float64).reshape(len(p.areaRng), 2)


def as_sequence(x: Any) -> Sequence:
    return x if isinstance(x, (list, tuple)) else list(x)
