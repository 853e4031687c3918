"""COCO run-length encoding (RLE), compatible with pycocotools' ``mask`` module.

An RLE is a dict ``{"size": [h, w], "counts": bytes}``; the counts alternate
background / foreground run lengths over the pixels in column-major order
(starting with background), compressed into COCO's ASCII string. Every function
gives the same bytes and numbers as pycocotools 2.0.11 (maskApi.c), with
compiled (Cython) kernels that work on the runs themselves.

Example
-------
>>> import numpy as np
>>> from ioukit import rle
>>> m = np.zeros((4, 4), np.uint8); m[1:3, 1:3] = 1
>>> r = rle.encode(m)
>>> r
{'size': [4, 4], 'counts': b'52203'}
>>> int(rle.area(r)), rle.to_bbox(r).tolist()
(4, [1.0, 1.0, 2.0, 2.0])
"""

from __future__ import annotations

from ._api import (
    area,
    boundary,
    boundary_iou,
    decode,
    dilation_width,
    encode,
    from_bbox,
    from_objects,
    from_polygons,
    from_string,
    from_uncompressed,
    iou,
    merge,
    to_bbox,
    to_string,
)

__all__ = [
    "encode",
    "decode",
    "area",
    "to_bbox",
    "merge",
    "iou",
    "from_polygons",
    "from_bbox",
    "from_uncompressed",
    "from_objects",
    "to_string",
    "from_string",
    "boundary",
    "boundary_iou",
    "dilation_width",
]
