"""Two sagas racing on one order's money, with the payment service slower than its callers' timeout.

The issue this guards against: two completes of one order, both captures timed out, one won, the
loser compensated and refunded the winner's capture, the winner completed the order: COMPLETED and
REFUNDED, the runner never paid. Now the second complete is refused at its start (the order's lock),
and a refund only ever undoes the capture made with its own saga's key.
"""
from __future__ import annotations

from functools import partial
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from api_gateway import create_app
from campus_common import http
from campus_common.config import load_settings
from campus_common.db import get_engine
from campus_common.service_auth import SAGA_WORKERS
from tests.integration.gateway_fixtures import SECRET, Gateway, User
from tests.integration.races import together
from tests.integration.saga_helpers import wait_for_saga
from tests.integration.slow_participant import slowed


@pytest.fixture()
def live_gateway(worker: Any, database_url: str) -> Gateway:
    """The gateway over the real worker: sagas run in the worker, not inside the call."""
    app = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET, "TESTING": True})
    return Gateway(app.test_client(), User(str(uuid4()), "admin"))


def money(database_url: str, order_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The order's payment statuses and its ledger (entry type, account), oldest first."""
    with get_engine(database_url).connect() as conn:
        statuses = conn.execute(text("SELECT status FROM payment_service.payments WHERE order_id = :o "
                                     "ORDER BY created_at"), {"o": order_id}).scalars().all()
        ledger = conn.execute(text(
            "SELECT l.entry_type, l.account FROM payment_service.ledger_entries l JOIN payment_service.payments p "
            "USING (payment_id) WHERE p.order_id = :o ORDER BY l.created_at, l.entry_type"), {"o": order_id}).all()
    return list(statuses), [tuple(row) for row in ledger]


def order_status(gateway: Gateway, order_id: str) -> str:
    return gateway.order(order_id)["status"]


def placed(gateway: Gateway) -> tuple[User, User, str, str]:
    """A customer's order open for acceptance: (customer, runner, its payout account, order id)."""
    account = f"acct_{uuid4().hex[:10]}"
    customer, runner = gateway.create_user("customer"), gateway.create_user("runner", payout_account=account)
    started = gateway.place_order(customer).get_json()
    assert wait_for_saga(started["saga_id"])["status"] == "COMPLETED"
    return customer, runner, account, started["order_id"]


def delivered(gateway: Gateway) -> tuple[User, str, str]:
    """An order its runner has DELIVERED: (runner, payout account, order id)."""
    _, runner, account, order_id = placed(gateway)
    accepted = gateway.client.post(f"/api/orders/{order_id}/accept", headers=runner.auth).get_json()
    assert wait_for_saga(accepted["saga_id"])["status"] == "COMPLETED"
    for status in ("PLACED", "ON_THE_WAY", "DELIVERED"):
        response = gateway.client.put(f"/api/orders/{order_id}/status", json={"status": status}, headers=runner.auth)
        assert response.status_code == 200, response.get_json()
    return runner, account, order_id


def at_once(gateway: Gateway, *calls: tuple[str, str, User]) -> list[TestResponse]:
    """POST each (path, role label, actor) at the same moment, each from its own client."""
    return together(gateway.client.application, [partial(_post_as, path=path, actor=actor) for path, _, actor in calls])


def _post_as(client: FlaskClient, path: str, actor: User) -> TestResponse:
    return client.post(path, headers=actor.auth)


def test_a_double_complete_with_a_slow_payment_service_pays_the_runner_once_and_never_refunds(
        live_gateway: Gateway, live_participants: Any, database_url: str) -> None:
    gateway = live_gateway
    runner, account, order_id = delivered(gateway)
    path = f"/api/orders/{order_id}/complete"

    with slowed(live_participants.payment_service, "/payments/capture"):
        first, second = at_once(gateway, (path, "runner", runner), (path, "runner", runner))
        started = [a for a in (first, second) if a.status_code == 202]
        refused = [a for a in (first, second) if a.status_code == 409]
        assert len(started) == 1 and len(refused) == 1, [a.get_json() for a in (first, second)]
        saga_id = started[0].get_json()["saga_id"]
        assert refused[0].get_json()["error"]["code"] == "saga_in_progress"
        assert refused[0].get_json()["error"]["details"]["saga_id"] == saga_id
        # Every capture times out: the saga stops FAILED at the capture (it may have paid) ...
        saga = wait_for_saga(saga_id, timeout=60)
    assert saga["status"] == "FAILED" and saga["current_step"] == "capture_payment", saga
    # ... and still holds the order: a third complete is refused while an operator has not retried.
    third = gateway.client.post(path, headers=runner.auth)
    assert third.status_code == 409 and third.get_json()["error"]["details"]["saga_id"] == saga_id
    assert money(database_url, order_id)[0] == ["CAPTURED"]  # the slow first capture went through

    assert gateway.client.post(f"/api/sagas/{saga_id}/retry", headers=gateway.admin.auth).status_code == 202
    assert wait_for_saga(saga_id)["status"] == "COMPLETED"
    statuses, ledger = money(database_url, order_id)
    assert order_status(gateway, order_id) == "COMPLETED" and statuses == ["CAPTURED"]
    assert [entry for entry in ledger if entry[0] in ("PAYOUT", "REFUND")] == [("PAYOUT", account)]


def test_a_complete_whose_capture_lost_to_another_refunds_nothing(worker: Any, live_participants: Any,
                                                                    database_url: str) -> None:
    """The issue's race without the lock: another saga's capture of the order wins while this saga's
    first capture waits; that capture is refused after its caller timed out, the saga compensates its
    maybe-done capture, and the refund finds nothing of its own to give back."""
    from tests.integration.order_life import accept, created_order, progress

    ctx = created_order()
    assert accept(ctx)["status"] == "COMPLETED"
    progress(ctx, "PLACED", "ON_THE_WAY", "DELIVERED")
    payload = {"order_id": ctx["order_id"], "customer_id": ctx["customer_id"], "runner_id": ctx["runner_id"]}
    saga_id = str(uuid4())
    with slowed(live_participants.payment_service, "/payments/capture", key_prefix=saga_id, times=1) as arrived:
        from saga_workers import dispatch
        from saga_workers.runtime import runner_for
        from saga_workers.sagas import REGISTRY

        runner_for("complete_order").store.create(saga_id, payload, None)
        dispatch.send_steps(worker.app, REGISTRY["complete_order"], saga_id)
        assert arrived.wait(30)
        http.call("POST", f"{load_settings().payment_service_url}/payments/capture",
                  json={"order_id": ctx["order_id"], "payout_account": "acct_rival"}, timeout=10,
                  idempotency_key="rival-saga:capture_payment:action", caller=SAGA_WORKERS, audience="payment_service")
        saga = wait_for_saga(saga_id, timeout=60)

    statuses, ledger = money(database_url, ctx["order_id"])
    assert saga["status"] == "COMPENSATED", saga
    assert any(s["name"] == "capture_payment" and s["phase"] == "compensation" for s in saga["steps"]), saga
    assert statuses == ["CAPTURED"] and not [entry for entry in ledger if entry[0] == "REFUND"]
    assert [entry for entry in ledger if entry[0] == "PAYOUT"] == [("PAYOUT", "acct_rival")]


def test_accept_racing_cancel_with_a_slow_payment_service_leaves_the_money_with_the_winner(
        live_gateway: Gateway, live_participants: Any, database_url: str) -> None:
    gateway = live_gateway
    for _ in range(2):  # two rounds: the race resolves either way
        customer, runner, _, order_id = placed(gateway)
        rival = gateway.create_user("runner")
        with slowed(live_participants.payment_service, "/payments/release"):
            answers = at_once(gateway, (f"/api/orders/{order_id}/accept", "runner", runner),
                              (f"/api/orders/{order_id}/accept", "runner", rival),
                              (f"/api/orders/{order_id}/cancel", "customer", customer),
                              (f"/api/orders/{order_id}/cancel", "customer", customer))
            assert all(a.status_code in (202, 409) for a in answers), [a.get_json() for a in answers]
            accepts, cancels = [a for a in answers[:2] if a.status_code == 202], \
                [a for a in answers[2:] if a.status_code == 202]
            assert len(accepts) <= 1 and len(cancels) <= 1  # the lock: one of each type per order at a time
            sagas = [wait_for_saga(a.get_json()["saga_id"], timeout=90) for a in accepts + cancels]
        for saga in sagas:
            if saga["status"] == "FAILED":  # the release outlasted its bound: an operator retries
                retried = gateway.client.post(f"/api/sagas/{saga['saga_id']}/retry", headers=gateway.admin.auth)
                assert retried.status_code == 202, retried.get_json()
                assert wait_for_saga(saga["saga_id"])["status"] == "COMPLETED"
        statuses, _ = money(database_url, order_id)
        final = order_status(gateway, order_id)
        assert final in ("ACCEPTED", "CANCELLED")
        assert statuses == (["AUTHORIZED"] if final == "ACCEPTED" else ["RELEASED"]), (final, statuses)
