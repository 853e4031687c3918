"""Renamed arguments: the old name keeps working for a while, with a DeprecationWarning.

ioukit gives a thing one name across modules (docs/architecture.md, "Names"):
``iou_threshold`` for a threshold on overlap, ``zero_division`` for what an empty union
gives, ``fmt`` for a box layout. Where a public argument had another name, the old one
is accepted as a keyword through :func:`renamed`, which warns and forwards it.
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import InvalidParameterError

__all__ = ["UNSET", "renamed"]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: Default of a deprecated keyword: "not given".
UNSET: Any = _Unset()


def renamed(where: str, old: str, new: str, old_value: Any, new_value: Any, default: Any) -> Any:
    """The value of argument ``new`` of ``where``, taking the deprecated ``old`` if given.

    Giving both (``new`` not at its ``default``) is an error.

    >>> renamed("f", "iou_thr", "iou_threshold", UNSET, 0.5, 0.5)
    0.5
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     v = renamed("f", "iou_thr", "iou_threshold", 0.7, 0.5, 0.5)
    >>> v, str(w[0].message)
    (0.7, 'f(iou_thr=...) is deprecated; use iou_threshold=... (the same meaning)')
    """
    if old_value is UNSET:
        return new_value
    if new_value is not default and new_value != default:
        raise InvalidParameterError(
            f"{where}: give {new}= only ({old}= is its deprecated name), not both"
        )
    warnings.warn(
        f"{where}({old}=...) is deprecated; use {new}=... (the same meaning)",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value
