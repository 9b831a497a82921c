"""Check parameters: declared as frozen dataclasses, validated once, when the configuration is read.

Each check declares its parameters as a frozen dataclass next to the check, one
:func:`param` per field with its default, a one-line doc and its bounds, and
registers it (``register_check(..., params=IntegrityParams)``). The check body
still receives a plain mapping of parameter to value (defaults overlaid by
``assay.yaml``). The same declaration gives the catalogue (``docs/checks.md``)
and the JSON Schema of ``assay.yaml`` (``assay schema``).

A configuration that names an unknown check or parameter, gives a value of the
wrong type or out of its bounds is refused before any data is read, with one
line naming the field, what was expected and the closest valid name — never an
``error`` result at the end of an audit telling the user it is a bug in Assay.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class DemoParams:
...     missing_warn: float = param(0.05, "share of missing cells that warns", ge=0, le=1)
>>> validate_params(DemoParams, {"missing_warn": 0.1}, where="thresholds.demo")
>>> validate_params(DemoParams, {"missing_warn": 2}, where="thresholds.demo")
Traceback (most recent call last):
...
assay.errors.ConfigError: thresholds.demo.missing_warn: must be at most 1, got 2
>>> validate_thresholds({"data.integrity": {"missing_warnn": 0.1}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
assay.errors.ConfigError: thresholds.data.integrity.missing_warnn: unknown parameter; ...
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from assay.errors import ConfigError, UnknownCheckError

if TYPE_CHECKING:
    from assay.core.registry import CheckSpec

_BOUNDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def param(
    default: Any,
    doc: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field of a check's parameter type: its default, one-line doc and bounds.

    Bounds apply to a number, or to each number of a list. A list or mapping
    default is copied for each instance.
    """
    meta = {"doc": doc, **{k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt))}}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class ParamField:
    """One declared parameter, as the validator, the catalogue and the schema read it."""

    name: str
    type: Any
    default: Any
    doc: str
    bounds: tuple[tuple[str, float], ...] = ()

    @property
    def kind(self) -> str:
        """The expected type in words: ``a number``, ``one of 'bh', 'none'``..."""
        return _kind(self.type)

    def bounds_text(self) -> str:
        """``≥ 0, ≤ 1`` (empty when unbounded)."""
        sym = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
        return ", ".join(f"{sym[k]} {_num(v)}" for k, v in self.bounds)


def param_fields(params: type) -> tuple[ParamField, ...]:
    """The declared parameters of a parameter type, in declaration order."""
    return _fields(params)


@cache
def _fields(params: type) -> tuple[ParamField, ...]:
    hints = typing.get_type_hints(params)
    out = []
    for f in dataclasses.fields(params):
        default: Any = f.default
        if default is dataclasses.MISSING and callable(f.default_factory):
            default = f.default_factory()
        bounds = tuple((k, f.metadata[k]) for k in _BOUNDS if f.metadata.get(k) is not None)
        out.append(ParamField(f.name, hints[f.name], default, f.metadata.get("doc", ""), bounds))
    return tuple(out)


def defaults(params: type) -> dict[str, Any]:
    """``{parameter: default}`` of a parameter type (fresh copies of lists and mappings)."""
    return {f.name: copy.deepcopy(f.default) for f in param_fields(params)}


def params_from_defaults(name: str, thresholds: Mapping[str, Any]) -> type:
    """A frozen parameter type inferred from a ``thresholds={...}`` mapping of defaults
    (third-party checks registered the older way); its fields have no doc."""
    spec = [
        (k, _type_of(v), dataclasses.field(default_factory=_copier(v)))
        for k, v in thresholds.items()
    ]
    return dataclasses.make_dataclass(name, spec, frozen=True)


def _copier(value: Any) -> Callable[[], Any]:
    return lambda: copy.deepcopy(value)


