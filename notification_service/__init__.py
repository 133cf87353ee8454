"""notification_service: what the platform told each user, and when.

Saga steps record ORDER_CREATED, ORDER_READY_FOR_RUNNER, PAYOUT_SENT and the rest here; a
batch (one per runner, say) lands in one transaction or not at all. Owns the
``notification_service`` schema.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from campus_common.service_guard import protect
from campus_common.web import create_service_app, migrate_service
from notification_service.api import bp
from notification_service.repository import SCHEMA

__all__ = ["SCHEMA", "create_app", "migrate"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the notification service's Flask app."""
    app = create_service_app("notification_service", SCHEMA, [bp], test_config)
    protect(app)  # every call but /healthz needs a service credential
    return app


def migrate(database_url: str) -> list[str]:
    """Apply the pending migrations of the ``notification_service`` schema; return their names."""
    return migrate_service(database_url, SCHEMA, Path(__file__).parent / "migrations")
