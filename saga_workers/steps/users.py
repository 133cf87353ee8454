"""User service steps (reads only)."""
from __future__ import annotations

from saga_workers.engine.context import StepContext
from saga_workers.steps import call
from saga_workers.steps.records import CardOnFile, PayoutAccount

SERVICE = "user_service"


def card_on_file(ctx: StepContext) -> CardOnFile:
    """The customer's card token (refused when there is none)."""
    card = call(ctx, SERVICE, "GET", f"{ctx.settings.user_service_url}/users/{ctx.payload['customer_id']}/card")
    return CardOnFile(card["card_token"])


def payout_account(ctx: StepContext) -> PayoutAccount:
    """The runner's payout account (refused when there is none)."""
    url = f"{ctx.settings.user_service_url}/users/{ctx.payload['runner_id']}/payout-account"
    account = call(ctx, SERVICE, "GET", url)
    return PayoutAccount(account["payout_account"])


def runner_ids(ctx: StepContext) -> list[str]:
    """Every runner's id, for the ORDER_READY_FOR_RUNNER broadcast."""
    answer = call(ctx, SERVICE, "GET", f"{ctx.settings.user_service_url}/users?role=runner")
    return [user["user_id"] for user in answer["users"]]
