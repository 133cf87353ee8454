"""Authorizing (holding) an order's amount, decided by the card token, and reading payments back."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.payments.ledger import CUSTOMER_ID, authorize, error_code, ledger, new_order, payments_of, post


@pytest.mark.parametrize("card", ["tok_visa", "tok_mastercard"])
def test_an_approved_authorization_holds_the_amount(client: FlaskClient, clean_db: str, card: str) -> None:
    order_id = new_order()
    response = authorize(client, order_id, "12.50", card)

    assert response.status_code == 201
    payment = response.get_json()
    assert (payment["order_id"], payment["customer_id"], payment["amount"], payment["status"]) == (
        order_id, CUSTOMER_ID, "12.50", "AUTHORIZED")
    assert payment["authorized_at"] and payment["released_at"] is None and payment["payout_account"] is None
    assert client.get(f"/payments/{payment['payment_id']}").get_json() == payment
    assert ledger(clean_db, order_id) == [("HOLD", f"customer:{CUSTOMER_ID}", Decimal("12.50"))]


@pytest.mark.parametrize(("card", "amount", "status", "code"), [
    ("tok_chargeDeclined", "5.00", 402, "card_declined"),
    ("tok_insufficient_funds", "20.01", 402, "insufficient_funds"),
    ("tok_bogus", "5.00", 422, "unknown_card_token"),
])
def test_a_refused_card_holds_nothing(client: FlaskClient, clean_db: str, card: str, amount: str,
                                      status: int, code: str) -> None:
    order_id = new_order()
    response = authorize(client, order_id, amount, card)

    assert response.status_code == status
    assert error_code(response) == code
    assert payments_of(client, order_id) == []
    assert ledger(clean_db, order_id) == []


def test_insufficient_funds_approves_up_to_twenty(client: FlaskClient) -> None:
    assert authorize(client, new_order(), "20.00", "tok_insufficient_funds").status_code == 201
    assert authorize(client, new_order(), "20.01", "tok_insufficient_funds").status_code == 402


@pytest.mark.parametrize(("change", "bad_fields"), [
    ({"amount": "abc"}, {"amount"}),
    ({"amount": "0"}, {"amount"}),
    ({"amount": "-3.00"}, {"amount"}),
    ({"amount": "1.234"}, {"amount"}),
    ({"amount": True}, {"amount"}),
    ({"order_id": "nope"}, {"order_id"}),
    ({"customer_id": None, "card_token": ""}, {"customer_id", "card_token"}),
])
def test_invalid_authorizations_name_each_bad_field(client: FlaskClient, change: dict[str, Any],
                                                     bad_fields: set[str]) -> None:
    body = {"order_id": new_order(), "customer_id": CUSTOMER_ID, "amount": "10.00", "card_token": "tok_visa"}
    response = client.post("/payments/authorize", json={**body, **change})

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert set(response.get_json()["error"]["details"]) == bad_fields


def test_an_amount_sent_as_a_json_number_stays_exact(client: FlaskClient) -> None:
    body = '{"order_id": "%s", "customer_id": "%s", "amount": 19.99, "card_token": "tok_visa"}' % (
        new_order(), CUSTOMER_ID)
    response = client.post("/payments/authorize", data=body, content_type="application/json")

    assert response.status_code == 201 and response.get_json()["amount"] == "19.99"


def test_an_order_has_one_live_payment_at_most(client: FlaskClient) -> None:
    order_id = new_order()
    first = authorize(client, order_id)
    second = authorize(client, order_id, "9.00")

    assert second.status_code == 409 and error_code(second) == "already_authorized"
    assert second.get_json()["error"]["details"]["payment_id"] == first.get_json()["payment_id"]
    post(client, "release", order_id)
    assert authorize(client, order_id, "9.00").status_code == 201
    assert [p["status"] for p in payments_of(client, order_id)] == ["RELEASED", "AUTHORIZED"]


def test_payments_are_read_by_id_and_by_order(client: FlaskClient) -> None:
    unknown = client.get(f"/payments/{uuid.uuid4()}")
    bad_filter = client.get("/payments?order_id=nope")

    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    assert bad_filter.status_code == 422 and set(bad_filter.get_json()["error"]["details"]) == {"order_id"}
    assert payments_of(client, new_order()) == []
