"""Sagas never stay stuck: the sweeper resumes lost work; operators retry FAILED sagas from the CLI."""
from __future__ import annotations

import uuid

from click.testing import CliRunner
from sqlalchemy import text

from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers import maintenance
from saga_workers.cli import saga as saga_cli
from saga_workers.runtime import runner_for
from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order, order_payload, payments, wait_for_saga


def age(schema: str, saga_id: str, seconds: int = 3600) -> None:
    """Pretend the saga made no progress for ``seconds``."""
    with Database(load_settings().database_url).unit_of_work() as session:
        session.execute(text(f"UPDATE {schema}.saga_instances SET updated_at = now() - make_interval(secs => :s) "
                             "WHERE saga_id = :id"), {"s": seconds, "id": saga_id})


def test_a_saga_committed_but_never_published_is_resumed_by_the_sweeper(worker, saga_app):
    customer = create_user("customer")
    payload = order_payload(customer)
    saga_id, _ = runner_for("create_order").store.create(str(uuid.uuid4()), payload, None)  # no publish
    age("create_order_saga", saga_id)

    assert maintenance.resume_stalled() == 1
    saga = wait_for_saga(saga_id)

    assert saga["status"] == "COMPLETED"
    assert order(payload["order_id"])["status"] == "CREATED"
    assert maintenance.resume_stalled() == 0, "a finished saga is left alone"


def test_a_saga_that_lost_its_message_mid_way_resumes_from_its_step(worker, saga_app):
    customer = create_user("customer")
    payload = order_payload(customer)
    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid.uuid4()), payload, None)
    for index in range(3):  # create, card, authorize done; then the chain's message is lost
        runner.run_step(saga_id, index)
    age("create_order_saga", saga_id)

    maintenance.resume_stalled()
    saga = wait_for_saga(saga_id)

    assert saga["status"] == "COMPLETED"
    assert [s["attempts"] for s in saga["steps"]] == [1] * 6, "done steps are not run again"
    assert [p["status"] for p in payments(payload["order_id"])] == ["AUTHORIZED"]


def test_a_recently_active_saga_is_not_resumed(worker, saga_app):
    customer = create_user("customer")
    saga_id, _ = runner_for("create_order").store.create(str(uuid.uuid4()), order_payload(customer), None)

    assert maintenance.resume_stalled() == 0
    assert wait_for_saga(saga_id, timeout=0.2, statuses=("STARTED",))["status"] == "STARTED"


def test_failed_saga_is_listed_shown_and_retried_from_the_cli(worker, live_participants):
    customer = create_user("customer")
    payload = order_payload(customer)
    with live_participants.notification_service.down():  # the last step, after the pivot, cannot finish
        failed = wait_for_saga(start_saga("create_order", payload).saga_id, timeout=60)
    assert failed["status"] == "FAILED"
    assert order(payload["order_id"])["status"] == "CREATED", "past the pivot nothing is undone"
    cli = CliRunner()

    listed = cli.invoke(saga_cli, ["list", "--status", "FAILED"])
    shown = cli.invoke(saga_cli, ["show", failed["saga_id"]])
    retried = cli.invoke(saga_cli, ["retry", failed["saga_id"]])

    assert listed.exit_code == 0 and failed["saga_id"] in listed.output
    assert shown.exit_code == 0 and "notify" in shown.output and "FAILED" in shown.output
    assert retried.exit_code == 0, retried.output
    assert "resumed: STARTED from step notify" in retried.output
    assert wait_for_saga(failed["saga_id"])["status"] == "COMPLETED"
    again = cli.invoke(saga_cli, ["retry", failed["saga_id"]])
    assert again.exit_code != 0 and "only FAILED sagas" in again.output


def test_cli_refuses_unknown_ids_with_a_non_zero_exit(database_url):
    cli = CliRunner()
    for command in (["show", str(uuid.uuid4())], ["retry", str(uuid.uuid4())], ["show", "not-a-uuid"]):
        result = cli.invoke(saga_cli, command)
        assert result.exit_code != 0
        assert "no saga with id" in result.output
