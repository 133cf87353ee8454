"""Orders in Postgres: every change of status is one conditional UPDATE."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Executable, RowMapping, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from order_service.commands import CreateOrder, OrderQuery
from order_service.domain import STAMPS, Fees, Item, Order, OrderStatus
from order_service.models import orders


def add(session: Session, command: CreateOrder, fees: Fees, create_key: str | None = None) -> Order | None:
    """Insert a PENDING order (made by the request ``create_key``); None when its id is taken."""
    statement = insert(orders).values(create_key=create_key,
        order_id=command.order_id, customer_id=command.customer_id, saga_id=command.saga_id,
        items=[item.to_json() for item in command.items], food_fee=fees.food_fee,
        delivery_fee=fees.delivery_fee, store_location=command.store_location,
        delivery_location=command.delivery_location, status=OrderStatus.PENDING.value,
    ).on_conflict_do_nothing(index_elements=[orders.c.order_id]).returning(*orders.c)
    return _one_order(session, statement)


def get(session: Session, order_id: UUID) -> Order | None:
    """The order, or None."""
    return _one_order(session, select(orders).where(orders.c.order_id == order_id))


def transition(session: Session, order_id: UUID, expected: OrderStatus, target: OrderStatus, *,
               runner_id: UUID | None = None, accept_key: str | None = None, create_key: str | None = None,
               changes: Mapping[str, Any] | None = None) -> Order | None:
    """Move the order ``expected -> target`` (held by ``runner_id`` when given) in one statement.

    Postgres re-checks the WHERE clause after waiting for a concurrent writer's row lock, so of two
    racing actors exactly one gets the row back; None means this caller lost or the order was not
    in ``expected`` (or not held by that runner).
    """
    values: dict[str, Any] = {"status": target.value, "updated_at": func.now(), **(changes or {})}
    if target in STAMPS:
        values[STAMPS[target]] = func.now()
    statement = update(orders).where(orders.c.order_id == order_id, orders.c.status == expected.value)
    if runner_id is not None:
        statement = statement.where(orders.c.runner_id == runner_id)
    if accept_key is not None:
        statement = statement.where(orders.c.accept_key == accept_key)
    if create_key is not None:  # orders made before the key was recorded belong to their one create
        statement = statement.where(or_(orders.c.create_key == create_key, orders.c.create_key.is_(None)))
    return _one_order(session, statement.values(values).returning(*orders.c))


def find(session: Session, query: OrderQuery) -> list[Order]:
    """Orders matching the query's filters, newest first."""
    statement = select(orders)
    if query.status is not None:
        statement = statement.where(orders.c.status == query.status.value)
    if query.customer_id is not None:
        statement = statement.where(orders.c.customer_id == query.customer_id)
    if query.runner_id is not None:
        statement = statement.where(orders.c.runner_id == query.runner_id)
    statement = statement.order_by(orders.c.created_at.desc(), orders.c.order_id.desc()).limit(query.limit)
    return [_order(row) for row in session.execute(statement).mappings()]


def _one_order(session: Session, statement: Executable) -> Order | None:
    row = session.execute(statement).mappings().one_or_none()
    return None if row is None else _order(row)


def _order(row: RowMapping) -> Order:
    items = tuple(Item(entry["name"], Decimal(entry["price"]), entry["quantity"]) for entry in row["items"])
    fields = {name: value for name, value in row.items() if name not in ("accept_key", "create_key")}  # bookkeeping
    return Order(**{**fields, "items": items, "status": OrderStatus(row["status"])})
