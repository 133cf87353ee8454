"""The order service over HTTP (Flask test client) against a real Postgres."""
from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

import order_service
from campus_common.db import get_engine
from tests.service_credentials import trusted

RUNNER, OTHER_RUNNER = str(uuid.uuid4()), str(uuid.uuid4())
# The legal path and the call that takes an order one step along it.
PATH = ["PENDING", "CREATED", "ACCEPTED", "PLACED", "ON_THE_WAY", "DELIVERED", "COMPLETED"]
STEP_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "CREATED": ("POST", "mark-created", None),
    "ACCEPTED": ("POST", "accept", {"runner_id": RUNNER}),
    "PLACED": ("PUT", "status", {"status": "PLACED", "runner_id": RUNNER}),
    "ON_THE_WAY": ("PUT", "status", {"status": "ON_THE_WAY", "runner_id": RUNNER}),
    "DELIVERED": ("PUT", "status", {"status": "DELIVERED", "runner_id": RUNNER}),
    "COMPLETED": ("POST", "complete", None),
    "CANCELLED": ("POST", "cancel", {"reason": "customer changed their mind", "expected_status": "CREATED"}),
}
STAMP = {"ACCEPTED": "accepted_at", "PLACED": "placed_at", "ON_THE_WAY": "picked_up_at",
         "DELIVERED": "delivered_at", "COMPLETED": "completed_at", "CANCELLED": "cancelled_at"}


