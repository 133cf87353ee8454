"""/console: the operators' saga console, server-rendered HTML (a list with filters, a saga's timeline)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pydantic
from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from api_gateway import inputs, saga_runs
from api_gateway.console_auth import (SignInNeeded, admin_page, clear_token_cookie, ensure_same_origin,
                                      set_token_cookie, signed_in)
from api_gateway.inputs import SAGA_STATUSES, SAGA_TYPES, SagaQuery
from api_gateway.openapi import as_api_error
from campus_common.errors import ApiError, NotFound
from saga_workers.registry import SagaStatus
from saga_workers.queries import get_saga, list_sagas

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
NOTICES = {"retried": "Retry started: the saga resumes where it stopped.",
           "cancelled": "Cancelled: the saga compensates what took effect."}
PAGE_SIZE = 25


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError) -> Any:
    """Console errors are pages, not JSON; without a valid token the answer is the sign-in form."""
    if isinstance(exc, SignInNeeded):
        back = request.form.get("next") or (request.full_path if request.method == "GET" else "")
        return render_template("console/login.html", error=exc.message, next=back), 401
    return render_template("console/error.html", error=exc), exc.status


@bp.get("/login")
def login_form() -> Any:
    """The sign-in form: paste an admin bearer token."""
    return render_template("console/login.html", error=None, next=request.args.get("next", ""))


@bp.post("/login")
def login() -> Any:
    """Check the token, keep it in an HttpOnly cookie, go on to the page asked for."""
    ensure_same_origin()
    token = request.form.get("token", "").strip()
    if not token:
        raise SignInNeeded("paste an admin bearer token")
    signed_in(token)
    target = request.form.get("next", "")
    safe = target if target.startswith("/console") and not target.startswith("/console/login") else None
    return set_token_cookie(redirect(safe or url_for("console.saga_list")), token)


@bp.post("/logout")
def logout() -> BaseResponse:
    """Forget the token."""
    ensure_same_origin()
    return clear_token_cookie(redirect(url_for("console.login_form")))


@bp.get("/")
@admin_page
def saga_list() -> Any:
    """Sagas newest first, filtered by type, status, order and creation time, one page at a time."""
    filters = {name: request.args.get(name, "").strip()
               for name in ("type", "status", "order_id", "from", "to", "limit")}
    try:  # the same rules as GET /api/sagas
        query = SagaQuery.model_validate({"limit": str(PAGE_SIZE), **request.args.to_dict()})
    except pydantic.ValidationError as exc:
        raise as_api_error(exc) from exc
    try:
        sagas, next_cursor = list_sagas(**query.filters(), limit=query.limit, cursor=query.cursor)
    except ValueError as exc:
        raise ApiError("the page cursor is not valid", status=422, code="validation_error") from exc
    next_url = None
    if next_cursor:
        next_url = url_for("console.saga_list") + "?" + urlencode({**_set(filters), "cursor": next_cursor})
    return render_template("console/list.html", sagas=sagas, filters=filters, types=SAGA_TYPES,
                           statuses=SAGA_STATUSES, next_url=next_url)


@bp.get("/sagas/<saga_id>")
@admin_page
def saga_page(saga_id: str) -> Any:
    """One saga: its input, each step's output, and every attempt of every action and compensation."""
    return _render_saga(saga_id, notice=NOTICES.get(request.args.get("done", "")))


@bp.post("/sagas/<saga_id>/retry")
@admin_page
def retry(saga_id: str) -> Any:
    """Resume a FAILED saga; back to its page (409 there when it is not FAILED)."""
    return _act(saga_id, saga_runs.retry, "retried")


@bp.post("/sagas/<saga_id>/cancel")
@admin_page
def cancel(saga_id: str) -> Any:
    """Cancel a running saga before its pivot; back to its page (409 there past the pivot)."""
    return _act(saga_id, saga_runs.cancel, "cancelled")


def _act(saga_id: str, action: Any, done: str) -> Any:
    canonical = inputs.path_id(saga_id, "saga")
    try:
        action(canonical)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return _render_saga(canonical, problem=exc.message, status=409)
    return redirect(url_for("console.saga_page", saga_id=canonical, done=done), code=303)


def _render_saga(saga_id: str, notice: str | None = None, problem: str | None = None, status: int = 200) -> Any:
    saga = get_saga(inputs.path_id(saga_id, "saga"), detail=True)
    if saga is None:
        raise NotFound(f"no saga {saga_id}")
    return make_response(render_template("console/saga.html", saga=saga, notice=notice, problem=problem,
                                          cancellable=saga["status"] == SagaStatus.STARTED), status)


def _set(filters: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in filters.items() if value}
