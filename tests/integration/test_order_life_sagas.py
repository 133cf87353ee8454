"""accept, cancel and complete sagas on a real worker: an order's whole life, refusals, outages."""
from __future__ import annotations

from decimal import Decimal

from saga_workers.service import start_saga
from tests.integration.order_life import accept, cancel, complete, created_order, progress, timer_status
from tests.integration.saga_helpers import notifications, order, payments, wait_for_failed_attempt, wait_for_saga


def test_whole_life_pays_the_runner(worker):
    ctx = created_order()
    assert accept(ctx)["status"] == "COMPLETED"
    assert (order(ctx["order_id"])["status"], order(ctx["order_id"])["runner_id"]) == ("ACCEPTED", ctx["runner_id"])
    assert timer_status(ctx["order_id"]) == "DISARMED"
    progress(ctx, "PLACED", "ON_THE_WAY", "DELIVERED")

    saga = complete(ctx)

    assert saga["status"] == "COMPLETED", saga
    final = order(ctx["order_id"])
    assert final["status"] == "COMPLETED" and final["completed_at"]
    [payment] = payments(ctx["order_id"])
    assert payment["status"] == "CAPTURED" and payment["payout_account"]
    assert Decimal(payment["amount"]) == Decimal(final["total"])
    kinds = {(n["user_id"], n["type"]) for n in notifications(ctx["order_id"])}
    assert {(ctx["customer_id"], "ORDER_ACCEPTED"), (ctx["customer_id"], "ORDER_COMPLETED"),
            (ctx["runner_id"], "PAYOUT_SENT")} <= kinds


def test_customer_cancel_releases_the_hold(worker):
    ctx = created_order()

    saga = cancel(ctx, reason="changed my mind")

    assert saga["status"] == "COMPLETED", saga
    cancelled = order(ctx["order_id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("CANCELLED", "changed my mind")
    assert [p["status"] for p in payments(ctx["order_id"])] == ["RELEASED"]
    assert timer_status(ctx["order_id"]) == "DISARMED"
    assert "ORDER_CANCELLED" in {n["type"] for n in notifications(ctx["order_id"])}


def test_accepting_a_cancelled_order_is_refused_and_changes_nothing(worker):
    ctx = created_order()
    cancel(ctx)

    saga = accept(ctx)

    assert saga["status"] == "COMPENSATED"
    assert "invalid_transition" in saga["error"] or "409" in saga["error"]
    assert order(ctx["order_id"])["status"] == "CANCELLED"
    assert order(ctx["order_id"])["runner_id"] is None


def test_cancel_after_acceptance_is_refused(worker):
    ctx = created_order()
    accept(ctx)

    saga = cancel(ctx)

    assert saga["status"] == "COMPENSATED"
    assert order(ctx["order_id"])["status"] == "ACCEPTED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["AUTHORIZED"]


def test_complete_before_delivery_is_refused(worker):
    ctx = created_order()
    accept(ctx)
    progress(ctx, "PLACED")

    saga = complete(ctx)

    assert saga["status"] == "COMPENSATED"
    assert order(ctx["order_id"])["status"] == "PLACED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["AUTHORIZED"]


def test_complete_with_payment_down_stops_for_a_retry_and_never_refunds(worker, live_participants):
    from saga_workers.service import retry_saga

    ctx = created_order()
    accept(ctx)
    progress(ctx, "PLACED", "ON_THE_WAY", "DELIVERED")
    with live_participants.payment_service.down():
        saga = complete(ctx)

    assert saga["status"] == "FAILED" and "capture_payment" in saga["error"]
    assert order(ctx["order_id"])["status"] == "DELIVERED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["AUTHORIZED"], "no refund on a guess"
    retry_saga(saga["saga_id"])
    assert wait_for_saga(saga["saga_id"])["status"] == "COMPLETED"
    assert order(ctx["order_id"])["status"] == "COMPLETED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["CAPTURED"]


def test_accept_survives_a_brief_order_service_outage(worker, live_participants):
    ctx = created_order()
    live_participants.order_service.stop()
    started = start_saga("accept_order", {"order_id": ctx["order_id"], "customer_id": ctx["customer_id"],
                                          "runner_id": ctx["runner_id"]})
    wait_for_failed_attempt(started.saga_id, "accept_order")
    live_participants.order_service.start()

    saga = wait_for_saga(started.saga_id)

    assert saga["status"] == "COMPLETED", saga
    assert order(ctx["order_id"])["status"] == "ACCEPTED"
