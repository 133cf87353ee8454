"""user_service: customers and runners, with the card on file and the payout account.

A participant of the sagas: ``create_order`` reads the customer's card, ``complete_order`` the
runner's payout account. Owns the ``user_service`` schema.
"""
from __future__ import annotations

from pathlib import Path

from campus_common.service_spec import ServiceSpec
from user_service.repository import SCHEMA

__all__ = ["SCHEMA", "SERVICE", "create_app", "migrate"]

SERVICE = ServiceSpec("user_service", SCHEMA, views="user_service.api", migrations=Path(__file__).parent / "migrations")
create_app, migrate = SERVICE.create_app, SERVICE.migrate
