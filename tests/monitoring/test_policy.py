"""Trigger policies: parsing with field-naming errors, pure evaluation."""

from __future__ import annotations

import pytest

from assay.errors import ConfigError
from assay.monitoring.policy import (
    PolicyError,
    PolicyState,
    advance,
    evaluate,
    load_policy,
    parse_policy,
)

YAML = """
name: retrain
triggers:
  - {metric: drift_share, op: ">", value: 0.3, consecutive: 2}
  - {metric: estimated_accuracy_drop, op: ">", value: 0.05}
cooldown: 2
actions:
  webhook: {url: "https://hooks.example.com/x", secret_env: HOOK_SECRET}
  command: {argv: [python, retrain.py], timeout_s: 30}
"""


def windows(values, metric="drift_share"):
    return [{"start": i, metric: v} for i, v in enumerate(values)]


def test_yaml_policy_parses(tmp_path):
    p = load_policy(YAML)
    assert p.name == "retrain" and len(p.triggers) == 2 and p.cooldown_windows == 2
    assert p.triggers[0].consecutive == 2
    assert p.webhooks[0].secret_env == "HOOK_SECRET" and not p.webhooks[0].allow_private
    assert p.commands[0].argv == ("python", "retrain.py")
    f = tmp_path / "policy.yaml"
    f.write_text(YAML)
    assert load_policy(f) == p
    assert load_policy(str(f)) == p


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "policy.triggers"),
        ({"triggers": []}, "policy.triggers"),
        ({"triggers": [{"op": ">", "value": 1}]}, "triggers[0].metric"),
        ({"triggers": [{"metric": "a", "op": "=>", "value": 1}]}, "triggers[0].op"),
        ({"triggers": [{"metric": "a", "value": "high"}]}, "triggers[0].value"),
        ({"triggers": [{"metric": "a", "value": 1, "consecutive": 0}]}, "triggers[0].consecutive"),
        ({"triggers": [{"metric": "a", "value": 1, "colour": 1}]}, "triggers[0]: unknown"),
        ({"triggers": [{"metric": "a", "value": 1}], "cooldown": "soon"}, "cooldown"),
        (
            {"triggers": [{"metric": "a", "value": 1}], "actions": {"webhook": {"url": "ftp://x"}}},
            "actions.webhook[0].url",
        ),
        (
            {"triggers": [{"metric": "a", "value": 1}], "actions": {"command": {"argv": "rm -rf"}}},
            "actions.command[0].argv",
        ),
        (
            {
                "triggers": [{"metric": "a", "value": 1}],
                "actions": {"webhook": {"url": "http://x", "allow_private": "yes"}},
            },
            "actions.webhook[0].allow_private",
        ),
    ],
)
def test_validation_errors_name_the_field(data, field):
    with pytest.raises(PolicyError) as info:
        parse_policy(data)
    assert field in str(info.value)
    assert isinstance(info.value, ConfigError)


def test_bad_yaml_is_a_policy_error():
    with pytest.raises(PolicyError, match="YAML"):
        load_policy("triggers: [\n")


def test_consecutive_windows_needed():
    p = parse_policy({"triggers": [{"metric": "drift_share", "value": 0.3, "consecutive": 2}]})
    assert evaluate(p, windows([0.4, 0.1, 0.4, 0.1])) == []  # never two in a row
    alerts = evaluate(p, windows([0.4, 0.5, 0.1]))
    assert [a.window for a in alerts] == [1]
    a = alerts[0]
    assert a.metric == "drift_share" and a.value == 0.5 and a.threshold == 0.3
    assert "2 consecutive" in a.message
    assert set(a.to_dict()) >= {"id", "policy", "metric", "value", "window"}


def test_cooldown_prevents_storms():
    storm = windows([0.9] * 10)
    no_cool = parse_policy({"triggers": [{"metric": "drift_share", "value": 0.3}]})
    assert len(evaluate(no_cool, storm)) == 10
    cool = parse_policy({"triggers": [{"metric": "drift_share", "value": 0.3}], "cooldown": 3})
    assert [a.window for a in evaluate(cool, storm)] == [0, 4, 8]


def test_cooldown_by_duration_uses_window_time():
    p = parse_policy({"triggers": [{"metric": "m", "value": 0}], "cooldown": "2h"})
    ws = [{"start": f"2024-01-01T{h:02d}:00:00Z", "m": 1} for h in range(6)]
    assert [a.window[11:13] for a in evaluate(p, ws)] == ["00", "02", "04"]


def test_state_carries_over_and_skips_seen_windows():
    p = parse_policy(
        {"triggers": [{"metric": "drift_share", "value": 0.3, "consecutive": 2}], "cooldown": 1}
    )
    ws = windows([0.1, 0.5, 0.6, 0.7, 0.8])
    once = evaluate(p, ws)
    a1, st = advance(p, ws[:2])
    a2, st2 = advance(p, ws, PolicyState.from_dict(st.to_dict()))  # overlapping list
    assert [a.id for a in a1 + a2] == [a.id for a in once]
    assert advance(p, ws, st2)[0] == []  # nothing new: no duplicate alerts


def test_missing_metric_breaks_streak_and_other_triggers_fire():
    p = load_policy(YAML)
    ws = [
        {"start": 0, "drift_share": 0.5},
        {"start": 1},
        {"start": 2, "drift_share": 0.5, "metrics": {"estimated_accuracy_drop": 0.08}},
    ]
    alerts = evaluate(p, ws)
    assert [(a.window, a.metric) for a in alerts] == [(2, "estimated_accuracy_drop")]
