"""Without the ``service`` or ``postgres`` extra, the monitor gives the install hint (#15).

Both places built ``MissingExtraError`` with one message argument instead of its
``(package, extra, feature)`` signature, so a user without the extra got a ``TypeError``.
"""

from __future__ import annotations

import sys

import pytest

import assay.service
from assay.errors import MissingExtraError
from assay.service._postgres import PostgresStore


def test_monitor_app_without_the_service_extra_names_it(monkeypatch):
    # A module set to None in sys.modules makes `import` raise ImportError, as when
    # the package is not installed; the lazily imported app module is imported afresh.
    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "assay.service._app", raising=False)
    with pytest.raises(MissingExtraError, match=r"pip install 'assay\[service\]'") as info:
        assay.service.create_app  # noqa: B018 - the attribute access is the import
    assert info.value.extra == "service" and info.value.package == "fastapi"
    assert "assay.service.create_app" in str(info.value)


def test_postgres_store_without_psycopg_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'assay\[postgres\]'") as info:
        PostgresStore("postgresql://user@localhost/assay")
    assert info.value.extra == "postgres" and info.value.package == "psycopg"
