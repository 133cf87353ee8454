"""Requests to the order service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from campus_common.validation import Fields, parse_uuid
from order_service.domain import RUNNER_STEPS, Item, OrderStatus, parse_text, validate_items

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_KEY = 255


@dataclass(frozen=True)
class CreateOrder:
    """Create an order PENDING, on behalf of the saga that runs its creation."""

    order_id: UUID
    customer_id: UUID
    saga_id: UUID
    items: tuple[Item, ...]
    store_location: str
    delivery_location: str


@dataclass(frozen=True)
class CancelOrder:
    """Cancel an order that is still in ``expected_status``."""

    reason: str | None
    expected_status: OrderStatus
    undoes: str | None = None  # with PENDING: the create this cancellation compensates


@dataclass(frozen=True)
class AdvanceOrder:
    """The assigned runner moves an order one step on."""

    status: OrderStatus
    runner_id: UUID


@dataclass(frozen=True)
class OrderQuery:
    """Filters of the order list."""

    status: OrderStatus | None = None
    customer_id: UUID | None = None
    runner_id: UUID | None = None
    limit: int = DEFAULT_LIMIT


def status_parser(allowed: Iterable[OrderStatus]) -> Callable[[Any], OrderStatus]:
    """A parser accepting only the names of ``allowed``."""
    names = [status.value for status in allowed]

    def parse(value: Any) -> OrderStatus:
        if not isinstance(value, str) or value not in names:
            raise ValueError("must be one of " + ", ".join(names))
        return OrderStatus(value)
    return parse


def parse_limit(value: Any) -> int:
    """A page size from a query string: 1 up, anything above the maximum is the maximum."""
    if not isinstance(value, str) or not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"must be an integer from 1 to {MAX_LIMIT}")
    return min(int(value), MAX_LIMIT)


def create_order(body: Mapping[str, Any]) -> CreateOrder:
    """Validate a create-order body; InvalidInput names every bad field."""
    fields = Fields(body)
    command = CreateOrder(
        order_id=fields.get("order_id", parse_uuid), customer_id=fields.get("customer_id", parse_uuid),
        saga_id=fields.get("saga_id", parse_uuid), items=fields.get("items", validate_items),
        store_location=fields.get("store_location", parse_text),
        delivery_location=fields.get("delivery_location", parse_text))
    fields.done()
    return command


def cancel_order(body: Mapping[str, Any]) -> CancelOrder:
    """Validate a cancel body: an optional reason and the status the caller expects."""
    fields = Fields(body)
    command = CancelOrder(
        reason=fields.get("reason", parse_text, required=False),
        expected_status=fields.get("expected_status", status_parser([OrderStatus.PENDING, OrderStatus.CREATED])),
        undoes=fields.get("undoes", parse_key, required=False))
    fields.done()
    return command


def undo_accept(body: Mapping[str, Any]) -> tuple[UUID, str | None]:
    """The ``runner_id`` of an undo-accept and the accept it ``undoes`` (optional)."""
    fields = Fields(body)
    values = fields.get("runner_id", parse_uuid), fields.get("undoes", parse_key, required=False)
    fields.done()
    return values


def parse_key(value: Any) -> str:
    """An action's Idempotency-Key, as a compensation names it."""
    return parse_text(value, MAX_KEY)


def runner_id(body: Mapping[str, Any]) -> UUID:
    """The ``runner_id`` of a body."""
    fields = Fields(body)
    value = fields.get("runner_id", parse_uuid)
    fields.done()
    return value


def advance_order(body: Mapping[str, Any]) -> AdvanceOrder:
    """Validate a runner's status update: PLACED, ON_THE_WAY or DELIVERED."""
    fields = Fields(body)
    command = AdvanceOrder(status=fields.get("status", status_parser(RUNNER_STEPS)),
                           runner_id=fields.get("runner_id", parse_uuid))
    fields.done()
    return command


def order_query(args: Mapping[str, str]) -> OrderQuery:
    """Validate the list filters of a query string."""
    fields = Fields(args)
    query = OrderQuery(
        status=fields.get("status", status_parser(OrderStatus), required=False),
        customer_id=fields.get("customer_id", parse_uuid, required=False),
        runner_id=fields.get("runner_id", parse_uuid, required=False),
        limit=fields.get("limit", parse_limit, required=False) or DEFAULT_LIMIT)
    fields.done()
    return query
