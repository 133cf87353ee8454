"""User rules and registration parsing, without I/O."""
from __future__ import annotations

from typing import Any

import pytest

from user_service.commands import InvalidInput, parse_create_user, parse_role
from user_service.domain import has_card_on_file, has_payout_account

CUSTOMER = {"name": " Ada ", "email": "Ada@Campus.EDU", "role": "customer", "card_token": "tok_visa"}


def test_a_registration_is_trimmed_and_its_email_lower_cased() -> None:
    command = parse_create_user(CUSTOMER)

    assert (command.name, command.email, command.role, command.card_token, command.payout_account) == (
        "Ada", "ada@campus.edu", "customer", "tok_visa", None)


@pytest.mark.parametrize(("change", "bad_fields"), [
    ({"role": "runner"}, {"payout_account"}),
    ({"card_token": None}, {"card_token"}),
    ({"role": None}, {"role"}),
    ({"email": "ada@campus"}, {"email"}),
    ({"name": "x" * 201, "card_token": ""}, {"name", "card_token"}),
])
def test_a_bad_registration_names_each_bad_field(change: dict[str, Any], bad_fields: set[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_create_user({**CUSTOMER, **change})

    assert set(caught.value.details) == bad_fields


def test_the_role_filter_accepts_known_roles_only() -> None:
    assert parse_role(None) is None and parse_role("runner") == "runner"
    with pytest.raises(InvalidInput):
        parse_role("admin")


def test_only_customers_have_cards_and_only_runners_get_paid() -> None:
    assert has_card_on_file("customer", "tok_visa")
    assert not has_card_on_file("runner", "tok_visa") and not has_card_on_file("customer", None)
    assert has_payout_account("runner", "acct_1")
    assert not has_payout_account("customer", "acct_1") and not has_payout_account("runner", "")
