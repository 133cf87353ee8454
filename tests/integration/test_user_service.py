"""user_service over its HTTP API (Flask test client) against a real Postgres."""
from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from campus_common.db import get_engine
from tests.integration.races import together
from tests.service_credentials import trusted
from user_service import create_app

CUSTOMER = {"name": "Ada Lovelace", "email": "ada@campus.edu", "role": "customer", "card_token": "tok_visa"}
RUNNER = {"name": "Rui Costa", "email": "rui@campus.edu", "role": "runner", "payout_account": "acct_rui"}


@pytest.fixture()
def app(clean_db: str) -> Flask:
    """The user service over an empty database (``client`` comes from the integration conftest)."""
    return trusted(create_app({"DATABASE_URL": clean_db}))


def user_count(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM user_service.users")).scalar_one()


def error_of(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_a_registered_customer_can_be_read_back_with_default_ratings(client: FlaskClient) -> None:
    created = client.post("/users", json=CUSTOMER)

    assert created.status_code == 201
    user = created.get_json()
    assert uuid.UUID(user["user_id"])
    public = {k: v for k, v in CUSTOMER.items() if k != "card_token"}
    assert {k: user[k] for k in public} == public
    assert "card_token" not in user and "payout_account" not in user  # only /card and /payout-account tell
    assert client.get(f"/users/{user['user_id']}/card").get_json()["card_token"] == "tok_visa"
    assert user["customer_rating"] == "5.0" and user["runner_rating"] == "5.0"
    assert user["created_at"] and user["updated_at"]
    assert client.get(f"/users/{user['user_id']}").get_json() == user


def test_email_is_stored_lower_cased_and_taken_whatever_its_case(client: FlaskClient, clean_db: str) -> None:
    first = client.post("/users", json={**CUSTOMER, "email": "Ada@Campus.EDU"})
    second = client.post("/users", json={**RUNNER, "email": "ada@campus.edu"})

    assert first.get_json()["email"] == "ada@campus.edu"
    assert second.status_code == 409
    assert error_of(second)["code"] == "email_taken"
    assert user_count(clean_db) == 1


@pytest.mark.parametrize(("body", "bad_fields"), [
    ({**CUSTOMER, "name": "  "}, {"name"}),
    ({**CUSTOMER, "email": "not-an-email"}, {"email"}),
    ({**CUSTOMER, "role": "admin"}, {"role"}),
    ({k: v for k, v in CUSTOMER.items() if k != "card_token"}, {"card_token"}),
    ({k: v for k, v in RUNNER.items() if k != "payout_account"}, {"payout_account"}),
    ({**RUNNER, "payout_account": 42}, {"payout_account"}),
    ({"role": "customer"}, {"name", "email", "card_token"}),
])
def test_invalid_registrations_are_refused_naming_each_bad_field(
        client: FlaskClient, clean_db: str, body: dict[str, Any], bad_fields: set[str]) -> None:
    response = client.post("/users", json=body)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == bad_fields
    assert user_count(clean_db) == 0


def test_malformed_json_is_a_400(client: FlaskClient) -> None:
    response = client.post("/users", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_user_is_404(client: FlaskClient, user_id: str) -> None:
    for path in (f"/users/{user_id}", f"/users/{user_id}/card", f"/users/{user_id}/payout-account"):
        response = client.get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_users_can_be_listed_by_role(client: FlaskClient) -> None:
    client.post("/users", json=CUSTOMER)
    runner = client.post("/users", json=RUNNER).get_json()
    other = client.post("/users", json={**RUNNER, "email": "other@campus.edu"}).get_json()

    runners = client.get("/users?role=runner").get_json()["users"]
    everyone = client.get("/users").get_json()["users"]
    bad = client.get("/users?role=admin")

    assert [u["user_id"] for u in runners] == [runner["user_id"], other["user_id"]]
    assert len(everyone) == 3
    assert bad.status_code == 422 and error_of(bad)["details"] == {"role": "must be one of customer, runner"}


@pytest.mark.parametrize(("path", "owner", "other", "field", "sent", "refusal"), [
    ("card", CUSTOMER, RUNNER, "card_token", "tok_visa", "no_card_on_file"),
    ("payout-account", RUNNER, CUSTOMER, "payout_account", "acct_x", "no_payout_account"),
], ids=["card on file belongs to customers only", "payout account belongs to runners only"])
def test_an_account_belongs_to_its_role_only(client: FlaskClient, path: str, owner: dict[str, str],
                                             other: dict[str, str], field: str, sent: str, refusal: str) -> None:
    user = client.post("/users", json=owner).get_json()
    # The other role may send the field, but never owns one.
    stranger = client.post("/users", json={**other, field: sent}).get_json()

    account = client.get(f"/users/{user['user_id']}/{path}")
    refused = client.get(f"/users/{stranger['user_id']}/{path}")

    assert account.status_code == 200
    assert account.get_json() == {"user_id": user["user_id"], field: owner[field]}
    assert refused.status_code == 409 and error_of(refused)["code"] == refusal


def test_a_repeated_registration_with_the_same_key_answers_the_first_answer(
        client: FlaskClient, clean_db: str) -> None:
    headers = {"Idempotency-Key": "register-ada"}
    first = client.post("/users", json=CUSTOMER, headers=headers)
    again = client.post("/users", json=CUSTOMER, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replay") == "true"
    assert user_count(clean_db) == 1


def test_a_key_reused_for_another_request_is_refused(client: FlaskClient, clean_db: str) -> None:
    headers = {"Idempotency-Key": "register-once"}
    client.post("/users", json=CUSTOMER, headers=headers)
    reused = client.post("/users", json=RUNNER, headers=headers)

    assert reused.status_code == 422
    assert error_of(reused)["code"] == "idempotency_key_reused"
    assert user_count(clean_db) == 1


def test_a_refusal_is_replayed_too(client: FlaskClient) -> None:
    client.post("/users", json=CUSTOMER)
    headers = {"Idempotency-Key": "taken"}
    first = client.post("/users", json={**RUNNER, "email": CUSTOMER["email"]}, headers=headers)
    again = client.post("/users", json={**RUNNER, "email": CUSTOMER["email"]}, headers=headers)

    assert first.status_code == again.status_code == 409
    assert again.get_json() == first.get_json()


def _register(client: FlaskClient, name: str) -> TestResponse:
    return client.post("/users", json={**CUSTOMER, "name": name})


def test_racing_registrations_of_one_email_create_one_user(app: Flask, clean_db: str) -> None:
    racers = 8
    responses = together(app, [partial(_register, name=f"Ada {n}") for n in range(racers)])
    answers = [(r.status_code, r.get_json().get("error", {}).get("code")) for r in responses]

    assert sorted(answers, key=str) == sorted([(201, None)] + [(409, "email_taken")] * (racers - 1), key=str)
    assert user_count(clean_db) == 1
