"""What every Flask service shares: the app factory, JSON with Decimal, request parsing, health."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import dataclasses
import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from campus_common import idempotency, jsonutil, key_retention
from campus_common.config import Settings, load_settings
from campus_common.db import Database
from campus_common.errors import ApiError, error_body
from campus_common import logs
from campus_common.logs import configure_logging
from campus_common.migrate import migrate
from campus_common.validation import unfit_json

COMMON_SQL = Path(__file__).parent / "sql"
V = TypeVar("V", bound=Callable[..., Any])
log = logging.getLogger(__name__)


class DecimalJSONProvider(DefaultJSONProvider):
    """Money leaves as a string ("12.50") and arrives as Decimal, never as float."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return jsonutil.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # Flask and spectree (request.get_json) treat ValueError as a bad body (400); anything else is a 500.
        try:
            data = jsonutil.loads(s)
        except RecursionError as exc:
            raise ValueError("nested too deeply") from exc
        if (problem := unfit_json(data)) is not None:
            raise ValueError(f"{problem[0]} {problem[1]}")
        return data


def create_service_app(name: str, schema: str, blueprints: Iterable[Blueprint],
                       test_config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """Build a service's Flask app: its settings (the environment's by default), its database, its blueprints.

    ``test_config`` goes on top (``DATABASE_URL`` and ``REDIS_URL`` there win over ``settings``'),
    and the app's ``SETTINGS`` are what it was built with. A service with ``idempotent`` views keeps
    the shared idempotency-key table (participants do; the gateway does not), so it purges expired
    keys after its responses.
    """
    settings = settings or load_settings()
    app = Flask(name)
    app.json = DecimalJSONProvider(app)
    app.config.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url, DB_SCHEMA=schema,
                      MAX_CONTENT_LENGTH=settings.max_content_length)
    if test_config:
        app.config.update(test_config)
    app.config["SETTINGS"] = dataclasses.replace(settings, database_url=app.config["DATABASE_URL"],
                                                 redis_url=app.config["REDIS_URL"])
    configure_logging(name, settings.log_level)
    app.extensions["db"] = Database(app.config["DATABASE_URL"])
    register_error_handlers(app)
    register_request_ids(app)
    app.before_request(_read_body)
    app.add_url_rule("/healthz", "healthz", _healthz)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if any(idempotency.stores_keys(view) for view in app.view_functions.values()):
        key_retention.init_app(app)
    return app


def migrate_service(database_url: str, schema: str, folder: Path) -> list[str]:
    """Apply the shared tables and then the service's own migrations to its schema."""
    engine = Database(database_url).engine
    return migrate(engine, schema, COMMON_SQL) + migrate(engine, schema, folder)


def _healthz() -> Any:
    with current_app.extensions["db"].engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify(status="ok", service=current_app.name)


BODY_LIMIT_ATTRIBUTE = "max_content_length"  # set on a view by body_limit, read by _read_body


def body_limit(max_bytes: int) -> Callable[[V], V]:
    """Let one view take bodies up to ``max_bytes`` instead of MAX_CONTENT_LENGTH (a batch naming every runner)."""

    def mark(view: V) -> V:
        setattr(view, BODY_LIMIT_ATTRIBUTE, max_bytes)
        return view
    return mark


def _read_body() -> None:
    """Read the body up front, at most MAX_CONTENT_LENGTH (413): a broken one is the client's 400, not our 500."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, BODY_LIMIT_ATTRIBUTE, None)
    if limit:
        request.max_content_length = limit
    try:
        request.get_data(cache=True)
    except HTTPException:
        raise  # 413 (too large, checked from Content-Length before reading) or 400 (client went away)
    except Exception as exc:  # the server's reader refused the stream (a bad chunk size, a cut body)
        log.info("unreadable request body: %s: %s", type(exc).__name__, exc)
        raise ApiError("the request body could not be read (bad chunked encoding or incomplete)",
                       code="malformed_body") from exc


def json_body() -> dict[str, Any]:
    """The request's JSON object (numbers as Decimal); 400 when it is missing, malformed or unstorable."""
    raw = request.get_data()
    if not raw:
        raise ApiError("request body must be a JSON object", code="malformed_json")
    try:
        body = jsonutil.loads(raw)
    except RecursionError as exc:
        raise ApiError("request body is nested too deeply", code="malformed_json") from exc
    except ValueError as exc:
        raise ApiError(f"request body is not valid JSON: {exc}", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise ApiError("request body must be a JSON object", code="malformed_json")
    if (problem := unfit_json(body)) is not None:
        field, what = problem
        raise ApiError(f"request body {field} {what}", code="invalid_json_content", details={field: what})
    return body


def settings_of_app() -> Any:
    """The Settings the current app was built with."""
    return current_app.config["SETTINGS"]


QUIET_PATHS = ("/healthz", "/readyz", "/metrics")  # polled by probes and scrapers: logged at DEBUG only


def register_request_ids(app: Flask) -> None:
    """Give every request an id (the caller's ``X-Request-ID`` or a new one), log it, and echo it back."""

    @app.before_request
    def _bind_request_id() -> None:
        request_id = logs.accept_request_id(request.headers.get(logs.REQUEST_ID_HEADER))
        g.campus_log_tokens = logs.bind(request_id=request_id)
        g.campus_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        response.headers[logs.REQUEST_ID_HEADER] = logs.current_request_id() or ""
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        elapsed_ms = round((time.perf_counter() - g.get("campus_started", time.perf_counter())) * 1000, 1)
        fields = {"method": request.method, "path": request.path, "status": response.status_code,
                  "duration_ms": elapsed_ms}
        if key := request.headers.get("Idempotency-Key"):
            fields["idempotency_key"] = key[:200]  # a saga's call: "{saga_id}:{step}:{phase}", so a saga id finds it
        log.log(level, "%s %s %s", request.method, request.path, response.status_code, extra=fields)
        return response

    @app.teardown_request
    def _unbind_request_id(_: BaseException | None) -> None:
        tokens = g.pop("campus_log_tokens", None)
        if tokens:
            logs.unbind(tokens)


def register_error_handlers(app: Flask) -> None:
    """Render every error, ours or Werkzeug's or unexpected, in the one JSON format."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        return jsonify(error_body(exc.code, exc.message, exc.details)), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> tuple[Response, int]:
        limit = app.config["MAX_CONTENT_LENGTH"]
        return jsonify(error_body("payload_too_large", f"the request body is larger than {limit} bytes",
                                  {"max_content_length": limit})), 413

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(code, exc.description or exc.name)), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "internal error")), 500
