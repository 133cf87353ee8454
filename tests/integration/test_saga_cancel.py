"""An operator cancels a running saga: forward steps stop, what took effect is compensated; past the pivot, 409."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from campus_common.http import BusinessRefusal
from devstack.procs import free_port
from devstack.threaded import ThreadedServer
from saga_workers.queries import get_saga
from saga_workers.runtime import runner_for
from saga_workers.service import SagaNotCancellable, cancel_saga, start_saga
from tests.integration.gateway_fixtures import Gateway, eager_sagas, gateway  # noqa: F401
from tests.integration.saga_helpers import create_user, order, order_payload, payments, wait_for_saga


def _started_until(step_count: int) -> tuple[str, dict[str, Any]]:
    """A create_order saga whose first ``step_count`` steps ran, with nothing queued (a saga mid-way)."""
    payload = order_payload(create_user("customer"))
    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid.uuid4()), payload, None)
    for index in range(step_count):
        runner.run_step(saga_id, index)
    return saga_id, payload


def test_admin_cancels_a_saga_before_its_pivot_and_what_took_effect_is_undone(gateway: Gateway) -> None:
    saga_id, payload = _started_until(3)  # order PENDING, card read, payment authorized
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]

    response = gateway.client.post(f"/api/sagas/{saga_id}/cancel", headers=gateway.admin.auth)

    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"saga_id": saga_id, "saga_type": "create_order", "status": "COMPENSATING"}
    saga = gateway.saga(saga_id)
    assert saga["status"] == "COMPENSATED" and saga["error"] == "cancelled by an operator"
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert [p["status"] for p in payments(payload["order_id"])] == ["RELEASED"]
    assert "mark_created" not in [s["name"] for s in saga["steps"]], "no forward step ran after the cancel"


@pytest.mark.parametrize("steps_done", [4, 6])
def test_cancel_past_the_pivot_or_finished_is_409(gateway: Gateway, steps_done: int) -> None:
    saga_id, payload = _started_until(steps_done)  # 4: the pivot (mark_created) is done; 6: COMPLETED

    response = gateway.client.post(f"/api/sagas/{saga_id}/cancel", headers=gateway.admin.auth)

    assert response.status_code == 409 and response.get_json()["error"]["code"] == "saga_not_cancellable"
    message = response.get_json()["error"]["message"]
    assert ("point of no return (mark_created)" in message) if steps_done == 4 else ("COMPLETED" in message)
    assert order(payload["order_id"])["status"] == "CREATED", "nothing was undone"


def test_cancel_needs_an_admin_and_a_known_saga(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    saga_id = gateway.place_order(customer).get_json()["saga_id"]
    assert gateway.client.post(f"/api/sagas/{saga_id}/cancel", headers=customer.auth).status_code == 403
    for unknown in (str(uuid.uuid4()), "nope"):
        assert gateway.client.post(f"/api/sagas/{unknown}/cancel", headers=gateway.admin.auth).status_code == 404


class HeldAuthorize:
    """A proxy before the payment service that holds authorize calls until ``release``.

    ``hold="request"``: the call waits before reaching the payment service (it has not happened);
    ``hold="answer"``: the payment service applied it and the answer waits (it happened, in flight).
    """

    def __init__(self, upstream: str, hold: str) -> None:
        self.upstream, self.hold = upstream, hold
        self.arrived, self.gate = threading.Event(), threading.Event()
        self.server = ThreadedServer(self, free_port())

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        held = path.endswith("/authorize")
        if held:
            self.arrived.set()
            if self.hold == "request":
                self.gate.wait(20)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {name[5:].replace("_", "-").title(): value for name, value in environ.items()
                   if name.startswith("HTTP_") and name != "HTTP_HOST"}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "application/json")
        answer = requests.request(environ["REQUEST_METHOD"], self.upstream + path + "?" + environ["QUERY_STRING"],
                                  data=environ["wsgi.input"].read(length), headers=headers, timeout=10)
        if held and self.hold == "answer":
            self.gate.wait(20)
        start_response(f"{answer.status_code} {answer.reason}", [("Content-Type", "application/json")])
        return [answer.content]


@pytest.fixture(params=["request", "answer"])
def held_authorize(request: pytest.FixtureRequest, live_participants: Any,
                   rewire: Callable[..., Any]) -> Iterator[HeldAuthorize]:
    proxy = HeldAuthorize(live_participants.payment_service.url, request.param)
    proxy.server.start()
    rewire(payment_service_url=proxy.server.url,
           participant_timeout_seconds=15.0)  # the held call must not time out
    yield proxy
    proxy.gate.set()
    proxy.server.stop()


def test_cancel_while_a_step_is_in_flight_compensates_it_and_never_advances(worker: Any,
                                                                            held_authorize: HeldAuthorize) -> None:
    payload = order_payload(create_user("customer"))
    saga_id = start_saga("create_order", payload).saga_id
    assert held_authorize.arrived.wait(20), "authorize never reached the payment service"

    assert cancel_saga(saga_id)["status"] == "COMPENSATING"
    compensated = wait_for_saga(saga_id, statuses=("COMPENSATED", "FAILED"))
    held_authorize.gate.set()  # now the authorize call finishes, after its compensation ran

    assert compensated["status"] == "COMPENSATED", compensated
    final = _settled(saga_id)
    assert final["status"] == "COMPENSATED" and final["current_step"] == "authorize_payment", final
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert not [p for p in payments(payload["order_id"]) if p["status"] in ("AUTHORIZED", "CAPTURED")]
    authorize = [a for a in final["attempts"] if a["step"] == "authorize_payment" and a["phase"] == "action"]
    expected = "REFUSED" if held_authorize.hold == "request" else "DONE"  # a late action is refused
    assert [a["status"] for a in authorize] == [expected]
    assert "mark_created" not in [a["step"] for a in final["attempts"]]


def _settled(saga_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The saga once its in-flight attempt is no longer RUNNING."""

    deadline = time.monotonic() + timeout
    while True:
        saga = get_saga(saga_id, detail=True)
        assert saga is not None, saga_id
        if all(a["status"] != "RUNNING" for a in saga["attempts"]) or time.monotonic() > deadline:
            return saga
        time.sleep(0.05)


