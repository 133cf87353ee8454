"""The orders table as SQLAlchemy sees it (created by migrations/001_init.sql)."""
from __future__ import annotations

from sqlalchemy import Column, Computed, DateTime, MetaData, Numeric, Table, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB

from order_service import SCHEMA

metadata = MetaData(schema=SCHEMA)


def _money(name: str) -> Column:
    return Column(name, Numeric(12, 2), nullable=False)


def _moment(name: str, *, required: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=not required,
                  server_default=func.now() if required else None)


orders = Table(
    "orders", metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("customer_id", Uuid, nullable=False),
    Column("runner_id", Uuid),
    Column("saga_id", Uuid, nullable=False),
    Column("items", JSONB, nullable=False),
    _money("food_fee"),
    _money("delivery_fee"),
    Column("total", Numeric(12, 2), Computed("food_fee + delivery_fee", persisted=True)),
    Column("store_location", Text, nullable=False),
    Column("delivery_location", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("cancel_reason", Text),
    Column("accept_key", Text),  # Idempotency-Key of the accept that assigned the runner
    Column("create_key", Text),  # Idempotency-Key of the create that made the order
    _moment("created_at", required=True),
    _moment("updated_at", required=True),
    *(_moment(name) for name in ("accepted_at", "placed_at", "picked_up_at", "delivered_at",
                                 "completed_at", "cancelled_at")),
)
