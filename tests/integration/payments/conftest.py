"""payment_service over its HTTP API (Flask test client) against a real Postgres: the escrow ledger."""
from __future__ import annotations

import pytest
from flask import Flask

from payment_service import create_app
from tests.service_credentials import trusted


@pytest.fixture()
def app(clean_db: str) -> Flask:
    """The payment service over an empty database."""
    return trusted(create_app({"DATABASE_URL": clean_db}))
