"""Dataclasses that cost nothing to define: the stdlib's fields, shared methods.

``@dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__`` (and, when
frozen, ``__setattr__``, ``__delattr__``, ``__hash__``) for every class and compiles it
with ``exec`` when the module is imported: ~0.5-1 ms a class on this project's 2-core
machine, ~8 ms of the ~18 ms that ``ioukit eval`` spent importing its own modules
(issue 13: a new user's first ``ioukit eval`` is a whole process, start-up included).

:func:`lightclass` keeps everything ``dataclasses`` offers to other code (the class is
a real dataclass: ``dataclasses.fields``, ``replace``, ``asdict``, ``is_dataclass``,
``__match_args__``) and replaces the generated methods by shared ones that read the
field list: nothing is compiled. An instance costs ~5 us to build instead of ~1 us,
which matters nowhere this is used (tables, parameters, results: a few per call).

Supported: defaults, ``field(default_factory=..., repr=False, compare=False,
init=False)``, ``__post_init__``, ``frozen``. Not supported (refused): ``InitVar``,
``kw_only``, ``slots``, ``order``.

Example:
    >>> from dataclasses import field, replace
    >>> @lightclass
    ... class Point:
    ...     x: float
    ...     y: float = 0.0
    ...     tags: list = field(default_factory=list)
    >>> p = Point(1.0, tags=["a"])
    >>> p, p == Point(1.0, 0.0, ["a"]), replace(p, y=2.0).y
    (Point(x=1.0, y=0.0, tags=['a']), True, 2.0)
    >>> @lightclass(frozen=True)
    ... class Key:
    ...     name: str
    >>> Key("a").name = "b"
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'name'
    >>> hash(Key("a")) == hash(Key("a"))
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["lightclass"]

T = TypeVar("T")
_MISSING = dataclasses.MISSING
_set = object.__setattr__


def _make_init(cls: type, frozen: bool) -> Callable[..., None]:
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields if f.init)
    n = len(names)
    defaults = {f.name: f.default for f in fields if f.default is not _MISSING}
    factories = {f.name: f.default_factory for f in fields if f.default_factory is not _MISSING}
    # fields outside __init__ still get their default, as dataclasses does
    hidden = tuple(f.name for f in fields if not f.init and f.name in (defaults.keys() | factories))
    post_init = hasattr(cls, "__post_init__")
    qualname = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > n:
            raise TypeError(f"{qualname}() takes {n} positional arguments, got {len(args)}")
        for name, value in zip(names, args):
            _set(self, name, value)
        for name in names[len(args) :]:
            if name in kwargs:
                _set(self, name, kwargs.pop(name))
            elif name in defaults:
                _set(self, name, defaults[name])
            elif name in factories:
                _set(self, name, factories[name]())
            else:
                raise TypeError(f"{qualname}() missing required argument: {name!r}")
        if kwargs:
            name = next(iter(kwargs))
            if name in names:
                raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
            raise TypeError(f"{qualname}() got an unexpected keyword argument {name!r}")
        for name in hidden:
            _set(self, name, defaults[name] if name in defaults else factories[name]())
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _repr(self: Any) -> str:
    body = ", ".join(
        f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
    )
    return f"{type(self).__qualname__}({body})"


def _key(self: Any) -> tuple:
    return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self: Any) -> int:
    return hash(_key(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def lightclass(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """``@dataclass`` / ``@dataclass(frozen=True)`` without code generation.

    The class gets ``__init__``, ``__repr__`` and ``__eq__`` (and for ``frozen``
    ``__setattr__``, ``__delattr__`` and ``__hash__``) with dataclass semantics.
    """

    def wrap(cls: type[T]) -> type[T]:
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
        for f in dataclasses.fields(cls):
            if f.kw_only is True:
                raise TypeError(f"lightclass {cls.__qualname__}: kw_only fields are not supported")
        own = cls.__dict__
        cls.__init__ = _make_init(cls, frozen)  # type: ignore[misc]
        if "__repr__" not in own:
            cls.__repr__ = _repr  # type: ignore[assignment]
        if "__eq__" not in own:
            cls.__eq__ = _eq  # type: ignore[assignment]
            # as dataclasses: eq without frozen makes instances unhashable
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
            cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
        return cls

    return wrap if cls is None else wrap(cls)
