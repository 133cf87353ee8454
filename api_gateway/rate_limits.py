"""Rate limits (Flask-Limiter, counters in the stack's Redis): per user on state-changing calls, per
client address on failed authentication; ``429`` with ``Retry-After`` in the one error format.

If Redis is unreachable the limiter fails open to per-process in-memory counters (and logs it):
Redis down already stops new sagas from being published, and turning every read into a 503 as
well would take the whole API down for the sake of an abuse guard. The limits still hold per
gunicorn worker meanwhile, and the shared counters resume when Redis is back.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from api_gateway.auth import token_principal
from campus_common.errors import error_body

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
STORAGE_TIMEOUT_SECONDS = 1  # a slow Redis must not slow every request down


def init_rate_limits(app: Flask, blueprints: Iterable[Blueprint]) -> Limiter:
    """Attach the two limits to ``blueprints`` of ``app`` (limits and switch from its Settings)."""
    settings = app.config["SETTINGS"]
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config.get("REDIS_URL") or settings.redis_url,
                      storage_options={"socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
                                       "socket_timeout": STORAGE_TIMEOUT_SECONDS},
                      strategy="fixed-window", headers_enabled=True, swallow_errors=True,
                      in_memory_fallback_enabled=True, key_prefix="gateway", enabled=settings.rate_limit_enabled)
    writes = limiter.shared_limit(settings.rate_limit_user_writes, scope="user_writes", key_func=_user,
                                  exempt_when=lambda: request.method not in STATE_CHANGING)
    auth_failures = limiter.shared_limit(settings.rate_limit_auth_failures, scope="auth_failures",
                                         key_func=get_remote_address,
                                         deduct_when=lambda response: response.status_code == 401)
    for blueprint in blueprints:
        writes(blueprint)
        auth_failures(blueprint)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return limiter


def _user() -> str:
    # The limit is per user; a call without a valid token is refused (401) and counted by address.
    principal = token_principal()
    return f"user:{principal.user_id}" if principal else f"address:{get_remote_address()}"


def _too_many_requests(exc: RateLimitExceeded) -> Any:
    """429 in the error format; Flask-Limiter adds Retry-After (seconds) to it afterwards."""
    limit = str(exc.limit.limit) if exc.limit else None
    body = error_body("rate_limited", "too many requests; retry after the time in the Retry-After header",
                      {"limit": limit})
    return jsonify(body), 429
