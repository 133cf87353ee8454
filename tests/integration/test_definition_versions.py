"""A deploy of a changed definition while sagas are in flight, on a real worker, Postgres and Redis."""
from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from saga_workers import maintenance, sagas
from saga_workers.cli import saga as saga_cli
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.versions import DefinitionVersions
from saga_workers.runtime import runner_for
from saga_workers.service import SagaNotRetryable, retry_saga, start_saga
from tests.integration.saga_helpers import create_user, order, order_payload, wait_for_saga
from tests.integration.test_recovery_and_retry import age

V1 = sagas.REGISTRY["create_order"]


def fraud_check(ctx) -> dict:
    """The step the new version inserts before the pivot."""
    return {"score": 0}


V2 = SagaDefinition("create_order", version="2", steps=[*V1.steps[:3], Step("fraud_check", fraud_check),
                                                        *V1.steps[3:]])


def in_flight_on_v1(steps_done: int) -> tuple[str, dict]:
    """A create_order saga that ran ``steps_done`` steps on v1, whose messages died with the old worker."""
    payload = order_payload(create_user("customer"))
    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid.uuid4()), payload, None)
    for index in range(steps_done):
        runner.run_step(saga_id, index)
    age("create_order_saga", saga_id)
    return saga_id, payload


def deploy(monkeypatch: pytest.MonkeyPatch, *definitions: SagaDefinition) -> None:
    """What restarting the workers with new code does: the first definition is the newest."""
    monkeypatch.setattr(sagas, "VERSIONS", DefinitionVersions(definitions[:1], older=definitions[1:]))


def test_in_flight_sagas_finish_on_their_version_after_a_deploy_and_new_ones_start_on_the_new(
        worker, saga_app, monkeypatch):
    before_pivot, payload = in_flight_on_v1(steps_done=3)
    deploy(monkeypatch, V2, V1)

    maintenance.resume_stalled()
    resumed = wait_for_saga(before_pivot)
    fresh = wait_for_saga(start_saga("create_order", order_payload(create_user("customer"))).saga_id)

    assert (resumed["status"], resumed["definition_version"]) == ("COMPLETED", "1")
    assert [s["name"] for s in resumed["steps"]] == [s.name for s in V1.steps]
    assert order(payload["order_id"])["status"] == "CREATED"
    assert (fresh["status"], fresh["definition_version"]) == ("COMPLETED", "2")
    assert [s["name"] for s in fresh["steps"]] == [s.name for s in V2.steps]


def test_a_saga_whose_version_was_removed_stops_failed_and_runs_again_once_it_is_back(
        worker, saga_app, monkeypatch):
    saga_id, payload = in_flight_on_v1(steps_done=2)
    deploy(monkeypatch, V2)  # v1 dropped too early

    maintenance.resume_stalled()
    failed = wait_for_saga(saga_id)
    versions = CliRunner().invoke(saga_cli, ["versions"])

    assert failed["status"] == "FAILED"
    assert "version '1' is not deployed" in failed["error"]
    assert [s["name"] for s in failed["steps"]] == ["create_order", "get_payment_info"], "nothing ran blindly"
    with pytest.raises(SagaNotRetryable, match="version '1' is not deployed"):
        retry_saga(saga_id)
    assert versions.exit_code == 0, versions.output
    assert any(line.split()[:2] == ["create_order", "1"] and "NOT DEPLOYED" in line
               for line in versions.output.splitlines()), versions.output

    deploy(monkeypatch, V2, V1)  # the old version declared again
    retry_saga(saga_id)
    done = wait_for_saga(saga_id)
    assert (done["status"], done["definition_version"]) == ("COMPLETED", "1")
    assert order(payload["order_id"])["status"] == "CREATED"


def test_saga_show_and_versions_name_the_version(worker, saga_app):
    saga_id = wait_for_saga(start_saga("create_order", order_payload(create_user("customer"))).saga_id)["saga_id"]
    shown = CliRunner().invoke(saga_cli, ["show", saga_id])
    versions = CliRunner().invoke(saga_cli, ["versions"])

    assert "definition version 1" in shown.output
    assert any(line.split()[:4] == ["create_order", "1", "yes", "yes"] for line in versions.output.splitlines())
