"""One order, one grep: JSON log lines carry the saga and the request id from the gateway to the participants."""
from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from api_gateway import create_app
from campus_common.logs import json_formatter
from tests.integration.gateway_fixtures import ORDER, SECRET, Gateway, User
from tests.integration.saga_helpers import wait_for_saga


class JsonLines:
    """What the root logger wrote, formatted as every process of the stack formats it."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(json_formatter("test"))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def where(self, **fields: Any) -> list[dict[str, Any]]:
        return [record for record in self.records() if all(record.get(k) == v for k, v in fields.items())]


@pytest.fixture()
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[JsonLines]:
    caplog.set_level(logging.INFO)
    lines = JsonLines()
    logging.getLogger().addHandler(lines.handler)
    yield lines
    logging.getLogger().removeHandler(lines.handler)


@pytest.fixture()
def gateway(worker: Any, database_url: str, redis_url: str) -> Gateway:
    app = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET, "TESTING": True})
    return Gateway(app.test_client(), User(str(uuid.uuid4()), "admin"))


def place(gateway: Gateway, card_token: str, request_id: str) -> tuple[str, Any]:
    customer = gateway.create_user("customer", card_token=card_token)
    response = gateway.client.post("/api/orders", json=ORDER, headers={**customer.auth, "X-Request-ID": request_id})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["saga_id"], response


def test_one_request_id_follows_an_order_from_the_gateway_through_the_saga_to_the_participants(
        gateway: Gateway, json_lines: JsonLines):
    request_id = f"order-trace-{uuid.uuid4().hex[:8]}"
    saga_id, response = place(gateway, "tok_visa", request_id)
    assert wait_for_saga(saga_id)["status"] == "COMPLETED"

    assert response.headers["X-Request-ID"] == request_id
    [gateway_line] = json_lines.where(logger="campus_common.web", path="/api/orders", request_id=request_id)
    assert gateway_line["status"] == 202 and gateway_line["method"] == "POST"
    # The step's line: which saga, step, phase and attempt, in which task, for which request.
    [step_line] = json_lines.where(logger="saga_workers.saga", saga_id=saga_id, step="authorize_payment")
    assert step_line | {"attempt": 1, "phase": "action", "saga_type": "create_order", "request_id": request_id,
                        "outcome": "done", "level": "INFO"} == step_line
    assert step_line["task_id"] and step_line["task_name"] == "saga.create_order.run_step"
    assert step_line["duration_ms"] >= 0
    # The participant's line carries the request id the worker sent with its call.
    [payment_line] = json_lines.where(logger="campus_common.web", path="/payments/authorize")
    assert payment_line["request_id"] == request_id and payment_line["status"] in (200, 201)
    assert payment_line["idempotency_key"] == f"{saga_id}:authorize_payment:action", "a grep of the saga id finds it"
    traced = {line.get("path") or line.get("step") for line in json_lines.where(request_id=request_id)}
    assert {"/api/orders", "create_order", "/orders", "authorize_payment", "/payments/authorize", "notify"} <= traced


def test_a_compensated_saga_logs_one_warning_with_its_error(gateway: Gateway, json_lines: JsonLines):
    saga_id, _ = place(gateway, "tok_chargeDeclined", "declined-order-1")
    assert wait_for_saga(saga_id)["status"] == "COMPENSATED"

    warnings = [line for line in json_lines.where(saga_id=saga_id) if line["level"] in ("WARNING", "ERROR")]

    assert len(warnings) == 1, warnings
    assert "COMPENSATED" in warnings[0]["message"] and "card_declined" in warnings[0]["error"]
    assert warnings[0]["request_id"] == "declined-order-1" and warnings[0]["outcome"] == "compensated"


def test_a_malformed_request_id_is_replaced_not_echoed(gateway: Gateway, json_lines: JsonLines):
    response = gateway.client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 200})

    assert len(response.headers["X-Request-ID"]) == 32 and "<" not in response.headers["X-Request-ID"]


def test_an_accept_timeout_cancel_is_traced_by_its_timer_key(worker: Any, json_lines: JsonLines):
    from saga_workers import accept_timeouts
    from saga_workers.queries import list_sagas
    from tests.integration.order_life import created_order, expire_accept_deadline

    ctx = created_order()
    expire_accept_deadline(ctx["order_id"])

    assert accept_timeouts.fire_due() == 1
    [cancel], _ = list_sagas(saga_type="cancel_order")
    assert wait_for_saga(cancel["saga_id"])["status"] == "COMPLETED"

    key = f"accept-timeout:{ctx['order_id']}"
    [cancel_line] = json_lines.where(logger="campus_common.web", path=f"/orders/{ctx['order_id']}/cancel")
    assert cancel_line["request_id"] == key, "the order service's line names the timer that cancelled the order"
    assert {line["step"] for line in json_lines.where(saga_id=cancel["saga_id"], request_id=key) if "step" in line}
