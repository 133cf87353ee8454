"""Drive an order through its life with the real sagas (used by the order-life tests)."""
from __future__ import annotations

from typing import Any

from campus_common import http
from campus_common.config import load_settings
from campus_common.service_auth import API_GATEWAY
from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order_payload, payments, wait_for_saga


def created_order(card_token: str = "tok_visa") -> dict[str, Any]:
    """A customer, a runner and an order in CREATED with its payment held."""
    customer = create_user("customer", card_token=card_token)
    runner = create_user("runner")
    payload = order_payload(customer)
    saga = wait_for_saga(start_saga("create_order", payload).saga_id)
    assert saga["status"] == "COMPLETED", saga
    return {"order_id": payload["order_id"], "customer_id": customer, "runner_id": runner}


def accept(ctx: dict[str, Any], runner_id: str | None = None) -> dict[str, Any]:
    """Run accept_order to its end."""
    payload = {"order_id": ctx["order_id"], "customer_id": ctx["customer_id"],
               "runner_id": runner_id or ctx["runner_id"]}
    return wait_for_saga(start_saga("accept_order", payload).saga_id)


def cancel(ctx: dict[str, Any], reason: str = "changed my mind") -> dict[str, Any]:
    """Run cancel_order to its end."""
    payload = {"order_id": ctx["order_id"], "customer_id": ctx["customer_id"], "reason": reason}
    return wait_for_saga(start_saga("cancel_order", payload).saga_id)


def complete(ctx: dict[str, Any], runner_id: str | None = None) -> dict[str, Any]:
    """Run complete_order to its end."""
    payload = {"order_id": ctx["order_id"], "customer_id": ctx["customer_id"],
               "runner_id": runner_id or ctx["runner_id"]}
    return wait_for_saga(start_saga("complete_order", payload).saga_id)


def progress(ctx: dict[str, Any], *statuses: str) -> None:
    """The runner moves the order along (a direct call: not a saga)."""
    url = f"{load_settings().order_service_url}/orders/{ctx['order_id']}/status"
    for status in statuses:
        http.call("PUT", url, json={"status": status, "runner_id": ctx["runner_id"]}, caller=API_GATEWAY,
                  audience="order_service")


def expire_accept_deadline(order_id: str) -> None:
    """Make the order's accept-timeout due now."""
    from sqlalchemy import text

    from campus_common.db import Database

    with Database(load_settings().database_url).unit_of_work() as session:
        session.execute(text("UPDATE saga_timers.accept_timeouts SET deadline = now() - interval '1 second' "
                             "WHERE order_id = :o"), {"o": order_id})


def timer_status(order_id: str) -> str | None:
    """ARMED, DISARMED or FIRED."""
    from sqlalchemy import text

    from campus_common.db import Database

    with Database(load_settings().database_url).unit_of_work() as session:
        return session.execute(text("SELECT status FROM saga_timers.accept_timeouts WHERE order_id = :o"),
                               {"o": order_id}).scalar()


def live(order_id: str) -> list[dict[str, Any]]:
    """The order's payments still holding or holding onto money (AUTHORIZED or CAPTURED)."""
    return [p for p in payments(order_id) if p["status"] in ("AUTHORIZED", "CAPTURED")]
