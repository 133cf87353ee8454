"""notification_service: what the platform told each user, and when.

Saga steps record ORDER_CREATED, ORDER_READY_FOR_RUNNER, PAYOUT_SENT and the rest here; a
batch (one per runner, say) lands in one transaction or not at all. Owns the
``notification_service`` schema.
"""
from __future__ import annotations

from pathlib import Path

from campus_common.service_spec import ServiceSpec
from notification_service.repository import SCHEMA

__all__ = ["SCHEMA", "SERVICE", "create_app", "migrate"]

SERVICE = ServiceSpec("notification_service", SCHEMA, views="notification_service.api", migrations=Path(__file__).parent / "migrations")
create_app, migrate = SERVICE.create_app, SERVICE.migrate
