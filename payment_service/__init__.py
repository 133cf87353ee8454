"""payment_service: the local stand-in for a payment provider, as a real escrow ledger in Postgres.

It behaves like a manual-capture payment intent: ``authorize`` holds the customer's funds,
``release`` voids the hold, ``capture`` charges them and pays the runner's payout account,
``refund`` gives a captured charge back. Card tokens decide authorization (``tok_visa``,
``tok_mastercard`` approve; ``tok_chargeDeclined`` declines; ``tok_insufficient_funds`` declines
above 20.00). Every money movement is a ledger entry written in the transaction that changes the
payment's status. Owns the ``payment_service`` schema.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from campus_common.service_guard import protect
from campus_common.web import create_service_app, migrate_service
from payment_service.api import bp
from payment_service.repository import SCHEMA

__all__ = ["SCHEMA", "create_app", "migrate"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the payment service's Flask app."""
    app = create_service_app("payment_service", SCHEMA, [bp], test_config)
    protect(app)  # every call but /healthz needs a service credential
    return app


def migrate(database_url: str) -> list[str]:
    """Apply the pending migrations of the ``payment_service`` schema; return their names."""
    return migrate_service(database_url, SCHEMA, Path(__file__).parent / "migrations")