def _type_of(default: Any) -> Any:
    if default is None:
        return Any
    for t in (bool, int, float, str):
        if isinstance(default, t):
            return t
    if isinstance(default, (list, tuple)):
        return list
    if isinstance(default, Mapping):
        return dict
    return Any


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _optional(tp: Any) -> Any | None:
    """``X`` for ``X | None`` (else ``None``)."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0]
    return None


def _union(tp: Any) -> tuple[Any, ...]:
    """The arms of ``X | Y`` (empty for a type that is no union)."""
    return get_args(tp) if get_origin(tp) in (Union, types.UnionType) else ()


def _kind(tp: Any, plural: bool = False) -> str:
    inner = _optional(tp)
    if inner is not None:
        return f"{_kind(inner, plural)} or null"
    if _union(tp):
        return " or ".join(_kind(a, plural) for a in _union(tp))
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "whole numbers" if plural else "a whole number"
    if tp is float:
        return "numbers" if plural else "a number"
    if tp is str:
        return "texts" if plural else "text"
    if tp is list or origin in (list, tuple):
        of = f" of {_kind(args[0], True)}" if args and args[0] is not Any else ""
        return ("lists" if plural else "a list") + of
    if tp is dict or origin is dict:
        of = f" of {_kind(args[1], True)}" if len(args) == 2 and args[1] is not Any else ""
        return ("mappings" if plural else "a mapping") + of
    return "values" if plural else "any value"


def _type_error(value: Any, tp: Any, where: str) -> str | None:
    """Why ``value`` is not of type ``tp`` (one line naming ``where``), or ``None``."""
    inner = _optional(tp)
    if inner is not None:
        return None if value is None else _type_error(value, inner, where)
    if _union(tp):
        if any(_type_error(value, a, where) is None for a in _union(tp)):
            return None
        return f"{where}: must be {_kind(tp)}, got {value!r:.60}"
    origin, args = get_origin(tp), get_args(tp)
    bad = f"{where}: must be {_kind(tp)}, got {value!r:.60}"
    if tp is Any:
        return None
    if origin is Literal:
        return None if value in args else bad
    if tp is bool:
        return None if isinstance(value, bool) else bad
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad
        if not math.isfinite(value) or (tp is int and not float(value).is_integer()):
            return bad
        return None
    if tp is str:
        return None if isinstance(value, str) else bad
    if tp is list or origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return bad
        item = args[0] if args else Any
        for i, v in enumerate(value):
            err = _type_error(v, item, f"{where}[{i}]")
            if err:
                return err
        return None
    if tp is dict or origin is dict:
        if not isinstance(value, Mapping):
            return bad
        item = args[1] if len(args) == 2 else Any
        for k, v in value.items():
            err = _type_error(v, item, f"{where}.{k}")
            if err:
                return err
        return None
    return None


def _bound_error(value: Any, field: ParamField, where: str) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            err = _bound_error(v, field, f"{where}[{i}]")
            if err:
                return err
        return None
    if not isinstance(value, (int, float)):
        return None
    for key, bound in field.bounds:
        ok = {"ge": value >= bound, "gt": value > bound, "le": value <= bound, "lt": value < bound}
        if not ok[key]:
            return f"{where}: must be {_BOUNDS[key]} {_num(bound)}, got {value!r:.60}"
    return None


def _hint(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1)
    listed = ", ".join(known) if known else "none"
    return (f"did you mean {near[0]!r}? " if near else "") + f"known: {listed}"


def validate_params(params: type, values: Mapping[str, Any], *, where: str) -> None:
    """Refuse unknown parameters, values of the wrong type and values out of bounds.

    Raises
    ------
    ConfigError
        One line naming ``where.<parameter>``, what was expected and the value given.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: must be a mapping of parameter to value")
    declared = {f.name: f for f in param_fields(params)}
    for name, value in values.items():
        field = declared.get(str(name))
        if field is None:
            raise ConfigError(
                f"{where}.{name}: unknown parameter; {_hint(str(name), sorted(declared))}"
            )
        err = _type_error(value, field.type, f"{where}.{name}")
        if err is None:
            err = _bound_error(value, field, f"{where}.{name}")
        if err:
            raise ConfigError(err)


def params_of(spec: CheckSpec) -> type:
    """The parameter type of a registered check (inferred from its defaults when it was
    registered with ``thresholds=`` only)."""
    if spec.params is not None:
        return spec.params
    known = _INFERRED.get(spec.id)
    if known is None or known[0] is not spec.thresholds:
        name = "".join(p.title() for p in spec.id.replace("_", ".").split(".")) + "Params"
        known = _INFERRED[spec.id] = (spec.thresholds, params_from_defaults(name, spec.thresholds))
    return known[1]


_INFERRED: dict[str, tuple[Mapping[str, Any], type]] = {}


def validate_thresholds(thresholds: Mapping[str, Any], *, source: str = "thresholds") -> None:
    """Refuse unknown check ids, unknown parameters and values of the wrong type or out of
    bounds, for every check named in ``thresholds`` (``assay.yaml``'s ``thresholds:``).

    Raises
    ------
    ConfigError
        One line naming ``source.<check id>.<parameter>`` and the fix.
    """
    from assay.core.registry import get_check

    if not isinstance(thresholds, Mapping):
        raise ConfigError(f"{source}: must be a mapping of check id to parameters")
    for check_id, values in thresholds.items():
        try:
            spec = get_check(str(check_id))
        except UnknownCheckError as exc:
            raise ConfigError(f"{source}: {str(exc).split(' Valid ids:')[0]}") from None
        validate_params(params_of(spec), values, where=f"{source}.{check_id}")
