"""The order service: orders and their status machine (internal API, port 3002)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from campus_common.service_guard import protect
from campus_common.web import create_service_app, migrate_service
SCHEMA = "order_service"
MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["SCHEMA", "create_app", "migrate"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the order service's Flask app (config from the environment, ``test_config`` on top)."""
    from order_service.api import bp

    app = create_service_app("order_service", SCHEMA, [bp], test_config)
    protect(app)  # every call but /healthz needs a service credential
    return app


def migrate(database_url: str) -> list[str]:
    """Apply the order service's pending migrations; return their names."""
    return migrate_service(database_url, SCHEMA, MIGRATIONS)
