"""Box layouts: checking inputs, converting between formats, area, validation.

Layouts (last axis of 4):

- ``xyxy``:    ``(x1, y1, x2, y2)``, corners; the layout every measure works in.
- ``xywh``:    ``(x1, y1, w, h)``, top-left corner and size (COCO's ``bbox``).
- ``cxcywh``:  ``(cx, cy, w, h)``, centre and size (YOLO, DETR).
- ``xyxyn``, ``xywhn``, ``cxcywhn``: the same, with x and w divided by the
  image width and y and h by the image height (``image_size=(width, height)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import (
    as_numeric_array,
    is_compiling,
    is_jax,
    is_numpy,
    is_torch,
    namespace,
    to_floating,
)
from ..errors import (
    InvalidBoxesError,
    InvalidFormatError,
    InvalidParameterError,
    ShapeMismatchError,
)

__all__ = ["FORMATS", "convert", "area", "validate"]

FORMATS = ("xyxy", "xywh", "cxcywh", "xyxyn", "xywhn", "cxcywhn")

Array = Any


def check_format(fmt: Any, argname: str = "fmt") -> tuple[str, bool]:
    """Return ``(base_layout, normalized)`` for a format name or raise InvalidFormatError."""
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise InvalidFormatError(
            f"{argname}={fmt!r} is not a box format; expected one of {', '.join(FORMATS)}"
        )
    normalized = fmt.endswith("n")
    return (fmt[:-1] if normalized else fmt), normalized


def check_image_size(image_size: Any, why: str) -> tuple[Any, Any]:
    """Return ``(width, height)`` from ``image_size`` or raise InvalidParameterError."""
    if image_size is None:
        raise InvalidParameterError(f"image_size=(width, height) is required {why}")
    try:
        width, height = image_size
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"image_size must be a pair (width, height); got {image_size!r}"
        ) from None
    for label, v in (("width", width), ("height", height)):
        if isinstance(v, (int, float, np.number)) and not (np.isfinite(v) and v > 0):
            raise InvalidParameterError(
                f"image_size {label} must be a positive finite number; got {v!r}"
            )
    return width, height


def as_box_array(boxes: Any, name: str) -> Array:
    """Lists/tuples -> NumPy; check the last axis is 4. Arrays pass through.

    An empty 1-D input (``[]``, ``np.zeros(0)``, ``torch.empty(0)``) is read as
    zero boxes, shape (0, 4), in every module (boxes, nms, losses); a NumPy array in
    a non-native byte order is converted to native order.
    """
    if isinstance(boxes, (list, tuple)):
        boxes = as_numeric_array(boxes, name, np.float64)
    elif isinstance(boxes, np.ndarray) and not boxes.dtype.isnative:
        boxes = as_numeric_array(boxes, name)
    shape = getattr(boxes, "shape", None)
    if shape is None:
        raise ShapeMismatchError(f"{name} must be an array of boxes [..., 4]; got {type(boxes)}")
    if len(shape) == 1 and shape[0] == 0:
        boxes = boxes.reshape((0, 4))
        shape = boxes.shape
    if len(shape) == 0 or shape[-1] != 4:
        raise ShapeMismatchError(
            f"{name} must have a last axis of 4 (box coordinates); got shape {tuple(shape)}"
        )
    return boxes


def is_tracer(x: Any) -> bool:
    """True for a JAX tracer (inside ``jax.jit``/``grad``), whose values are unknown."""
    if not is_jax(x):
        return False
    import jax

    return isinstance(x, jax.core.Tracer)


def to_host(x: Any) -> np.ndarray:
    """Copy an array to a NumPy array (error paths only)."""
    if is_numpy(x):
        return np.asarray(x)
    if is_torch(x):
        x = x.detach().cpu()
        if not x.dtype.is_floating_point or x.dtype.itemsize >= 4:
            return x.numpy()
        return x.float().numpy()
    return np.asarray(x).astype(np.float64) if np.asarray(x).dtype.kind == "V" else np.asarray(x)


_FIELDS = {
    "xyxy": ("x1", "y1", "x2", "y2"),
    "xywh": ("x1", "y1", "w", "h"),
    "cxcywh": ("cx", "cy", "w", "h"),
}


def check_boxes(xp: Any, boxes: Array, fmt: str, name: str) -> None:
    """Raise InvalidBoxesError for the first row with NaN/inf or negative size.

    Skipped for JAX tracers (values unknown under ``jax.jit``). On a GPU the
    check synchronises once (one ``any`` reduction).
    """
    if is_tracer(boxes) or is_compiling():
        return
    base, _ = check_format(fmt)
    if base == "xyxy":
        neg_w = boxes[..., 2] < boxes[..., 0]
        neg_h = boxes[..., 3] < boxes[..., 1]
    else:
        neg_w = boxes[..., 2] < 0
        neg_h = boxes[..., 3] < 0
    nonfinite = ~xp.all(xp.isfinite(boxes), axis=-1)
    bad = nonfinite | neg_w | neg_h
    anybad = xp.any(bad)
    # inside a jit trace even operations on concrete arrays give tracers
    if is_tracer(anybad) or not bool(anybad):
        return
    bad_h = to_host(bad)
    idx = tuple(int(i) for i in np.argwhere(bad_h)[0])
    row = to_host(boxes)[idx]
    fields = _FIELDS[base]
    values = ", ".join(f"{f}={float(v)!r}" for f, v in zip(fields, row))
    if not np.all(np.isfinite(row)):
        why = "has a NaN or infinite coordinate"
    elif base == "xyxy":
        why = "has x2 < x1" if row[2] < row[0] else "has y2 < y1"
    else:
        why = "has a negative width" if row[2] < 0 else "has a negative height"
    where = f"row {idx[0]}" if len(idx) == 1 else f"row {idx}"
    raise InvalidBoxesError(f"{name}: {where} {why} ({fmt}: {values})")


def _unstack(boxes: Array) -> tuple[Array, Array, Array, Array]:
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def to_xyxy(xp: Any, boxes: Array, fmt: str, image_size: Any = None) -> Array:
    """Convert floating ``boxes`` from ``fmt`` to absolute xyxy (no checks)."""
    base, normalized = check_format(fmt)
    if base == "xyxy" and not normalized:
        return boxes
    return _convert_float(xp, boxes, fmt, "xyxy", image_size)


def _convert_float(xp: Any, boxes: Array, src: str, dst: str, image_size: Any) -> Array:
    sbase, snorm = check_format(src, "src")
    dbase, dnorm = check_format(dst, "dst")
    c0, c1, c2, c3 = _unstack(boxes)
    # to corners
    if sbase == "xywh":
        c2, c3 = c0 + c2, c1 + c3
    elif sbase == "cxcywh":
        hw, hh = c2 * 0.5, c3 * 0.5
        c0, c1, c2, c3 = c0 - hw, c1 - hh, c0 + hw, c1 + hh
    # rescale only when exactly one side is normalized
    if snorm != dnorm:
        width, height = check_image_size(image_size, f"to convert {src!r} to {dst!r}")
        if snorm:
            c0, c1, c2, c3 = c0 * width, c1 * height, c2 * width, c3 * height
        else:
            c0, c1, c2, c3 = c0 / width, c1 / height, c2 / width, c3 / height
    # from corners
    if dbase == "xywh":
        c2, c3 = c2 - c0, c3 - c1
    elif dbase == "cxcywh":
        c0, c1, c2, c3 = (c0 + c2) * 0.5, (c1 + c3) * 0.5, c2 - c0, c3 - c1
    return xp.stack((c0, c1, c2, c3), axis=-1)


def convert(boxes: Any, src: str, dst: str, *, image_size: Any = None) -> Array:
    """Convert boxes between layouts.

    Parameters
    ----------
    boxes : array [..., 4]
        NumPy, torch or JAX array (lists are converted with ``np.asarray``).
    src, dst : str
        One of ``xyxy``, ``xywh``, ``cxcywh``, ``xyxyn``, ``xywhn``, ``cxcywhn``.
    image_size : (width, height), optional
        Required when exactly one of ``src``/``dst`` is a normalized form.

    Returns
    -------
    array [..., 4]
        Same library, device and floating dtype; integers are promoted (float64
        on NumPy, float32 elsewhere). Differentiable. No validation is done.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import convert
    >>> convert(np.array([[10.0, 20.0, 30.0, 40.0]]), "xywh", "xyxy")
    array([[10., 20., 40., 60.]])
    >>> convert(np.array([[0.5, 0.5, 0.2, 0.4]]), "cxcywhn", "xyxy", image_size=(100, 50))
    array([[40., 15., 60., 35.]])
    """
    boxes = as_box_array(boxes, "boxes")
    check_format(src, "src")
    check_format(dst, "dst")
    xp = namespace(boxes)
    boxes = to_floating(boxes, xp)
    if src == dst:
        return boxes
    return _convert_float(xp, boxes, src, dst, image_size)


def area(boxes: Any, fmt: str = "xyxy", *, image_size: Any = None) -> Array:
    """Area of each box: [..., 4] -> [...].

    For normalized formats without ``image_size`` the area is in normalized
    units (fraction of the image); with it, in pixels. No validation is done
    (a box with x2 < x1 has negative area); see :func:`validate`.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import area
    >>> area(np.array([[0, 0, 2, 3], [1, 1, 1, 5]]))
    array([6., 0.])
    >>> float(area(np.array([[0.5, 0.5, 0.2, 0.5]]), "cxcywhn", image_size=(640, 480))[0])
    30720.0
    """
    boxes = as_box_array(boxes, "boxes")
    base, normalized = check_format(fmt)
    xp = namespace(boxes)
    boxes = to_floating(boxes, xp)
    c0, c1, c2, c3 = _unstack(boxes)
    w, h = (c2 - c0, c3 - c1) if base == "xyxy" else (c2, c3)
    out = w * h
    if normalized and image_size is not None:
        width, height = check_image_size(image_size, "")
        out = out * (width * height)
    return out


def validate(boxes: Any, fmt: str = "xyxy", *, name: str = "boxes") -> Any:
    """Check boxes and return them unchanged.

    Raises :class:`~ioukit.errors.InvalidBoxesError` naming the first bad row
    (and ``name``) for a NaN or infinite coordinate or a negative size (x2 < x1
    or y2 < y1 for corner formats; w < 0 or h < 0 for the others). Zero-size
    boxes are valid. Under ``jax.jit`` the values are unknown and only the
    shape is checked.

    Raises
    ------
    ShapeMismatchError
        When the last axis is not 4.
    InvalidFormatError
        For an unknown ``fmt``.

    Examples
    --------
    >>> import numpy as np
    >>> from ioukit.boxes import validate
    >>> validate(np.array([[0.0, 0.0, 1.0, 1.0]])).shape
    (1, 4)
    >>> validate(np.array([[0.0, 0.0, 1.0, 1.0], [5.0, 0.0, 2.0, 1.0]]))
    Traceback (most recent call last):
    ...
    ioukit.errors.InvalidBoxesError: boxes: row 1 has x2 < x1 (xyxy: x1=5.0, y1=0.0, x2=2.0, y2=1.0)
    """
    boxes = as_box_array(boxes, name)
    check_format(fmt)
    check_boxes(namespace(boxes), boxes, fmt, name)
    return boxes
