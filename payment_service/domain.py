"""Escrow rules with no framework in sight: card decisions, the status machine, ledger movements."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

AUTHORIZED, RELEASED, CAPTURED, REFUNDED = "AUTHORIZED", "RELEASED", "CAPTURED", "REFUNDED"
LIVE_STATUSES = (AUTHORIZED, CAPTURED)
HOLD, RELEASE, CAPTURE, PAYOUT, REFUND = "HOLD", "RELEASE", "CAPTURE", "PAYOUT", "REFUND"

APPROVING_TOKENS = frozenset({"tok_visa", "tok_mastercard"})
DECLINING_TOKEN = "tok_chargeDeclined"
INSUFFICIENT_FUNDS_TOKEN = "tok_insufficient_funds"
INSUFFICIENT_FUNDS_LIMIT = Decimal("20.00")


@dataclass(frozen=True)
class Transition:
    """One move of the status machine, and the timestamp it stamps."""

    from_status: str
    to_status: str
    stamp: str


RELEASE_HOLD = Transition(AUTHORIZED, RELEASED, "released_at")
CAPTURE_FUNDS = Transition(AUTHORIZED, CAPTURED, "captured_at")
REFUND_CHARGE = Transition(CAPTURED, REFUNDED, "refunded_at")


@dataclass(frozen=True)
class Movement:
    """One ledger entry to write: which movement, on which account, how much."""

    entry_type: str
    account: str
    amount: Decimal


def card_refusal(card_token: str, amount: Decimal) -> str | None:
    """Why the card refuses ``amount`` (an error code), or None when it approves."""
    if card_token in APPROVING_TOKENS:
        return None
    if card_token == DECLINING_TOKEN:
        return "card_declined"
    if card_token == INSUFFICIENT_FUNDS_TOKEN:
        return "insufficient_funds" if amount > INSUFFICIENT_FUNDS_LIMIT else None
    return "unknown_card_token"


def customer_account(customer_id: uuid.UUID) -> str:
    """The ledger account of a customer's card."""
    return f"customer:{customer_id}"


def hold_movements(customer_id: uuid.UUID, amount: Decimal) -> list[Movement]:
    """Authorizing holds the amount on the customer's card."""
    return [Movement(HOLD, customer_account(customer_id), amount)]


def release_movements(customer_id: uuid.UUID, amount: Decimal) -> list[Movement]:
    """Releasing gives the held amount back to the customer's card."""
    return [Movement(RELEASE, customer_account(customer_id), amount)]


def capture_movements(customer_id: uuid.UUID, amount: Decimal, payout_account: str) -> list[Movement]:
    """Capturing charges the customer and pays the same amount to the runner's payout account."""
    return [Movement(CAPTURE, customer_account(customer_id), amount),
            Movement(PAYOUT, payout_account, amount)]


def refund_movements(customer_id: uuid.UUID, amount: Decimal) -> list[Movement]:
    """Refunding pays the charged amount back to the customer."""
    return [Movement(REFUND, customer_account(customer_id), amount)]
