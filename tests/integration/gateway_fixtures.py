"""The gateway over real participants and Postgres, sagas run eagerly, and tokens for any user.

Import the fixtures into a test module: ``from tests.integration.gateway_fixtures import gateway``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api_gateway import create_app
from api_gateway.auth import issue_token
from campus_common import http
from campus_common.config import load_settings
from campus_common.service_auth import API_GATEWAY
from devstack.procs import free_port
from devstack.threaded import ThreadedServer

SECRET = "gateway-test-secret-of-at-least-32-bytes"
ORDER = {"items": [{"name": "Pad thai", "price": "9.50", "quantity": 2}],
         "store_location": "Campus Thai, Main St 1", "delivery_location": "Dorm B, room 214"}
ORDER_TOTAL = "22.99"  # 2 x 9.50 + the 3.99 delivery fee


def bearer(sub: str, role: str, ttl: int = 3600, secret: str = SECRET) -> dict[str, str]:
    """An Authorization header for ``sub`` in ``role``."""
    return {"Authorization": f"Bearer {issue_token(sub, role, secret, ttl)}"}


@dataclass
class User:
    """A user the tests act as."""

    user_id: str
    role: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.user_id, self.role)


@dataclass
class Gateway:
    """A test client plus shortcuts for what most tests do first."""

    client: FlaskClient
    admin: User

    def create_user(self, role: str, **fields: Any) -> User:
        """Create a customer (card tok_visa by default) or runner through POST /api/users."""
        body = {"name": f"Test {role}", "email": f"{uuid4().hex}@campus.test", "role": role, **fields}
        if role == "customer":
            body.setdefault("card_token", "tok_visa")
        else:
            body.setdefault("payout_account", f"acct_{uuid4().hex[:12]}")
        response = self.client.post("/api/users", json=body, headers=self.admin.auth)
        assert response.status_code == 201, response.get_json()
        return User(response.get_json()["user_id"], role)

    def place_order(self, customer: User, body: dict[str, Any] | None = None, key: str | None = None) -> TestResponse:
        """POST /api/orders as ``customer`` (the saga runs to its end inside the call)."""
        headers = {**customer.auth, **({"Idempotency-Key": key} if key else {})}
        return self.client.post("/api/orders", json=ORDER if body is None else body, headers=headers)

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as an admin sees it through the gateway."""
        response = self.client.get(f"/api/orders/{order_id}", headers=self.admin.auth)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def saga(self, saga_id: str) -> dict[str, Any]:
        """The saga as an admin sees it through the gateway."""
        response = self.client.get(f"/api/sagas/{saga_id}", headers=self.admin.auth)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def notifications(user_id: str) -> list[dict[str, Any]]:
    """What the notification service recorded for ``user_id`` (read over its own HTTP API)."""
    url = f"{load_settings().notification_service_url}/notifications?user_id={user_id}"
    return http.call("GET", url, caller=API_GATEWAY, audience="notification_service")["notifications"]


def _unavailable(environ: dict, start_response: Any) -> list[bytes]:
    """A real server in maintenance: every request gets 503, whose outcome a saga cannot know."""
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return [b'{"error": {"code": "maintenance", "message": "down for maintenance", "details": null}}']


def failed_saga(gateway: Gateway, live_participants: Any, rewire: Callable[..., Any]) -> str:
    """A create_order saga FAILED while compensating: the order service answered 503 throughout."""
    rewire(saga_step_retry_limit=1, saga_compensation_retry_limit=1, saga_retry_backoff_base_seconds=0.0,
           saga_retry_backoff_max_seconds=0.0)
    customer = gateway.create_user("customer")
    maintenance = ThreadedServer(_unavailable, free_port())
    maintenance.start()
    rewire(order_service_url=maintenance.url)  # creating, and undoing it, both fail
    try:
        response = gateway.place_order(customer)
        assert response.status_code == 202, response.get_json()
        saga_id = response.get_json()["saga_id"]
    finally:
        maintenance.stop()
        rewire(order_service_url=live_participants.order_service.url)
    assert gateway.saga(saga_id)["status"] == "FAILED"
    return saga_id


@pytest.fixture()
def eager_sagas(saga_app: Any) -> Iterator[None]:
    """Run every saga to its end inside the call that starts it; restore the setting afterwards."""
    app = saga_app  # configured for the test broker before anything publishes
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture()
def gateway(live_participants: Any, database_url: str, redis_url: str, eager_sagas: None) -> Gateway:
    """A fresh gateway app over an empty database and running participants."""
    app = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET, "TESTING": True})
    return Gateway(app.test_client(), User(str(uuid4()), "admin"))
