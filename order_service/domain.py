"""Orders without I/O: the status machine, what a valid order is, and what it costs."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from campus_common.orders import (MAX_ITEMS, MAX_NAME, MAX_PRICE, MAX_QUANTITY, MAX_TEXT, RUNNER_STEPS, Item,
                                  OrderStatus, parse_price, parse_quantity, parse_text)
from campus_common.validation import CENTS, Fields, InvalidInput

__all__ = ["CANCELLABLE", "MAX_ITEMS", "MAX_NAME", "MAX_PRICE", "MAX_QUANTITY", "MAX_TEXT", "RUNNER_STEPS", "STAMPS",
           "TRANSITIONS", "Fees", "InvalidInput", "Item", "Order", "OrderStatus", "can_transition", "compute_fees",
           "parse_price", "parse_quantity", "parse_text", "validate_items"]

_S = OrderStatus
TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset({
    (_S.PENDING, _S.CREATED), (_S.CREATED, _S.ACCEPTED), (_S.ACCEPTED, _S.PLACED), (_S.PLACED, _S.ON_THE_WAY),
    (_S.ON_THE_WAY, _S.DELIVERED), (_S.DELIVERED, _S.COMPLETED),
    (_S.PENDING, _S.CANCELLED), (_S.CREATED, _S.CANCELLED), (_S.ACCEPTED, _S.CREATED),
})
# The timestamp each status stamps when an order enters it.
STAMPS: Mapping[OrderStatus, str] = {
    _S.ACCEPTED: "accepted_at", _S.PLACED: "placed_at", _S.ON_THE_WAY: "picked_up_at",
    _S.DELIVERED: "delivered_at", _S.COMPLETED: "completed_at", _S.CANCELLED: "cancelled_at"}
CANCELLABLE: frozenset[OrderStatus] = frozenset(a for a, b in TRANSITIONS if b is _S.CANCELLED)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """True when the status machine allows ``current -> target``."""
    return (current, target) in TRANSITIONS


@dataclass(frozen=True)
class Order:
    """An order as the service stores and serves it."""

    order_id: UUID
    customer_id: UUID
    runner_id: UUID | None
    saga_id: UUID
    items: tuple[Item, ...]
    food_fee: Decimal
    delivery_fee: Decimal
    total: Decimal
    store_location: str
    delivery_location: str
    status: OrderStatus
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    placed_at: datetime | None = None
    picked_up_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (money stays Decimal; the JSON provider writes it as a string)."""
        data = asdict(self)
        data.update(status=self.status.value, items=[item.to_json() for item in self.items])
        return data


@dataclass(frozen=True)
class Fees:
    """What an order costs."""

    food_fee: Decimal
    delivery_fee: Decimal

    @property
    def total(self) -> Decimal:
        """Food plus delivery."""
        return self.food_fee + self.delivery_fee


def compute_fees(items: Iterable[Item], delivery_fee: Decimal) -> Fees:
    """food_fee = sum(price x quantity) in cents; the flat delivery fee on top."""
    food = sum((item.price * item.quantity for item in items), Decimal("0"))
    return Fees(food.quantize(CENTS), Decimal(delivery_fee).quantize(CENTS, ROUND_HALF_UP))


def validate_items(raw: Any) -> tuple[Item, ...]:
    """``items``: a non-empty list of ``{name, price, quantity}``; InvalidInput names each bad field."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ITEMS:
        raise InvalidInput({"items": f"must be a list of 1 to {MAX_ITEMS} items"})
    items: list[Item] = []
    errors: dict[str, str] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            errors[f"items[{index}]"] = "must be an object with name, price and quantity"
            continue
        fields = Fields(entry, prefix=f"items[{index}].")
        item = Item(fields.read("name", _item_name), fields.read("price", parse_price),
                    fields.read("quantity", parse_quantity))
        errors.update(fields.errors)
        if not fields.errors:
            items.append(item)
    if errors:
        raise InvalidInput(errors)
    return tuple(items)


def _item_name(value: Any) -> str:
    return parse_text(value, MAX_NAME)
