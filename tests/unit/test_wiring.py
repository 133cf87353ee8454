"""The wiring points: a process's runtime is built once from a Settings object, and runner_for builds nothing."""
from __future__ import annotations

import pytest

from campus_common.config import Settings
from saga_workers import runtime
from saga_workers.runtime import SagaRuntime, runner_for

NOWHERE = "postgresql+psycopg2://nobody@127.0.0.1:1/none"  # never connected to: nothing here touches Postgres


@pytest.fixture()
def wired(monkeypatch: pytest.MonkeyPatch) -> SagaRuntime:
    """A process wired with a Settings object of the test's own (the previous wiring comes back after)."""
    monkeypatch.setattr(runtime, "_process", None)
    return runtime.install(SagaRuntime.from_settings(Settings(database_url=NOWHERE, saga_step_retry_limit=2)))


def test_runner_for_hands_out_the_process_runner_built_once(wired: SagaRuntime) -> None:
    first, again = runner_for("create_order"), runner_for("create_order")

    assert first is again, "a step builds no runner, store or database"
    assert first.settings is wired.settings and first.store.db is wired.step_database
    assert runner_for("cancel_order") is not first


def test_a_request_bound_runtime_serves_the_service_layer_but_not_the_steps(wired: SagaRuntime) -> None:
    gateway = SagaRuntime.from_settings(Settings(database_url=NOWHERE))
    token = runtime.bind(gateway)
    try:
        assert runtime.current() is gateway
        assert runtime.process() is wired and runner_for("create_order").settings is wired.settings
    finally:
        runtime.unbind(token)
    assert runtime.current() is wired


def test_rewiring_builds_new_runners_with_the_new_settings(wired: SagaRuntime) -> None:
    before = runner_for("create_order")
    runtime.install(SagaRuntime.from_settings(Settings(database_url=NOWHERE, saga_step_retry_limit=7)))

    assert runner_for("create_order") is not before
    assert runner_for("create_order").settings.saga_step_retry_limit == 7
