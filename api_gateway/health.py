"""``GET /healthz`` (live: the process serves requests) and ``GET /readyz`` (ready: Postgres, Redis
and every participant answer right now)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests
from flask import current_app, jsonify
from sqlalchemy import text

from api_gateway import clients
from campus_common.errors import error_body
from campus_common.web import settings_of_app

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 2.0


def healthz() -> Any:
    """200 while the process serves requests: cheap, for liveness probes (a restart cures nothing else)."""
    return jsonify(status="ok", service="api_gateway")


def readyz() -> Any:
    """200 with every dependency "ok"; 503 in the error format naming what is unreachable."""
    probes: dict[str, Callable[[], None]] = {"postgres": _postgres, "redis": _redis}
    for name, url in clients.participants().urls.items():
        probes[name] = _participant(url)
    app_context = current_app.app_context  # bound to the app itself now, for the pool's threads

    def run(check: tuple[str, Callable[[], None]]) -> str:
        with app_context():
            return _check(*check)

    with ThreadPoolExecutor(max_workers=len(probes)) as pool:  # one slow dependency, not the sum of them
        checks = dict(zip(probes, pool.map(run, probes.items())))
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        body = error_body("not_ready", f"unreachable: {', '.join(down)}", checks)
        return jsonify(body), 503
    return jsonify(status="ready", checks=checks)


def _check(name: str, probe: Callable[[], None]) -> str:
    try:
        probe()
    except Exception as exc:  # any failure to reach a dependency means not ready, not a 500
        log.warning("readiness check %s failed: %s", name, exc)
        return "unavailable"
    return "ok"


def _postgres() -> None:
    with current_app.extensions["db"].engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _redis() -> None:
    url = settings_of_app().redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def _participant(base_url: str) -> Callable[[], None]:
    def probe() -> None:
        requests.get(f"{base_url}/healthz", timeout=CHECK_TIMEOUT_SECONDS).raise_for_status()

    return probe
