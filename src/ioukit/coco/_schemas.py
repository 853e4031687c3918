"""msgspec schemas and typed decoding of COCO JSON: the loader's fallback path.

The compiled byte scanner (:mod:`ioukit.io._jsonscan`) reads what it can straight into
columns; whatever it leaves (unusual layouts, NaN/Infinity literals, Python objects
given in memory) is decoded here with msgspec's typed decoder (fields the evaluation
does not need are skipped without being built), and Python objects go through
``msgspec.convert`` so that both paths give the same checks and messages. Imported on
first use, so ``import ioukit.coco`` does not pay for msgspec.
"""

from __future__ import annotations

import gc
import json
import mmap
from typing import Any

import msgspec
import numpy as np

from ..errors import DatasetError, MalformedJSONError, MissingFieldError


class Img(msgspec.Struct):
    id: int
    height: int | float = 0
    width: int | float = 0


class Cat(msgspec.Struct):
    id: int
    name: str = ""


class Ann(msgspec.Struct):
    id: int
    image_id: int
    category_id: int
    bbox: list[float]
    area: float
    iscrowd: int | bool


class AnnSeg(msgspec.Struct):
    id: int
    image_id: int
    category_id: int
    bbox: list[float]
    area: float
    iscrowd: int | bool
    segmentation: Any


class Gt(msgspec.Struct):
    images: list[Img]
    categories: list[Cat]
    annotations: list[Ann] = []


class GtSeg(msgspec.Struct):
    images: list[Img]
    categories: list[Cat]
    annotations: list[AnnSeg] = []


class AnnFast(msgspec.Struct, gc=False):
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    area: float
    iscrowd: int | bool


class GtFast(msgspec.Struct, gc=False):
    images: list[Img]
    categories: list[Cat]
    annotations: list[AnnFast] = []


class ResFast(msgspec.Struct, gc=False):
    image_id: int
    category_id: int
    score: float
    bbox: tuple[float, float, float, float]


class Res(msgspec.Struct):
    image_id: int
    category_id: int
    score: float
    bbox: list[float] | None = None


class ResSeg(msgspec.Struct):
    image_id: int
    category_id: int
    score: float
    bbox: list[float] | None = None
    segmentation: Any = None


_DEC_CACHE: dict[Any, Any] = {}


def _decoder(typ: Any) -> msgspec.json.Decoder:
    dec = _DEC_CACHE.get(typ)
    if dec is None:
        dec = _DEC_CACHE[typ] = msgspec.json.Decoder(typ)
    return dec


def _msgspec_error(e: msgspec.ValidationError, source: str) -> DatasetError:
    msg = str(e)
    if "missing required field" in msg:
        return MissingFieldError(f"{source}: {msg}")
    return DatasetError(f"{source}: {msg}")


def decode_json(buf: bytes | mmap.mmap, source: str, typ: Any, fast_typ: Any = None) -> Any:
    if fast_typ is not None:
        # strict schema (4-number boxes everywhere) decodes fastest; anything else
        # takes the general schema below, which also words the errors
        gc_was = gc.isenabled()
        gc.disable()
        try:
            return _decoder(fast_typ).decode(buf)
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
        except RecursionError:
            raise _too_deep(source) from None
        finally:
            if gc_was:
                gc.enable()
    try:
        return _decoder(typ).decode(buf)
    except msgspec.ValidationError as e:
        raise _msgspec_error(e, source) from None
    except msgspec.DecodeError:
        pass
    except RecursionError:
        raise _too_deep(source) from None
    # msgspec rejects what json.load accepts (NaN, Infinity) and reports malformed
    # input by byte offset only: the stdlib gives the line and column.
    try:
        obj = json.loads(buf if isinstance(buf, bytes) else bytes(buf))
    except RecursionError:
        raise _too_deep(source) from None
    except json.JSONDecodeError as e:
        raise MalformedJSONError(
            f"{source}: malformed JSON at line {e.lineno}, column {e.colno} (char {e.pos}): {e.msg}"
        ) from None
    except UnicodeDecodeError as e:
        raise MalformedJSONError(f"{source}: not UTF-8 text at byte {e.start}") from None
    return convert(obj, typ, source)


def _too_deep(source: str) -> MalformedJSONError:
    # The byte scanner skips ignored values nested up to 2**20 levels; past that (or in
    # a field the evaluation reads) the general decoders recurse and give up.
    return MalformedJSONError(
        f"{source}: JSON nested too deeply (more than 2**20 levels in an ignored key, or "
        "deep nesting in a field the evaluation reads)"
    )


def _plain(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    tolist = getattr(o, "tolist", None)  # torch / jax scalars and arrays
    if tolist is not None:
        return tolist()
    raise TypeError(f"{type(o).__name__} is not JSON-like")


def convert(obj: Any, typ: Any, source: str) -> Any:
    try:
        return msgspec.convert(obj, type=typ)
    except msgspec.ValidationError as e:
        first = e
    except RecursionError:
        raise _too_deep(source) from None
    # NumPy / torch scalars are not Python numbers to msgspec: make them plain, retry
    try:
        plain = json.loads(json.dumps(obj, default=_plain))
    except (TypeError, ValueError):
        raise _msgspec_error(first, source) from None
    try:
        return msgspec.convert(plain, type=typ)
    except msgspec.ValidationError as e:
        raise _msgspec_error(e, source) from None
