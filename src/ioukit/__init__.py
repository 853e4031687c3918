"""ioukit: Intersection over Union and everything built on it.

Submodules (import what you need; nothing heavy is imported here):

- :mod:`ioukit.boxes`   axis-aligned boxes: formats, area, IoU and its variants
- :mod:`ioukit.sets`    Jaccard of plain sets / label arrays, Dice <-> IoU
- :mod:`ioukit.errors`  the exception hierarchy
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
