"""create_order against real Postgres, real participants over HTTP, eagerly and on a real worker."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from campus_common import http
from campus_common.config import load_settings
from campus_common.service_auth import SAGA_WORKERS
from saga_workers import runtime
from saga_workers.service import start_saga
from tests.integration.saga_helpers import (create_user, notifications, order, order_payload, payments,
                                            step_statuses, wait_for_failed_attempt, wait_for_saga)

CREATE_STEPS = ["create_order", "get_payment_info", "authorize_payment", "mark_created", "arm_accept_timeout",
                "notify"]


# --- eager mode: the whole saga runs inside start_saga -------------------------------------------

def test_eager_happy_path_creates_the_order_and_holds_the_money(eager, live_participants):
    customer = create_user("customer", card_token="tok_visa")
    runner = create_user("runner")
    payload = order_payload(customer, price="6.50", quantity=2)

    started = start_saga("create_order", payload)

    saga = wait_for_saga(started.saga_id, timeout=0.5)  # already finished: eager runs it in the call
    assert saga["status"] == "COMPLETED"
    assert [s["name"] for s in saga["steps"]] == CREATE_STEPS
    placed = order(payload["order_id"])
    assert placed["status"] == "CREATED"
    assert Decimal(placed["total"]) == Decimal("16.99")  # 2 x 6.50 + 3.99 delivery
    [payment] = payments(payload["order_id"])
    assert (payment["status"], Decimal(payment["amount"])) == ("AUTHORIZED", Decimal("16.99"))
    sent = {(n["user_id"], n["type"]) for n in notifications(payload["order_id"])}
    assert {(customer, "ORDER_CREATED"), (runner, "ORDER_READY_FOR_RUNNER")} <= sent


def test_eager_declined_card_compensates_and_cancels_the_order(eager, live_participants):
    customer = create_user("customer", card_token="tok_chargeDeclined")
    payload = order_payload(customer)

    saga = wait_for_saga(start_saga("create_order", payload).saga_id, timeout=0.5)

    assert saga["status"] == "COMPENSATED"
    assert "card_declined" in saga["error"]
    assert ("create_order", "compensation", "DONE") in step_statuses(saga)
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert not [p for p in payments(payload["order_id"]) if p["status"] in ("AUTHORIZED", "CAPTURED")]
    assert notifications(payload["order_id"]) == []


def test_eager_insufficient_funds_above_twenty(eager, live_participants):
    customer = create_user("customer", card_token="tok_insufficient_funds")
    payload = order_payload(customer, price="9.00", quantity=2)  # 21.99 with delivery

    saga = wait_for_saga(start_saga("create_order", payload).saga_id, timeout=0.5)

    assert saga["status"] == "COMPENSATED"
    assert order(payload["order_id"])["status"] == "CANCELLED"


# --- a real worker ----------------------------------------------------------------------------

def test_worker_happy_path(worker):
    customer = create_user("customer")
    payload = order_payload(customer)

    saga = wait_for_saga(start_saga("create_order", payload).saga_id)

    assert saga["status"] == "COMPLETED", saga
    assert all(step["attempts"] == 1 and step["status"] == "DONE" for step in saga["steps"])
    assert order(payload["order_id"])["status"] == "CREATED"
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]


def test_worker_declined_card_is_compensated(worker):
    customer = create_user("customer", card_token="tok_chargeDeclined")
    payload = order_payload(customer)

    saga = wait_for_saga(start_saga("create_order", payload).saga_id)

    assert saga["status"] == "COMPENSATED"
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert not [p for p in payments(payload["order_id"]) if p["status"] == "AUTHORIZED"]


def test_payment_down_past_the_retry_bound_compensates(worker, live_participants):
    customer = create_user("customer")
    payload = order_payload(customer)
    with live_participants.payment_service.down():
        saga = wait_for_saga(start_saga("create_order", payload).saga_id, timeout=60)

    assert saga["status"] == "COMPENSATED"
    authorize = next(s for s in saga["steps"] if s["name"] == "authorize_payment")
    assert authorize["attempts"] == runtime.process().settings.saga_step_retry_limit  # the worker's wiring
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert payments(payload["order_id"]) == []


def test_payment_down_briefly_still_completes(worker, live_participants):
    customer = create_user("customer")
    payload = order_payload(customer)
    live_participants.payment_service.stop()
    saga_id = start_saga("create_order", payload).saga_id
    wait_for_failed_attempt(saga_id, "authorize_payment")
    live_participants.payment_service.start()

    saga = wait_for_saga(saga_id, timeout=60)

    assert saga["status"] == "COMPLETED", saga
    authorize = next(s for s in saga["steps"] if s["name"] == "authorize_payment")
    assert authorize["attempts"] > 1
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]


def test_same_idempotency_key_starts_one_saga_and_one_order(worker):
    customer = create_user("customer")
    payload = order_payload(customer)

    first = start_saga("create_order", payload, idempotency_key=f"{customer}:checkout-1")
    again = start_saga("create_order", {**payload, "order_id": str(uuid.uuid4())}, idempotency_key=f"{customer}:checkout-1")

    assert (first.created, again.created) == (True, False)
    assert again.saga_id == first.saga_id and again.payload["order_id"] == payload["order_id"]
    wait_for_saga(first.saga_id)
    listed = http.call("GET", f"{load_settings().order_service_url}/orders?customer_id={customer}",
                       caller=SAGA_WORKERS, audience="order_service")["orders"]
    assert [o["order_id"] for o in listed] == [payload["order_id"]]


def test_redelivered_step_is_applied_once(worker, saga_app):
    """A worker died after authorizing but before recording it: the redelivered step replays."""
    from saga_workers import dispatch
    from saga_workers.runtime import runner_for
    from saga_workers.sagas import REGISTRY

    customer = create_user("customer")
    payload = order_payload(customer)
    saga_app.conf.task_always_eager = False
    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid.uuid4()), payload, None)
    assert runner.run_step(saga_id, 0).next.value == "continue"
    assert runner.run_step(saga_id, 1).next.value == "continue"
    # The first delivery's effect: the authorize call went through, then the worker died.
    runner.store.begin_action(saga_id, 2)
    http.call("POST", f"{load_settings().payment_service_url}/payments/authorize",
              json={"order_id": payload["order_id"], "customer_id": customer, "amount": "16.99",
                    "card_token": "tok_visa"}, idempotency_key=f"{saga_id}:authorize_payment:action",
              caller=SAGA_WORKERS, audience="payment_service")

    dispatch.send_steps(saga_app, REGISTRY["create_order"], saga_id, from_index=2)  # the redelivery
    saga = wait_for_saga(saga_id)

    assert saga["status"] == "COMPLETED", saga
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]
    authorize = next(s for s in saga["steps"] if s["name"] == "authorize_payment")
    assert authorize["attempts"] == 2


@pytest.mark.parametrize("step_index", [0, 3])
def test_a_done_step_delivered_again_changes_nothing(worker, saga_app, step_index):
    customer = create_user("customer")
    payload = order_payload(customer)
    saga_id = start_saga("create_order", payload).saga_id
    before = wait_for_saga(saga_id)

    # The redelivered message, run by the real task in this process (so it surely ran).
    redelivered = saga_app.tasks["saga.create_order.run_step"].apply(args=(saga_id, step_index))

    after = wait_for_saga(saga_id)
    assert redelivered.successful(), "a step already done lets its chain go on"
    assert [s["attempts"] for s in after["steps"]] == [s["attempts"] for s in before["steps"]]
    assert after["updated_at"] == before["updated_at"]
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]
