"""Racing callers on one order's payment, on real connections to a real Postgres: one consistent outcome."""
from __future__ import annotations

from functools import partial

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.payments.ledger import authorize, error_code, ledger, new_order, payments_of, post
from tests.integration.races import together


def test_racing_captures_have_one_winner(app: Flask, client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id)

    answers = together(app, [partial(post, action="capture", order_id=order_id, payout_account=f"acct_{n}")
                             for n in range(6)])

    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
    winner = next(a.get_json() for a in answers if a.status_code == 200)
    assert {error_code(a) for a in answers if a.status_code == 409} == {"not_authorized"}
    assert [(e[0], e[1]) for e in ledger(clean_db, order_id) if e[0] == "PAYOUT"] == [
        ("PAYOUT", winner["payout_account"])]


def test_racing_releases_release_once(app: Flask, client: FlaskClient, clean_db: str) -> None:
    order_id = new_order()
    authorize(client, order_id)

    answers = together(app, [lambda c: post(c, "release", order_id)] * 6)

    assert [a.status_code for a in answers] == [200] * 6
    assert sum(a.get_json()["payment"] is not None for a in answers) == 1
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD", "RELEASE"]


def test_a_capture_racing_a_release_leaves_one_consistent_outcome(app: Flask, client: FlaskClient,
                                                                 clean_db: str) -> None:
    for _ in range(5):
        order_id = new_order()
        authorize(client, order_id)

        capture, release = together(app, [lambda c: post(c, "capture", order_id, payout_account="acct_rui"),  # noqa: B023
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

    answers = together(app, [partial(authorize, order_id=order_id, amount=f"{n + 1}.00") for n in range(6)])

    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert [e[0] for e in ledger(clean_db, order_id)] == ["HOLD"]
