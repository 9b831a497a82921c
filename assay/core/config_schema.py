"""The JSON Schema (draft 2020-12) of ``assay.yaml``, generated from the registry.

Each check's ``thresholds`` entry lists its declared parameters (type, default,
bounds, doc; :mod:`assay.core.params`), so an editor with a YAML language server
completes and checks them. ``assay schema`` prints it; ``docs/assay.schema.json``
is the committed copy (a test keeps it in step). Point an editor at it with a
first line ``# yaml-language-server: $schema=<path or URL of assay.schema.json>``.

Example
-------
>>> schema = config_schema()
>>> schema["properties"]["thresholds"]["properties"]["data.integrity"]["properties"][
...     "missing_warn"]["maximum"]
1
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

from assay.core.config import DECISION_COLUMNS
from assay.core.params import ParamField, _optional, _union, param_fields, params_of
from assay.core.registry import AREAS, all_checks
from assay.io.schema import COLUMN_TYPES, TASKS

_JSON_BOUND = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of one parameter type (``float`` → ``{"type": "number"}``...)."""
    inner = _optional(tp)
    if inner is not None:
        return {"anyOf": [type_schema(inner), {"type": "null"}]}
    if _union(tp):
        return {"anyOf": [type_schema(a) for a in _union(tp)]}
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return {"enum": list(args)}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if tp in simple:
        return {"type": simple[tp]}
    if tp is list or origin in (list, tuple):
        items = type_schema(args[0]) if args else {}
        return {"type": "array", **({"items": items} if items else {})}
    if tp is dict or origin is dict:
        values = type_schema(args[1]) if len(args) == 2 else {}
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    return {}


def field_schema(field: ParamField) -> dict[str, Any]:
    """A parameter's schema: its type, bounds (on each item of a list), default and doc."""
    out = type_schema(field.type)
    target = out.get("items", out) if out.get("type") == "array" else out
    for key, bound in field.bounds:
        target[_JSON_BOUND[key]] = int(bound) if float(bound).is_integer() else bound
    if field.doc:
        out["description"] = field.doc
    out["default"] = field.default
    return out


def _names(description: str, enum: list[str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string", **({"enum": enum} if enum else {})}
    return {
        "description": description,
        "anyOf": [item, {"type": "array", "items": item}],
    }


def config_schema() -> dict[str, Any]:
    """The JSON Schema of ``assay.yaml`` with every registered check's parameters."""
    specs = all_checks()
    ids = [s.id for s in specs]
    thresholds = {}
    for s in specs:
        fields = param_fields(params_of(s))
        thresholds[s.id] = {
            "type": "object",
            "description": s.title,
            "properties": {f.name: field_schema(f) for f in fields},
            "additionalProperties": False,
        }
    checks = {
        "include": _names("Run only these checks (ids).", ids),
        "exclude": _names("Leave these checks out (ids).", ids),
        "enable": _names("Opt-in checks to run, by id or area.", ids + list(AREAS)),
    }
    props: dict[str, Any] = {
        "target": {"type": "string", "description": "Target (label) column."},
        "task": {"enum": list(TASKS), "description": "Task; inferred from the target if unset."},
        "prediction": {"type": "string", "description": "Column holding the model's predictions."},
        "score": _names("Score (probability) column(s), one per class or the positive class."),
        "sensitive": _names("Sensitive attribute columns (fairness checks)."),
        "categorical": _names("Columns to treat as categorical."),
        "numeric": _names("Columns to treat as numeric."),
        "ignore": _names("Columns to leave out of the audit."),
        "types": {
            "type": "object",
            "description": "Column type by column name.",
            "additionalProperties": {"enum": list(COLUMN_TYPES)},
        },
        "positive_label": {"description": "The positive class of a binary target."},
        "seed": {"type": "integer", "description": "Random seed.", "default": 0},
        "n_bootstrap": {
            "type": "integer",
            "minimum": 0,
            "description": "Bootstrap resamples for confidence intervals.",
            "default": 500,
        },
        "confidence": {
            "type": "number",
            "minimum": 0.5,
            "exclusiveMaximum": 1,
            "description": "Confidence level of intervals.",
            "default": 0.95,
        },
        "max_rows_model_checks": {
            "type": "integer",
            "minimum": 1,
            "description": "Row cap of the checks that call the model.",
            "default": 200_000,
        },
        **checks,
        "checks": {
            "type": "object",
            "description": "Which checks run.",
            "properties": checks,
            "additionalProperties": False,
        },
        "thresholds": {
            "type": "object",
            "description": "Parameters by check id; unset ones keep their defaults.",
            "properties": thresholds,
            "additionalProperties": False,
        },
        "fail_on": {
            "enum": ["warn", "fail"],
            "description": "Lowest status that fails the gate (exit code 1).",
            "default": "fail",
        },
        "model_card": {
            "type": "object",
            "description": "Owner answers for the model card (intended use, owners, licence...).",
        },
        "decisions": {
            "type": "object",
            "description": "Column names of the decisions table (--decisions) by role.",
            "properties": {r: {"type": "string", "default": r} for r in DECISION_COLUMNS},
            "additionalProperties": False,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "assay.yaml",
        "description": "Options of an Assay audit (generated by `assay schema`).",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


def render_schema() -> str:
    """The schema as the committed ``docs/assay.schema.json`` holds it."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_schema(), end="")
