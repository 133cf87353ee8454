"""Requests to the payment service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from campus_common.validation import Fields, parse_uuid, required_text

MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12,2)
CENTS = Decimal("0.01")
MAX_TEXT = 200
_parse_text = required_text(MAX_TEXT)


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


def parse_capture(data: Mapping[str, Any]) -> Capture:
    """Validate a capture request; raise InvalidInput naming every bad field."""
    fields = Fields(data)
    command = Capture(order_id=fields.read("order_id", parse_uuid),
                      payout_account=fields.read("payout_account", _parse_text))
    fields.done()
    return command


def parse_amount(value: Any) -> Decimal:
    """A positive amount with at most two places, given as a string or a JSON number."""
    amount = _decimal(value)
    if amount is None:
        raise ValueError('must be an amount such as "12.50"')
    if not Decimal(0) < amount <= MAX_AMOUNT:
        raise ValueError(f"must be greater than 0 and at most {MAX_AMOUNT}")
    if amount != amount.quantize(CENTS):
        raise ValueError("must have at most two decimal places")
    return amount.quantize(CENTS)


def _decimal(value: Any) -> Decimal | None:
    # Floats never reach here from JSON (jsonutil parses them as Decimal); refuse them anyway.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
