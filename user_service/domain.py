"""User rules with no framework in sight: the roles, and which account each role must hold."""
from __future__ import annotations

CUSTOMER, RUNNER = "customer", "runner"
ROLES = (CUSTOMER, RUNNER)
REQUIRED_ACCOUNT = {CUSTOMER: "card_token", RUNNER: "payout_account"}


def required_account(role: str) -> str:
    """The account field a user of ``role`` must have: a customer pays by card, a runner gets paid."""
    return REQUIRED_ACCOUNT[role]


def has_card_on_file(role: str, card_token: str | None) -> bool:
    """Only a customer with a card token can be charged."""
    return role == CUSTOMER and bool(card_token)


def has_payout_account(role: str, payout_account: str | None) -> bool:
    """Only a runner with a payout account can be paid."""
    return role == RUNNER and bool(payout_account)
