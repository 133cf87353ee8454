"""``GET /healthz``: can the gateway reach Postgres and Redis right now?"""
from __future__ import annotations

import logging
from typing import Any

import redis
from flask import current_app, jsonify
from sqlalchemy import text

from campus_common.config import load_settings

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 2.0


def healthz() -> Any:
    """200 with each dependency "ok"; 503 naming the one that is not."""
    checks = {"postgres": _check(_postgres), "redis": _check(_redis)}
    healthy = all(state == "ok" for state in checks.values())
    return jsonify(checks), 200 if healthy else 503


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as exc:  # any failure to reach a dependency means unhealthy, not a 500
        log.warning("health check %s failed: %s", probe.__name__, exc)
        return "unavailable"
    return "ok"


def _postgres() -> None:
    with current_app.extensions["db"].engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _redis() -> None:
    url = current_app.config.get("REDIS_URL") or load_settings().redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()
