"""Who may see or act on an order, and the order as the public API shows it."""
from __future__ import annotations

from typing import Any

from api_gateway import clients
from api_gateway.auth import Principal
from api_gateway.inputs import path_id
from campus_common.errors import Conflict, Forbidden

LIVE_PAYMENTS = ("AUTHORIZED", "CAPTURED")


def load_order(raw_id: str) -> dict[str, Any]:
    """The order named in the path (404 when the id is malformed or unknown)."""
    return clients.get_order(path_id(raw_id, "order"))


def ensure_can_view(order: dict[str, Any], principal: Principal) -> None:
    """Admins see every order; a customer or runner only the orders that are theirs."""
    if principal.is_admin:
        return
    owner = order.get("customer_id") if principal.role == "customer" else order.get("runner_id")
    if owner != principal.user_id:
        raise Forbidden("this order is not yours", code="not_your_order")


def ensure_customer(order: dict[str, Any], principal: Principal) -> None:
    """Only the customer who placed the order may do this."""
    if order.get("customer_id") != principal.user_id:
        raise Forbidden("this order is not yours", code="not_your_order")


def ensure_runner(order: dict[str, Any], principal: Principal) -> None:
    """Only the runner the order is assigned to may do this."""
    if order.get("runner_id") != principal.user_id:
        raise Forbidden("this order is not assigned to you", code="not_your_order")


def ensure_status(order: dict[str, Any], expected: str, action: str) -> None:
    """409 unless the order is in ``expected`` right now."""
    if order.get("status") != expected:
        raise Conflict(f"only a {expected} order can be {action}; this one is {order.get('status')}",
                       code="invalid_transition", details={"status": order.get("status"), "expected": expected})


def with_payment(order: dict[str, Any]) -> dict[str, Any]:
    """The order plus ``payment``: the live payment's (else the latest one's) status and amount."""
    return {**order, "payment": _payment_summary(clients.payments_of_order(order["order_id"]))}


def _payment_summary(payments: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not payments:
        return None
    live = [payment for payment in payments if payment.get("status") in LIVE_PAYMENTS]
    chosen = live[0] if live else max(payments, key=lambda payment: str(payment.get("created_at") or ""))
    return {"status": chosen["status"], "amount": chosen["amount"]}
