"""The order service over HTTP (Flask test client) against a real Postgres."""
from __future__ import annotations

import pytest
from flask import Flask

import order_service
from tests.service_credentials import trusted


@pytest.fixture()
def app(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The order service over an empty database, with the default delivery fee."""
    monkeypatch.delenv("DELIVERY_FEE", raising=False)
    return trusted(order_service.create_app({"DATABASE_URL": clean_db}))
