"""What steps return and later steps read: small typed records, stored as their fields (JSON).

Field names are the stored keys, unchanged from the dicts steps returned before, so sagas in flight
read their earlier outputs as these records (a missing key takes the field's default).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderSummary:
    """An order as a step saw it; ``total`` is money as the order service wrote it (a string)."""

    order_id: str | None = None
    status: str | None = None
    total: str | None = None

    @classmethod
    def of(cls, order: dict[str, Any]) -> OrderSummary:
        """The summary of an order service answer."""
        return cls(order["order_id"], order["status"], order["total"])


@dataclass(frozen=True)
class DeliveredOrder(OrderSummary):
    """complete_order's checked order: delivered, and whose it is."""

    customer_id: str | None = None
    runner_id: str | None = None


@dataclass(frozen=True)
class CardOnFile:
    """The customer's card token."""

    card_token: str


@dataclass(frozen=True)
class PayoutAccount:
    """The runner's payout account."""

    payout_account: str | None = None


@dataclass(frozen=True)
class PaymentSummary:
    """A payment as a step saw it (all None when there was none to act on)."""

    payment_id: str | None = None
    status: str | None = None
    amount: str | None = None

    @classmethod
    def of(cls, payment: dict[str, Any] | None) -> PaymentSummary:
        """The summary of a payment service answer (``None``: no payment)."""
        if not payment:
            return cls()
        return cls(payment["payment_id"], payment["status"], payment["amount"])
