"""user_service: customers and runners, with the card on file and the payout account.

A participant of the sagas: ``create_order`` reads the customer's card, ``complete_order`` the
runner's payout account. Owns the ``user_service`` schema.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from campus_common.service_guard import protect
from campus_common.web import create_service_app, migrate_service
from user_service.api import bp
from user_service.repository import SCHEMA

__all__ = ["SCHEMA", "create_app", "migrate"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the user service's Flask app."""
    app = create_service_app("user_service", SCHEMA, [bp], test_config)
    protect(app)  # every call but /healthz needs a service credential
    return app


def migrate(database_url: str) -> list[str]:
    """Apply the pending migrations of the ``user_service`` schema; return their names."""
    return migrate_service(database_url, SCHEMA, Path(__file__).parent / "migrations")