@pytest.fixture()
def app(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.delenv("DELIVERY_FEE", raising=False)
    return trusted(order_service.create_app({"DATABASE_URL": clean_db}))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def order_body(**overrides: Any) -> dict[str, Any]:
    body = {"order_id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4()), "saga_id": str(uuid.uuid4()),
            "items": [{"name": "Burrito", "price": "8.50", "quantity": 2},
                      {"name": "Soda", "price": "1.25", "quantity": 1}],
            "store_location": "Student Union, Taco Stand", "delivery_location": "Library, 3rd floor"}
    body.update(overrides)
    return body


def create(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/orders", json=order_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client: FlaskClient, order_id: str, target: str, headers: dict[str, str] | None = None) -> Any:
    method, action, body = STEP_CALLS[target]
    return client.open(f"/orders/{order_id}/{action}", method=method, json=body, headers=headers)


def order_in(client: FlaskClient, status: str) -> dict[str, Any]:
    """A new order walked along the legal path to ``status``."""
    order = create(client)
    path = ["PENDING", "CREATED", "CANCELLED"] if status == "CANCELLED" else PATH[: PATH.index(status) + 1]
    for target in path[1:]:
        response = step(client, order["order_id"], target)
        assert response.status_code == 200, response.get_json()
        order = response.get_json()
    assert order["status"] == status
    return order


def fetch(client: FlaskClient, order_id: str) -> dict[str, Any]:
    response = client.get(f"/orders/{order_id}")
    assert response.status_code == 200
    return response.get_json()


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


# --- creating and reading -------------------------------------------------------------------


def test_create_order_is_pending_with_exact_fees(client: FlaskClient) -> None:
    body = order_body()
    response = client.post("/orders", json=body)

    assert response.status_code == 201
    order = response.get_json()
    assert order["order_id"] == body["order_id"] and order["customer_id"] == body["customer_id"]
    assert order["saga_id"] == body["saga_id"]
    assert (order["status"], order["runner_id"], order["cancel_reason"]) == ("PENDING", None, None)
    assert (order["food_fee"], order["delivery_fee"], order["total"]) == ("18.25", "3.99", "22.24")
    assert order["items"] == [{"name": "Burrito", "price": "8.50", "quantity": 2},
                              {"name": "Soda", "price": "1.25", "quantity": 1}]
    assert order["created_at"] and order["updated_at"]
    assert all(order[stamp] is None for stamp in STAMP.values())
    assert fetch(client, body["order_id"]) == order


def test_money_is_decimal_not_float(client: FlaskClient) -> None:
    raw = json.dumps(order_body(items=[])).replace('"items": []', '"items": [{"name": "Gum", "price": 0.1, '
                                                                  '"quantity": 3}]')
    order = client.post("/orders", data=raw, content_type="application/json").get_json()

    assert order["food_fee"] == "0.30"  # 0.1 * 3 in floats is 0.30000000000000004
    assert order["items"][0]["price"] == "0.10"
    assert order["total"] == "4.29"


def test_delivery_fee_comes_from_the_environment(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERY_FEE", "5.00")
    client = trusted(order_service.create_app({"DATABASE_URL": clean_db})).test_client()

    order = create(client)

    assert (order["delivery_fee"], order["total"]) == ("5.00", "23.25")


def test_duplicate_order_id_is_refused(client: FlaskClient) -> None:
    order = create(client)
    error = error_of(client.post("/orders", json=order_body(order_id=order["order_id"])), 409)
    assert error["code"] == "order_exists"


def test_unknown_order_is_404(client: FlaskClient) -> None:
    assert error_of(client.get(f"/orders/{uuid.uuid4()}"), 404)["code"] == "not_found"
    assert error_of(client.get("/orders/not-a-uuid"), 404)["code"] == "not_found"
    assert error_of(client.post(f"/orders/{uuid.uuid4()}/mark-created"), 404)["code"] == "not_found"


def test_list_filters_newest_first_with_limit(client: FlaskClient) -> None:
    customer = str(uuid.uuid4())
    first, second = create(client, customer_id=customer), create(client, customer_id=customer)
    other = order_in(client, "ACCEPTED")

    mine = client.get(f"/orders?customer_id={customer}").get_json()["orders"]
    assert [o["order_id"] for o in mine] == [second["order_id"], first["order_id"]]
    pending = client.get("/orders?status=PENDING&limit=1").get_json()["orders"]
    assert [o["order_id"] for o in pending] == [second["order_id"]]
    runs = client.get(f"/orders?runner_id={RUNNER}").get_json()["orders"]
    assert [o["order_id"] for o in runs] == [other["order_id"]]
    assert len(client.get("/orders").get_json()["orders"]) == 3


@pytest.mark.parametrize("query, field", [("status=LOST", "status"), ("limit=0", "limit"), ("limit=ten", "limit"),
                                          ("customer_id=42", "customer_id"), ("runner_id=x", "runner_id")])
def test_list_rejects_bad_filters(client: FlaskClient, query: str, field: str) -> None:
    error = error_of(client.get(f"/orders?{query}"), 422)
    assert error["code"] == "validation_error" and field in error["details"]


def test_list_limit_defaults_to_50_and_caps_at_200(client: FlaskClient, app: Flask) -> None:
    with get_engine(app.config["DATABASE_URL"]).begin() as conn:
        conn.execute(text(
            "INSERT INTO order_service.orders (order_id, customer_id, saga_id, items, food_fee, delivery_fee,"
            " store_location, delivery_location, status) SELECT gen_random_uuid(), gen_random_uuid(),"
            " gen_random_uuid(), '[{\"name\": \"x\", \"price\": \"1.00\", \"quantity\": 1}]', 1, 3.99, 'a', 'b',"
            " 'CREATED' FROM generate_series(1, 205)"))

    assert len(client.get("/orders").get_json()["orders"]) == 50
    assert len(client.get("/orders?limit=1000").get_json()["orders"]) == 200


# --- the status machine ---------------------------------------------------------------------


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


# --- the runner's progress ------------------------------------------------------------------


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


# --- validation -----------------------------------------------------------------------------


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/orders", data='{"items": [', content_type="application/json")
    assert error_of(response, 400)["code"] == "malformed_json"
    assert client.get("/orders").get_json()["orders"] == []


def _raw_item(item: str) -> str:
    return json.dumps(order_body(items=[])).replace('"items": []', f'"items": [{item}]')


@pytest.mark.parametrize("raw, field", [
    (json.dumps(order_body(items=[])), "items"),
    (json.dumps(order_body(items="pizza")), "items"),
    (_raw_item('{"name": "Pizza", "price": -5.00, "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": 0, "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": 9.999, "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": "9.999", "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": NaN, "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": true, "quantity": 1}'), "items[0].price"),
    (_raw_item('{"name": "Pizza", "price": 9.50, "quantity": 0}'), "items[0].quantity"),
    (_raw_item('{"name": "Pizza", "price": 9.50, "quantity": 1.5}'), "items[0].quantity"),
    (_raw_item('{"name": "Pizza", "price": 9.50, "quantity": true}'), "items[0].quantity"),
    (_raw_item('{"name": "", "price": 9.50, "quantity": 1}'), "items[0].name"),
    (_raw_item('"pizza"'), "items[0]"),
    (json.dumps(order_body(store_location="")), "store_location"),
    (json.dumps(order_body(delivery_location=None)), "delivery_location"),
    (json.dumps(order_body(customer_id="customer-1")), "customer_id"),
    (json.dumps(order_body(order_id=7)), "order_id"),
    (json.dumps({k: v for k, v in order_body().items() if k != "saga_id"}), "saga_id"),
])
def test_invalid_orders_are_422_naming_the_field(client: FlaskClient, raw: str, field: str) -> None:
    response = client.post("/orders", data=raw, content_type="application/json")

    error = error_of(response, 422)
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert client.get("/orders").get_json()["orders"] == []


def test_every_bad_field_is_named_at_once(client: FlaskClient) -> None:
    body = order_body(customer_id="nope", items=[{"name": "", "price": "-1", "quantity": 0}])
    details = error_of(client.post("/orders", json=body), 422)["details"]
    assert set(details) == {"customer_id", "items[0].name", "items[0].price", "items[0].quantity"}


@pytest.mark.parametrize("path, body, field", [
    ("accept", {"runner_id": "runner-7"}, "runner_id"),
    ("accept", {}, "runner_id"),
    ("cancel", {"reason": "x", "expected_status": "ACCEPTED"}, "expected_status"),
    ("cancel", {"reason": "x"}, "expected_status"),
    ("undo-accept", {"runner_id": 5}, "runner_id"),
])
def test_invalid_transition_requests_are_422(client: FlaskClient, path: str, body: dict, field: str) -> None:
    order = order_in(client, "CREATED")
    error = error_of(client.post(f"/orders/{order['order_id']}/{path}", json=body), 422)
    assert field in error["details"]
    assert fetch(client, order["order_id"]) == order


# --- idempotency ----------------------------------------------------------------------------


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


# --- races: real threads, real Postgres -----------------------------------------------------


def race(app: Flask, order_id: str, calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Fire ``calls`` from threads while the order row is locked, then release them together.

    Every caller reads the order freely but has to queue on the row to write it, so a service
    that checks the status first and writes it afterwards lets more than one of them win.
    """
    engine = get_engine(app.config["DATABASE_URL"])
    responses: list[Any] = [None] * len(calls)

    def send(index: int, method: str, path: str, body: dict[str, Any]) -> None:
        responses[index] = app.test_client().open(path, method=method, json=body)

    threads = [threading.Thread(target=send, args=(i, *call)) for i, call in enumerate(calls)]
    with engine.connect() as blocker:
        with blocker.begin():
            blocker.execute(text("SELECT 1 FROM order_service.orders WHERE order_id = :id FOR UPDATE"),
                            {"id": order_id})
            for thread in threads:
                thread.start()
            _wait_for_lock_waiters(engine, len(calls))
    for thread in threads:
        thread.join(timeout=30)
    return responses


def _wait_for_lock_waiters(engine: Any, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                        " AND datname = current_database()")).scalar_one()
            conn.rollback()
            if waiting >= count:
                return
            time.sleep(0.02)


def test_racing_runners_get_exactly_one_winner(app: Flask, client: FlaskClient) -> None:
    order = order_in(client, "CREATED")
    runners = [str(uuid.uuid4()) for _ in range(5)]
    path = f"/orders/{order['order_id']}/accept"

    responses = race(app, order["order_id"], [("POST", path, {"runner_id": r}) for r in runners])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409, 409]
    winner = next(runner for runner, r in zip(runners, responses) if r.status_code == 200)
    assert all(r.get_json()["error"]["details"] == {"status": "ACCEPTED"} for r in responses if r.status_code == 409)
    final = fetch(client, order["order_id"])
    assert (final["status"], final["runner_id"]) == ("ACCEPTED", winner)


def test_cancel_racing_accept_has_exactly_one_winner(app: Flask, client: FlaskClient) -> None:
    for _ in range(3):
        order = order_in(client, "CREATED")
        accept = ("POST", f"/orders/{order['order_id']}/accept", {"runner_id": RUNNER})
        cancel = ("POST", f"/orders/{order['order_id']}/cancel", {"reason": "accept timeout",
                                                                  "expected_status": "CREATED"})

        accepted, cancelled = race(app, order["order_id"], [accept, cancel])

        assert sorted([accepted.status_code, cancelled.status_code]) == [200, 409]
        final = fetch(client, order["order_id"])
        if accepted.status_code == 200:
            assert (final["status"], final["runner_id"], final["cancelled_at"]) == ("ACCEPTED", RUNNER, None)
            assert cancelled.get_json()["error"]["details"] == {"status": "ACCEPTED"}
        else:
            assert (final["status"], final["runner_id"], final["accepted_at"]) == ("CANCELLED", None, None)
            assert accepted.get_json()["error"]["details"] == {"status": "CANCELLED"}


def test_a_compensation_racing_its_in_flight_create_waits_and_undoes_it(app: Flask, client: FlaskClient) -> None:
    body = order_body()
    engine = get_engine(app.config["DATABASE_URL"])
    results: dict[str, Any] = {}

    def send(name: str, path: str, payload: dict[str, Any], key: str) -> None:
        results[name] = app.test_client().post(path, json=payload, headers={"Idempotency-Key": key})

    create_call = threading.Thread(target=send, args=("create", "/orders", body, "saga-7:create_order:action"))
    cancel_call = threading.Thread(target=send, args=(
        "cancel", f"/orders/{body['order_id']}/cancel", {"reason": "timed out", "expected_status": "PENDING"},
        "saga-7:create_order:compensation"))
    with engine.connect() as blocker:
        with blocker.begin() as held:
            # An uncommitted row with the same id stalls the create after it has claimed its key.
            blocker.execute(text(
                "INSERT INTO order_service.orders (order_id, customer_id, saga_id, items, food_fee, delivery_fee,"
                " store_location, delivery_location, status) VALUES (:id, gen_random_uuid(), gen_random_uuid(),"
                " '[{}]', 1, 1, 'a', 'b', 'PENDING')"), {"id": body["order_id"]})
            create_call.start()
            _wait_for_lock_waiters(engine, 1)
            cancel_call.start()
            _wait_for_lock_waiters(engine, 2)
            held.rollback()
    create_call.join(timeout=30)
    cancel_call.join(timeout=30)

    assert results["create"].status_code == 201
    assert results["cancel"].status_code == 200, results["cancel"].get_json()
    assert fetch(client, body["order_id"])["status"] == "CANCELLED"


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
