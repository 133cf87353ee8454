"""Order service steps."""
from __future__ import annotations

from campus_common.http import BusinessRefusal
from saga_workers.engine.context import StepContext, StepRefused
from saga_workers.steps import call
from saga_workers.steps.records import DeliveredOrder, OrderSummary

SERVICE = "order_service"


def _url(ctx: StepContext, suffix: str = "") -> str:
    return f"{ctx.settings.order_service_url}/orders/{ctx.payload['order_id']}{suffix}"


def create_pending(ctx: StepContext) -> OrderSummary:
    """Create the order in PENDING."""
    p = ctx.payload
    order = call(ctx, SERVICE, "POST", f"{ctx.settings.order_service_url}/orders", {
        "order_id": p["order_id"], "customer_id": p["customer_id"], "saga_id": ctx.saga_id,
        "items": p["items"], "store_location": p["store_location"],
        "delivery_location": p["delivery_location"]})
    return OrderSummary.of(order)


def cancel_pending(ctx: StepContext) -> None:
    """Compensation: cancel the PENDING order (nothing to do when it was never created)."""
    _cancel(ctx, "PENDING", "the order could not be placed")


def cancel_created(ctx: StepContext) -> OrderSummary:
    """Pivot of cancel_order: CREATED -> CANCELLED with the reason."""
    order = call(ctx, SERVICE, "POST", _url(ctx, "/cancel"),
                 {"reason": ctx.payload.get("reason") or "cancelled", "expected_status": "CREATED"})
    return OrderSummary.of(order)


def _cancel(ctx: StepContext, expected: str, reason: str) -> None:
    try:
        call(ctx, SERVICE, "POST", _url(ctx, "/cancel"), {"reason": reason, "expected_status": expected,
                                                           "undoes": ctx.action_key})
    except BusinessRefusal as exc:
        if exc.status != 404:  # an order never created needs no cancelling
            raise


def mark_created(ctx: StepContext) -> OrderSummary:
    """Pivot of create_order: PENDING -> CREATED."""
    return OrderSummary.of(call(ctx, SERVICE, "POST", _url(ctx, "/mark-created")))


def accept(ctx: StepContext) -> OrderSummary:
    """CREATED -> ACCEPTED by the runner (refused when cancelled or taken)."""
    return OrderSummary.of(call(ctx, SERVICE, "POST", _url(ctx, "/accept"), {"runner_id": ctx.payload["runner_id"]}))


def undo_accept(ctx: StepContext) -> None:
    """Compensation: back to CREATED with the runner cleared (no-op when not accepted by them)."""
    try:
        call(ctx, SERVICE, "POST", _url(ctx, "/undo-accept"), {"runner_id": ctx.payload["runner_id"],
                                                                "undoes": ctx.action_key})
    except BusinessRefusal as exc:
        if exc.status != 404:
            raise


def check_delivered(ctx: StepContext) -> DeliveredOrder:
    """complete_order's guard: the order is DELIVERED by this runner."""
    order = call(ctx, SERVICE, "GET", _url(ctx))
    if order["status"] != "DELIVERED":
        raise StepRefused("invalid_transition", f"order is {order['status']}, not DELIVERED")
    if order.get("runner_id") != ctx.payload["runner_id"]:
        raise StepRefused("not_your_order", "the order is assigned to another runner")
    return DeliveredOrder(order["order_id"], order["status"], order["total"], order["customer_id"],
                          order["runner_id"])


def mark_completed(ctx: StepContext) -> OrderSummary:
    """Pivot of complete_order: DELIVERED -> COMPLETED."""
    return OrderSummary.of(call(ctx, SERVICE, "POST", _url(ctx, "/complete")))
