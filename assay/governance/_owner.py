"""What only the model's owner can say: read from the ``model_card:`` section of
``assay.yaml`` (or given as a mapping).

Example ``assay.yaml``::

    target: income
    model_card:
      name: Income screening model
      version: "2.1"
      owners: [Credit risk team <risk@example.com>]
      licence: Proprietary, internal use only
      intended_use: Rank applications for a human reviewer to look at first.
      intended_users: [Loan officers]
      out_of_scope_uses: [Automatic rejection without human review]
      ethical_considerations: Outcomes affect access to credit.
      caveats: Trained on 1994 census data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

OWNER_FIELDS: dict[str, str] = {
    "name": "the model's name",
    "version": "the model's version",
    "owners": "who owns the model and answers for it",
    "contact": "where to send questions or report problems",
    "licence": "the licence under which the model may be used",
    "intended_use": "what the model is for",
    "intended_users": "who is meant to use it",
    "out_of_scope_uses": "uses it must not be put to",
    "factors": "groups, settings or conditions its performance may depend on",
    "ethical_considerations": "ethical risks and how they were weighed",
    "caveats": "known limits and recommendations",
}
_ALIASES = {"license": "licence", "owner": "owners", "out_of_scope": "out_of_scope_uses"}


def owner_fields(data: Mapping[str, Any] | None, *, source: str = "model_card") -> dict[str, Any]:
    """Validate the owner fields: known names only, text or lists of text.

    >>> owner_fields({"license": "MIT", "owners": "Team A"})
    {'licence': 'MIT', 'owners': ['Team A']}
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source} must be a mapping of owner fields")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = _ALIASES.get(str(key), str(key))
        if name not in OWNER_FIELDS:
            raise ConfigError(
                f"{source}: unknown field {key!r}; known fields are {', '.join(OWNER_FIELDS)}"
            )
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = [str(v) for v in value if v is not None]
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise ConfigError(f"{source}.{key} must be text or a list of text")
        if name in ("owners", "intended_users", "out_of_scope_uses") and isinstance(value, str):
            value = [value]
        out[name] = value
    return out


def read_owner_fields(path: str | Path) -> dict[str, Any]:
    """The ``model_card:`` section of a YAML config file (``{}`` when it has none)."""
    from assay.io._yaml import read_yaml_mapping

    data = read_yaml_mapping(path)
    return owner_fields(data.get("model_card"), source=f"config file {Path(path)}: model_card")
