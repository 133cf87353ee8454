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
from collections.abc import Callable

from campus_common.config import Settings
from saga_workers import accept_timeouts, runtime, sagas, service

log = logging.getLogger(__name__)
DAY = 86400.0


def _batches(purge: Callable[[], int], settings: Settings) -> int:
    """Run ``purge`` (one short transaction of at most a batch) until a batch comes back short, or the cap."""
    purged = 0
    for _ in range(settings.saga_retention_max_batches):
        rowcount = purge()
        purged += rowcount
        if rowcount < settings.saga_retention_batch:
            break
    return purged


def purge_finished(settings: Settings | None = None) -> dict[str, int]:
    """Delete finished sagas (and timers) older than the retention age; return how many per schema."""
    wiring = runtime.current()
    settings = settings or wiring.settings
    age, batch = settings.saga_retention_days * DAY, settings.saga_retention_batch
    purged = {}
    for definition in sagas.REGISTRY.values():
        store = service.store_of(definition)
        purged[store.definition.schema] = _batches(lambda: store.purge_finished(age, batch), settings)  # noqa: B023
    purged["saga_timers"] = _batches(lambda: accept_timeouts.purge_over(wiring.database, age, batch), settings)
    if any(purged.values()):
        log.info("retention: purged %s (older than %s days)", purged, settings.saga_retention_days)
    return purged
