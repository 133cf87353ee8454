"""Small, named, idempotent step functions: each takes a StepContext and calls one participant."""
from __future__ import annotations

from typing import Any

from campus_common import http
from saga_workers.engine.context import StepContext


def call(ctx: StepContext, method: str, url: str, json: Any = None, *, key_suffix: str = "") -> Any:
    """Call a participant with this attempt's idempotency key and the configured timeout."""
    key = ctx.idempotency_key + key_suffix if method != "GET" else None
    return http.call(method, url, json=json, idempotency_key=key,
                     timeout=ctx.settings.participant_timeout_seconds)
