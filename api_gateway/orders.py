"""/api/orders: place, view, list, and move orders along; every change of hands is a saga."""
from __future__ import annotations

from typing import Any
from uuid import uuid4

from flask import Blueprint, jsonify

from api_gateway import clients, inputs, saga_runs, schemas
from api_gateway.auth import current_principal, requires
from api_gateway.inputs import (CancelRequest, IdempotencyHeaders, NewOrder, OrderQuery, StatusChange,
                                validated)
from api_gateway.openapi import documented
from api_gateway.order_access import (ensure_can_view, ensure_customer, ensure_runner, ensure_status, load_order,
                                      with_payment)
from campus_common.errors import ApiError

bp = Blueprint("orders", __name__, url_prefix="/api/orders")
STARTED = {"HTTP_202": schemas.SagaStarted}


def _started(body: dict[str, Any], status: int) -> Any:
    return jsonify(body), status, {"Location": body["status_url"]}


@bp.post("")
@requires("customer")
@documented(tags=("orders",), json=NewOrder, headers=IdempotencyHeaders, errors=(413,),
            ok={**STARTED, "HTTP_200": schemas.SagaStarted})
def place_order() -> Any:
    """Place an order: starts ``create_order``; 202, or 200 with the first answer for a replayed key."""
    customer_id = current_principal().user_id
    payload = {"order_id": str(uuid4()), "customer_id": customer_id, **validated("json").payload()}
    key = validated("headers").idempotency_key
    body, status = saga_runs.start("create_order", payload, scope=customer_id, key=key, generated=("order_id",))
    return _started(body, status)


@bp.get("")
@requires("runner", "admin")
@documented(tags=("orders",), query=OrderQuery, ok={"HTTP_200": schemas.OrderList})
def list_orders() -> Any:
    """Orders by status (CREATED, open for acceptance, by default), newest first."""
    query = validated("query")
    status = query.status
    principal = current_principal()
    # Open orders are for every runner to see; past that, a runner sees only the orders they hold.
    runner_id = principal.user_id if principal.role == "runner" and status != "CREATED" else None
    return jsonify(orders=clients.list_orders(status=status, runner_id=runner_id, limit=query.limit))


@bp.get("/<order_id>")
@requires("customer", "runner", "admin")
@documented(tags=("orders",), ok={"HTTP_200": schemas.OrderWithPayment})
def get_order(order_id: str) -> Any:
    """One order with its payment's status and amount."""
    order = load_order(order_id)
    ensure_can_view(order, current_principal())
    return jsonify(with_payment(order))


@bp.post("/<order_id>/accept")
@requires("runner")
@documented(tags=("orders",), errors=(409,), ok=STARTED)
def accept_order(order_id: str) -> Any:
    """Start ``accept_order`` for the calling runner; the order must be CREATED."""
    order = load_order(order_id)
    ensure_status(order, "CREATED", "accepted")
    runner_id = current_principal().user_id
    payload = {"order_id": order["order_id"], "customer_id": order["customer_id"], "runner_id": runner_id}
    return _started(*saga_runs.start("accept_order", payload, scope=runner_id))


@bp.put("/<order_id>/status")
@requires("runner")
@documented(tags=("orders",), json=StatusChange, errors=(409,), ok={"HTTP_200": schemas.Order})
def advance_order(order_id: str) -> Any:
    """The assigned runner moves the order to PLACED, ON_THE_WAY or DELIVERED; the customer hears of it."""
    order = load_order(order_id)
    principal = current_principal()
    ensure_runner(order, principal)
    status = validated("json").status
    try:
        updated = clients.advance_order(order["order_id"], status, principal.user_id)
    except ApiError as exc:
        # PUT is idempotent: asking again for the status the order already has is no conflict.
        if exc.status != 409 or (exc.details or {}).get("status") != status:
            raise
        updated = clients.get_order(order["order_id"])
    clients.notify(order["customer_id"], "ORDER_STATUS_CHANGED", order["order_id"], {"status": status},
                   key=f"gateway:{order['order_id']}:status:{status}:notify")
    return jsonify(updated)


@bp.post("/<order_id>/cancel")
@requires("customer")
@documented(tags=("orders",), json=CancelRequest, errors=(409,), ok=STARTED)
def cancel_order(order_id: str) -> Any:
    """Start ``cancel_order`` for the order's customer; only before a runner accepted it."""
    order = load_order(order_id)
    ensure_customer(order, current_principal())
    reason = inputs.cancel_reason(default="cancelled by the customer")
    ensure_status(order, "CREATED", "cancelled")
    payload = {"order_id": order["order_id"], "customer_id": order["customer_id"], "reason": reason}
    return _started(*saga_runs.start("cancel_order", payload, scope=order["customer_id"]))


@bp.post("/<order_id>/complete")
@requires("runner")
@documented(tags=("orders",), errors=(409,), ok=STARTED)
def complete_order(order_id: str) -> Any:
    """Start ``complete_order`` for the order's runner; the order must be DELIVERED."""
    order = load_order(order_id)
    ensure_runner(order, current_principal())
    ensure_status(order, "DELIVERED", "completed")
    payload = {"order_id": order["order_id"], "customer_id": order["customer_id"], "runner_id": order["runner_id"]}
    return _started(*saga_runs.start("complete_order", payload, scope=order["runner_id"]))
