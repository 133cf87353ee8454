"""Beat-driven scans over Postgres: due accept-timeouts, and sagas whose messages were lost."""
from __future__ import annotations

import logging

from celery import Celery
from sqlalchemy import text

from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers.sagas import REGISTRY

log = logging.getLogger(__name__)
BATCH = 100


def fire_due_timeouts(app: Celery) -> int:
    """Start one cancel_order per passed deadline; safe with several beats or workers."""
    from saga_workers.service import start_saga

    db = Database(load_settings().database_url)
    fired = 0
    with db.unit_of_work() as session:
        # SKIP LOCKED: two scanners split the due rows instead of both taking them.
        due = session.execute(text(
            "SELECT order_id, saga_id FROM saga_timers.accept_timeouts WHERE status = 'ARMED' AND deadline <= now() "
            "ORDER BY deadline LIMIT :n FOR UPDATE SKIP LOCKED"), {"n": BATCH}).all()
        for order_id, create_saga_id in due:
            customer_id = _customer_of(session, str(create_saga_id))
            # The key makes this start happen once per order, even if this transaction is retried.
            started = start_saga("cancel_order", {"order_id": str(order_id), "customer_id": customer_id,
                                                  "reason": "no runner accepted the order in time"},
                                 idempotency_key=f"accept-timeout:{order_id}")
            session.execute(text(
                "UPDATE saga_timers.accept_timeouts SET status = 'FIRED', fired_saga_id = :s, updated_at = now() "
                "WHERE order_id = :o"), {"s": started.saga_id, "o": order_id})
            fired += 1
    if fired:
        log.info("accept-timeout fired for %d order(s)", fired)
    return fired


def _customer_of(session, create_saga_id: str) -> str | None:
    return session.execute(text("SELECT customer_id FROM create_order_saga.saga_instances WHERE saga_id = :s"),
                           {"s": create_saga_id}).scalar()


def resume_stalled(app: Celery) -> int:
    """Re-publish the pending work of sagas with no progress for SAGA_STALL_SECONDS."""
    from saga_workers.service import resume

    settings = load_settings()
    db = Database(settings.database_url)
    resumed = 0
    for definition in REGISTRY.values():
        with db.unit_of_work() as session:
            stalled = session.execute(text(
                f"UPDATE {definition.schema}.saga_instances SET updated_at = now(), version = version + 1 "
                "WHERE saga_id IN (SELECT saga_id FROM " + definition.schema + ".saga_instances "
                "WHERE status IN ('STARTED', 'COMPENSATING') AND updated_at < now() - make_interval(secs => :s) "
                "ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED) "
                "RETURNING saga_id, status, current_step"), {"s": settings.saga_stall_seconds, "n": BATCH}).all()
        for saga_id, status, current_step in stalled:
            log.warning("resuming stalled %s saga %s (%s at step %d)", definition.saga_type, saga_id, status,
                        current_step)
            resume(definition, str(saga_id), status, current_step)
            resumed += 1
    return resumed
