"""Beat-driven scans over Postgres: due accept-timeouts, and sagas whose messages were lost."""
from __future__ import annotations

import logging

from sqlalchemy import text

from campus_common import logs
from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers.sagas import REGISTRY

log = logging.getLogger(__name__)
BATCH = 100


DUE_TIMEOUTS = """
SELECT t.order_id, t.saga_id, t.fire_count FROM saga_timers.accept_timeouts t
WHERE t.deadline <= now() AND (
    t.status = 'ARMED'
    OR (t.status = 'FIRED' AND t.fired_at < now() - make_interval(secs => :gap) AND (
        -- one primary-key lookup per FIRED timer (few: a finished cancel disarms its timer); an
        -- EXISTS here is planned as a hash over every COMPENSATED cancel_order saga ever kept
        SELECT s.status FROM cancel_order_saga.saga_instances s WHERE s.saga_id = t.fired_saga_id) = 'COMPENSATED'))
ORDER BY t.deadline LIMIT :n FOR UPDATE OF t SKIP LOCKED
"""


def fire_due_timeouts() -> int:
    """Start one cancel_order per passed deadline; safe with several beats or workers.

    A timer whose cancel_order was refused (the order was accepted just then) and is still not
    disarmed (that acceptance was undone) fires again, at most once per SAGA_STALL_SECONDS.
    """
    from saga_workers.service import SagaInProgress, start_saga

    settings = load_settings()
    fired = 0
    with Database(settings.database_url).unit_of_work() as session:
        # SKIP LOCKED: two scanners split the due rows instead of both taking them.
        due = session.execute(text(DUE_TIMEOUTS), {"n": BATCH, "gap": settings.saga_stall_seconds}).all()
        for order_id, create_saga_id, fire_count in due:
            # The key makes each firing start one saga, even if this transaction is retried.
            key = f"accept-timeout:{order_id}" + (f":{fire_count}" if fire_count else "")
            customer_id = _customer_of(session, str(create_saga_id))
            try:
                with logs.bound(request_id=key):  # no HTTP request started it: its key traces it in the logs
                    saga_id = start_saga("cancel_order", {"order_id": str(order_id), "customer_id": customer_id,
                                                          "reason": "no runner accepted the order in time"},
                                         idempotency_key=key).saga_id
            except SagaInProgress as exc:
                # The customer is cancelling right now: that cancel is this firing's (a refusal refires).
                saga_id = exc.saga_id
                if saga_id is None:
                    continue  # it finished meanwhile: the next scan fires again
            session.execute(text(
                "UPDATE saga_timers.accept_timeouts SET status = 'FIRED', fired_saga_id = :s, fired_at = now(), "
                "fire_count = fire_count + 1, updated_at = now() WHERE order_id = :o"),
                {"s": saga_id, "o": order_id})
            fired += 1
    if fired:
        log.info("accept-timeout fired for %d order(s)", fired)
    return fired


def _customer_of(session, create_saga_id: str) -> str | None:
    return session.execute(text("SELECT customer_id FROM create_order_saga.saga_instances WHERE saga_id = :s"),
                           {"s": create_saga_id}).scalar()


# The partial index on unfinished sagas (updated_at) answers this without reading finished ones;
# ANY(ARRAY(...)) keeps the update to primary-key lookups of what it found.
STALLED = """
UPDATE {schema}.saga_instances SET updated_at = now(), version = version + 1
WHERE saga_id = ANY(ARRAY(SELECT saga_id FROM {schema}.saga_instances
    WHERE status IN ('STARTED', 'COMPENSATING') AND updated_at < now() - make_interval(secs => :s)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
RETURNING saga_id, status, current_step, definition_version
"""


def resume_stalled() -> int:
    """Re-publish the pending work of sagas with no progress for SAGA_STALL_SECONDS."""
    from saga_workers.service import pinned_definition, resume

    settings = load_settings()
    db = Database(settings.database_url)
    resumed = 0
    for definition in REGISTRY.values():
        with db.unit_of_work() as session:
            stalled = session.execute(text(STALLED.format(schema=definition.schema)),
                                      {"s": settings.saga_stall_seconds, "n": BATCH}).all()
        for saga_id, status, current_step, version in stalled:
            log.warning("resuming stalled %s saga %s (%s at step %d)", definition.saga_type, saga_id, status,
                        current_step)
            resume(pinned_definition(definition.saga_type, version), str(saga_id), status, current_step)
            resumed += 1
    return resumed
