"""Check parameters validated once, when the configuration is read.

Each check declares its parameters by registering their defaults
(``register_check(..., thresholds={...})``); a default's type is the parameter's
type. A configuration that names an unknown check or parameter, or gives a value
of the wrong type, is refused before any data is read, with one line naming the
field, what was expected and the closest valid name — never an ``error`` result
at the end of an audit telling the user it is a bug in Assay.

Example
-------
>>> validate_thresholds({"data.integrity": {"missing_warn": 0.1}})
>>> validate_thresholds({"data.integrity": {"missing_warnn": 0.1}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
assay.errors.ConfigError: thresholds.data.integrity.missing_warnn: unknown parameter; ...
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from assay.errors import ConfigError, UnknownCheckError


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "text"
    if isinstance(default, (list, tuple)):
        return "a list"
    if isinstance(default, Mapping):
        return "a mapping"
    return "any value"


def _fits(value: Any, default: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value):
            return False
        return not isinstance(default, int) or float(value).is_integer()
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    if isinstance(default, Mapping):
        return isinstance(value, Mapping)
    return True


def _hint(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1)
    listed = ", ".join(known) if known else "none"
    return (f"did you mean {near[0]!r}? " if near else "") + f"known: {listed}"


def validate_thresholds(thresholds: Mapping[str, Any], *, source: str = "thresholds") -> None:
    """Refuse unknown check ids, unknown parameters and values of the wrong type.

    Raises
    ------
    ConfigError
        One line naming ``source.<check id>.<parameter>`` and the fix.
    """
    from assay.core.registry import get_check

    if not isinstance(thresholds, Mapping):
        raise ConfigError(f"{source}: must be a mapping of check id to parameters")
    for check_id, params in thresholds.items():
        try:
            spec = get_check(str(check_id))
        except UnknownCheckError as exc:
            raise ConfigError(f"{source}: {str(exc).split(' Valid ids:')[0]}") from None
        where = f"{source}.{check_id}"
        if not isinstance(params, Mapping):
            raise ConfigError(f"{where}: must be a mapping of parameter to value")
        known = sorted(spec.thresholds)
        for name, value in params.items():
            if name not in spec.thresholds:
                raise ConfigError(f"{where}.{name}: unknown parameter; {_hint(str(name), known)}")
            default = spec.thresholds[name]
            if not _fits(value, default):
                raise ConfigError(
                    f"{where}.{name}: must be {_kind(default)} (default {default!r}), "
                    f"got {value!r:.60}"
                )
