"""Orders through the gateway: input checks, the create saga over real participants, the order's life."""
from __future__ import annotations

from uuid import uuid4

import pytest

from tests.integration.gateway_fixtures import (ORDER, ORDER_TOTAL, Gateway, User, eager_sagas,  # noqa: F401
                                                gateway, notifications)


def _code(response) -> str:
    return response.get_json()["error"]["code"]


def _placed(gateway: Gateway, customer: User) -> str:
    response = gateway.place_order(customer)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["order_id"]


def test_admin_creates_users_and_refusals_pass_through(gateway: Gateway) -> None:
    body = {"name": "Ada", "email": "ada@campus.test", "role": "customer", "card_token": "tok_visa"}
    headers = {**gateway.admin.auth, "Idempotency-Key": "create-ada"}
    first = gateway.client.post("/api/users", json=body, headers=headers)
    replay = gateway.client.post("/api/users", json=body, headers=headers)

    assert first.status_code == 201 and first.get_json()["email"] == "ada@campus.test"
    assert replay.get_json()["user_id"] == first.get_json()["user_id"]
    taken = gateway.client.post("/api/users", json=body, headers=gateway.admin.auth)
    assert taken.status_code == 409 and _code(taken) == "email_taken"
    no_card = gateway.client.post("/api/users", json={**body, "email": "b@campus.test", "card_token": None},
                                  headers=gateway.admin.auth)
    assert no_card.status_code == 422 and "card_token" in no_card.get_json()["error"]["details"]


def test_malformed_json_is_400(gateway: Gateway) -> None:
    customer = User(str(uuid4()), "customer")
    for raw in (b"{not json", b"[1, 2]", b""):
        response = gateway.client.post("/api/orders", data=raw, content_type="application/json",
                                       headers=customer.auth)
        assert response.status_code == 400 and _code(response) == "malformed_json"


@pytest.mark.parametrize("items, field", [
    ([], "items"), ([{"name": "Tea", "price": "-1.00", "quantity": 1}], "items[0].price"),
    ([{"name": "Tea", "price": "2.00", "quantity": 0}], "items[0].quantity"),
    ([{"name": "Tea", "price": "2.00", "quantity": 1.5}], "items[0].quantity"),
    ([{"name": "Tea", "price": "2.001", "quantity": 1}], "items[0].price"),
    ([{"name": "", "price": 2, "quantity": 1}], "items[0].name")])
def test_invalid_order_is_422_naming_the_field(gateway: Gateway, items: list, field: str) -> None:
    customer = User(str(uuid4()), "customer")
    response = gateway.place_order(customer, {**ORDER, "items": items})
    assert response.status_code == 422 and _code(response) == "validation_error"
    assert field in response.get_json()["error"]["details"]


def test_missing_locations_are_422(gateway: Gateway) -> None:
    response = gateway.place_order(User(str(uuid4()), "customer"), {"items": ORDER["items"]})
    assert set(response.get_json()["error"]["details"]) == {"store_location", "delivery_location"}


@pytest.mark.parametrize("path", [f"/api/orders/{uuid4()}", "/api/orders/not-a-uuid"])
def test_unknown_order_is_404(gateway: Gateway, path: str) -> None:
    response = gateway.client.get(path, headers=gateway.admin.auth)
    assert response.status_code == 404 and _code(response) == "not_found"


def test_placed_order_is_created_with_its_payment_held(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    response = gateway.place_order(customer)

    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"saga_id", "order_id", "status_url"}
    assert body["status_url"] == f"/api/sagas/{body['saga_id']}" == response.headers["Location"]
    order = gateway.client.get(f"/api/orders/{body['order_id']}", headers=customer.auth).get_json()
    assert order["status"] == "CREATED" and order["customer_id"] == customer.user_id
    assert order["payment"] == {"status": "AUTHORIZED", "amount": ORDER_TOTAL}


@pytest.mark.parametrize("card", ["tok_chargeDeclined", "tok_insufficient_funds"])
def test_declined_card_compensates_and_cancels_the_order(gateway: Gateway, card: str) -> None:
    customer = gateway.create_user("customer", card_token=card)
    body = gateway.place_order(customer).get_json()

    assert gateway.saga(body["saga_id"])["status"] == "COMPENSATED"
    order = gateway.order(body["order_id"])
    assert order["status"] == "CANCELLED" and order["payment"] is None


