"""payment_service over its HTTP API (Flask test client) against a real Postgres: the escrow ledger."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from campus_common.db import get_engine
from campus_common.idempotency import ACTION_SUFFIX, COMPENSATE_SUFFIX
from payment_service import create_app
from tests.service_credentials import trusted

CUSTOMER_ID = str(uuid.uuid4())


@pytest.fixture()
def app(clean_db: str) -> Flask:
    return trusted(create_app({"DATABASE_URL": clean_db}))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def authorize(client: FlaskClient, order_id: str, amount: str = "12.50", card: str = "tok_visa",
              key: str | None = None) -> TestResponse:
    body = {"order_id": order_id, "customer_id": CUSTOMER_ID, "amount": amount, "card_token": card}
    return client.post("/payments/authorize", json=body, headers={"Idempotency-Key": key} if key else {})


def post(client: FlaskClient, action: str, order_id: str, key: str | None = None, **extra: str) -> TestResponse:
    return client.post(f"/payments/{action}", json={"order_id": order_id, **extra},
                       headers={"Idempotency-Key": key} if key else {})


def ledger(url: str, order_id: str) -> list[tuple[str, str, Decimal]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT e.entry_type, e.account, e.amount FROM payment_service.ledger_entries e "
            "JOIN payment_service.payments p USING (payment_id) WHERE p.order_id = :o"), {"o": order_id})
        return sorted(tuple(row) for row in rows)


def payments_of(client: FlaskClient, order_id: str) -> list[dict[str, Any]]:
    return client.get(f"/payments?order_id={order_id}").get_json()["payments"]


def error_code(response: TestResponse) -> str:
    return response.get_json()["error"]["code"]


def new_order() -> str:
    return str(uuid.uuid4())


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


def test_release_voids_the_hold_once(client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    payment_id = authorize(client, order_id).get_json()["payment_id"]

    released = post(client, "release", order_id)
    again = post(client, "release", order_id)

    assert released.status_code == 200
    body = released.get_json()
    assert body["order_id"] == order_id
    assert (body["payment"]["payment_id"], body["payment"]["status"]) == (payment_id, "RELEASED")
    assert body["payment"]["released_at"]
    assert again.status_code == 200 and again.get_json() == {"order_id": order_id, "payment": None}
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD", "RELEASE"]


def test_releasing_what_was_never_authorized_succeeds_with_no_payment(client: FlaskClient) -> None:
    order_id = new_order()
    response = post(client, "release", order_id)

    assert response.status_code == 200
    assert response.get_json() == {"order_id": order_id, "payment": None}


def test_capture_charges_the_customer_and_pays_the_runner(client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id, "16.49")

    captured = post(client, "capture", order_id, payout_account="acct_rui")

    assert captured.status_code == 200
    payment = captured.get_json()
    assert (payment["status"], payment["payout_account"], payment["amount"]) == ("CAPTURED", "acct_rui", "16.49")
    assert payment["captured_at"]
    assert ledger(clean_db, order_id) == [
        ("CAPTURE", f"customer:{CUSTOMER_ID}", Decimal("16.49")),
        ("HOLD", f"customer:{CUSTOMER_ID}", Decimal("16.49")),
        ("PAYOUT", "acct_rui", Decimal("16.49")),
    ]


def test_capture_needs_an_authorized_payment(client: FlaskClient) -> None:
    never = post(client, "capture", new_order(), payout_account="acct_rui")
    order_id = new_order()
    authorize(client, order_id)
    post(client, "capture", order_id, payout_account="acct_rui")
    twice = post(client, "capture", order_id, payout_account="acct_rui")
    missing = post(client, "capture", order_id)

    assert never.status_code == 409 and error_code(never) == "not_authorized"
    assert twice.status_code == 409 and twice.get_json()["error"]["details"]["status"] == "CAPTURED"
    assert missing.status_code == 422 and set(missing.get_json()["error"]["details"]) == {"payout_account"}


def test_a_captured_payment_cannot_be_released(client: FlaskClient) -> None:
    order_id = new_order()
    authorize(client, order_id)
    post(client, "capture", order_id, payout_account="acct_rui")

    response = post(client, "release", order_id)

    assert response.status_code == 409 and error_code(response) == "already_captured"
    assert payments_of(client, order_id)[0]["status"] == "CAPTURED"


def test_refund_gives_a_capture_back_once(client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id)
    post(client, "capture", order_id, key="saga-r:capture_payment:action", payout_account="acct_rui")

    refunded = post(client, "refund", order_id, undoes="saga-r:capture_payment:action")
    again = post(client, "refund", order_id, undoes="saga-r:capture_payment:action")

    payment = refunded.get_json()["payment"]
    assert refunded.status_code == 200 and payment["status"] == "REFUNDED" and payment["refunded_at"]
    assert again.status_code == 200 and again.get_json()["payment"] is None
    assert [e[0] for e in ledger(clean_db, order_id)] == ["CAPTURE", "HOLD", "PAYOUT", "REFUND"]


def test_refunding_an_uncaptured_payment_changes_nothing(client: FlaskClient) -> None:
    order_id = new_order()
    authorize(client, order_id)

    response = post(client, "refund", order_id, undoes="saga-u:capture_payment:action")

    assert response.status_code == 200 and response.get_json() == {"order_id": order_id, "payment": None}
    assert payments_of(client, order_id)[0]["status"] == "AUTHORIZED"


def test_a_refund_must_name_the_capture_it_undoes(client: FlaskClient) -> None:
    order_id = new_order()
    authorize(client, order_id)
    post(client, "capture", order_id, key="saga-n:capture_payment:action", payout_account="acct_rui")

    response = post(client, "refund", order_id)

    assert response.status_code == 422 and "undoes" in response.get_json()["error"]["details"]
    assert payments_of(client, order_id)[0]["status"] == "CAPTURED"


def test_a_refund_undoes_its_own_capture_never_another_sagas(client: FlaskClient, clean_db: str) -> None:
    """Two completes raced: A's capture won, B's never took effect; B's refund must leave A's payout alone."""
    order_id, winner, loser = new_order(), "saga-A:capture_payment", "saga-B:capture_payment"
    authorize(client, order_id)
    won = post(client, "capture", order_id, key=winner + ACTION_SUFFIX, payout_account="acct_rui")
    lost = post(client, "capture", order_id, key=loser + ACTION_SUFFIX, payout_account="acct_rui")

    by_pairing = post(client, "refund", order_id, key=loser + COMPENSATE_SUFFIX)
    named = post(client, "refund", order_id, key="saga-C:capture_payment:compensation",
                 undoes="saga-C:capture_payment:action")  # C's capture is still on its way
    late = post(client, "capture", order_id, key="saga-C:capture_payment:action", payout_account="acct_rui")

    assert won.status_code == 200 and error_code(lost) == "not_authorized"
    assert by_pairing.get_json()["payment"] is None and named.get_json()["payment"] is None
    assert error_code(late) == "already_compensated"
    assert payments_of(client, order_id)[0]["status"] == "CAPTURED"
    assert [e[0] for e in ledger(clean_db, order_id)] == ["CAPTURE", "HOLD", "PAYOUT"]


def test_a_release_undoes_the_hold_its_authorize_made(client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id, key="saga-1:authorize_payment:action")

    other = post(client, "release", order_id, key="saga-2:authorize_payment:compensation")
    own = post(client, "release", order_id, key="saga-1:authorize_payment:compensation",
               undoes="saga-1:authorize_payment:action")

    assert other.status_code == 200 and other.get_json()["payment"] is None
    assert own.get_json()["payment"]["status"] == "RELEASED"
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD", "RELEASE"]


def test_a_repeated_authorization_answers_the_first_answer(client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    first = authorize(client, order_id, key="saga-1:authorize_payment:action")
    again = authorize(client, order_id, key="saga-1:authorize_payment:action")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replay") == "true"
    assert len(payments_of(client, order_id)) == 1
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD"]


def test_a_repeated_decline_is_declined_again(client: FlaskClient) -> None:
    order_id = new_order()
    first = authorize(client, order_id, card="tok_chargeDeclined", key="decline-1")
    again = authorize(client, order_id, card="tok_chargeDeclined", key="decline-1")

    assert first.status_code == again.status_code == 402
    assert again.get_json() == first.get_json()


def test_a_key_reused_for_another_request_is_refused(client: FlaskClient) -> None:
    order_id = new_order()
    authorize(client, order_id, "10.00", key="k-1")
    reused = authorize(client, order_id, "11.00", key="k-1")

    assert reused.status_code == 422 and error_code(reused) == "idempotency_key_reused"
    assert [p["amount"] for p in payments_of(client, order_id)] == ["10.00"]


def test_an_authorization_arriving_after_its_release_is_refused(client: FlaskClient, clean_db: str) -> None:
    order_id, step = new_order(), "saga-7:authorize_payment"
    released = post(client, "release", order_id, key=step + COMPENSATE_SUFFIX)
    late = authorize(client, order_id, key=step + ACTION_SUFFIX)

    assert released.status_code == 200 and released.get_json()["payment"] is None
    assert late.status_code == 409 and error_code(late) == "already_compensated"
    assert payments_of(client, order_id) == [] and ledger(clean_db, order_id) == []


def test_a_capture_arriving_after_its_refund_is_refused(client: FlaskClient) -> None:
    order_id, step = new_order(), "saga-8:capture_payment"
    authorize(client, order_id)
    post(client, "refund", order_id, key=step + COMPENSATE_SUFFIX)
    late = post(client, "capture", order_id, key=step + ACTION_SUFFIX, payout_account="acct_rui")

    assert late.status_code == 409 and error_code(late) == "already_compensated"
    assert payments_of(client, order_id)[0]["status"] == "AUTHORIZED"


def test_payments_are_read_by_id_and_by_order(client: FlaskClient) -> None:
    unknown = client.get(f"/payments/{uuid.uuid4()}")
    bad_filter = client.get("/payments?order_id=nope")

    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    assert bad_filter.status_code == 422 and set(bad_filter.get_json()["error"]["details"]) == {"order_id"}
    assert payments_of(client, new_order()) == []


def race(app: Flask, calls: list[Callable[[FlaskClient], TestResponse]]) -> list[TestResponse]:
    """Run the calls at the same moment, each on its own connection; answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[TestResponse | None] = [None] * len(calls)

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[index] = calls[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def test_racing_captures_have_one_winner(app: Flask, client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id)

    answers = race(app, [lambda c, n=n: post(c, "capture", order_id, payout_account=f"acct_{n}")
                         for n in range(6)])

    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
    winner = next(a.get_json() for a in answers if a.status_code == 200)
    assert {error_code(a) for a in answers if a.status_code == 409} == {"not_authorized"}
    assert [(e[0], e[1]) for e in ledger(clean_db, order_id) if e[0] == "PAYOUT"] == [
        ("PAYOUT", winner["payout_account"])]


def test_racing_releases_release_once(app: Flask, client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id)

    answers = race(app, [lambda c: post(c, "release", order_id)] * 6)

    assert [a.status_code for a in answers] == [200] * 6
    assert sum(a.get_json()["payment"] is not None for a in answers) == 1
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD", "RELEASE"]


def test_a_capture_racing_a_release_leaves_one_consistent_outcome(app: Flask, client: FlaskClient,
                                                                 clean_db: str) -> None:
    for _ in range(5):
        order_id = new_order()
        authorize(client, order_id)

        capture, release = race(app, [lambda c: post(c, "capture", order_id, payout_account="acct_rui"),  # noqa: B023
                                      lambda c: post(c, "release", order_id)])  # noqa: B023

        status = payments_of(client, order_id)[0]["status"]
        entries = [e[0] for e in ledger(clean_db, order_id)]
        if status == "CAPTURED":
            assert capture.status_code == 200 and error_code(release) == "already_captured"
            assert entries == ["CAPTURE", "HOLD", "PAYOUT"]
        else:
            assert status == "RELEASED" and release.get_json()["payment"]["status"] == "RELEASED"
            assert capture.status_code == 409 and error_code(capture) == "not_authorized"
            assert entries == ["HOLD", "RELEASE"]


def test_racing_authorizations_of_one_order_hold_once(app: Flask, clean_db: str) -> None:
    order_id = new_order()

    answers = race(app, [lambda c, n=n: authorize(c, order_id, f"{n + 1}.00") for n in range(6)])

    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD"]
