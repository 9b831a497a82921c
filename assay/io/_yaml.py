"""Reading a YAML configuration file (``assay.yaml``, owner files).

Here, below the configuration and governance code that both read YAML, so
neither has to import the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.errors import ConfigError


def read_yaml_mapping(path: str | Path) -> Mapping[str, Any]:
    """The mapping a YAML config file holds; a one-line :class:`ConfigError` naming
    the file (and the line, for a syntax error) otherwise."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist; check the path")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {p} is not valid YAML{where}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {p} must hold a mapping of options")
    return data
