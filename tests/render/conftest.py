"""Fixtures for the renderer tests; the report builders live in ``report_samples``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.render.report_samples import build_report


@pytest.fixture
def report() -> dict[str, Any]:
    return build_report()


@pytest.fixture
def clean_report() -> dict[str, Any]:
    return build_report(hostile=False)
