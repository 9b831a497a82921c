"""Cost per million predictions on an instance profile, from a measured throughput.

An instance profile is a name, a price per hour and a number of cores. The
throughput measured here is scaled by cores, a stated assumption: an instance
with ``C`` cores serves ``C / t`` times the rows per second measured here on
``t`` threads (one worker per core, each core as fast as one here; timing
runs on one thread, so ``t`` is 1 except for an ONNX session Assay did not
create). The default profiles are examples to edit, not advice.

Example
-------
>>> round(cost_per_million(1000.0, usd_per_hour=0.36, cores=4), 6)
0.025
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_INSTANCES: tuple[dict[str, Any], ...] = (
    {
        "name": "cloud-cpu-example",
        "usd_per_hour": 0.1785,
        "cores": 4,
        "note": "EXAMPLE to edit: the on-demand list price of a 4-vCPU general-purpose cloud "
        "instance (AWS c7i.xlarge, Linux, us-east-1)",
    },
    {
        "name": "edge-device-example",
        "usd_per_hour": 0.0041,
        "cores": 4,
        "note": "EXAMPLE to edit: a ~$80 4-core single-board computer written off over 3 years "
        "plus 7 W at $0.15/kWh",
    },
)
"""Example instance profiles (``thresholds: {efficiency.inference: {instances: [...]}}``)."""

COST_ASSUMPTION = (
    "Cost per million predictions = price per hour / (3,600 × rows per second on the "
    "instance) × 1,000,000, where rows per second on the instance = the throughput measured "
    "here on one thread × the instance's cores: throughput is assumed to scale with cores "
    "(one worker per core) and each instance core to be as fast as one core of this machine. "
    "The default instance prices are examples to edit."
)

INFERENCE_ID = "efficiency.inference"
"""The check whose ``instances`` the other efficiency checks share unless given their own."""


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def slug(name: str) -> str:
    """An instance name as a metric-key fragment: ``'Edge device #1'`` → ``'edge_device_1'``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_") or "instance"


def _positive(where: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{where}.{field} must be a positive number, not {value!r}")
    return float(value)


def validate_instances(instances: Any) -> list[dict[str, Any]]:
    """Check instance profiles; raise ``ValueError`` naming the bad field."""
    if not isinstance(instances, Sequence) or isinstance(instances, str) or not instances:
        raise ValueError(
            "thresholds 'instances' must be a non-empty list of "
            "{name, usd_per_hour, cores} mappings"
        )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, inst in enumerate(instances):
        where = f"instances[{i}]"
        if not isinstance(inst, Mapping):
            raise ValueError(f"{where} must be a mapping with name, usd_per_hour and cores")
        name = inst.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}.name must be a non-empty string, not {name!r}")
        price = _positive(where, "usd_per_hour", inst.get("usd_per_hour"))
        cores = _positive(where, "cores", inst.get("cores"))
        if slug(name) in seen:
            raise ValueError(f"{where}.name {name!r} repeats another instance's name")
        seen.add(slug(name))
        out.append(
            {
                "name": name,
                "usd_per_hour": price,
                "cores": cores,
                "note": str(inst.get("note", "")),
            }
        )
    return out


def resolve_instances(
    overrides: Mapping[str, Mapping[str, Any]], check_id: str, thresholds: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The instance profiles a check uses.

    A check's own ``instances`` override wins; otherwise those given for
    ``efficiency.inference`` (so one setting serves all three checks); otherwise
    the defaults.
    """
    own = overrides.get(check_id, {})
    if "instances" in own:
        return validate_instances(own["instances"])
    shared = overrides.get(INFERENCE_ID, {})
    if "instances" in shared:
        return validate_instances(shared["instances"])
    return validate_instances(thresholds.get("instances", DEFAULT_INSTANCES))


def cost_per_million(
    rows_per_s: float | None, *, usd_per_hour: float, cores: float, threads: int = 1
) -> float | None:
    """US dollars per million predictions at ``rows_per_s`` measured on ``threads`` threads.

    Returns ``None`` when the throughput is unknown or not positive.
    """
    if rows_per_s is None or not rows_per_s > 0:
        return None
    instance_rows_per_s = rows_per_s / threads * cores
    return usd_per_hour / (3600.0 * instance_rows_per_s) * 1e6


def costs(
    rows_per_s: float | None, instances: Sequence[Mapping[str, Any]], threads: int = 1
) -> dict[str, float | None]:
    """``{instance name: dollars per million}`` for one throughput."""
    return {
        inst["name"]: cost_per_million(
            rows_per_s, usd_per_hour=inst["usd_per_hour"], cores=inst["cores"], threads=threads
        )
        for inst in instances
    }


def fmt_usd(value: float | None) -> str:
    """Dollars with two significant digits, without exponents: ``'$0.000020'``."""
    if value is None:
        return "n/a"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    if value <= 0:
        return "$0"
    digits = 1 - math.floor(math.log10(value))
    return f"${value:.{digits}f}"
