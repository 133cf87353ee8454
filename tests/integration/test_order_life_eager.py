"""accept, cancel and complete run eagerly (inside the call), as a saga's unit test would run them."""
from __future__ import annotations

from tests.integration.order_life import accept, cancel, complete, created_order, progress, timer_status
from saga_workers.service import retry_saga
from tests.integration.saga_helpers import order, payments, step_statuses, wait_for_saga


def test_accept_happy_refused_and_with_the_order_service_down(eager, live_participants):
    ctx = created_order()
    with live_participants.order_service.down():
        outage = accept(ctx)
    assert outage["status"] == "COMPENSATED", "retries are immediate in eager mode; the bound is used up"
    assert order(ctx["order_id"])["status"] == "CREATED"

    assert accept(ctx)["status"] == "COMPLETED"
    assert timer_status(ctx["order_id"]) == "DISARMED"
    refused = accept(ctx)
    assert refused["status"] == "COMPENSATED" and "409" in refused["error"]
    assert order(ctx["order_id"])["runner_id"] == ctx["runner_id"], "a refused accept changes nothing"


def test_cancel_happy_and_refused(eager, live_participants):
    ctx = created_order()
    assert cancel(ctx)["status"] == "COMPLETED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["RELEASED"]
    refused = cancel(ctx)
    assert refused["status"] == "COMPENSATED"
    assert ("cancel_order", "action", "REFUSED") in step_statuses(refused)


def test_cancel_with_the_notification_service_down_fails_visibly_after_the_pivot(eager, live_participants):
    ctx = created_order()
    with live_participants.notification_service.down():
        saga = cancel(ctx)
    assert saga["status"] == "FAILED"
    assert order(ctx["order_id"])["status"] == "CANCELLED", "past the pivot nothing is undone"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["RELEASED"]


def test_complete_happy_refused_and_with_the_payment_service_down(eager, live_participants):
    ctx = created_order()
    accept(ctx)
    assert complete(ctx)["status"] == "COMPENSATED", "not delivered yet"
    progress(ctx, "PLACED", "ON_THE_WAY", "DELIVERED")
    with live_participants.payment_service.down():
        outage = complete(ctx)
    assert outage["status"] == "FAILED", "an uncertain payout is retried, never refunded on a guess"
    assert order(ctx["order_id"])["status"] == "DELIVERED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["AUTHORIZED"]

    retry_saga(outage["saga_id"])
    assert wait_for_saga(outage["saga_id"])["status"] == "COMPLETED"
    assert order(ctx["order_id"])["status"] == "COMPLETED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["CAPTURED"]
