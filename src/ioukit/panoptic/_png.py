"""Panoptic PNGs: segment ids stored as colours (``id = R + 256 G + 256**2 B``).

Reading returns the decoded bytes without converting them to ids: the kernel reads
the three channels of each pixel itself, so no ``H x W`` int array is made per image.

Two decoders give the same bytes: ``"builtin"`` (8-bit RGB / RGBA, non-interlaced, the
panoptic format; chunk CRCs checked, inflate and unfiltering in ``_pngkernel``), about
4x faster than Pillow on panoptic images because they are almost all long
back-references, and Pillow (every other PNG, and anything the built-in decoder
rejects, so Pillow reports real corruption). Pillow is imported on first use (the
``images`` extra).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from ..errors import DatasetError, InvalidParameterError, MissingDependencyError

__all__ = ["Pixels", "read_pixels", "rgb2id", "id2rgb", "write_png", "DECODERS"]

#: ``read_pixels(decoder=)``: built-in for the panoptic format, else Pillow; or Pillow only
DECODERS = ("auto", "pillow")


class Pixels(NamedTuple):
    """Decoded RGB(A) bytes: pixel (y, x) starts at ``start + y * stride + x * channels``."""

    data: np.ndarray  # uint8, 1-D
    stride: int
    start: int
    channels: int
    height: int
    width: int


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - Pillow is in the test environment
        raise MissingDependencyError(
            "ioukit.panoptic reads and writes PNGs with Pillow: pip install ioukit[images]"
        ) from e
    return Image


def rgb2id(color: Any) -> Any:
    """Segment ids of an ``[..., 3]`` RGB array (panopticapi.utils.rgb2id), int64.

    >>> int(rgb2id(np.array([[[1, 2, 3]]], np.uint8))[0, 0]) == 1 + 2 * 256 + 3 * 65536
    True
    """
    c = np.asarray(color)
    if c.ndim < 1 or c.shape[-1] < 3:
        raise DatasetError(f"rgb2id: expected an [..., 3] RGB array, got shape {c.shape}")
    c = c.astype(np.int64, copy=False)
    return c[..., 0] + 256 * c[..., 1] + 65536 * c[..., 2]


def id2rgb(ids: Any) -> np.ndarray:
    """The RGB colours (uint8, ``[..., 3]``) that encode segment ids in ``[0, 2**24)``.

    >>> id2rgb(np.array([[1 + 2 * 256 + 3 * 65536]])).tolist()
    [[[1, 2, 3]]]
    """
    a = np.asarray(ids, dtype=np.int64)
    if a.size and (a.min() < 0 or a.max() >= 1 << 24):
        raise DatasetError("id2rgb: segment ids must lie in [0, 2**24) to fit in RGB")
    out = np.empty(a.shape + (3,), np.uint8)
    out[..., 0] = a & 255
    out[..., 1] = (a >> 8) & 255
    out[..., 2] = (a >> 16) & 255
    return out


def _decode_builtin(raw: bytes, scratch: list[np.ndarray] | None = None) -> Pixels | None:
    """The pixels of an 8-bit RGB/RGBA non-interlaced PNG; None for anything else.

    ``scratch``: a one-array list whose array is reused (and replaced when too small)
    for the decoded bytes: a fresh 200 kB array is paged in on every image (~48 page
    faults, as long as the decoding itself).
    """
    from ._pngkernel import decode_png_bytes

    out = decode_png_bytes(raw, scratch if scratch is not None else [np.empty(0, np.uint8)])
    if out is None:
        return None
    data, stride, c, h, w = out
    return Pixels(data, stride, 1, c, h, w)


def read_pixels(
    path: str | os.PathLike[str], decoder: str = "auto", scratch: list[np.ndarray] | None = None
) -> Pixels:
    """Decode one panoptic PNG (8-bit RGB or RGBA; alpha is ignored, as panopticapi does).

    ``decoder``: ``"auto"`` (the built-in decoder for 8-bit RGB/RGBA, Pillow for the
    rest) or ``"pillow"``. ``scratch``: reusable output memory (see ``_decode_builtin``);
    the pixels are then valid until the next call with the same scratch.
    """
    if decoder == "auto":
        with open(path, "rb") as fh:
            raw = fh.read()
        px = _decode_builtin(raw, scratch)
        if px is not None:
            return px
    elif decoder != "pillow":
        raise InvalidParameterError(f"decoder={decoder!r}: expected one of {DECODERS}")
    Image = _pillow()
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode not in ("RGB", "RGBA"):
                raise DatasetError(
                    f"{os.fspath(path)}: a panoptic PNG is RGB (ids as colours), got mode {mode}"
                )
            a = np.asarray(im)
    except FileNotFoundError:
        raise
    except (OSError, SyntaxError, ValueError) as e:  # Pillow's words for a broken file
        raise DatasetError(f"{os.fspath(path)}: not a readable PNG ({e})") from e
    h, w, c = a.shape
    return Pixels(a.reshape(-1), w * c, 0, c, h, w)


def write_png(path: str | os.PathLike[str], ids: Any) -> None:
    """Write an ``H x W`` id map as a panoptic PNG (RGB, ``id2rgb``).

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> write_png(path, np.array([[0, 1], [70000, 2**24 - 1]]))
    >>> px = read_pixels(path)
    >>> rgb = px.data.reshape(px.height, px.stride)[:, px.start:].reshape(2, 2, 3)
    >>> rgb2id(rgb).tolist()
    [[0, 1], [70000, 16777215]]
    """
    _pillow().fromarray(id2rgb(ids)).save(path, format="PNG")
