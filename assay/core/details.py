"""Typed details: the shape of a check's ``details``, declared as a frozen dataclass.

Each check declares what its ``details`` hold as a frozen dataclass deriving from
:class:`Details`, next to its parameter type, and registers it
(``register_check(..., params=PerformanceParams, details=PerformanceDetails)``). A row
of a list (one per feature, per group...) is a :class:`Record`. The check still
returns a plain mapping in its :class:`~assay.core.registry.Outcome`, so
``report.json`` keeps its shape; readers (renderers, the model card, the datasheet,
the bench CLI) read it back once as the declared type (:func:`details_from_dict`,
``CheckResult.details_as``) and use attributes, so that renaming a field breaks the
type check and a test instead of silently emptying a document.

Reading is lenient by default, for reports written by older versions or third-party
checks: a key the type does not declare is kept in ``extra``, a missing field takes its
default (or the empty value of its type) and a value of the wrong type is kept in
``extra`` under its key while the field takes its default. ``strict=True`` (the common
test suite) refuses all three with one line naming the field. Either way
:func:`details_to_dict` gives back exactly the mapping that was read (``absent`` records
the declared keys the mapping did not have).

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Row(Record):
...     column: str
...     share: float | None = None
>>> @dataclass(frozen=True)
... class DemoDetails(Details):
...     rows: tuple[Row, ...] = ()
>>> d = details_from_dict(DemoDetails, {"rows": [{"column": "age", "share": 0.3}], "x": 1})
>>> d.rows[0].share, dict(d.extra)
(0.3, {'x': 1})
>>> details_to_dict(d)
{'rows': [{'column': 'age', 'share': 0.3}], 'x': 1}
>>> details_from_dict(DemoDetails, {"rows": [{"column": 3}]}, strict=True)
Traceback (most recent call last):
...
assay.errors.InputError: details.rows[0].column: must be text, got 3
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from assay.errors import InputError

__all__ = ["Details", "Record", "details_from_dict", "details_to_dict"]

R = TypeVar("R", bound="Record")
_DEFINED: dict[str, type] = {}
_BOOK = ("extra", "absent")


@dataclass(frozen=True, kw_only=True)
class Record:
    """A mapping of a report read as a typed row: declared fields, ``extra`` (keys not
    declared, as read) and ``absent`` (declared keys the mapping did not have)."""

    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    absent: frozenset[str] = field(default=frozenset(), repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _DEFINED.setdefault(cls.__name__, cls)

    def to_dict(self) -> dict[str, Any]:
        """The mapping this was read from (see :func:`details_to_dict`)."""
        return details_to_dict(self)


@dataclass(frozen=True, kw_only=True)
class Details(Record):
    """Base of a check's details type: the typed charts (``details["charts"]``, read as
    :class:`~assay.core.charts.Chart` by ``CheckResult.charts``) and the check's fields."""

    charts: tuple[Mapping[str, Any], ...] = ()


