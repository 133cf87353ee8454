"""The chain's error callback: a step task that crashes (not a refusal, not a fault) still compensates."""
from __future__ import annotations

import copy

import pytest

from saga_workers import runtime, tasks
from saga_workers.queries import get_saga, list_sagas
from saga_workers.sagas import REGISTRY
from saga_workers.producer import resume
from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order, order_payload, payments, wait_for_saga


@pytest.fixture()
def eager_with_errbacks(saga_app):
    """Eager mode that does not propagate, so Celery calls the chain's error callback."""
    saga_app.conf.update(task_always_eager=True, task_eager_propagates=False)
    yield saga_app
    saga_app.conf.update(task_always_eager=False)


def crash_before_step(monkeypatch, crash_index: int) -> None:
    """Step tasks of ``crash_index`` raise before the step runs (as a task that is never delivered would)."""
    real_runner_for = runtime.runner_for

    def crashing_runner_for(saga_type: str, saga_id: str | None = None):
        runner = copy.copy(real_runner_for(saga_type, saga_id))  # the process's runner stays as it is
        real_run_step = runner.run_step

        def run_step(saga_id: str, index: int):
            if index == crash_index:
                raise RuntimeError("bug in a step task")
            return real_run_step(saga_id, index)

        monkeypatch.setattr(runner, "run_step", run_step)
        return runner

    monkeypatch.setattr(tasks, "runner_for", crashing_runner_for)


def test_a_crashing_step_task_is_rolled_back_by_the_error_callback(eager_with_errbacks, live_participants,
                                                                     monkeypatch):
    crash_before_step(monkeypatch, 3)  # the pivot: crash before it runs, as a bug in a step task would
    customer = create_user("customer")
    payload = order_payload(customer)

    with pytest.raises(RuntimeError, match="bug in a step task"):  # eager mode shows the crash too
        start_saga("create_order", payload)
    [started] = list_sagas(customer_id=customer)[0]
    saga = wait_for_saga(started["saga_id"], timeout=5)

    assert saga["status"] == "COMPENSATED"
    assert "failed unexpectedly" in saga["error"]
    assert order(payload["order_id"])["status"] == "CANCELLED"
    assert [p["status"] for p in payments(payload["order_id"])] == ["RELEASED"]


def test_a_step_past_the_pivot_that_never_ran_is_left_for_the_sweeper_not_failed(eager_with_errbacks,
                                                                                 live_participants, monkeypatch):
    crash_before_step(monkeypatch, 4)  # after the pivot, like a publish of step 4 failing in an outage
    customer = create_user("customer")
    payload = order_payload(customer)

    with pytest.raises(RuntimeError, match="bug in a step task"):
        start_saga("create_order", payload)
    [started] = list_sagas(customer_id=customer)[0]
    saga = get_saga(started["saga_id"])
    assert saga is not None
    assert (saga["status"], saga["current_step"]) == ("STARTED", "arm_accept_timeout"), saga

    monkeypatch.undo()
    resume(REGISTRY["create_order"], started["saga_id"], "STARTED", 4)  # what the sweeper does
    assert wait_for_saga(started["saga_id"], timeout=5)["status"] == "COMPLETED"
