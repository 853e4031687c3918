"""One exception hierarchy for everything ioukit rejects.

Every exception raised for bad input derives from :class:`IoukitError`, and its
message names *what* is wrong and *where* (row index, annotation id, image id,
file and position), so that a user can find the offending datum without a
debugger.

Each class also derives from the closest built-in (``ValueError``, ``KeyError``
...), so code that already catches those keeps working.

Example
-------
>>> import numpy as np
>>> from ioukit import boxes
>>> from ioukit.errors import InvalidBoxesError
>>> try:
...     boxes.validate(np.array([[0.0, 0.0, -1.0, 1.0]]))
... except InvalidBoxesError as e:
...     print("row 0" in str(e))
True
"""

from __future__ import annotations

__all__ = [
    "IoukitError",
    "InvalidBoxesError",
    "InvalidFormatError",
    "ShapeMismatchError",
    "InvalidMaskError",
    "InvalidRLEError",
    "InvalidPolygonError",
    "DatasetError",
    "UnknownIdError",
    "DuplicateIdError",
    "MissingFieldError",
    "MalformedJSONError",
    "InvalidParameterError",
    "BackendError",
    "MissingDependencyError",
    "WorkersLostError",
]


class IoukitError(Exception):
    """Base class of every error ioukit raises on purpose."""


class InvalidParameterError(IoukitError, ValueError):
    """A keyword argument has a value outside its documented domain."""


class InvalidFormatError(InvalidParameterError):
    """An unknown box format / layout name (e.g. ``fmt="xyzw"``)."""


class ShapeMismatchError(IoukitError, ValueError):
    """Arrays whose shapes do not fit together (e.g. last axis is not 4)."""


class BackendError(IoukitError, TypeError):
    """Inputs from different array libraries, or an unsupported array type."""


class InvalidBoxesError(IoukitError, ValueError):
    """Box coordinates that are NaN/inf or have negative width/height."""


class InvalidMaskError(IoukitError, ValueError):
    """A dense mask with the wrong shape, dtype or value range."""


class InvalidRLEError(IoukitError, ValueError):
    """A corrupt COCO run-length encoding (bad string, counts not summing to h*w)."""


class InvalidPolygonError(IoukitError, ValueError):
    """A polygon with fewer than 3 points, an odd number of coordinates, or NaN."""


class DatasetError(IoukitError, ValueError):
    """A ground-truth or results dataset that breaks the COCO schema."""


class UnknownIdError(DatasetError, KeyError):
    """A reference to an image / category / annotation id that does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class DuplicateIdError(DatasetError):
    """Two entries share an id that must be unique."""


class MissingFieldError(DatasetError, KeyError):
    """A required field is absent from an annotation, image or result."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MalformedJSONError(DatasetError):
    """A file that is not valid JSON; the message names the file and position."""


class MissingDependencyError(IoukitError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class WorkersLostError(IoukitError, RuntimeError):
    """A distributed run has no worker left (or could not start one); names the run."""
