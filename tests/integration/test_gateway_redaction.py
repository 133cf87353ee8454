"""Customers and runners see an error code and a sentence; admins see the recorded details."""
from __future__ import annotations

import json
import re

from tests.integration.gateway_fixtures import Gateway, eager_sagas, gateway  # noqa: F401

LEAKS = re.compile(r"://|127\.0\.0\.1|Fault|Refusal|Error|Exception|Traceback|localhost")
CODE_AND_SENTENCE = re.compile(r"^[a-z0-9_]+: [^:]+$")


def _errors(saga: dict) -> list[str]:
    return [e for e in [saga["error"], *(step["error"] for step in saga["steps"])] if e]


def test_saga_errors_are_a_code_and_a_sentence_for_the_customer_and_details_for_admins(
        gateway: Gateway, live_participants) -> None:
    customer = gateway.create_user("customer")
    with live_participants.payment_service.down():
        placed = gateway.place_order(customer).get_json()
    path = f"/api/sagas/{placed['saga_id']}"

    admin_view = gateway.saga(placed["saga_id"])
    assert admin_view["status"] == "COMPENSATED"
    assert any("http://127.0.0.1" in error for error in _errors(admin_view))  # the operator's details

    customer_view = gateway.client.get(path, headers=customer.auth).get_json()
    listed = gateway.client.get("/api/sagas", headers=customer.auth).get_json()["sagas"]
    assert _errors(customer_view) and not LEAKS.search(json.dumps([customer_view, listed]))
    assert all(CODE_AND_SENTENCE.match(error) for error in _errors(customer_view))
    assert "service_unavailable: " in json.dumps(customer_view)
    assert listed[0]["error"] == customer_view["error"]


def test_a_refusal_keeps_its_code_and_sentence(gateway: Gateway) -> None:
    customer = gateway.create_user("customer", card_token="tok_chargeDeclined")
    placed = gateway.place_order(customer).get_json()
    view = gateway.client.get(f"/api/sagas/{placed['saga_id']}", headers=customer.auth).get_json()
    assert view["error"].startswith("card_declined: ") and not LEAKS.search(json.dumps(view))


def test_a_participant_outage_names_no_service_or_address_except_to_admins(gateway: Gateway,
                                                                           live_participants) -> None:
    customer = gateway.create_user("customer")
    order_id = gateway.place_order(customer).get_json()["order_id"]
    with live_participants.order_service.down():
        as_customer = gateway.client.get(f"/api/orders/{order_id}", headers=customer.auth)
        as_admin = gateway.client.get(f"/api/orders/{order_id}", headers=gateway.admin.auth)
    assert as_customer.status_code == 503 and as_admin.status_code == 503
    error = as_customer.get_json()["error"]
    assert error["code"] == "service_unavailable" and error["details"] is None
    assert not LEAKS.search(json.dumps(error)) and "order_service" not in json.dumps(error)
    details = as_admin.get_json()["error"]["details"]
    assert details["service"] == "order_service" and "http://127.0.0.1" in details["reason"]


def test_a_bad_token_is_described_in_our_words(gateway: Gateway) -> None:
    response = gateway.client.get("/api/sagas", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "the token is not valid: it is not a well-formed JWT"


def test_a_participant_refusing_the_gateways_own_credential_is_not_blamed_on_the_users_token(
        gateway: Gateway, monkeypatch) -> None:
    from campus_common.service_auth import API_GATEWAY, generate_private_key, private_key_variable

    customer = gateway.create_user("customer")
    order_id = gateway.place_order(customer).get_json()["order_id"]
    monkeypatch.setenv(private_key_variable(API_GATEWAY), generate_private_key())  # a key no participant trusts
    response = gateway.client.get(f"/api/orders/{order_id}", headers=customer.auth)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "service_unavailable" and error["details"] is None
