"""``run``'s demo: seed a customer and a runner, walk one order through its whole life and cancel another,
printing each saga's timeline as it ends."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from devstack.config import StackConfig
from devstack.errors import StackError
from devstack.gateway_client import Gateway, mint_token
from devstack.health import http_ok
from devstack.timeline import order_line, saga_table

Say = Callable[[str], None]
DEMO_ITEMS = [{"name": "Burrito bowl", "price": "8.50", "quantity": 2},
              {"name": "Lemonade", "price": "2.25", "quantity": 1}]


@dataclass
class Cast:
    """The demo's actors, each a gateway client holding their own token."""

    admin: Gateway
    admin_token: str
    customer: Gateway
    customer_id: str
    runner: Gateway
    runner_id: str


def seed(cfg: StackConfig, say: Say = print) -> Cast:
    """The demo users (created once per RUN_DIR through the gateway, reused afterwards) and their tokens."""
    env, users_file = cfg.child_env(), cfg.run_dir / "demo-users.json"
    known = json.loads(users_file.read_text()) if users_file.exists() else {}
    admin_sub = known.get("admin_sub") or str(uuid.uuid4())
    admin_token = mint_token(admin_sub, "admin", env)
    admin = Gateway(cfg.gateway_url, admin_token)
    if not all(_user_exists(cfg, known.get(key)) for key in ("customer_id", "runner_id")):
        known = {"admin_sub": admin_sub,
                 "customer_id": admin.create_user("Ada Customer", "customer", card_token="tok_visa")["user_id"],
                 "runner_id": admin.create_user("Rui Runner", "runner", payout_account="acct_rui_runner")["user_id"]}
        users_file.write_text(json.dumps(known, indent=2))
        say("seeded    customer Ada (card tok_visa) and runner Rui (payout account acct_rui_runner)")
    else:
        say("seeded    customer Ada and runner Rui already exist (from an earlier run)")
    customer = admin.as_user(mint_token(known["customer_id"], "customer", env))
    runner = admin.as_user(mint_token(known["runner_id"], "runner", env))
    say(f"\nAdmin token (Authorization: Bearer ...):\n  {admin_token}")
    say(f"  customer {known['customer_id']}   runner {known['runner_id']}")
    return Cast(admin, admin_token, customer, known["customer_id"], runner, known["runner_id"])


def _user_exists(cfg: StackConfig, user_id: str | None) -> bool:
    if not user_id:
        return False
    try:  # the gateway has no user lookup: ask the user service (loopback, the demo's own stack)
        return requests.get(f"{cfg.service_url('user_service')}/users/{user_id}", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def run_demo(cfg: StackConfig, say: Say = print) -> None:
    """Seed, then walk one order to COMPLETED and cancel a second one."""
    if not http_ok(f"{cfg.gateway_url}/healthz"):
        raise StackError(f"the gateway at {cfg.gateway_url} does not answer: start the stack with `make up`")
    cast = seed(cfg, say)
    order_id = place_order(cast, say, "Order 1: placed, accepted, delivered, completed")
    saga_step(cast, say, cast.runner, "POST", f"/api/orders/{order_id}/accept", "runner accepts", order_id, "ACCEPTED")
    for status in ("PLACED", "ON_THE_WAY", "DELIVERED"):
        _answer(cast.runner.call("PUT", f"/api/orders/{order_id}/status", {"status": status}))
        say(f"runner sets the order {status}")
        say(order_line(cast.admin.order(order_id)))
    saga_step(cast, say, cast.runner, "POST", f"/api/orders/{order_id}/complete", "runner completes", order_id,
              "COMPLETED")
    second = place_order(cast, say, "Order 2: placed, then cancelled by the customer")
    saga_step(cast, say, cast.customer, "POST", f"/api/orders/{second}/cancel", "customer cancels", second,
              "CANCELLED")
    say(f"\nDemo done. Sagas: curl -H 'Authorization: Bearer {cast.admin_token}' {cfg.gateway_url}/api/sagas")


def place_order(cast: Cast, say: Say, title: str) -> str:
    """The customer places the demo order; its create_order saga must complete with the order CREATED."""
    say(f"\n== {title}")
    started = cast.customer.create_order(DEMO_ITEMS, idempotency_key=str(uuid.uuid4()))
    say(f"customer places order {started['order_id']} (saga {started['saga_id']})")
    _show_saga(cast, say, started["saga_id"], started["order_id"], "CREATED")
    return started["order_id"]


def saga_step(cast: Cast, say: Say, actor: Gateway, method: str, path: str, what: str, order_id: str,
              order_status: str) -> None:
    """``actor`` starts a saga with one call; wait for it and show its timeline."""
    started = _answer(actor.call(method, path), 202)
    say(f"{what} (saga {started['saga_id']})")
    _show_saga(cast, say, started["saga_id"], order_id, order_status)


def _show_saga(cast: Cast, say: Say, saga_id: str, order_id: str, order_status: str) -> None:
    view = cast.admin.wait_for_saga(saga_id)
    say(saga_table(view))
    order = cast.admin.order(order_id)
    say(order_line(order))
    if view.get("status") != "COMPLETED" or order.get("status") != order_status:
        raise StackError(f"expected the saga COMPLETED and the order {order_status}; "
                         f"got {view.get('status')} / {order.get('status')}")


def _answer(response: requests.Response, status: int | None = None) -> dict[str, Any]:
    ok = response.status_code == status if status else 200 <= response.status_code < 300
    if not ok:
        raise StackError(f"{response.request.method} {response.url} answered {response.status_code}: "
                         f"{response.text[:500]}")
    return response.json() if response.content else {}
