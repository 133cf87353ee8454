"""The semantic lock on an order: one unfinished saga of each type per order at a time.

A unique partial index (migrations/saga/005) holds it, so two starts racing for one order get one
winner from Postgres itself. STARTED and COMPENSATING sagas hold it, and so does a FAILED one: it
waits for an operator's retry, and a FAILED complete_order may already have paid the runner, so a
second complete must not run beside it. COMPLETED and COMPENSATED sagas let go.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from saga_workers.engine.status import SagaStatus

INDEX = "saga_instances_one_unfinished_per_order"
HOLDING = (SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED)


class SagaInProgress(Exception):
    """A saga of this type is already running (or FAILED, waiting for an operator) for the order."""

    def __init__(self, saga_type: str, order_id: str, saga_id: str | None, status: str | None) -> None:
        super().__init__(f"a {saga_type} saga for order {order_id} is already {status or 'running'}: {saga_id}")
        self.saga_type, self.order_id, self.saga_id, self.status = saga_type, order_id, saga_id, status


def is_lock_conflict(exc: IntegrityError) -> bool:
    """True when the insert lost to the order's lock (not to the idempotency key or anything else)."""
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == INDEX
