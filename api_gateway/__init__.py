"""The API gateway: the only public HTTP entry; auth, starting sagas, saga views."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, jsonify
from sqlalchemy.exc import OperationalError

from api_gateway.secret import checked_secret
from campus_common import service_auth
from campus_common.config import Settings, load_settings
from campus_common.errors import error_body
from campus_common.logs import configure_logging
from campus_common.web import create_service_app

SERVICE = "api_gateway"
log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """The gateway's wiring point: its settings (the environment's by default), the saga runtime, its views.

    It owns no tables; its database is the sagas' state and the health check. Everything its
    requests use comes from the app (``SETTINGS``, ``extensions``): a test that needs other URLs
    builds another app.
    """
    # Name the log lines before the saga engine's import does; imported here so that
    # ``python -m api_gateway.token`` does not load Celery and the saga engine.
    settings = settings or load_settings()
    configure_logging(SERVICE, settings.log_level)
    # Checked before anything else, so a weak secret stops the process with this one message.
    secret = checked_secret((test_config or {}).get("GATEWAY_JWT_SECRET") or settings.gateway_jwt_secret,
                            settings.dev_mode)
    service_auth.require_signing_key(service_auth.API_GATEWAY)  # no key, no start: it could not reach anybody
    from api_gateway import clients, console, health, metrics, openapi, orders, sagas, users
    from api_gateway.rate_limits import init_rate_limits
    from saga_workers import runtime

    blueprints = [users.bp, orders.bp, sagas.bp, console.bp, openapi.bp, metrics.bp]
    app = create_service_app(SERVICE, SERVICE, blueprints, test_config, settings=settings)
    app.config["GATEWAY_JWT_SECRET"] = secret
    clients.init_app(app)
    # The sagas' state and publishing: this app's, for its own requests (a test process may hold several).
    app.extensions["sagas"] = runtime.SagaRuntime.from_settings(app.config["SETTINGS"])
    app.before_request(_bind_saga_runtime)
    app.teardown_request(_unbind_saga_runtime)
    init_rate_limits(app, [users.bp, orders.bp, sagas.bp, console.bp])
    app.view_functions["healthz"] = health.healthz  # live: cheap, no dependency
    app.add_url_rule("/readyz", "readyz", health.readyz)  # ready: Postgres, Redis and the participants
    app.register_error_handler(OperationalError, _database_unavailable)
    app.after_request(_bearer_challenge)
    return app


def _bind_saga_runtime() -> None:
    """The saga service layer serves this request with the app's runtime (its settings, its database)."""
    from saga_workers import runtime

    g.saga_runtime = runtime.bind(current_app.extensions["sagas"])


def _unbind_saga_runtime(_: BaseException | None) -> None:
    from saga_workers import runtime

    token = g.pop("saga_runtime", None)
    if token is not None:
        runtime.unbind(token)


def _database_unavailable(exc: OperationalError) -> Any:
    """The saga state in Postgres is out of reach: a retryable 503, not an internal error."""
    log.warning("postgres unavailable: %s", exc)
    body = error_body("service_unavailable", "the saga store is unavailable; try again later", {"service": "postgres"})
    return jsonify(body), 503


def _bearer_challenge(response: Response) -> Response:
    """Tell a client without a valid token how to authenticate (RFC 6750)."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="campus-delivery"'
    return response
