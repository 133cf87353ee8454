"""notification_service over its HTTP API (Flask test client) against a real Postgres."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from campus_common.db import get_engine
from notification_service import create_app
from tests.service_credentials import trusted

USER_ID, RUNNER_ID, ORDER_ID = (str(uuid.uuid4()) for _ in range(3))


@pytest.fixture()
def client(clean_db: str) -> FlaskClient:
    return trusted(create_app({"DATABASE_URL": clean_db})).test_client()


def note(type_: str = "ORDER_CREATED", user_id: str = USER_ID, order_id: str | None = ORDER_ID,
         **payload: Any) -> dict[str, Any]:
    return {"user_id": user_id, "type": type_, "order_id": order_id, "payload": payload}


def stored(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM notification_service.notifications")).scalar_one()


def listed(client: FlaskClient, query: str) -> list[dict[str, Any]]:
    response = client.get(f"/notifications?{query}")
    assert response.status_code == 200
    return response.get_json()["notifications"]


def error_of(response: TestResponse) -> dict[str, Any]:
    return response.get_json()["error"]


def test_a_notification_is_recorded_and_listed_for_its_user(client: FlaskClient) -> None:
    created = client.post("/notifications", json=note("ORDER_CREATED", total="16.49", items=2))

    assert created.status_code == 201
    notification = created.get_json()
    assert uuid.UUID(notification["notification_id"]) and notification["created_at"]
    assert (notification["user_id"], notification["type"], notification["order_id"]) == (
        USER_ID, "ORDER_CREATED", ORDER_ID)
    assert notification["payload"] == {"total": "16.49", "items": 2}
    assert listed(client, f"user_id={USER_ID}") == [notification]


def test_money_sent_as_a_json_number_comes_back_exact(client: FlaskClient) -> None:
    body = '{"user_id": "%s", "type": "PAYOUT_SENT", "order_id": null, "payload": {"amount": 16.49}}' % RUNNER_ID
    created = client.post("/notifications", data=body, content_type="application/json")

    assert created.status_code == 201
    assert created.get_json()["payload"] == {"amount": "16.49"}
    assert created.get_json()["order_id"] is None
    assert listed(client, f"user_id={RUNNER_ID}")[0]["payload"] == {"amount": "16.49"}


@pytest.mark.parametrize(("body", "bad_fields"), [
    (note("ORDER_EATEN"), {"type"}),
    (note(user_id="nope"), {"user_id"}),
    (note(order_id="nope"), {"order_id"}),
    ({**note(), "payload": ["not", "an", "object"]}, {"payload"}),
    ({"payload": {}}, {"user_id", "type"}),
])
def test_invalid_notifications_name_each_bad_field(client: FlaskClient, clean_db: str, body: dict[str, Any],
                                                    bad_fields: set[str]) -> None:
    response = client.post("/notifications", json=body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"
    assert set(error_of(response)["details"]) == bad_fields
    assert stored(clean_db) == 0


def test_malformed_json_is_a_400(client: FlaskClient) -> None:
    response = client.post("/notifications", data="[1, 2", content_type="application/json")

    assert response.status_code == 400 and error_of(response)["code"] == "malformed_json"


def test_a_batch_is_recorded_in_the_order_sent(client: FlaskClient) -> None:
    runners = [str(uuid.uuid4()) for _ in range(5)]
    batch = [note("ORDER_READY_FOR_RUNNER", user_id=runner) for runner in runners]

    response = client.post("/notifications/batch", json={"notifications": batch})

    assert response.status_code == 201
    created = response.get_json()["notifications"]
    assert [n["user_id"] for n in created] == runners
    assert [n["user_id"] for n in listed(client, f"order_id={ORDER_ID}")] == runners


def test_a_batch_with_one_bad_item_records_nothing(client: FlaskClient, clean_db: str) -> None:
    batch = [note("ORDER_COMPLETED"), note("NOT_A_TYPE"), note(user_id="x")]

    response = client.post("/notifications/batch", json={"notifications": batch})

    assert response.status_code == 422
    assert set(error_of(response)["details"]) == {"notifications[1].type", "notifications[2].user_id"}
    assert stored(clean_db) == 0


@pytest.mark.parametrize("body", [{"notifications": []}, {"notifications": "all"}, {}])
def test_a_batch_must_be_a_non_empty_list(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/notifications/batch", json=body)

    assert response.status_code == 422 and set(error_of(response)["details"]) == {"notifications"}


def test_notifications_are_listed_oldest_first_by_user_and_by_order(client: FlaskClient) -> None:
    other_order = str(uuid.uuid4())
    for type_, order_id in [("ORDER_CREATED", ORDER_ID), ("ORDER_ACCEPTED", ORDER_ID),
                            ("ORDER_CREATED", other_order), ("ORDER_COMPLETED", ORDER_ID)]:
        client.post("/notifications", json=note(type_, order_id=order_id))
    client.post("/notifications", json=note("PAYOUT_SENT", user_id=RUNNER_ID))

    assert [n["type"] for n in listed(client, f"user_id={USER_ID}&order_id={ORDER_ID}")] == [
        "ORDER_CREATED", "ORDER_ACCEPTED", "ORDER_COMPLETED"]
    assert len(listed(client, f"user_id={USER_ID}")) == 4
    assert [n["user_id"] for n in listed(client, f"order_id={ORDER_ID}")].count(RUNNER_ID) == 1
    assert listed(client, f"user_id={uuid.uuid4()}") == []
    bad = client.get("/notifications?user_id=nope")
    assert bad.status_code == 422 and set(error_of(bad)["details"]) == {"user_id"}


def test_a_repeated_notification_is_recorded_once(client: FlaskClient, clean_db: str) -> None:
    headers = {"Idempotency-Key": "saga-3:notify:action"}
    first = client.post("/notifications/batch", json={"notifications": [note(), note("PAYMENT_AUTHORIZED")]},
                        headers=headers)
    again = client.post("/notifications/batch", json={"notifications": [note(), note("PAYMENT_AUTHORIZED")]},
                        headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replay") == "true"
    assert stored(clean_db) == 2


def test_a_key_reused_for_another_notification_is_refused(client: FlaskClient, clean_db: str) -> None:
    headers = {"Idempotency-Key": "notify-once"}
    client.post("/notifications", json=note("ORDER_CREATED"), headers=headers)
    reused = client.post("/notifications", json=note("ORDER_CANCELLED"), headers=headers)

    assert reused.status_code == 422 and error_of(reused)["code"] == "idempotency_key_reused"
    assert stored(clean_db) == 1