def test_replayed_key_answers_200_with_the_same_body_and_one_order(gateway: Gateway) -> None:
    customer, other = gateway.create_user("customer"), gateway.create_user("customer")
    first = gateway.place_order(customer, key="order-1")
    replay = gateway.place_order(customer, key="order-1")

    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.get_json() == first.get_json()
    orders = gateway.client.get("/api/orders?status=CREATED", headers=gateway.admin.auth).get_json()["orders"]
    assert [order["order_id"] for order in orders] == [first.get_json()["order_id"]]
    reused = gateway.place_order(customer, {**ORDER, "delivery_location": "Library"}, key="order-1")
    assert reused.status_code == 422 and _code(reused) == "idempotency_key_reused"
    assert gateway.place_order(other, key="order-1").status_code == 202  # keys are per customer


def test_an_order_lives_from_acceptance_to_completion(gateway: Gateway) -> None:
    customer, runner, rival = (gateway.create_user(role) for role in ("customer", "runner", "runner"))
    order_id = _placed(gateway, customer)
    path = f"/api/orders/{order_id}"
    open_orders = gateway.client.get("/api/orders", headers=runner.auth).get_json()["orders"]
    assert [order["order_id"] for order in open_orders] == [order_id]
    assert gateway.client.post(f"{path}/complete", headers=runner.auth).status_code == 403  # not theirs yet

    accepted = gateway.client.post(f"{path}/accept", headers=runner.auth)
    assert accepted.status_code == 202 and accepted.get_json()["order_id"] == order_id
    assert gateway.client.get(path, headers=runner.auth).get_json()["status"] == "ACCEPTED"
    assert gateway.client.post(f"{path}/accept", headers=rival.auth).status_code == 409
    assert gateway.client.post(f"{path}/cancel", headers=customer.auth).status_code == 409
    skipped = gateway.client.put(f"{path}/status", json={"status": "DELIVERED"}, headers=runner.auth)
    assert skipped.status_code == 409 and _code(skipped) == "invalid_transition"
    assert gateway.client.put(f"{path}/status", json={"status": "LOST"}, headers=runner.auth).status_code == 422
    assert gateway.client.post(f"{path}/complete", headers=runner.auth).status_code == 409

    for status in ("PLACED", "ON_THE_WAY", "DELIVERED", "DELIVERED"):  # a repeated PUT is no conflict
        moved = gateway.client.put(f"{path}/status", json={"status": status}, headers=runner.auth)
        assert moved.status_code == 200 and moved.get_json()["status"] == status
    changes = [n["payload"]["status"] for n in notifications(customer.user_id) if n["type"] == "ORDER_STATUS_CHANGED"]
    assert changes == ["PLACED", "ON_THE_WAY", "DELIVERED"]

    assert gateway.client.post(f"{path}/complete", headers=runner.auth).status_code == 202
    order = gateway.order(order_id)
    assert order["status"] == "COMPLETED" and order["payment"] == {"status": "CAPTURED", "amount": ORDER_TOTAL}


def test_customer_cancels_before_acceptance_and_the_hold_is_released(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    order_id = _placed(gateway, customer)

    response = gateway.client.post(f"/api/orders/{order_id}/cancel", json={"reason": "changed my mind"},
                                   headers=customer.auth)
    assert response.status_code == 202
    order = gateway.order(order_id)
    assert order["status"] == "CANCELLED" and order["cancel_reason"] == "changed my mind"
    assert order["payment"] == {"status": "RELEASED", "amount": ORDER_TOTAL}
    again = gateway.client.post(f"/api/orders/{order_id}/cancel", headers=customer.auth)
    assert again.status_code == 409


def test_a_participant_outage_is_503(gateway: Gateway, live_participants) -> None:
    customer = gateway.create_user("customer")
    order_id = _placed(gateway, customer)
    live_participants.payment_service.stop()

    response = gateway.client.get(f"/api/orders/{order_id}", headers=customer.auth)
    assert response.status_code == 503 and _code(response) == "service_unavailable"
