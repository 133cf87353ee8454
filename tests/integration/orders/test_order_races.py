"""Racing callers on one order, with real threads and a real Postgres: exactly one winner."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from campus_common.db import get_engine
from tests.integration.orders.walk import RUNNER, fetch, order_body, order_in


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
