"""A participant slower than its callers' timeout: it still acts, after its caller gave up."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devstack.threaded import ThreadedServer

SLOW_SECONDS = 3.0  # > PARTICIPANT_TIMEOUT_SECONDS (2 in the integration fixtures): every call times out


@contextmanager
def slowed(server: ThreadedServer, path: str, seconds: float = SLOW_SECONDS, key_prefix: str = "",
           times: int | None = None) -> Iterator[threading.Event]:
    """Requests to ``path`` (with an Idempotency-Key starting ``key_prefix``; the first ``times`` of them)
    wait ``seconds`` before the participant handles them: it still acts, after its caller gave up.
    Yields an event set when the first slowed request arrived. Leaving waits for the slowed requests
    still in the participant, so none touches the database after the test."""
    app, arrived, left, busy = server.app, threading.Event(), [times], threading.Semaphore(64)
    inner = app.wsgi_app

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        if not (environ.get("PATH_INFO", "").startswith(path) and key.startswith(key_prefix) and left[0] != 0):
            return inner(environ, start_response)
        left[0] = None if left[0] is None else left[0] - 1
        with busy:
            arrived.set()
            time.sleep(seconds)
            return inner(environ, start_response)

    app.wsgi_app = slow
    try:
        yield arrived
    finally:
        app.wsgi_app = inner
        for _ in range(64):  # every slot back: no slowed request is left in flight
            assert busy.acquire(timeout=seconds + 10), "a slowed request never finished"
