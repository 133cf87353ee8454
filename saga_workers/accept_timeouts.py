"""The accept-timeout fires: an order nobody accepted in time is cancelled, once per firing.

Deadlines live in Postgres (``saga_timers.accept_timeouts``), not in broker ETA messages: create_order
arms one and accept_order and cancel_order disarm it (``steps.timeouts``); beat's scan starts one
cancel_order per passed deadline, fires again when that cancel was refused, and retention purges
timers that are over. These rules belong to those sagas, so they live here and not in the generic
engine's maintenance.
"""
from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from campus_common import logs
from campus_common.db import Database, rowcount
from saga_workers import runtime, sagas, service
from saga_workers.steps.timeouts import TABLE

log = logging.getLogger("saga_workers.maintenance")
BATCH = 100
CANCEL_SAGA, CREATE_SAGA = "cancel_order", "create_order"

# A FIRED timer fires again when its cancel_order was refused (the order was accepted just then)
# and it was not disarmed since (that acceptance was undone): its cancel saga COMPENSATED.
DUE = """
SELECT t.order_id, t.saga_id, t.fire_count FROM {table} t
WHERE t.deadline <= now() AND (
    t.status = 'ARMED'
    OR (t.status = 'FIRED' AND t.fired_at < now() - make_interval(secs => :gap) AND (
        -- one primary-key lookup per FIRED timer (few: a finished cancel disarms its timer); an
        -- EXISTS here is planned as a hash over every COMPENSATED cancel_order saga ever kept
        SELECT s.status FROM {cancel_schema}.saga_instances s WHERE s.saga_id = t.fired_saga_id) = 'COMPENSATED'))
ORDER BY t.deadline LIMIT :n FOR UPDATE OF t SKIP LOCKED
"""
# Timers that are over (disarmed, or fired and done) are history: retention deletes them.
_PURGE_OVER = """
DELETE FROM {table} WHERE order_id = ANY(ARRAY(
    SELECT order_id FROM {table}
    WHERE status IN ('DISARMED', 'FIRED') AND updated_at < now() - make_interval(secs => :age)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
"""


def fire_due() -> int:
    """Start one cancel_order per passed deadline; safe with several beats or workers.

    A timer whose cancel_order was refused (the order was accepted just then) and is still not
    disarmed (that acceptance was undone) fires again, at most once per SAGA_STALL_SECONDS.
    """
    wiring = runtime.current()
    creates = service.store_of(sagas.REGISTRY[CREATE_SAGA])
    due_sql = text(DUE.format(table=TABLE, cancel_schema=sagas.REGISTRY[CANCEL_SAGA].schema))
    fired = 0
    with wiring.database.unit_of_work() as session:
        # SKIP LOCKED: two scanners split the due rows instead of both taking them.
        due = session.execute(due_sql, {"n": BATCH, "gap": wiring.settings.saga_stall_seconds}).all()
        for order_id, create_saga_id, fire_count in due:
            # The key makes each firing start one saga, even if this transaction is retried.
            key = f"accept-timeout:{order_id}" + (f":{fire_count}" if fire_count else "")
            created = creates.load(str(create_saga_id))
            try:
                with logs.bound(request_id=key):  # no HTTP request started it: its key traces it in the logs
                    saga_id = service.start_saga(CANCEL_SAGA, {
                        "order_id": str(order_id), "customer_id": created.customer_id if created else None,
                        "reason": "no runner accepted the order in time"}, idempotency_key=key).saga_id
            except service.SagaInProgress as exc:
                # The customer is cancelling right now: that cancel is this firing's (a refusal refires).
                if exc.saga_id is None:
                    continue  # it finished meanwhile: the next scan fires again
                saga_id = exc.saga_id
            _mark_fired(session, str(order_id), saga_id)
            fired += 1
    if fired:
        log.info("accept-timeout fired for %d order(s)", fired)
    return fired


def _mark_fired(session: Session, order_id: str, saga_id: str) -> None:
    session.execute(text(
        f"UPDATE {TABLE} SET status = 'FIRED', fired_saga_id = :s, fired_at = now(), "
        "fire_count = fire_count + 1, updated_at = now() WHERE order_id = :o"), {"s": saga_id, "o": order_id})


def purge_over(db: Database, age_seconds: float, batch: int) -> int:
    """Delete up to ``batch`` timers that are over (DISARMED, FIRED) and older than ``age_seconds``."""
    with db.unit_of_work() as session:
        return rowcount(session.execute(text(_PURGE_OVER.format(table=TABLE)), {"age": age_seconds, "n": batch}))
