"""Creating, reading and listing orders, over HTTP against a real Postgres."""
from __future__ import annotations

import json
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

import order_service
from campus_common.db import get_engine
from tests.service_credentials import trusted
from tests.integration.orders.walk import RUNNER, STAMP, create, error_of, fetch, order_body, order_in


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
