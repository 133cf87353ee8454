"""Bad input to the order service: 400 for what is not JSON, 422 naming every bad field."""
from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.integration.orders.walk import error_of, fetch, order_body, order_in


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