def test_cancel_refuses_a_saga_being_rolled_back(eager: Any, live_participants: Any) -> None:
    saga_id = start_saga("create_order", order_payload(create_user("customer", card_token="tok_chargeDeclined"))
                         ).saga_id
    assert wait_for_saga(saga_id)["status"] == "COMPENSATED"
    with pytest.raises(SagaNotCancellable, match="only a running"):
        cancel_saga(saga_id)


def test_cancel_while_a_step_waits_for_its_retry_stops_the_saga_there(worker: Any, live_participants: Any,
                                                                       rewire: Callable[..., Any]) -> None:
    from tests.integration.saga_helpers import wait_for_failed_attempt

    rewire(saga_retry_backoff_base_seconds=1.0)  # the retry comes after the cancel
    payload = order_payload(create_user("customer"))
    with live_participants.order_service.down():  # connection refused: the order surely was not created
        saga_id = start_saga("create_order", payload).saga_id
        wait_for_failed_attempt(saga_id, "create_order")
        assert cancel_saga(saga_id)["status"] == "COMPENSATING"
        assert wait_for_saga(saga_id)["status"] == "COMPENSATED"
    time.sleep(2.5)  # the pending retry is delivered now, and finds the saga compensated

    saga = get_saga(saga_id, detail=True)
    assert saga is not None and saga["status"] == "COMPENSATED"
    assert {(a["step"], a["phase"], a["status"]) for a in saga["attempts"]} == {("create_order", "action", "FAILED")}
    with pytest.raises(BusinessRefusal) as unknown:
        order(payload["order_id"])
    assert unknown.value.status == 404, "no order was ever created"
