"""The service's configuration file: the operator's decisions, never the API's.

``assay serve --config assay-serve.yaml`` reads it once at start-up. What only
the operator may decide lives here: which commands run when a model's alert
fires, and which private networks webhooks may reach. The service's API can
change neither. Every other key is a :class:`~assay.service.Settings` field
(caps and limits)::

    # assay-serve.yaml
    commands:                     # by model name; "*" for every model
      churn:
        - argv: [python, retrain.py, --model, churn]   # no shell
          timeout_s: 600
    webhook_allow_networks: [10.20.0.0/16]   # an internal receiver; default: none
    metrics_allow_networks: [10.30.0.5/32]   # a Prometheus scrape address (no token)
    default_window: 1d            # the window a model without a policy window is judged on
    evaluate_every_s: 5           # how often the scheduler looks for closed windows
    retention: 90d                # raw prediction rows kept this long (default: all)
    max_body_bytes: 67108864
    max_windows: 24

Unknown keys are refused with the closest known one, so a typo cannot leave a
limit at its default unnoticed.

Example
-------
>>> cfg = parse_config({"commands": {"churn": [{"argv": ["true"]}]}}, "x.yaml")
>>> cfg["commands"]["churn"][0].argv
('true',)
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

_OPERATOR_KEYS = ("commands", "webhook_allow_networks", "metrics_allow_networks")
_NOT_FROM_FILE = ("admin_token", "retention_s")  # secrets come from the environment ($ASSAY_TOKEN)
MAX_CONFIG_BYTES = 1024 * 1024
"""The largest configuration file read (1 MiB)."""


def _settings_fields() -> dict[str, Any]:
    from assay.service._app import Settings

    return {
        f.name: f.default
        for f in dataclasses.fields(Settings)
        if f.name not in _OPERATOR_KEYS and f.name not in _NOT_FROM_FILE
    }


def _commands(value: Any, where: str) -> dict[str, tuple[Any, ...]]:
    from assay.monitoring.policy import PolicyError, command_list, parse_command
    from assay.service._routes import _NAME

    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: commands must be a mapping of model name to commands")
    out: dict[str, tuple[Any, ...]] = {}
    for model, cmds in value.items():
        model = str(model)
        if model != "*" and not _NAME.fullmatch(model):
            raise ConfigError(f"{where}: commands.{model}: not a model name (or '*')")
        try:
            out[model] = tuple(
                parse_command(c, f"commands.{model}[{i}]") for i, c in enumerate(command_list(cmds))
            )
        except PolicyError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return out


def parse_config(data: Any, where: str) -> dict[str, Any]:
    """Keyword arguments for :class:`~assay.service.Settings` from a parsed file."""
    from assay.monitoring.webhook import parse_networks

    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping of settings")
    simple = _settings_fields()
    known = [*simple, *_OPERATOR_KEYS]
    out: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key == "commands":
            out[key] = _commands(value, where)
        elif key in ("webhook_allow_networks", "metrics_allow_networks"):
            out[key] = parse_networks(value, f"{where}: {key}")
        elif key in simple:
            default = simple[key]
            kind = type(default) if default is not None else str
            if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
            if kind is str and not isinstance(value, str):
                raise ConfigError(f"{where}: {key} must be text, got {value!r}")
            if kind is int and value < 1 and key != "seed":
                raise ConfigError(f"{where}: {key} must be at least 1, got {value!r}")
            out[key] = value
        else:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            raise ConfigError(f"{where}: unknown setting {key!r}{hint}")
    return out


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate the configuration file at ``path`` (YAML)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"configuration file {str(p)!r} does not exist or is not a file")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"configuration file {str(p)!r} is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"configuration file {str(p)!r} is not valid YAML: {first}") from None
    return parse_config(data, str(p))
