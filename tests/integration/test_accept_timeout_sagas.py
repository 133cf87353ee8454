"""The accept-timeout on a real worker: beat cancels an order nobody accepts, and fires again when needed."""
from __future__ import annotations

from saga_workers import accept_timeouts
from saga_workers.registry import idempotency_key
from saga_workers.queries import list_sagas
from tests.integration.order_life import created_order, expire_accept_deadline, live, timer_status
from tests.integration.saga_helpers import order, payments, wait_for_saga


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
