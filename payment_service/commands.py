"""Requests to the payment service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from campus_common.validation import Fields, money, parse_uuid, required_text

MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12,2)
MAX_TEXT = 200
MAX_KEY = 255
_parse_text = required_text(MAX_TEXT)
_parse_key = required_text(MAX_KEY)


@dataclass(frozen=True)
class Authorize:
    """A validated request to hold ``amount`` on the customer's card for an order."""

    order_id: uuid.UUID
    customer_id: uuid.UUID
    amount: Decimal
    card_token: str


@dataclass(frozen=True)
class Capture:
    """A validated request to charge an order's held funds and pay them to a runner."""

    order_id: uuid.UUID
    payout_account: str


def parse_authorize(data: Mapping[str, Any]) -> Authorize:
    """Validate an authorization request; raise InvalidInput naming every bad field."""
    fields = Fields(data)
    command = Authorize(order_id=fields.read("order_id", parse_uuid),
                        customer_id=fields.read("customer_id", parse_uuid),
                        amount=fields.read("amount", parse_amount),
                        card_token=fields.read("card_token", _parse_text))
    fields.done()
    return command


def parse_order_id(data: Mapping[str, Any]) -> uuid.UUID:
    """The ``order_id`` of a release, capture or refund request."""
    fields = Fields(data)
    order_id = fields.read("order_id", parse_uuid)
    fields.done()
    return order_id


@dataclass(frozen=True)
class Compensation:
    """A release or refund: the order, and the action key whose effect it undoes (None: any)."""

    order_id: uuid.UUID
    undoes: str | None


def parse_compensation(data: Mapping[str, Any]) -> Compensation:
    """The ``order_id`` and optional ``undoes`` (an action's Idempotency-Key) of a release or refund."""
    fields = Fields(data)
    command = Compensation(order_id=fields.read("order_id", parse_uuid),
                           undoes=fields.get("undoes", _parse_key, required=False))
    fields.done()
    return command


def parse_capture(data: Mapping[str, Any]) -> Capture:
    """Validate a capture request; raise InvalidInput naming every bad field."""
    fields = Fields(data)
    command = Capture(order_id=fields.read("order_id", parse_uuid),
                      payout_account=fields.read("payout_account", _parse_text))
    fields.done()
    return command


parse_amount = money(MAX_AMOUNT)