class _Mismatch(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _hints(tp: type) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, type, has_default)`` of each declared field (bookkeeping fields aside)."""
    known = _HINTS.get(tp)
    if known is None:
        known = _HINTS[tp] = _read_hints(tp)
    return known


_HINTS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _read_hints(tp: type) -> tuple[tuple[str, Any, bool], ...]:
    try:
        hints = typing.get_type_hints(tp)
    except NameError:  # a record type defined in a function (a doctest, a test)
        hints = typing.get_type_hints(tp, localns=_DEFINED)
    out = []
    for f in dataclasses.fields(tp):
        if f.name in _BOOK:
            continue
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        out.append((f.name, hints[f.name], has_default))
    return tuple(out)


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Record)


def _arms(tp: Any) -> tuple[Any, ...]:
    return get_args(tp) if get_origin(tp) in (Union, types.UnionType) else ()


def _kind(tp: Any) -> str:
    if _arms(tp):
        return " or ".join(_kind(a) for a in _arms(tp))
    origin, args = get_origin(tp), get_args(tp)
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    if tp is type(None):
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if tp in words:
        return words[tp]
    if _is_record(tp):
        return f"a mapping ({tp.__name__})"
    if origin in (tuple, list, Sequence) or tp in (tuple, list):
        return "a list"
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return "a mapping"
    return "any value"


def _convert(value: Any, tp: Any, where: str, strict: bool) -> Any:
    """``value`` as type ``tp`` (lists as tuples, mappings as dicts, rows as records),
    numbers kept as written; :class:`_Mismatch` naming ``where`` when it is not one."""
    bad = _Mismatch(f"{where}: must be {_kind(tp)}, got {value!r:.60}")
    if tp is Any:
        return value
    if _arms(tp):
        for arm in _arms(tp):
            try:
                return _convert(value, arm, where, strict)
            except _Mismatch:
                continue
        raise bad
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None) or origin is Literal:
        if (tp is type(None) and value is None) or (origin is Literal and value in args):
            return value
        raise bad
    if tp is bool or tp is str:
        if isinstance(value, tp):
            return value
        raise bad
    if tp in (int, float):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and (tp is float or isinstance(value, int)):
            if isinstance(value, float) and not math.isfinite(value):
                raise bad
            return value
        raise bad
    if _is_record(tp):
        if not isinstance(value, Mapping):
            raise bad
        return _record(tp, value, where, strict)
    if origin in (tuple, list, Sequence) or tp in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise bad
        item = args[0] if args else Any
        return tuple(_convert(v, item, f"{where}[{i}]", strict) for i, v in enumerate(value))
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise bad
        item = args[1] if len(args) == 2 else Any
        return {str(k): _convert(v, item, f"{where}.{k}", strict) for k, v in value.items()}
    raise TypeError(f"{where}: details field type {tp!r} is not supported")


def _empty(tp: Any) -> Any:
    """The value a required field takes when a lenient read does not find it."""
    if tp is Any or type(None) in _arms(tp):
        return None
    if _arms(tp):
        return _empty(_arms(tp)[0])
    origin = get_origin(tp)
    if origin is Literal:
        return get_args(tp)[0]
    if tp in (bool, int, float, str):
        return tp()
    if _is_record(tp):
        return _record(tp, {}, "", False)
    if origin in (tuple, list, Sequence) or tp in (tuple, list):
        return ()
    return {}


def _record(tp: type[R], mapping: Mapping[str, Any], where: str, strict: bool) -> R:
    values: dict[str, Any] = {}
    absent: set[str] = set()
    extra = {str(k): v for k, v in mapping.items()}
    for name, ftp, has_default in _hints(tp):
        here = f"{where}.{name}"
        if name not in extra:
            absent.add(name)
            if has_default:
                continue
            if strict:
                raise _Mismatch(f"{here}: missing (declared by {tp.__name__})")
            values[name] = _empty(ftp)
            continue
        try:
            values[name] = _convert(extra[name], ftp, here, strict)
        except _Mismatch:
            if strict:
                raise
            absent.add(name)  # kept, as read, in extra
            if not has_default:
                values[name] = _empty(ftp)
            continue
        del extra[name]
    if strict and extra:
        known = ", ".join(n for n, _, _ in _hints(tp))
        raise _Mismatch(f"{where}.{sorted(extra)[0]}: not declared by {tp.__name__} ({known})")
    return tp(**values, extra=extra, absent=frozenset(absent))


def details_from_dict(
    tp: type[R], mapping: Mapping[str, Any] | None, *, strict: bool = False, where: str = "details"
) -> R:
    """Read a check's ``details`` (or one row of them) as the declared type ``tp``.

    Lenient by default (unknown keys kept in ``extra``, missing or mistyped fields take
    their default); ``strict=True`` raises :class:`~assay.errors.InputError` naming the
    first field that is missing, undeclared or of the wrong type.
    """
    try:
        return _record(tp, mapping or {}, where, strict)
    except _Mismatch as exc:
        raise InputError(exc.message) from None


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return details_to_dict(value)
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    return value


def details_to_dict(record: Record) -> dict[str, Any]:
    """The mapping a typed record stands for: its fields (but those ``absent``) and its
    ``extra`` keys; exactly the mapping :func:`details_from_dict` read."""
    out = {
        f.name: _dump(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in _BOOK and f.name not in record.absent
    }
    out.update(record.extra)
    return out
