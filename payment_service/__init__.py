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

from campus_common.service_spec import ServiceSpec
from payment_service.repository import SCHEMA

__all__ = ["SCHEMA", "SERVICE", "create_app", "migrate"]

SERVICE = ServiceSpec("payment_service", SCHEMA, views="payment_service.api", migrations=Path(__file__).parent / "migrations")
create_app, migrate = SERVICE.create_app, SERVICE.migrate
