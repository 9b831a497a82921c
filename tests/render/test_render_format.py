"""Number, text and label formatting shared by the renderers."""

from __future__ import annotations

import pytest

from assay.render._format import (
    clean_text,
    esc,
    fmt_number,
    fmt_tick,
    humanize,
    short_hash,
    shorten,
)


@pytest.mark.parametrize(
    ("value", "name", "expected"),
    [
        (0.9123, "", "0.912"),
        (1.0, "accuracy", "1.000"),
        (12345, "", "12,345"),
        (0, "", "0"),
        (0.0, "", "0"),
        (None, "", "—"),
        (float("nan"), "", "—"),
        (float("inf"), "", "—"),
        (True, "", "yes"),
        (-0.25, "", "-0.250"),
        (0.000123, "", "1.23e-04"),
        (42.0, "", "42"),
        (12.3456, "", "12.35"),
        (1234.5, "", "1,234.5"),
        (2.5e16, "", "2.500e+16"),
        (0.31, "missing_share", "31.0%"),
        (0.057, "overlap_share_test", "5.7%"),
        (0.5, "shared_memory", "0.500"),
        (0.0004, "overlap_share", "0.04%"),
        (1.7, "missing_share", "1.700"),  # not a share after all
        (7, "missing_share", "7"),
        ("text", "", "text"),
        ([1], "", "—"),
    ],
)
def test_fmt_number(value, name, expected):
    assert fmt_number(value, name) == expected


def test_fmt_tick():
    assert fmt_tick(0.25, 0.05) == "0.25"
    assert fmt_tick(2000, 500) == "2,000"
    assert fmt_tick(1e-17, 0.1) == "0.0"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing_share", "Missing share"),
        ("roc_auc", "ROC AUC"),
        ("r2", "R²"),
        ("ece", "ECE"),
        ("", ""),
        ("n_rows", "N rows"),
        ("Already Fine", "Already Fine"),
    ],
)
def test_humanize(name, expected):
    assert humanize(name) == expected


def test_text_helpers():
    assert esc('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert esc("it's") == "it&#x27;s" and esc(None) == ""
    assert clean_text("a\x00b\x1bc\ud800d\ufffe\tx\n") == "abcd\tx\n"
    assert shorten("abcdef", 4) == "abc…" and shorten("abc", 4) == "abc"
    assert short_hash("sha256:" + "f" * 64) == "sha256:" + "f" * 12 + "…"
    assert short_hash("abc") == "abc"
