"""Release, capture and refund: each moves the money of its own action once."""
from __future__ import annotations

from decimal import Decimal

from flask.testing import FlaskClient

from campus_common.idempotency import ACTION_SUFFIX, COMPENSATE_SUFFIX
from tests.integration.payments.ledger import CUSTOMER_ID, authorize, error_code, ledger, new_order, payments_of, post


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
