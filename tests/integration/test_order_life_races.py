"""Races over one order's life on a real worker: two runners, a cancel racing an accept, two scanners."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from saga_workers import accept_timeouts
from saga_workers.queries import list_sagas
from saga_workers.service import SagaInProgress
from tests.integration.order_life import accept, cancel, created_order, expire_accept_deadline, live
from tests.integration.saga_helpers import create_user, order, payments, wait_for_saga


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
