"""The people an end-to-end test acts as, and what their calls send and read back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devstack.gateway_client import Gateway

if TYPE_CHECKING:
    from tests.e2e.conftest import Stack

ITEMS = [{"name": "Falafel wrap", "price": "7.50", "quantity": 2}, {"name": "Iced tea", "price": "2.25", "quantity": 1}]


@dataclass
class Actor:
    """A user of the platform with a gateway client holding their token."""

    user_id: str
    api: Gateway


def new_customer(stack: Stack, admin: Gateway, card_token: str) -> Actor:
    user = admin.create_user("E2E Customer", "customer", card_token=card_token)
    return Actor(user["user_id"], stack.gateway(stack.token(user["user_id"], "customer")))


def error_code(response: Any) -> str:
    """The ``error.code`` of the gateway's one error format."""
    return response.json()["error"]["code"]


def order_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "store_location": "Food court", "delivery_location": "Dorm B, room 12"}


def run_saga(admin: Gateway, started: dict[str, Any], expected: str) -> dict[str, Any]:
    """Wait for the saga that ``started`` names; assert how it ended; return its view."""
    view = admin.wait_for_saga(started["saga_id"], timeout=30)
    assert view["status"] == expected, view
    return view
