"""Orders for the order service's tests: a valid body, and an order walked along its legal path."""
from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient


RUNNER, OTHER_RUNNER = str(uuid.uuid4()), str(uuid.uuid4())
# The legal path and the call that takes an order one step along it.
PATH = ["PENDING", "CREATED", "ACCEPTED", "PLACED", "ON_THE_WAY", "DELIVERED", "COMPLETED"]
STEP_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "CREATED": ("POST", "mark-created", None),
    "ACCEPTED": ("POST", "accept", {"runner_id": RUNNER}),
    "PLACED": ("PUT", "status", {"status": "PLACED", "runner_id": RUNNER}),
    "ON_THE_WAY": ("PUT", "status", {"status": "ON_THE_WAY", "runner_id": RUNNER}),
    "DELIVERED": ("PUT", "status", {"status": "DELIVERED", "runner_id": RUNNER}),
    "COMPLETED": ("POST", "complete", None),
    "CANCELLED": ("POST", "cancel", {"reason": "customer changed their mind", "expected_status": "CREATED"}),
}
STAMP = {"ACCEPTED": "accepted_at", "PLACED": "placed_at", "ON_THE_WAY": "picked_up_at",
         "DELIVERED": "delivered_at", "COMPLETED": "completed_at", "CANCELLED": "cancelled_at"}


def order_body(**overrides: Any) -> dict[str, Any]:
    body = {"order_id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4()), "saga_id": str(uuid.uuid4()),
            "items": [{"name": "Burrito", "price": "8.50", "quantity": 2},
                      {"name": "Soda", "price": "1.25", "quantity": 1}],
            "store_location": "Student Union, Taco Stand", "delivery_location": "Library, 3rd floor"}
    body.update(overrides)
    return body


def create(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/orders", json=order_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client: FlaskClient, order_id: str, target: str, headers: dict[str, str] | None = None) -> Any:
    method, action, body = STEP_CALLS[target]
    return client.open(f"/orders/{order_id}/{action}", method=method, json=body, headers=headers)


def order_in(client: FlaskClient, status: str) -> dict[str, Any]:
    """A new order walked along the legal path to ``status``."""
    order = create(client)
    path = ["PENDING", "CREATED", "CANCELLED"] if status == "CANCELLED" else PATH[: PATH.index(status) + 1]
    for target in path[1:]:
        response = step(client, order["order_id"], target)
        assert response.status_code == 200, response.get_json()
        order = response.get_json()
    assert order["status"] == status
    return order


def fetch(client: FlaskClient, order_id: str) -> dict[str, Any]:
    response = client.get(f"/orders/{order_id}")
    assert response.status_code == 200
    return response.get_json()


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]
