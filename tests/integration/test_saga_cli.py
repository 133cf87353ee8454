"""The saga CLI for scripts: JSON output, retrying every FAILED saga at once, cancel, the stack it acts on."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from campus_common.stackenv import write_env_file
from devstack.procs import free_port
from devstack.threaded import ThreadedServer
from saga_workers.cli import saga as saga_cli
from saga_workers.registry import idempotency_key
from saga_workers.runtime import runner_for
from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order, order_payload, wait_for_saga


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(saga_cli, list(args))


def _unavailable(environ: dict, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return [b'{"error": {"code": "maintenance", "message": "down", "details": null}}']


@pytest.fixture()
def failed_sagas(eager: Any, live_participants: Any, rewire: Callable[..., Any]) -> list[str]:
    """Two create_order sagas FAILED while compensating (the order service answered 503 throughout)."""
    rewire(saga_step_retry_limit=1, saga_compensation_retry_limit=1, saga_retry_backoff_base_seconds=0.0,
           saga_retry_backoff_max_seconds=0.0)
    maintenance = ThreadedServer(_unavailable, free_port())
    maintenance.start()
    rewire(order_service_url=maintenance.url)
    try:
        ids = [start_saga("create_order", order_payload(create_user("customer"))).saga_id for _ in range(2)]
    finally:
        maintenance.stop()
        rewire(order_service_url=live_participants.order_service.url)
    assert [wait_for_saga(i)["status"] for i in ids] == ["FAILED", "FAILED"]
    return ids


def test_list_and_show_print_json_with_every_attempt_input_and_output(eager: Any, live_participants: Any) -> None:
    payload = order_payload(create_user("customer"))
    saga_id = start_saga("create_order", payload).saga_id

    listed = _invoke("list", "--json", "--type", "create_order")
    shown = _invoke("show", saga_id, "--json")

    assert listed.exit_code == 0, listed.output
    assert [s["saga_id"] for s in json.loads(listed.output)["sagas"]] == [saga_id]
    assert shown.exit_code == 0, shown.output
    saga = json.loads(shown.output)
    assert saga["status"] == "COMPLETED" and saga["input"]["order_id"] == payload["order_id"]
    assert saga["input"]["items"][0]["price"] == "6.50", "money stays an exact string"
    assert saga["outputs"]["authorize_payment"]["status"] == "AUTHORIZED"
    assert [a["step"] for a in saga["attempts"]] == [s["name"] for s in saga["steps"]]
    first = saga["attempts"][0]
    assert first["idempotency_key"] == idempotency_key(saga_id, "create_order", "action") and first["attempt"] == 1
    assert first["status"] == "DONE" and first["duration_ms"] >= 0 and first["finished_at"]


def test_retry_every_failed_saga_at_once(failed_sagas: list[str]) -> None:
    none_of_that_type = _invoke("retry", "--status", "FAILED", "--type", "accept_order")
    assert none_of_that_type.exit_code == 0 and none_of_that_type.output == ""

    result = _invoke("retry", "--status", "FAILED", "--type", "create_order")

    assert result.exit_code == 0, result.output
    assert sorted(line.split()[1] for line in result.output.splitlines()) == sorted(failed_sagas)
    assert [wait_for_saga(i)["status"] for i in failed_sagas] == ["COMPENSATED", "COMPENSATED"]
    assert _invoke("retry", "--status", "FAILED").output == "", "nothing is left FAILED"
    shown = _invoke("show", failed_sagas[0], "--attempts")
    assert shown.exit_code == 0, shown.output
    assert idempotency_key(failed_sagas[0], "create_order", "compensation") in shown.output and "503" in shown.output
    rounds = re.findall(r"create_order\s+compensation\s+(\d+)\s+1\s+(\w+)", shown.output)
    assert rounds == [("1", "FAILED"), ("2", "DONE")], "both rounds are listed"


@pytest.mark.parametrize("args", [[], [str(uuid.uuid4()), "--status", "FAILED"], ["--status", "COMPLETED"],
                                  [str(uuid.uuid4()), "--type", "create_order"]])
def test_retry_needs_one_id_or_the_failed_status(database_url: str, args: list[str]) -> None:
    assert _invoke("retry", *args).exit_code == 2


def test_cancel_from_the_cli(eager: Any, live_participants: Any) -> None:
    payload = order_payload(create_user("customer"))
    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid.uuid4()), payload, None)
    runner.run_step(saga_id, 0)  # the order exists, PENDING; nothing is queued

    cancelled = _invoke("cancel", saga_id)
    again = _invoke("cancel", saga_id)

    assert cancelled.exit_code == 0 and f"saga {saga_id} cancelled" in cancelled.output
    assert wait_for_saga(saga_id)["status"] == "COMPENSATED"
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert again.exit_code == 1 and "only a running (STARTED) saga can be cancelled" in again.output
    assert "no saga with id" in _invoke("cancel", str(uuid.uuid4())).output


def test_the_celery_command_reads_the_stacks_env_file(eager: Any, live_participants: Any, tmp_path: Path) -> None:
    saga_id = start_saga("create_order", order_payload(create_user("customer"))).saga_id
    write_env_file(tmp_path / "stack.env", {"DATABASE_URL": os.environ["DATABASE_URL"],
                                            "REDIS_URL": os.environ["REDIS_URL"]})
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REDIS_URL", "PG_PORT", "REDIS_PORT")}
    env["RUN_DIR"] = str(tmp_path)

    done = subprocess.run([sys.executable, "-m", "celery", "-A", "saga_workers", "saga", "show", saga_id, "--json"],
                          env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "COMPLETED"
