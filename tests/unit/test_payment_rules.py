"""Escrow rules and payment request parsing, without I/O."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from campus_common.validation import InvalidInput
from payment_service import domain
from payment_service.commands import parse_amount, parse_authorize, parse_capture

CUSTOMER = uuid.UUID("00000000-0000-0000-0000-000000000001")


@pytest.mark.parametrize(("token", "amount", "refusal"), [
    ("tok_visa", "9999.99", None),
    ("tok_mastercard", "0.01", None),
    ("tok_chargeDeclined", "0.01", "card_declined"),
    ("tok_insufficient_funds", "20.00", None),
    ("tok_insufficient_funds", "20.01", "insufficient_funds"),
    ("tok_amex", "1.00", "unknown_card_token"),
    ("TOK_VISA", "1.00", "unknown_card_token"),
])
def test_the_card_token_decides_authorization(token: str, amount: str, refusal: str | None) -> None:
    assert domain.card_refusal(token, Decimal(amount)) == refusal


def test_capture_moves_the_charge_from_the_customer_to_the_runner() -> None:
    movements = domain.capture_movements(CUSTOMER, Decimal("16.49"), "acct_rui")

    assert movements == [domain.Movement("CAPTURE", f"customer:{CUSTOMER}", Decimal("16.49")),
                         domain.Movement("PAYOUT", "acct_rui", Decimal("16.49"))]


def test_every_transition_leaves_its_own_status() -> None:
    moves = [domain.RELEASE_HOLD, domain.CAPTURE_FUNDS, domain.REFUND_CHARGE]

    assert [(m.from_status, m.to_status) for m in moves] == [
        ("AUTHORIZED", "RELEASED"), ("AUTHORIZED", "CAPTURED"), ("CAPTURED", "REFUNDED")]
    assert {m.to_status for m in moves if m.to_status in domain.LIVE_STATUSES} == {"CAPTURED"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("12.5", Decimal("12.50")), (Decimal("19.99"), Decimal("19.99")), (7, Decimal("7.00")),
    (" 3.10 ", Decimal("3.10")), ("12.500", Decimal("12.50")),
])
def test_amounts_parse_exactly(raw: Any, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1.234", "0", "-1", "abc", "NaN", "Infinity", "1e30", True, None, 1.5, [1]])
def test_bad_amounts_are_named(raw: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_authorize({"order_id": str(uuid.uuid4()), "customer_id": str(CUSTOMER), "amount": raw,
                         "card_token": "tok_visa"})
    assert set(caught.value.details) == {"amount"}


def test_an_authorization_request_names_every_bad_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_authorize({"order_id": "x", "amount": "0", "card_token": " "})

    assert set(caught.value.details) == {"order_id", "customer_id", "amount", "card_token"}


def test_a_capture_needs_an_order_and_a_payout_account() -> None:
    order_id = uuid.uuid4()

    assert parse_capture({"order_id": str(order_id), "payout_account": " acct_1 "}).payout_account == "acct_1"
    with pytest.raises(InvalidInput) as caught:
        parse_capture({"order_id": str(order_id), "payout_account": "x" * 201})
    assert set(caught.value.details) == {"payout_account"}
