"""Participants forget idempotency keys once no saga can send them again.

A key (and a late-action guard, a key row marked ``compensated``) is needed for as long as the
saga that sends it can still act: retries, redeliveries and sweeper resumes come within minutes
(see ``longest_redelivery_seconds``); an operator's ``saga retry`` of a FAILED saga can come at
any time, so the saga engine refuses a retry once the saga is older than this window (minus a
day of margin, ``retry_horizon_seconds``). Past the window no saga can send the key again, and
the row goes. Each participant purges its own schema, from its own process: after a response
has been sent, at most once per IDEMPOTENCY_PURGE_INTERVAL_SECONDS, in bounded batches.
"""
from __future__ import annotations

import logging
import threading
import time

from typing import TYPE_CHECKING

from sqlalchemy import text

from campus_common.config import Settings
from campus_common.db import Database, rowcount

if TYPE_CHECKING:
    from flask import Flask, Response

log = logging.getLogger(__name__)
BATCH, MAX_BATCHES = 1000, 10
DAY = 86400.0
_last_purge: dict[str, float] = {}
_lock = threading.Lock()


def longest_redelivery_seconds(settings: Settings) -> float:
    """The latest a key can come back without an operator: the step retry bound, then redelivery."""
    per_attempt = settings.participant_timeout_seconds + settings.saga_retry_backoff_max_seconds
    retries = max(settings.saga_step_retry_limit, settings.saga_retriable_step_retry_limit,
                  settings.saga_compensation_retry_limit) * per_attempt
    return retries + settings.broker_visibility_timeout_seconds + settings.saga_stall_seconds


def retry_horizon_seconds(settings: Settings) -> float:
    """How old a FAILED saga may be for ``saga retry``: its keys must outlive the retry by a day."""
    return settings.idempotency_key_retention_days * DAY - DAY


def check_window(settings: Settings) -> None:
    """Refuse a key window that a retry or a redelivery could outlast."""
    window = settings.idempotency_key_retention_days * DAY
    if window < DAY + longest_redelivery_seconds(settings):
        raise ValueError(f"IDEMPOTENCY_KEY_RETENTION_DAYS={settings.idempotency_key_retention_days} is shorter "
                         f"than a day plus the longest retry and redelivery "
                         f"({longest_redelivery_seconds(settings):.0f} s)")


def purge_expired_keys(db: Database, schema: str, settings: Settings, batch: int = BATCH,
                       max_batches: int = MAX_BATCHES) -> int:
    """Delete keys older than the window, oldest first, ``batch`` rows per transaction; return how many."""
    check_window(settings)
    purged = 0
    for _ in range(max_batches):
        with db.unit_of_work() as session:
            # SKIP LOCKED: a key held by a request in flight is never waited for nor taken.
            deleted = rowcount(session.execute(text(
                f'DELETE FROM "{schema}".idempotency_keys WHERE key = ANY(ARRAY(SELECT key FROM '
                f'"{schema}".idempotency_keys WHERE created_at < now() - make_interval(secs => :window) '
                "ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED))"), {"window": settings.idempotency_key_retention_days * DAY, "n": batch}))
            purged += deleted
        if deleted < batch:
            break
    if purged:
        log.info("purged %d idempotency key(s) of %s older than %s days", purged, schema,
                 settings.idempotency_key_retention_days)
    return purged


def _due(schema: str, interval: float) -> bool:
    with _lock:
        now = time.monotonic()
        if now - _last_purge.get(schema, float("-inf")) < interval:
            return False
        _last_purge[schema] = now
        return True


def init_app(app: Flask) -> None:
    """Purge the service's expired keys now and then, after a response went out (its request never waits)."""
    from flask import current_app  # only the participants' processes need Flask

    @app.after_request
    def schedule_purge(response: Response) -> Response:
        settings = current_app.config["SETTINGS"]  # what the app was built with
        schema, db = current_app.config["DB_SCHEMA"], current_app.extensions["db"]
        if _due(schema, settings.idempotency_purge_interval_seconds):
            response.call_on_close(lambda: _purge_quietly(db, schema, settings))
        return response


def _purge_quietly(db: Database, schema: str, settings: Settings) -> None:
    try:
        purge_expired_keys(db, schema, settings)
    except Exception:  # noqa: BLE001 - housekeeping never fails a request; the next one tries again
        log.exception("purging idempotency keys of %s failed", schema)
