"""Thin calls to the participant services; their refusals become the gateway's own answers.

Where the participants are is built once per app from its settings (``init_app``): a test that
needs other URLs builds another app.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, current_app, g

from campus_common import http
from campus_common.errors import ApiError
from campus_common.service_auth import API_GATEWAY
from campus_common.config import Settings

log = logging.getLogger(__name__)
PARTICIPANTS = ("user_service", "order_service", "payment_service", "notification_service")


@dataclass(frozen=True)
class Participants:
    """The participants the gateway calls: each one's base URL, and how long a call may take."""

    urls: dict[str, str]
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Participants:
        """Where ``settings`` say the participants are."""
        return cls({name: getattr(settings, f"{name}_url").rstrip("/") for name in PARTICIPANTS},
                   settings.participant_timeout_seconds)


def init_app(app: Flask) -> None:
    """Build the app's participant addresses once, from the settings it was built with."""
    app.extensions["participants"] = Participants.from_settings(app.config["SETTINGS"])


def participants() -> Participants:
    """The current app's participants."""
    return current_app.extensions["participants"]


def _call(service: str, method: str, path: str, *, json: Any = None, key: str | None = None) -> Any:
    """One call to ``service``: a 4xx passes through as is, an outage becomes 503."""
    where = participants()
    try:
        return http.call(method, where.urls[service] + path, json=json, idempotency_key=key,
                         timeout=where.timeout_seconds, caller=API_GATEWAY, audience=service)
    except http.BusinessRefusal as exc:
        if _credential_refused(exc):
            # The participant refused the gateway itself (a key not deployed, a caller not allowed):
            # our fault, not the user's, so it must not read as if their token were bad.
            log.error("%s refused the gateway's service credential: %s", service, exc)
            raise ApiError("a service the gateway needs refused it; operators have been told", status=503,
                           code="service_unavailable", details=_outage_details(service, exc)) from exc
        raise ApiError(exc.message, status=exc.status, code=exc.code, details=exc.details) from exc
    except http.InfrastructureFault as exc:
        log.warning("%s unavailable: %s", service, exc)
        raise ApiError("a service the gateway needs is unavailable; try again later", status=503,
                       code="service_unavailable", details=_outage_details(service, exc)) from exc


def _credential_refused(exc: http.BusinessRefusal) -> bool:
    # Participants authenticate services only, so a 401 is always about the gateway's credential.
    return exc.status == 401 or (exc.status == 403 and exc.code == "caller_not_allowed")


def _outage_details(service: str, exc: Exception) -> dict[str, str] | None:
    # Operators get which service and why (its address, the fault); customers and runners only the sentence.
    principal = getattr(g, "principal", None)
    return {"service": service, "reason": str(exc)} if principal is not None and principal.is_admin else None


def _query(**params: Any) -> str:
    present = {name: value for name, value in params.items() if value is not None}
    return "?" + urlencode(present) if present else ""


def create_user(body: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Create a customer or runner in the user service."""
    return _call("user_service", "POST", "/users", json=body, key=key)


def get_order(order_id: str) -> dict[str, Any]:
    """The order with id ``order_id`` (404 when unknown)."""
    return _call("order_service", "GET", f"/orders/{quote(order_id)}")


def list_orders(*, status: str | None = None, customer_id: str | None = None,
                runner_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Orders matching the filters, newest first."""
    query = _query(status=status, customer_id=customer_id, runner_id=runner_id, limit=limit)
    return _call("order_service", "GET", f"/orders{query}")["orders"]


def advance_order(order_id: str, status: str, runner_id: str, key: str | None = None) -> dict[str, Any]:
    """Move an order to ``status`` on behalf of its runner."""
    return _call("order_service", "PUT", f"/orders/{quote(order_id)}/status",
                 json={"status": status, "runner_id": runner_id}, key=key)


def payments_of_order(order_id: str) -> list[dict[str, Any]]:
    """Every payment recorded for ``order_id``."""
    return _call("payment_service", "GET", f"/payments{_query(order_id=order_id)}")["payments"]


def notify(user_id: str, kind: str, order_id: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
    """Record a notification for ``user_id`` (once per ``key``)."""
    body = {"user_id": user_id, "type": kind, "order_id": order_id, "payload": payload}
    return _call("notification_service", "POST", "/notifications", json=body, key=key)
