"""The order service: orders and their status machine (internal API, port 3002)."""
from __future__ import annotations

from pathlib import Path

from campus_common.service_spec import ServiceSpec

__all__ = ["SCHEMA", "SERVICE", "create_app", "migrate"]

SCHEMA = "order_service"
SERVICE = ServiceSpec("order_service", SCHEMA, views="order_service.api", migrations=Path(__file__).parent / "migrations")
create_app, migrate = SERVICE.create_app, SERVICE.migrate
