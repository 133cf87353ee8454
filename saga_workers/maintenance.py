"""Beat's sweeper over Postgres: sagas whose messages were lost get their pending work published again."""
from __future__ import annotations

import logging

from saga_workers import producer, runtime, sagas, service

log = logging.getLogger(__name__)
BATCH = 100


def resume_stalled() -> int:
    """Re-publish the pending work of sagas with no progress for SAGA_STALL_SECONDS."""
    stall = runtime.current().settings.saga_stall_seconds
    resumed = 0
    for saga_type, definition in sagas.REGISTRY.items():
        for saga_id, status, current_step, version in service.store_of(definition).claim_stalled(stall, BATCH):
            log.warning("resuming stalled %s saga %s (%s at step %d)", saga_type, saga_id, status, current_step)
            producer.resume(service.pinned_definition(saga_type, version), str(saga_id), status, current_step)
            resumed += 1
    return resumed
