"""Payment service steps: hold, release, capture, refund (an escrow, by order)."""
from __future__ import annotations

from typing import Any

from saga_workers.engine.context import StepContext
from saga_workers.steps import call

SERVICE = "payment_service"


def _url(ctx: StepContext, action: str) -> str:
    return f"{ctx.settings.payment_service_url}/payments/{action}"


def _summary(payment: dict[str, Any] | None) -> dict[str, Any]:
    if not payment:
        return {"payment_id": None, "status": None}
    return {"payment_id": payment["payment_id"], "status": payment["status"], "amount": payment["amount"]}


def authorize(ctx: StepContext) -> dict[str, Any]:
    """Hold the order's total on the customer's card."""
    return _summary(call(ctx, SERVICE, "POST", _url(ctx, "authorize"), {
        "order_id": ctx.payload["order_id"], "customer_id": ctx.payload["customer_id"],
        "amount": ctx.output_of("create_order")["total"],
        "card_token": ctx.output_of("get_payment_info")["card_token"]}))


def release(ctx: StepContext) -> dict[str, Any]:
    """Void the hold: as authorize's compensation, only the hold that authorize made; as a cancel_order
    step, the order's hold."""
    body = {"order_id": ctx.payload["order_id"]}
    if ctx.phase == "compensation":
        body["undoes"] = ctx.action_key
    answer = call(ctx, SERVICE, "POST", _url(ctx, "release"), body)
    return _summary(answer.get("payment") if "payment" in answer else answer)


def capture(ctx: StepContext) -> dict[str, Any]:
    """Charge the hold and pay it out to the runner's account."""
    return _summary(call(ctx, SERVICE, "POST", _url(ctx, "capture"), {
        "order_id": ctx.payload["order_id"],
        "payout_account": ctx.output_of("get_payout_account")["payout_account"]}))


def refund(ctx: StepContext) -> dict[str, Any]:
    """Compensation of capture: give back the charge this saga's capture made, never another's."""
    answer = call(ctx, SERVICE, "POST", _url(ctx, "refund"), {"order_id": ctx.payload["order_id"],
                                                               "undoes": ctx.action_key})
    return _summary(answer.get("payment") if "payment" in answer else answer)
