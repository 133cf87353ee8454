"""Notification steps: one batch per step, so one idempotency key covers it."""
from __future__ import annotations

from typing import Any

from saga_workers.engine.context import StepContext
from saga_workers.steps import call, users
from saga_workers.steps.records import OrderSummary, PaymentSummary, PayoutAccount

SERVICE = "notification_service"


def _send(ctx: StepContext, notes: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    order_id = ctx.payload["order_id"]
    body = {"notifications": [{"user_id": user_id, "type": kind, "order_id": order_id, "payload": payload}
                              for user_id, kind, payload in notes]}
    answer = call(ctx, SERVICE, "POST", f"{ctx.settings.notification_service_url}/notifications/batch", body)
    return {"sent": len(answer["notifications"])}


def order_created(ctx: StepContext) -> dict[str, Any]:
    """Tell the customer the order is placed and every runner that it is open (needs the created order)."""
    order = ctx.output_of("mark_created", OrderSummary)
    info = {"order_id": ctx.payload["order_id"], "total": order.total,
            "store_location": ctx.payload["store_location"], "delivery_location": ctx.payload["delivery_location"]}
    notes = [(ctx.payload["customer_id"], "ORDER_CREATED", info)]
    notes += [(runner, "ORDER_READY_FOR_RUNNER", info) for runner in users.runner_ids(ctx)]
    return _send(ctx, notes)


def order_accepted(ctx: StepContext) -> dict[str, Any]:
    """Tell the customer a runner took the order."""
    return _send(ctx, [(ctx.payload["customer_id"], "ORDER_ACCEPTED", {"runner_id": ctx.payload["runner_id"]})])


def order_cancelled(ctx: StepContext) -> dict[str, Any]:
    """Tell the customer the order is cancelled and the hold released."""
    return _send(ctx, [(ctx.payload["customer_id"], "ORDER_CANCELLED", {"reason": ctx.payload.get("reason")})])


def order_completed(ctx: StepContext) -> dict[str, Any]:
    """Tell the customer the order is complete and the runner that the payout is sent (needs both)."""
    amount = ctx.output_of("capture_payment", PaymentSummary).amount
    account = ctx.output_of("get_payout_account", PayoutAccount).payout_account
    return _send(ctx, [
        (ctx.payload["customer_id"], "ORDER_COMPLETED", {"amount": amount}),
        (ctx.payload["runner_id"], "PAYOUT_SENT", {"amount": amount, "payout_account": account}),
    ])
