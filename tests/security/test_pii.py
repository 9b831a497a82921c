"""security.pii: planted personal data is found and named with a masked example;
look-alike values stay quiet; nothing reaches for the network."""

from __future__ import annotations

import json
import socket
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

from assay.security import _pii_engine as eng
from assay.security.pii import name_hint

from .privacy_helpers import people, run

CHECK = "security.pii"


@pytest.fixture(scope="module")
def table():
    return people(800, seed=0)


@pytest.fixture(scope="module")
def result(table):
    return run(CHECK, table.iloc[500:], table.iloc[:500])


def finding(result, column):
    found = [f for f in result.findings if f.column == column]
    return found[0] if found else None


def entities(result, column):
    return {r["entity"] for r in result.details["columns"] if r["column"] == column}


def test_pii_columns_fail_and_are_named(result):
    assert result.status == "fail"
    for col, entity in (
        ("email", "EMAIL_ADDRESS"),
        ("phone", "PHONE_NUMBER"),
        ("card", "CREDIT_CARD"),
    ):
        f = finding(result, col)
        assert f is not None and f.status == "fail", col
        assert entities(result, col) == {entity}
        assert f.metrics["pii_share"] > 0.9
    assert "'email'" in result.summary or "'phone'" in result.summary or "'card'" in result.summary


def test_occasional_pii_in_free_text_warns(result):
    f = finding(result, "notes")
    assert f is not None and f.status == "warn"
    assert entities(result, "notes") == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    rows = [r for r in result.details["columns"] if r["column"] == "notes"]
    for r in rows:
        assert r["share"]["train"] == pytest.approx(0.05, abs=0.011)
        assert r["estimated"] is False  # few candidates: every one was analyzed


def test_look_alikes_stay_quiet(result):
    for col in ("order_ref", "bad_card", "version", "account_id", "sku", "x"):
        assert finding(result, col) is None, finding(result, col)
        assert not entities(result, col), col
    assert result.metrics["columns_with_pii"] == 4  # email, phone, card, notes


def test_examples_are_masked_and_no_raw_value_reaches_the_report(result, table):
    text = json.dumps(result.to_dict())
    for col in ("email", "phone", "card", "notes"):
        for value in table[col].iloc[:50]:
            assert value not in text
    ex = next(r["example"] for r in result.details["columns"] if r["column"] == "email")
    assert "@" in ex and "*" in ex and "customer" not in ex
    card = next(r["example"] for r in result.details["columns"] if r["column"] == "card")
    assert card.startswith("4***") and card.count("*") >= 12


def test_name_hints(result):
    dob = finding(result, "dob")
    assert dob is not None and dob.status == "warn" and "date of birth" in dob.message
    gender = finding(result, "gender")
    assert gender is not None and gender.status == "pass"
    hinted = {h["column"]: h["kind"] for h in result.details["name_hints"]}
    assert hinted["gender"] == "SENSITIVE" and hinted["dob"] == "DATE_OF_BIRTH"
    assert name_hint("customer_Last_Name")[0] == "PERSON"
    assert name_hint("product_name") is None
    assert name_hint("ip_address")[0] == "IP_ADDRESS"


def test_clean_data_passes_without_loading_presidio():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"colour": rng.choice(["red", "blue"], 300), "x": rng.normal(size=300), "y": [0, 1] * 150}
    )
    r = run(CHECK, df)
    assert r.status == "pass" and "No personal data" in r.summary
    assert r.metrics["columns_with_pii"] == 0


def test_large_columns_are_sampled_and_say_so():
    rng = np.random.default_rng(2)
    n = 3000
    email = np.array([f"u{k}@example.com" for k in range(n)], dtype=object)
    email[rng.random(n) < 0.3] = "unknown"
    df = pd.DataFrame({"contact": email, "y": rng.integers(0, 2, n)})
    r = run(CHECK, df, thresholds={CHECK: {"max_values": 200}})
    row = next(x for x in r.details["columns"] if x["column"] == "contact")
    assert row["estimated"] is True
    assert row["share"]["test"] == pytest.approx((email != "unknown").mean(), abs=0.02)
    assert "contact" in r.details["sample"] and "estimates" in r.details["sample"]
    assert "about" in finding(r, "contact").message
    shuffled = df.iloc[rng.permutation(n)].reset_index(drop=True)
    assert run(CHECK, shuffled, thresholds={CHECK: {"max_values": 200}}).metrics == r.metrics


def test_integer_phone_numbers_need_a_phone_name():
    rng = np.random.default_rng(3)
    nums = 2125550000 + rng.integers(100, 9999, 400)
    df = pd.DataFrame({"mobile": nums, "ref": nums, "y": rng.integers(0, 2, 400)})
    r = run(CHECK, df)
    assert entities(r, "mobile") == {"PHONE_NUMBER"}
    assert not entities(r, "ref")


def test_a_column_name_holding_an_email_is_reported_masked():
    df = pd.DataFrame({"jane.doe@example.com": ["a", "b"] * 20, "y": [0, 1] * 20})
    r = run(CHECK, df)
    f = [f for f in r.findings if f.group == "column names"]
    assert f and "jane" not in json.dumps(r.to_dict())


def test_version_numbers_are_not_ip_addresses_but_addresses_are():
    rng = np.random.default_rng(4)
    ips = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 255, (200, 4))]
    versions = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(0, 20, (200, 4))]
    df = pd.DataFrame({"client": ips, "release": versions, "other": versions, "y": [0, 1] * 100})
    r = run(CHECK, df)
    assert entities(r, "client") == {"IP_ADDRESS"}
    assert not entities(r, "release") and not entities(r, "other")
    why = {d["column"]: d["why"] for d in r.details["look_alikes_dismissed"]}
    assert "version" in why["release"] and "below 32" in why["other"]


def test_random_card_shaped_ids_pass_luhn_only_by_chance_and_stay_quiet():
    rng = np.random.default_rng(5)
    ids = [
        " ".join(f"4{k:015d}"[i : i + 4] for i in range(0, 16, 4))
        for k in rng.integers(10**14, 10**15, 300)
    ]
    r = run(CHECK, pd.DataFrame({"ref": ids, "y": [0, 1] * 150}))
    assert not entities(r, "ref")
    assert any(d["entity"] == "CREDIT_CARD" for d in r.details["look_alikes_dismissed"])


def test_no_network_is_used(monkeypatch):
    """Presidio's engine and tldextract's suffix list work with every socket refused."""

    def refuse(*args, **kwargs):
        raise OSError("network is disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    eng._engine.cache_clear()
    eng._offline_tld_extractor.cache_clear()
    try:
        scan = eng.scan_values(pl.Series(["mail a.b@example.co.uk now", "nothing here"]))
    finally:
        eng._engine.cache_clear()
        eng._offline_tld_extractor.cache_clear()
    assert [s.entity for s in scan.spans[0]] == ["EMAIL_ADDRESS"]
    assert 1 not in scan.spans


def test_skipped_without_presidio(monkeypatch, table):
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)  # as if not installed
    r = run(CHECK, table.iloc[:50])
    assert r.status == "skipped"
    assert r.summary == (
        "Skipped: this check needs the optional package 'presidio-analyzer'; "
        "install it with: pip install 'assay[pii]'."
    )


def test_mask_keeps_punctuation_and_hides_the_rest():
    assert eng.mask("4111 1111 1111 1111") == "4*** **** **** **11"
    assert eng.mask("12-34") == "**-**"
    assert eng.mask("john.doe@example.com") == "j***.***@*******.*om"
