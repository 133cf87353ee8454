"""The order vocabulary the order service and the gateway share: statuses, an item, the input bounds.

The order service owns orders (``order_service.domain`` builds its status machine on these); the
gateway validates requests with the same rules before a saga starts, without importing the service.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from campus_common.validation import checked_text, money

# Bounds that keep any total inside numeric(12,2) and any request reasonably small.
MAX_ITEMS, MAX_QUANTITY, MAX_PRICE, MAX_NAME, MAX_TEXT = 100, 1000, Decimal("10000.00"), 200, 500


class OrderStatus(str, Enum):
    """Where an order is in its life."""

    PENDING = "PENDING"
    CREATED = "CREATED"
    ACCEPTED = "ACCEPTED"
    PLACED = "PLACED"
    ON_THE_WAY = "ON_THE_WAY"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


_S = OrderStatus
# The assigned runner moves the order along these, one step at a time: target -> required status.
RUNNER_STEPS: Mapping[OrderStatus, OrderStatus] = {
    _S.PLACED: _S.ACCEPTED, _S.ON_THE_WAY: _S.PLACED, _S.DELIVERED: _S.ON_THE_WAY}


@dataclass(frozen=True)
class Item:
    """One line of an order."""

    name: str
    price: Decimal
    quantity: int

    def to_json(self) -> dict[str, Any]:
        """The item as stored and served: price as a two-place string."""
        return {"name": self.name, "price": str(self.price), "quantity": self.quantity}


def parse_text(value: Any, max_length: int = MAX_TEXT) -> str:
    """A non-empty string of at most ``max_length`` characters, surrounding blanks removed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return checked_text(value.strip())


parse_price = money(MAX_PRICE)


def parse_quantity(value: Any) -> int:
    """A quantity: a whole JSON integer from 1 up."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    if not 1 <= value <= MAX_QUANTITY:
        raise ValueError(f"must be between 1 and {MAX_QUANTITY}")
    return value
