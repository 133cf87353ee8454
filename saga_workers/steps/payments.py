"""Payment service steps: hold, release, capture, refund (an escrow, by order)."""
from __future__ import annotations

from saga_workers.engine.context import StepContext
from saga_workers.steps import call
from saga_workers.steps.records import CardOnFile, OrderSummary, PaymentSummary, PayoutAccount

SERVICE = "payment_service"


def _url(ctx: StepContext, action: str) -> str:
    return f"{ctx.settings.payment_service_url}/payments/{action}"


def authorize(ctx: StepContext) -> PaymentSummary:
    """Hold the order's total on the customer's card (needs the created order and the card on file)."""
    return PaymentSummary.of(call(ctx, SERVICE, "POST", _url(ctx, "authorize"), {
        "order_id": ctx.payload["order_id"], "customer_id": ctx.payload["customer_id"],
        "amount": ctx.output_of("create_order", OrderSummary).total,
        "card_token": ctx.output_of("get_payment_info", CardOnFile).card_token}))


def release(ctx: StepContext) -> PaymentSummary:
    """Void the hold: as authorize's compensation, only the hold that authorize made; as a cancel_order
    step, the order's hold."""
    body = {"order_id": ctx.payload["order_id"]}
    if ctx.phase == "compensation":
        body["undoes"] = ctx.action_key
    answer = call(ctx, SERVICE, "POST", _url(ctx, "release"), body)
    return PaymentSummary.of(answer.get("payment") if "payment" in answer else answer)


def capture(ctx: StepContext) -> PaymentSummary:
    """Charge the hold and pay it out to the runner's account (needs the payout account)."""
    return PaymentSummary.of(call(ctx, SERVICE, "POST", _url(ctx, "capture"), {
        "order_id": ctx.payload["order_id"],
        "payout_account": ctx.output_of("get_payout_account", PayoutAccount).payout_account}))


def refund(ctx: StepContext) -> PaymentSummary:
    """Compensation of capture: give back the charge this saga's capture made, never another's."""
    answer = call(ctx, SERVICE, "POST", _url(ctx, "refund"), {"order_id": ctx.payload["order_id"],
                                                               "undoes": ctx.action_key})
    return PaymentSummary.of(answer.get("payment") if "payment" in answer else answer)
