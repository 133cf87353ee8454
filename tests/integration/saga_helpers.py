"""Shared steps of saga integration tests: seed users, wait for a saga, read participants."""
from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

from campus_common import http
from campus_common.config import load_settings
from campus_common.service_auth import API_GATEWAY

FINAL = ("COMPLETED", "COMPENSATED", "FAILED")


def create_user(role: str, **extra: Any) -> str:
    """Create a user through the user service; return its id."""
    body = {"name": f"{role} {uuid.uuid4().hex[:6]}", "email": f"{uuid.uuid4().hex}@campus.test", "role": role}
    if role == "customer":
        body["card_token"] = extra.pop("card_token", "tok_visa")
    else:
        body["payout_account"] = extra.pop("payout_account", f"acct_{uuid.uuid4().hex[:8]}")
    body.update(extra)
    return http.call("POST", f"{load_settings().user_service_url}/users", json=body,
                     caller=API_GATEWAY, audience="user_service")["user_id"]


def order_payload(customer_id: str, price: str = "6.50", quantity: int = 2) -> dict[str, Any]:
    """A create_order payload as the gateway builds it."""
    return {"order_id": str(uuid.uuid4()), "customer_id": customer_id,
            "items": [{"name": "Burrito", "price": Decimal(price), "quantity": quantity}],
            "store_location": "Union Food Court", "delivery_location": "Library, 2nd floor"}


def wait_for_saga(saga_id: str, timeout: float = 30.0, statuses: tuple[str, ...] = FINAL) -> dict[str, Any]:
    """Poll the saga view until the saga reaches one of ``statuses``."""
    from saga_workers.queries import get_saga

    deadline = time.monotonic() + timeout
    while True:
        saga = get_saga(saga_id)
        if saga and saga["status"] in statuses:
            return saga
        if time.monotonic() > deadline:
            raise AssertionError(f"saga {saga_id} still {saga and saga['status']} after {timeout}s: {saga}")
        time.sleep(0.1)


def order(order_id: str) -> dict[str, Any]:
    """The order as the order service has it."""
    return http.call("GET", f"{load_settings().order_service_url}/orders/{order_id}", caller=API_GATEWAY,
                     audience="order_service")


def payments(order_id: str) -> list[dict[str, Any]]:
    """Every payment the payment service holds for the order."""
    url = f"{load_settings().payment_service_url}/payments?order_id={order_id}"
    return http.call("GET", url, caller=API_GATEWAY, audience="payment_service")["payments"]


def notifications(order_id: str) -> list[dict[str, Any]]:
    """Every notification sent about the order."""
    url = f"{load_settings().notification_service_url}/notifications?order_id={order_id}"
    return http.call("GET", url, caller=API_GATEWAY, audience="notification_service")["notifications"]


def step_statuses(saga: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, phase, status) of each timeline entry."""
    return [(s["name"], s["phase"], s["status"]) for s in saga["steps"]]


def wait_for_failed_attempt(saga_id: str, step: str, timeout: float = 20.0) -> None:
    """Wait until ``step`` has failed at least once (so an outage was really seen)."""
    from saga_workers.queries import get_saga

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        saga = get_saga(saga_id, detail=True) or {"attempts": []}
        if any(a["step"] == step and a["phase"] == "action" and a["error"] for a in saga["attempts"]):
            return
        time.sleep(0.02)
    raise AssertionError(f"step {step} of saga {saga_id} never failed within {timeout}s")
