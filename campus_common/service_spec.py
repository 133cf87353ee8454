"""A participant service declared as data; one factory builds every participant's app and migrates its schema.

Each participant's package says only what is its own::

    SERVICE = ServiceSpec("payment_service", SCHEMA, views="payment_service.api",
                          migrations=Path(__file__).parent / "migrations")
    create_app, migrate = SERVICE.create_app, SERVICE.migrate
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from campus_common.config import Settings
from campus_common.service_guard import protect
from campus_common.web import create_service_app, migrate_service


@dataclass(frozen=True)
class ServiceSpec:
    """A participant: its name (also its credential's audience), schema, views module and migrations folder."""

    name: str
    schema: str
    views: str  # the module whose ``bp`` holds the service's routes; imported when an app is built
    migrations: Path

    def create_app(self, test_config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
        """Build the service's Flask app (``settings`` or the environment's, ``test_config`` on top)."""
        blueprint = importlib.import_module(self.views).bp
        app = create_service_app(self.name, self.schema, [blueprint], test_config, settings=settings)
        protect(app)  # every call but /healthz needs a service credential
        return app

    def migrate(self, database_url: str) -> list[str]:
        """Apply the service's pending migrations (the shared tables first); return their names."""
        return migrate_service(database_url, self.schema, self.migrations)
