"""History is bounded: finished sagas past SAGA_RETENTION_DAYS go, with their step logs and timers.

Only COMPLETED and COMPENSATED sagas are deleted (their step log goes with them, ON DELETE
CASCADE); FAILED ones wait for an operator, however old. Each batch is one short transaction
of at most SAGA_RETENTION_BATCH sagas taken oldest first with SKIP LOCKED, and a run stops after
SAGA_RETENTION_MAX_BATCHES, so a large backlog is worked off over several beat runs without
holding locks or bloating one transaction. ``= ANY(ARRAY(...))`` makes the batch a list of
primary keys looked up one by one (``IN (subquery)`` may be planned as a hash join that reads
the whole table).
"""
from __future__ import annotations

import logging

from sqlalchemy import text

from campus_common.config import Settings, load_settings
from campus_common.db import Database
from saga_workers.sagas import REGISTRY

log = logging.getLogger(__name__)
DAY = 86400.0

PURGE_SAGAS = """
DELETE FROM {schema}.saga_instances WHERE saga_id = ANY(ARRAY(
    SELECT saga_id FROM {schema}.saga_instances
    WHERE status IN ('COMPLETED', 'COMPENSATED') AND updated_at < now() - make_interval(secs => :age)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
"""
# A timer whose order's sagas are over (disarmed, or fired and done) is history too.
PURGE_TIMERS = """
DELETE FROM saga_timers.accept_timeouts WHERE order_id = ANY(ARRAY(
    SELECT order_id FROM saga_timers.accept_timeouts
    WHERE status IN ('DISARMED', 'FIRED') AND updated_at < now() - make_interval(secs => :age)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
"""


def _purge(db: Database, statement: str, settings: Settings) -> int:
    purged = 0
    for _ in range(settings.saga_retention_max_batches):
        with db.unit_of_work() as session:
            rowcount = session.execute(text(statement), {"age": settings.saga_retention_days * DAY,
                                                         "n": settings.saga_retention_batch}).rowcount
        purged += rowcount
        if rowcount < settings.saga_retention_batch:
            break
    return purged


def purge_finished(settings: Settings | None = None) -> dict[str, int]:
    """Delete finished sagas (and timers) older than the retention age; return how many per schema."""
    settings = settings or load_settings()
    db = Database(settings.database_url)
    purged = {d.schema: _purge(db, PURGE_SAGAS.format(schema=d.schema), settings) for d in REGISTRY.values()}
    purged["saga_timers"] = _purge(db, PURGE_TIMERS, settings)
    if any(purged.values()):
        log.info("retention: purged %s (older than %s days)", purged, settings.saga_retention_days)
    return purged
