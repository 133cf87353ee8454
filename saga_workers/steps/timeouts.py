"""The accept-timeout's steps: arm the order's deadline (create_order), disarm it (accept_order, cancel_order).

The deadline is a row in Postgres (schema saga_timers) that beat scans; firing it, firing it again
and purging it are ``saga_workers.accept_timeouts``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text

from saga_workers import runtime
from saga_workers.engine.context import StepContext

TABLE = "saga_timers.accept_timeouts"


def arm(ctx: StepContext) -> dict[str, Any]:
    """Store the order's accept deadline (once; a repeat keeps the first deadline)."""
    with runtime.process().database.unit_of_work() as session:
        session.execute(text(
            f"INSERT INTO {TABLE} (order_id, saga_id, deadline, status) "
            "VALUES (:order_id, :saga_id, now() + make_interval(secs => :seconds), 'ARMED') "
            "ON CONFLICT (order_id) DO NOTHING"),
            {"order_id": ctx.payload["order_id"], "saga_id": ctx.saga_id,
             "seconds": ctx.settings.order_accept_timeout_seconds})
        deadline = session.execute(text(f"SELECT deadline FROM {TABLE} WHERE order_id = :o"),
                                   {"o": ctx.payload["order_id"]}).scalar_one()
    return {"deadline": deadline.isoformat()}


def disarm(ctx: StepContext) -> dict[str, Any]:
    """Stop the order's accept deadline from firing, or firing again (no-op when already disarmed)."""
    with runtime.process().database.unit_of_work() as session:
        status = session.execute(text(
            f"UPDATE {TABLE} SET status = 'DISARMED', updated_at = now() "
            "WHERE order_id = :o AND status IN ('ARMED', 'FIRED') RETURNING status"),
            {"o": ctx.payload["order_id"]}).scalar()
    return {"disarmed": status is not None}
