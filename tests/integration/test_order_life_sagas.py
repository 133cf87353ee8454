"""accept, cancel and complete sagas, the accept-timeout, and their races, on a real worker."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from saga_workers import accept_timeouts
from saga_workers.registry import idempotency_key
from saga_workers.queries import list_sagas
from saga_workers.service import SagaInProgress, start_saga
from tests.integration.order_life import (accept, cancel, complete, created_order, expire_accept_deadline,
                                          progress, timer_status)
from tests.integration.saga_helpers import (create_user, notifications, order, payments, wait_for_failed_attempt,
                                            wait_for_saga)


def live(order_id: str) -> list[dict]:
    return [p for p in payments(order_id) if p["status"] in ("AUTHORIZED", "CAPTURED")]


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


def test_two_runners_accepting_at_once_one_wins(worker):
    ctx = created_order()
    rival = create_user("runner")
    def try_accept(runner: str) -> dict:
        try:
            return accept(ctx, runner)
        except SagaInProgress as exc:  # the other's accept held the order's lock: refused at the start
            return {"status": "REFUSED AT START", "saga_id": exc.saga_id}

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(try_accept, [ctx["runner_id"], rival]))

    assert sorted(s["status"] for s in results) in (["COMPENSATED", "COMPLETED"], ["COMPLETED", "REFUSED AT START"])
    winner = next(s for s in results if s["status"] == "COMPLETED")["runner_id"]
    final = order(ctx["order_id"])
    assert (final["status"], final["runner_id"]) == ("ACCEPTED", winner)


@pytest.mark.parametrize("trigger", ["accept-timeout", "customer-cancel"])
def test_cancel_racing_an_accept_has_one_winner_and_the_money_follows(worker, saga_app, trigger):
    ctx = created_order()
    if trigger == "accept-timeout":
        expire_accept_deadline(ctx["order_id"])
        start_cancel: Callable[[], object] = lambda: accept_timeouts.fire_due()  # noqa: E731
    else:
        start_cancel = lambda: cancel(ctx)  # noqa: E731
    with ThreadPoolExecutor(2) as pool:
        accepted = pool.submit(accept, ctx)
        pool.submit(start_cancel).result()
        accept_saga = accepted.result()
    cancel_sagas, _ = list_sagas(saga_type="cancel_order")
    cancel_saga = wait_for_saga(cancel_sagas[0]["saga_id"])

    final = order(ctx["order_id"])
    if final["status"] == "ACCEPTED":
        assert (accept_saga["status"], cancel_saga["status"]) == ("COMPLETED", "COMPENSATED")
        assert [p["status"] for p in payments(ctx["order_id"])] == ["AUTHORIZED"]
    else:
        assert final["status"] == "CANCELLED"
        assert (accept_saga["status"], cancel_saga["status"]) == ("COMPENSATED", "COMPLETED")
        assert final["runner_id"] is None
        assert live(ctx["order_id"]) == []


def test_a_due_deadline_seen_by_two_scanners_starts_one_cancel(worker, saga_app):
    ctx = created_order()
    expire_accept_deadline(ctx["order_id"])
    barrier = threading.Barrier(4)

    def scan() -> int:
        barrier.wait()
        return accept_timeouts.fire_due()

    with ThreadPoolExecutor(4) as pool:
        fired = sum(pool.map(lambda _: scan(), range(4)))

    assert fired == 1
    assert accept_timeouts.fire_due() == 0, "a later tick finds nothing"
    sagas, _ = list_sagas(saga_type="cancel_order")
    assert len(sagas) == 1
    assert wait_for_saga(sagas[0]["saga_id"])["status"] == "COMPLETED"
    assert order(ctx["order_id"])["status"] == "CANCELLED"
    assert live(ctx["order_id"]) == []


def test_beat_cancels_an_order_nobody_accepts_within_the_timeout(worker, saga_app, rewire, tmp_path):
    from celery.beat import EmbeddedService

    rewire(order_accept_timeout_seconds=2)
    ctx = created_order()
    beat = EmbeddedService(saga_app, max_interval=0.5, thread=True, schedule_filename=str(tmp_path / "beat"))
    beat.start()
    try:
        import time

        deadline = time.monotonic() + 15
        while order(ctx["order_id"])["status"] != "CANCELLED" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        beat.stop()

    cancelled = order(ctx["order_id"])
    assert cancelled["status"] == "CANCELLED"
    assert "no runner" in cancelled["cancel_reason"]
    sagas, _ = list_sagas(saga_type="cancel_order")
    assert wait_for_saga(sagas[0]["saga_id"])["status"] == "COMPLETED"
    assert [p["status"] for p in payments(ctx["order_id"])] == ["RELEASED"]


def test_a_timeout_refused_by_an_acceptance_that_is_later_undone_fires_again(worker, saga_app, rewire):
    from campus_common import http
    from campus_common.config import load_settings
    from campus_common.service_auth import SAGA_WORKERS

    rewire(saga_stall_seconds=0)
    ctx = created_order()
    url = f"{load_settings().order_service_url}/orders/{ctx['order_id']}"
    keys = {"accept": idempotency_key("ghost", "accept_order", "action"),
            "undo": idempotency_key("ghost", "accept_order", "compensation")}
    http.call("POST", f"{url}/accept", json={"runner_id": ctx["runner_id"]}, idempotency_key=keys["accept"],
              caller=SAGA_WORKERS, audience="order_service")
    expire_accept_deadline(ctx["order_id"])

    assert accept_timeouts.fire_due() == 1
    [refused] = list_sagas(saga_type="cancel_order")[0]
    assert wait_for_saga(refused["saga_id"])["status"] == "COMPENSATED"
    http.call("POST", f"{url}/undo-accept", json={"runner_id": ctx["runner_id"]}, idempotency_key=keys["undo"],
              caller=SAGA_WORKERS, audience="order_service")

    assert accept_timeouts.fire_due() == 1
    sagas, _ = list_sagas(saga_type="cancel_order")
    assert len(sagas) == 2
    assert wait_for_saga(sagas[0]["saga_id"])["status"] == "COMPLETED"
    assert order(ctx["order_id"])["status"] == "CANCELLED"
    assert live(ctx["order_id"]) == []
    assert timer_status(ctx["order_id"]) == "DISARMED"
    assert accept_timeouts.fire_due() == 0
