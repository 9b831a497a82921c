"""Cost per million predictions: the arithmetic, checked by hand, and the profiles."""

from __future__ import annotations

import pytest

from assay.efficiency._cost import (
    DEFAULT_INSTANCES,
    cost_per_million,
    costs,
    fmt_usd,
    resolve_instances,
    slug,
    validate_instances,
)


def test_cost_by_hand():
    # 2,000 rows/s on one thread; a 4-core instance at $0.36/h serves 8,000 rows/s,
    # 28.8 million rows an hour: $0.36 / 28.8 = $0.0125 per million.
    assert cost_per_million(2000.0, usd_per_hour=0.36, cores=4) == pytest.approx(0.0125)
    # measured on 2 threads: 1,000 rows/s per thread, 4,000 on the instance, 14.4 M/h
    assert cost_per_million(2000.0, usd_per_hour=0.36, cores=4, threads=2) == pytest.approx(0.025)
    assert cost_per_million(None, usd_per_hour=1, cores=1) is None
    assert cost_per_million(0.0, usd_per_hour=1, cores=1) is None


def test_costs_per_instance():
    out = costs(100.0, validate_instances(DEFAULT_INSTANCES))
    cloud, edge = (i["usd_per_hour"] for i in DEFAULT_INSTANCES)
    assert out["cloud-cpu-example"] == pytest.approx(cloud / (3600 * 400) * 1e6)
    assert out["edge-device-example"] == pytest.approx(edge / (3600 * 400) * 1e6)


def test_defaults_are_labelled_examples():
    for inst in DEFAULT_INSTANCES:
        assert "example" in inst["name"] and inst["note"].startswith("EXAMPLE")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ([], "non-empty list"),
        ([{"name": "a", "usd_per_hour": 0, "cores": 2}], "usd_per_hour"),
        ([{"name": "a", "usd_per_hour": 1, "cores": "4"}], "cores"),
        ([{"usd_per_hour": 1, "cores": 4}], "name"),
        ([{"name": "a", "usd_per_hour": 1, "cores": 4}] * 2, "repeats"),
    ],
)
def test_bad_profiles_are_named(bad, words):
    with pytest.raises(ValueError, match=words):
        validate_instances(bad)


def test_instances_given_once_serve_every_check():
    mine = [{"name": "My box", "usd_per_hour": 1.0, "cores": 8}]
    overrides = {"efficiency.inference": {"instances": mine}}
    got = resolve_instances(overrides, "efficiency.distillation", {"instances": DEFAULT_INSTANCES})
    assert [i["name"] for i in got] == ["My box"]
    own = {"efficiency.distillation": {"instances": [{**mine[0], "name": "other"}]}}
    got = resolve_instances({**overrides, **own}, "efficiency.distillation", {})
    assert [i["name"] for i in got] == ["other"]
    assert resolve_instances({}, "efficiency.quantization", {})[0]["name"] == "cloud-cpu-example"
    assert slug("My box #1") == "my_box_1"


def test_dollars_are_printed_without_exponents():
    assert fmt_usd(2.04e-5) == "$0.000020"
    assert fmt_usd(0.38) == "$0.38"
    assert fmt_usd(1234.0) == "$1,234"
    assert fmt_usd(None) == "n/a"
