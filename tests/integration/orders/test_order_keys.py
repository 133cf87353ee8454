"""Idempotency keys on orders: a replay answers again; a compensation undoes only its own action."""
from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.integration.orders.walk import RUNNER, error_of, fetch, order_body, order_in, step


def test_a_repeated_key_answers_the_first_answer_and_creates_one_order(client: FlaskClient) -> None:
    body, headers = order_body(), {"Idempotency-Key": "saga-1:create_order:action"}

    first = client.post("/orders", json=body, headers=headers)
    again = client.post("/orders", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replay") == "true"
    assert [o["order_id"] for o in client.get("/orders").get_json()["orders"]] == [body["order_id"]]


def test_a_repeated_transition_key_replays_instead_of_refusing(client: FlaskClient) -> None:
    order = order_in(client, "CREATED")
    headers = {"Idempotency-Key": "saga-2:accept:action"}

    first = step(client, order["order_id"], "ACCEPTED", headers)
    again = step(client, order["order_id"], "ACCEPTED", headers)

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.get_json()["status"] == "ACCEPTED"


def test_a_key_reused_with_another_body_is_422(client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "saga-3:create_order:action"}
    client.post("/orders", json=order_body(), headers=headers)

    response = client.post("/orders", json=order_body(), headers=headers)

    assert error_of(response, 422)["code"] == "idempotency_key_reused"
    assert len(client.get("/orders").get_json()["orders"]) == 1


def test_a_create_arriving_after_its_compensation_is_refused(client: FlaskClient) -> None:
    body = order_body()
    cancel = client.post(f"/orders/{body['order_id']}/cancel",
                         json={"reason": "timed out", "expected_status": "PENDING"},
                         headers={"Idempotency-Key": "saga-4:create_order:compensation"})
    assert error_of(cancel, 404)["code"] == "not_found"  # nothing to undo yet

    late = client.post("/orders", json=body, headers={"Idempotency-Key": "saga-4:create_order:action"})

    assert error_of(late, 409)["code"] == "already_compensated"
    assert error_of(client.get(f"/orders/{body['order_id']}"), 404)["code"] == "not_found"


def test_an_accept_arriving_after_its_undo_is_refused(client: FlaskClient) -> None:
    order = order_in(client, "CREATED")
    undo = client.post(f"/orders/{order['order_id']}/undo-accept", json={"runner_id": RUNNER},
                       headers={"Idempotency-Key": "saga-5:accept:compensation"})
    assert undo.status_code == 200 and undo.get_json() == order

    late = step(client, order["order_id"], "ACCEPTED", {"Idempotency-Key": "saga-5:accept:action"})

    assert error_of(late, 409)["code"] == "already_compensated"
    assert fetch(client, order["order_id"]) == order


def test_compensation_undoes_a_create_that_took_effect(client: FlaskClient) -> None:
    body = order_body()
    client.post("/orders", json=body, headers={"Idempotency-Key": "saga-6:create_order:action"})

    cancel = client.post(f"/orders/{body['order_id']}/cancel", json={"reason": "card declined",
                                                                    "expected_status": "PENDING"},
                         headers={"Idempotency-Key": "saga-6:create_order:compensation"})

    assert cancel.status_code == 200 and cancel.get_json()["status"] == "CANCELLED"
    assert fetch(client, body["order_id"])["cancel_reason"] == "card declined"


def test_undo_accept_undoes_only_the_accept_it_compensates(client: FlaskClient) -> None:
    """A runner taps accept twice: the second, refused, accept's compensation leaves the first alone."""
    order = order_in(client, "CREATED")
    runner = {"runner_id": str(uuid.uuid4())}
    url = f"/orders/{order['order_id']}"

    first = client.post(f"{url}/accept", json=runner, headers={"Idempotency-Key": "saga-a:accept_order:action"})
    second = client.post(f"{url}/accept", json=runner, headers={"Idempotency-Key": "saga-b:accept_order:action"})
    undo_second = client.post(f"{url}/undo-accept", json=runner,
                              headers={"Idempotency-Key": "saga-b:accept_order:compensation"})

    assert (first.status_code, second.status_code, undo_second.status_code) == (200, 409, 200)
    assert (fetch(client, order["order_id"])["status"], fetch(client, order["order_id"])["runner_id"]) == (
        "ACCEPTED", runner["runner_id"])
    undo_first = client.post(f"{url}/undo-accept", json=runner,
                             headers={"Idempotency-Key": "saga-a:accept_order:compensation"})
    assert undo_first.status_code == 200
    assert (fetch(client, order["order_id"])["status"], fetch(client, order["order_id"])["runner_id"]) == (
        "CREATED", None)


def test_undoing_a_create_cancels_only_the_order_that_create_made(client: FlaskClient) -> None:
    body = order_body()
    assert client.post("/orders", json=body, headers={"Idempotency-Key": "saga-1:create_order:action"}).status_code == 201
    cancel = {"reason": "could not be placed", "expected_status": "PENDING"}
    url = f"/orders/{body['order_id']}/cancel"

    other = client.post(url, json={**cancel, "undoes": "saga-2:create_order:action"},
                        headers={"Idempotency-Key": "saga-2:create_order:compensation"})
    assert other.status_code == 200 and other.get_json()["status"] == "PENDING"
    own = client.post(url, json=cancel, headers={"Idempotency-Key": "saga-1:create_order:compensation"})
    assert own.status_code == 200 and own.get_json()["status"] == "CANCELLED"
