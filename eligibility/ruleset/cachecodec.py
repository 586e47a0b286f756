"""A JSON encoding of frozen dataclass graphs that can only rebuild the classes it is given.

Used by the rule-set cache (eligibility.ruleset.load) in place of pickle: decoding never imports,
looks up or calls anything but the constructors of an explicit allow-list of classes, so a
planted or corrupt cache file can at worst be rejected, never run code.

The encoding is plain JSON. ``None``, booleans, integers, finite floats, strings and lists are
themselves; every other value is an object tagged with ``"$t"``:

* ``{"$t": "tuple", "v": [...]}``, ``{"$t": "frozenset", "v": [...]}``;
* ``{"$t": "dict", "v": [[key, value], ...]}`` (keys of any encodable type, order kept);
* ``{"$t": "date", "v": "2019-11-19"}`` and ``{"$t": "datetime", "v": "<ISO 8601>"}``;
* ``{"$t": "<Class>", "<field>": ..., ...}`` for an allow-listed frozen dataclass, one member per
  field that its constructor takes (minus the class's transient fields, per-process state
  such as compiled programs, which are left to their defaults);
* ``{"$t": "<Class>", "v": <value>}`` for a member of an allow-listed Enum.

The fields are read from the classes' declarations, not listed here, so a field added to a
class is encoded with no change to this module. Decoding rejects (``CacheFormatError``) any
unknown tag, a class that is not allow-listed, a missing or unexpected field, and anything a
constructor refuses. A value of a type the encoding does not know makes ``encode`` raise
``Unencodable``: the graph is then simply not cached.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any


class Unencodable(TypeError):
    """A value of a type (or class) this codec does not encode."""


class CacheFormatError(ValueError):
    """Text that is not a valid encoding of a graph of the allow-listed classes."""


_TAG = "$t"
_VALUE = frozenset({"v"})


class Codec:
    """Encode and decode graphs of the given classes (frozen dataclasses and Enums).

    ``transient`` names, per class, fields that are not stored: their defaults are used when
    the object is rebuilt, so each must have a default.
    """

    def __init__(
        self, classes: Iterable[type], transient: Mapping[type, Iterable[str]] | None = None
    ) -> None:
        transient = transient or {}
        self._by_name: dict[str, type] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        # tag -> (constructor, the members its object has, whether they are keyword arguments)
        self._rebuilders: dict[str, tuple[Callable[..., Any], frozenset[str], bool]] = {
            tag: (build, _VALUE, False) for tag, build in _BUILTIN_TAGS.items()
        }
        for cls in classes:
            name = cls.__name__
            if name in self._rebuilders:
                raise ValueError(f"two classes are tagged '{name}'")
            self._by_name[name] = cls
            if isinstance(cls, type) and issubclass(cls, enum.Enum):
                self._rebuilders[name] = (cls, _VALUE, False)
                continue
            if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
                raise ValueError(f"{name} is neither a frozen dataclass nor an Enum")
            skip = set(transient.get(cls, ()))
            declared = {f.name: f for f in dataclasses.fields(cls)}
            for field in skip:
                f = declared.get(field)
                if f is None or (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                ):
                    raise ValueError(f"transient field {name}.{field} must exist and have a default")
            self._fields[cls] = tuple(f.name for f in declared.values() if f.init and f.name not in skip)
            self._rebuilders[name] = (cls, frozenset(self._fields[cls]), True)

    # ------------------------------------------------------------------ encoding

    def encode(self, obj: object) -> str:
        """The JSON text of ``obj``; raises Unencodable for a value this codec does not know."""
        try:
            return json.dumps(self._plain(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError as exc:  # NaN or infinity
            raise Unencodable(str(exc)) from exc

    def _plain(self, obj: object) -> Any:
        kind = type(obj)
        if obj is None or kind in (bool, int, float, str):
            return obj
        if kind is tuple:
            return {_TAG: "tuple", "v": [self._plain(x) for x in obj]}  # type: ignore[attr-defined]
        if kind is list:
            return [self._plain(x) for x in obj]  # type: ignore[attr-defined]
        if kind is frozenset:
            items = [self._plain(x) for x in obj]  # type: ignore[attr-defined]
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))  # the same text for equal sets
            return {_TAG: "frozenset", "v": items}
        if kind is dict:
            pairs = obj.items()  # type: ignore[attr-defined]
            return {_TAG: "dict", "v": [[self._plain(k), self._plain(v)] for k, v in pairs]}
        if kind is dt.date:
            return {_TAG: "date", "v": obj.isoformat()}  # type: ignore[attr-defined]
        if kind is dt.datetime:
            return {_TAG: "datetime", "v": obj.isoformat()}  # type: ignore[attr-defined]
        name = kind.__name__
        if self._by_name.get(name) is not kind:
            raise Unencodable(f"{kind.__module__}.{kind.__qualname__} is not allow-listed")
        if isinstance(obj, enum.Enum):
            return {_TAG: name, "v": self._plain(obj.value)}
        out: dict[str, Any] = {_TAG: name}
        for field in self._fields[kind]:
            out[field] = self._plain(getattr(obj, field))
        return out

    # ------------------------------------------------------------------ decoding

    def decode(self, text: str | bytes) -> Any:
        """The graph that ``text`` encodes; raises CacheFormatError for anything else."""
        try:
            return json.loads(text, object_hook=self._rebuild, parse_constant=_no_constant)
        except CacheFormatError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError) as exc:
            raise CacheFormatError(f"{type(exc).__name__}: {exc}") from None

    def _rebuild(self, obj: dict[str, Any]) -> Any:
        tag = obj.pop(_TAG, None)
        rebuilder = self._rebuilders.get(tag) if type(tag) is str else None
        if rebuilder is None:
            raise CacheFormatError(f"{tag!r} is not an allow-listed type tag")
        build, members, by_field = rebuilder
        if obj.keys() != members:
            raise CacheFormatError(f"'{tag}' has members {sorted(obj)}, expected {sorted(members)}")
        return build(**obj) if by_field else build(obj["v"])


def _tuple(value: Any) -> tuple[Any, ...]:
    if type(value) is not list:
        raise CacheFormatError("a tuple is a list")
    return tuple(value)


def _frozenset(value: Any) -> frozenset[Any]:
    if type(value) is not list:
        raise CacheFormatError("a frozenset is a list")
    return frozenset(value)


def _dict(value: Any) -> dict[Any, Any]:
    if type(value) is not list or not all(type(p) is list and len(p) == 2 for p in value):
        raise CacheFormatError("a dict is a list of [key, value] pairs")
    return {k: v for k, v in value}


def _date(value: Any) -> dt.date:
    if type(value) is not str:
        raise CacheFormatError("a date is a string")
    return dt.date.fromisoformat(value)


def _datetime(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise CacheFormatError("a datetime is a string")
    return dt.datetime.fromisoformat(value)


def _no_constant(name: str) -> Any:
    raise CacheFormatError(f"{name} is not a JSON number")


_BUILTIN_TAGS: dict[str, Callable[[Any], Any]] = {
    "tuple": _tuple,
    "frozenset": _frozenset,
    "dict": _dict,
    "date": _date,
    "datetime": _datetime,
}
