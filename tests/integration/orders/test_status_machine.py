"""The order status machine and the runner's progress: every transition is one conditional update."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.orders.walk import (OTHER_RUNNER, PATH, RUNNER, STAMP, STEP_CALLS, create, error_of, fetch,
                                           order_in, step)


def test_an_order_walks_its_whole_life(client: FlaskClient) -> None:
    order = create(client)
    previous = order
    for target in PATH[1:]:
        response = step(client, order["order_id"], target)

        assert response.status_code == 200, response.get_json()
        current = response.get_json()
        assert current["status"] == target
        if target in STAMP:
            assert current[STAMP[target]] is not None and previous[STAMP[target]] is None
        assert current["updated_at"] >= previous["updated_at"]
        previous = current
    final = fetch(client, order["order_id"])
    assert final == previous
    assert final["runner_id"] == RUNNER and final["cancelled_at"] is None
    assert final["accepted_at"] <= final["placed_at"] <= final["picked_up_at"] <= final["delivered_at"] \
        <= final["completed_at"]


@pytest.mark.parametrize("expected", ["PENDING", "CREATED"])
def test_cancel_before_acceptance(client: FlaskClient, expected: str) -> None:
    order = order_in(client, expected)
    body = {"reason": "payment declined", "expected_status": expected}

    response = client.post(f"/orders/{order['order_id']}/cancel", json=body)

    assert response.status_code == 200
    cancelled = response.get_json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("CANCELLED", "payment declined")
    assert cancelled["cancelled_at"] is not None
    again = client.post(f"/orders/{order['order_id']}/cancel", json=body)
    if expected == "PENDING":  # a compensation: nothing left to undo, answered unchanged
        assert again.status_code == 200 and again.get_json() == cancelled
    else:  # a second cancellation of a CREATED order lost: one winner
        assert again.status_code == 409
        assert again.get_json()["error"]["details"]["status"] == "CANCELLED"


ILLEGAL = [(current, target) for current in PATH + ["CANCELLED"] for target in STEP_CALLS
           if (current, target) not in {(a, b) for a, b in zip(PATH, PATH[1:])}
           and not (target == "CANCELLED" and current in ("CREATED", "CANCELLED"))]


@pytest.mark.parametrize("current, target", ILLEGAL)
def test_every_illegal_transition_is_409_with_the_current_status(client: FlaskClient, current: str,
                                                                  target: str) -> None:
    order = order_in(client, current)

    error = error_of(step(client, order["order_id"], target), 409)

    assert error["code"] == "invalid_transition"
    assert error["details"] == {"status": current}
    assert fetch(client, order["order_id"]) == order


@pytest.mark.parametrize("current", ["CREATED", "ACCEPTED", "DELIVERED", "COMPLETED"])
def test_cancel_expecting_pending_refuses_an_order_past_pending(client: FlaskClient, current: str) -> None:
    order = order_in(client, current)
    body = {"reason": "compensation", "expected_status": "PENDING"}

    error = error_of(client.post(f"/orders/{order['order_id']}/cancel", json=body), 409)

    assert error["details"] == {"status": current}
    assert fetch(client, order["order_id"])["status"] == current


@pytest.mark.parametrize("current, target", [("ACCEPTED", "ON_THE_WAY"), ("ACCEPTED", "DELIVERED"),
                                             ("PLACED", "DELIVERED"), ("PLACED", "PLACED"),
                                             ("ON_THE_WAY", "PLACED"), ("DELIVERED", "ON_THE_WAY")])
def test_runner_can_neither_skip_nor_step_back(client: FlaskClient, current: str, target: str) -> None:
    order = order_in(client, current)

    response = client.put(f"/orders/{order['order_id']}/status", json={"status": target, "runner_id": RUNNER})

    assert error_of(response, 409)["details"] == {"status": current}
    assert fetch(client, order["order_id"]) == order


@pytest.mark.parametrize("current", ["ACCEPTED", "PLACED", "ON_THE_WAY"])
def test_another_runner_cannot_move_the_order(client: FlaskClient, current: str) -> None:
    order = order_in(client, current)
    target = PATH[PATH.index(current) + 1]

    response = client.put(f"/orders/{order['order_id']}/status", json={"status": target, "runner_id": OTHER_RUNNER})

    assert error_of(response, 403)["code"] == "not_your_order"
    assert fetch(client, order["order_id"]) == order


@pytest.mark.parametrize("status", ["COMPLETED", "CREATED", "CANCELLED", "placed", None])
def test_runner_status_update_accepts_only_runner_steps(client: FlaskClient, status: Any) -> None:
    order = order_in(client, "ACCEPTED")
    response = client.put(f"/orders/{order['order_id']}/status", json={"status": status, "runner_id": RUNNER})
    error = error_of(response, 422)
    assert "status" in error["details"]
    assert fetch(client, order["order_id"])["status"] == "ACCEPTED"


def test_undo_accept_returns_the_order_to_runners(client: FlaskClient) -> None:
    order = order_in(client, "ACCEPTED")

    response = client.post(f"/orders/{order['order_id']}/undo-accept", json={"runner_id": RUNNER})

    assert response.status_code == 200
    undone = response.get_json()
    assert (undone["status"], undone["runner_id"], undone["accepted_at"]) == ("CREATED", None, None)
    taken = client.post(f"/orders/{order['order_id']}/accept", json={"runner_id": OTHER_RUNNER})
    assert taken.status_code == 200 and taken.get_json()["runner_id"] == OTHER_RUNNER


@pytest.mark.parametrize("current, runner", [("ACCEPTED", OTHER_RUNNER), ("CREATED", RUNNER), ("PLACED", RUNNER),
                                             ("CANCELLED", RUNNER)])
def test_undo_accept_with_nothing_to_undo_is_a_no_op(client: FlaskClient, current: str, runner: str) -> None:
    order = order_in(client, current)

    response = client.post(f"/orders/{order['order_id']}/undo-accept", json={"runner_id": runner})

    assert response.status_code == 200 and response.get_json() == order
    assert fetch(client, order["order_id"]) == order


def test_compensating_an_unknown_order_is_404(client: FlaskClient) -> None:
    unknown = uuid.uuid4()
    cancel = client.post(f"/orders/{unknown}/cancel", json={"reason": "r", "expected_status": "PENDING"})
    undo = client.post(f"/orders/{unknown}/undo-accept", json={"runner_id": RUNNER})
    assert error_of(cancel, 404)["code"] == error_of(undo, 404)["code"] == "not_found"
