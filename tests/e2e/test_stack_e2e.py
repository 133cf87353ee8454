"""The stack ``make up`` starts, used over HTTP through the gateway the way a client uses it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from campus_common.stackenv import read_env_file
from devstack.gateway_client import Gateway
from tests.e2e.actors import ITEMS, Actor, error_code, new_customer, order_body, run_saga
from tests.stack_kill import kill_everything, stack_supervisor

from .conftest import Stack

pytestmark = pytest.mark.e2e


def test_health_needs_no_token(stack: Stack) -> None:
    assert stack.gateway().call("GET", "/healthz").status_code == 200


def test_a_request_without_a_valid_token_is_401(stack: Stack) -> None:
    anonymous = stack.gateway().call("POST", "/api/orders", order_body(ITEMS))
    forged = stack.gateway("not.a.jwt").call("POST", "/api/orders", order_body(ITEMS))
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert error_code(anonymous)


def test_a_runner_cannot_place_an_order(runner: Actor) -> None:
    response = runner.api.call("POST", "/api/orders", order_body(ITEMS))
    assert response.status_code == 403
    assert error_code(response)


def test_malformed_json_is_400(customer: Actor) -> None:
    response = customer.api.call("POST", "/api/orders", data='{"items": [')
    assert response.status_code == 400
    assert error_code(response)


@pytest.mark.parametrize("items", [
    [],
    [{"name": "Soup", "price": "-1.00", "quantity": 1}],
    [{"name": "Soup", "price": "4.00", "quantity": 0}],
], ids=["no items", "negative price", "zero quantity"])
def test_an_invalid_order_is_422(customer: Actor, items: list[dict[str, Any]]) -> None:
    response = customer.api.call("POST", "/api/orders", order_body(items))
    assert response.status_code == 422, response.text
    assert error_code(response)


def test_an_order_paid_by_a_good_card_is_created(customer: Actor, admin: Gateway) -> None:
    started = customer.api.create_order(ITEMS)
    assert {"saga_id", "order_id", "status_url"} <= started.keys()
    view = run_saga(admin, started, "COMPLETED")
    assert [step["phase"] for step in view["steps"]] == ["action"] * len(view["steps"])
    assert customer.api.order(started["order_id"])["status"] == "CREATED"
    assert customer.api.call("GET", started["status_url"]).status_code == 200  # the customer may watch it


def test_the_same_idempotency_key_returns_the_saga_already_started(customer: Actor) -> None:
    key = str(uuid.uuid4())
    first = customer.api.call("POST", "/api/orders", order_body(ITEMS), headers={"Idempotency-Key": key})
    replay = customer.api.call("POST", "/api/orders", order_body(ITEMS), headers={"Idempotency-Key": key})
    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.json() == first.json()


def test_a_declined_card_compensates_and_cancels_the_order(stack: Stack, admin: Gateway) -> None:
    declined = new_customer(stack, admin, "tok_chargeDeclined")
    started = declined.api.create_order(ITEMS)
    view = run_saga(admin, started, "COMPENSATED")
    assert "compensation" in {step["phase"] for step in view["steps"]}
    assert declined.api.order(started["order_id"])["status"] == "CANCELLED"


def test_an_order_lives_from_placing_to_completion(customer: Actor, runner: Actor, admin: Gateway) -> None:
    started = customer.api.create_order(ITEMS)
    order_id = started["order_id"]
    run_saga(admin, started, "COMPLETED")
    run_saga(admin, runner.api.expect("POST", f"/api/orders/{order_id}/accept", 202), "COMPLETED")
    assert admin.order(order_id)["status"] == "ACCEPTED"
    for status in ("PLACED", "ON_THE_WAY", "DELIVERED"):
        response = runner.api.call("PUT", f"/api/orders/{order_id}/status", {"status": status})
        assert response.status_code == 200, response.text
        assert admin.order(order_id)["status"] == status
    run_saga(admin, runner.api.expect("POST", f"/api/orders/{order_id}/complete", 202), "COMPLETED")
    assert customer.api.order(order_id)["status"] == "COMPLETED"


def test_a_customer_cancels_before_acceptance(customer: Actor, admin: Gateway) -> None:
    started = customer.api.create_order(ITEMS)
    run_saga(admin, started, "COMPLETED")
    run_saga(admin, customer.api.expect("POST", f"/api/orders/{started['order_id']}/cancel", 202), "COMPLETED")
    assert customer.api.order(started["order_id"])["status"] == "CANCELLED"


def test_an_operator_reads_a_saga_in_the_console_the_docs_and_the_cli(stack: Stack, customer: Actor,
                                                                       admin: Gateway) -> None:
    saga_id = customer.api.create_order(ITEMS)["saga_id"]
    admin.wait_for_saga(saga_id)
    browser = requests.Session()
    signed_in = browser.post(f"{stack.gateway_url}/console/login", data={"token": admin.token},
                             headers={"Origin": stack.gateway_url})
    assert signed_in.status_code == 200 and saga_id in signed_in.text, "the list, after the sign-in redirect"
    page = browser.get(f"{stack.gateway_url}/console/sagas/{saga_id}")
    assert page.status_code == 200 and f"{saga_id}:authorize_payment:action" in page.text
    document = requests.get(f"{stack.gateway_url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1") and "/api/sagas/{saga_id}/cancel" in document["paths"]
    assert requests.get(f"{stack.gateway_url}/docs", timeout=10).status_code == 200

    # The CLI finds this stack from RUN_DIR alone (its stack.env), with no address in the environment.
    env = {name: value for name, value in stack.env.items()
           if not name.endswith(("_URL", "_PORT")) and name != "GATEWAY_JWT_SECRET"}
    shown = subprocess.run([sys.executable, "-m", "celery", "-A", "saga_workers", "saga", "show", saga_id, "--json"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "COMPLETED"


def test_the_demo_walks_orders_through_every_saga(stack: Stack) -> None:
    demo = stack.devstack("demo", timeout=120)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    for saga in ("create_order", "accept_order", "complete_order", "cancel_order"):
        assert f"saga {saga} " in demo.stdout


def test_flower_asks_for_the_stacks_login_and_opens_its_api_with_it(stack: Stack) -> None:
    login = read_env_file(stack.run_dir / "stack.env")["FLOWER_BASIC_AUTH"]
    user, _, password = login.partition(":")
    flower = f"http://127.0.0.1:{stack.env['FLOWER_PORT']}"

    assert requests.get(f"{flower}/api/workers", timeout=10).status_code == 401
    assert requests.get(f"{flower}/api/workers", auth=(user, "wrong"), timeout=10).status_code == 401
    assert requests.get(f"{flower}/api/workers", auth=(user, password), timeout=10).status_code == 200


def test_one_grep_of_a_request_id_follows_an_order_through_every_process(customer: Actor, admin: Gateway,
                                                                        stack: Stack) -> None:
    request_id = f"e2e-trace-{uuid.uuid4().hex[:12]}"
    started = customer.api.expect("POST", "/api/orders", 202, order_body(ITEMS), headers={"X-Request-ID": request_id})
    run_saga(admin, started, "COMPLETED")

    lines = {path.stem: [json.loads(line) for line in path.read_text().splitlines() if request_id in line]
             for path in (stack.run_dir / "logs").glob("*.log")}

    assert {"api_gateway", "worker.create_order_saga", "order_service", "payment_service", "user_service",
            "notification_service"} <= {name for name, found in lines.items() if found}
    steps = {line["step"] for line in lines["worker.create_order_saga"] if line.get("saga_id") == started["saga_id"]}
    assert steps == {"create_order", "get_payment_info", "authorize_payment", "mark_created", "arm_accept_timeout",
                     "notify"}


def test_the_gateway_metrics_sum_what_the_worker_processes_recorded(stack: Stack) -> None:
    text = requests.get(f"{stack.gateway_url}/metrics", timeout=10).text
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}

    def sample(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    # Steps run only in the workers' pool processes; the gateway shows them from their files.
    assert sample("campus_saga_ended_total", saga_type="create_order", outcome="completed") >= 2
    assert sample("campus_saga_ended_total", saga_type="create_order", outcome="compensated") >= 1
    assert sample("campus_saga_step_duration_seconds_count", saga_type="create_order", step="authorize_payment",
                  phase="action", outcome="done") >= 2
    assert sample("campus_saga_started_total", saga_type="create_order") >= 3
    assert sample("campus_saga_queue_depth", queue="create_order_saga") >= 0
    assert sample("campus_saga_scrape_error", source="postgres") == 0


def test_a_killed_worker_is_restarted_by_supervision_without_up(stack: Stack) -> None:
    sup = stack_supervisor(stack.env)
    name = "worker.accept_order_saga"
    before = sup.states()[name]
    os.kill(before.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (now := sup.states()[name]).state != "RUNNING" or now.pid == before.pid:
        assert time.monotonic() < deadline, f"not restarted: {now}"
        time.sleep(0.2)
    assert (now.restarts, "SIGKILL" in now.last_exit) == (before.restarts + 1, True), now
    status = stack.devstack("status")
    assert name in status.stdout and "SIGKILL" in status.stdout, status.stdout


def test_up_after_killing_everything_works_the_first_time(stack: Stack) -> None:
    """Last in this module: a power cut of the whole stack, then one `up` (make chaos does 5 rounds)."""
    assert kill_everything(stack.env) >= 14
    again = stack.devstack("up", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert stack.devstack("status").returncode == 0
    assert stack.gateway().call("GET", "/readyz").status_code == 200
