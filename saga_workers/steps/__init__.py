"""Small, named, idempotent step functions: each takes a StepContext and calls one participant."""
from __future__ import annotations

from typing import Any

from campus_common import http
from campus_common.service_auth import SAGA_WORKERS
from saga_workers.engine.context import StepContext


def call(ctx: StepContext, service: str, method: str, url: str, json: Any = None, *,
         key_suffix: str = "") -> Any:
    """Call the participant ``service`` as the saga workers, with this attempt's idempotency key and timeout."""
    key = ctx.idempotency_key + key_suffix if method != "GET" else None
    return http.call(method, url, json=json, idempotency_key=key, timeout=ctx.settings.participant_timeout_seconds,
                     caller=SAGA_WORKERS, audience=service)
