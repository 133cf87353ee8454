"""Idempotency keys on payments: a replay answers again, a late action after its compensation is refused."""
from __future__ import annotations

from flask.testing import FlaskClient

from campus_common.idempotency import ACTION_SUFFIX, COMPENSATE_SUFFIX
from tests.integration.payments.ledger import authorize, error_code, ledger, new_order, payments_of, post


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
