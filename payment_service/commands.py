"""Requests to the payment service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12,2)
CENTS = Decimal("0.01")
MAX_TEXT = 200


class InvalidInput(ValueError):
    """Input that breaks the rules; ``details`` maps each bad field to what is wrong with it."""

    def __init__(self, details: dict[str, str]) -> None:
        super().__init__("invalid input: " + ", ".join(sorted(details)))
        self.details = details


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
    errors: dict[str, str] = {}
    order_id = _uuid(data.get("order_id"), "order_id", errors)
    customer_id = _uuid(data.get("customer_id"), "customer_id", errors)
    amount = parse_amount(data.get("amount"), errors)
    card_token = _text(data.get("card_token"), "card_token", errors)
    if errors:
        raise InvalidInput(errors)
    return Authorize(order_id, customer_id, amount, card_token)  # type: ignore[arg-type]


def parse_order_id(data: Mapping[str, Any]) -> uuid.UUID:
    """The ``order_id`` of a release, capture or refund request."""
    errors: dict[str, str] = {}
    order_id = _uuid(data.get("order_id"), "order_id", errors)
    if order_id is None:
        raise InvalidInput(errors)
    return order_id


def parse_capture(data: Mapping[str, Any]) -> Capture:
    """Validate a capture request; raise InvalidInput naming every bad field."""
    errors: dict[str, str] = {}
    order_id = _uuid(data.get("order_id"), "order_id", errors)
    payout_account = _text(data.get("payout_account"), "payout_account", errors)
    if errors:
        raise InvalidInput(errors)
    return Capture(order_id, payout_account)  # type: ignore[arg-type]


def parse_amount(value: Any, errors: dict[str, str]) -> Decimal | None:
    """A positive amount with at most two places, given as a string or a JSON number."""
    amount = _decimal(value)
    if amount is None:
        errors["amount"] = 'must be an amount such as "12.50"'
    elif not Decimal(0) < amount <= MAX_AMOUNT:
        errors["amount"] = f"must be greater than 0 and at most {MAX_AMOUNT}"
    elif amount != amount.quantize(CENTS):
        errors["amount"] = "must have at most two decimal places"
    else:
        return amount.quantize(CENTS)
    return None


def _decimal(value: Any) -> Decimal | None:
    # Floats never reach here from JSON (jsonutil parses them as Decimal); refuse them anyway.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _uuid(value: Any, field: str, errors: dict[str, str]) -> uuid.UUID | None:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors[field] = "must be a UUID"
    return None


def _text(value: Any, field: str, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "is required and must be a non-empty string"
    elif len(value.strip()) > MAX_TEXT:
        errors[field] = f"must be at most {MAX_TEXT} characters"
    else:
        return value.strip()
    return None
