"""The participants' door: every request needs a service credential, and each view names its callers.

``protect(app)`` checks the keys at start-up (a participant without them refuses to start) and, before
any view runs (so before any unit of work opens, and a refused call changes nothing), answers
``401`` without a valid token for this participant and ``403`` when the caller is not one the view
allows with ``@allow(...)``. A view without ``@allow`` admits nobody: new endpoints are closed
until someone decides who needs them. Only the endpoints in ``OPEN_ENDPOINTS`` skip the check.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from campus_common import service_auth
from campus_common.errors import Forbidden, Unauthorized

OPEN_ENDPOINTS = frozenset({"healthz"})
ALLOWED_ATTRIBUTE = "allowed_service_callers"
F = TypeVar("F", bound=Callable[..., Any])


def allow(*callers: str) -> Callable[[F], F]:
    """Let only ``callers`` (service names, e.g. ``service_auth.SAGA_WORKERS``) call this view."""
    unknown = set(callers) - set(service_auth.CALLERS)
    if unknown:
        raise ValueError(f"unknown callers: {sorted(unknown)}")

    def mark(view: F) -> F:
        setattr(view, ALLOWED_ATTRIBUTE, frozenset(callers))
        return view
    return mark


def protect(app: Flask) -> None:
    """Require a service credential addressed to this app (its name is the audience) on every request."""
    service_auth.trusted_keys()  # no keys, no start (outside development mode)
    app.before_request(_check_caller)


def current_caller() -> str:
    """The service that made the current request."""
    return g.service_caller


def _check_caller() -> None:
    if request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a service credential (Authorization: Bearer <service token>) is required",
                           code="service_credential_required")
    try:
        caller = service_auth.verify(token.strip(), audience=current_app.name)
    except service_auth.InvalidServiceToken as exc:
        raise Unauthorized(exc.message, code=exc.code) from exc
    g.service_caller = caller
    if request.endpoint is None:  # no such route: let Flask answer 404/405 to an authenticated caller
        return
    allowed: frozenset[str] = getattr(current_app.view_functions[request.endpoint], ALLOWED_ATTRIBUTE, frozenset())
    if caller not in allowed:
        raise Forbidden(f"{caller} may not call this operation", code="caller_not_allowed",
                        details={"caller": caller, "allowed": sorted(allowed)})
