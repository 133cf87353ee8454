"""Bad input at the gateway never gets a 5xx: deep JSON, unstorable text, forged cursors, long keys, big
bodies; every error answer is the one JSON error format."""
from __future__ import annotations

import base64
import json
from uuid import uuid4

import pytest

from tests.integration.bad_input import NUL, SURROGATE, deep_json, error_of
from tests.integration.gateway_fixtures import ORDER, Gateway, bearer, eager_sagas, gateway  # noqa: F401


@pytest.mark.parametrize("depth", [40, 1000, 30_000])
def test_deeply_nested_json_is_400(gateway: Gateway, depth: int) -> None:
    customer = gateway.create_user("customer")
    response = gateway.client.post("/api/orders", data=deep_json(depth), content_type="application/json",
                                   headers=customer.auth)
    error_of(response, 400)


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["NUL", "lone surrogate"])
@pytest.mark.parametrize("field", ["item name", "store_location", "delivery_location", "a key"])
def test_unstorable_text_in_an_order_is_refused(gateway: Gateway, text: str, field: str) -> None:
    customer = gateway.create_user("customer")
    body = json.loads(json.dumps(ORDER))
    if field == "item name":
        body["items"][0]["name"] = text
    elif field == "a key":
        body["items"][0][text] = 1
    else:
        body[field] = text
    error_of(gateway.place_order(customer, body), 400, 422)
    assert gateway.client.get("/api/sagas", headers=gateway.admin.auth).get_json()["sagas"] == []


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["NUL", "lone surrogate"])
def test_unstorable_text_in_a_user_or_a_cancel_reason_is_refused(gateway: Gateway, text: str) -> None:
    body = {"name": text, "email": f"{uuid4().hex}@campus.test", "role": "customer", "card_token": "tok_visa"}
    error_of(gateway.client.post("/api/users", json=body, headers=gateway.admin.auth), 400, 422)
    customer = gateway.create_user("customer")
    order_id = gateway.place_order(customer).get_json()["order_id"]
    response = gateway.client.post(f"/api/orders/{order_id}/cancel", json={"reason": text}, headers=customer.auth)
    error_of(response, 400, 422)
    assert gateway.order(order_id)["status"] == "CREATED"


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize("cursor", ["garbage", "%00", "////", _b64(["2026-01-01T00:00:00", "not-a-uuid"]),
                                    _b64([1, 2]), _b64({"a": 1, "b": 2}), _b64(["x", "y", "z"]), _b64("x"),
                                    _b64(["2026-01-01T00:00:00", 7]), _b64(["2026-01-01\u0000", str(uuid4())])])
@pytest.mark.parametrize("role", ["admin", "customer"])
def test_a_forged_saga_list_cursor_is_4xx(gateway: Gateway, cursor: str, role: str) -> None:
    headers = bearer(str(uuid4()), role)
    error_of(gateway.client.get(f"/api/sagas?cursor={cursor}", headers=headers), 400, 422)


def test_idempotency_keys_are_capped_at_255_at_the_gateway(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    assert gateway.place_order(customer, key="k" * 255).status_code == 202
    error_of(gateway.place_order(customer, key="k" * 256), 400)
    error_of(gateway.place_order(customer, key="k" * 6000), 400)
    error_of(gateway.place_order(customer, key="tab\tkey"), 400)
    # A full-length client key still fits the user service once the gateway scopes it to the admin.
    body = {"name": "Kay", "email": f"{uuid4().hex}@campus.test", "role": "runner", "payout_account": "acct_k"}
    headers = {**gateway.admin.auth, "Idempotency-Key": "u" * 255}
    assert gateway.client.post("/api/users", json=body, headers=headers).status_code == 201
    assert gateway.client.post("/api/users", json=body, headers=headers).status_code == 201  # the replay


def test_a_body_above_max_content_length_is_413(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    body = {**ORDER, "store_location": "x" * (64 * 1024)}
    error_of(gateway.place_order(customer, body), 413)
