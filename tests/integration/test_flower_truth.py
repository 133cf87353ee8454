"""What Flower shows is true: every saga task ends in a final state, read from the worker's own events.

The events are folded into ``celery.events.state.State``, the model Flower itself keeps, so a task
that would sit STARTED in Flower's task list sits STARTED here too.
"""
from __future__ import annotations

import ast
import threading
import time
from collections.abc import Iterator

import pytest
from celery.events.receiver import EventReceiver
from celery.events.state import State

from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order_payload, wait_for_saga

FINAL_STATES = ("SUCCESS", "FAILURE")


class EventLog:
    """Task events from the broker, as Flower receives them, folded into Flower's State."""

    def __init__(self, app) -> None:
        self.app, self.state = app, State()
        self._receiver: EventReceiver | None = None
        self._probed = threading.Event()
        self._thread = threading.Thread(target=self._consume, daemon=True, name="events-capture")

    def _consume(self) -> None:
        with self.app.connection_for_read() as connection:
            self._receiver = self.app.events.Receiver(connection, handlers={"*": self._on_event})
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def _on_event(self, event: dict) -> None:
        if event["type"] == "campus-probe":
            self._probed.set()
        else:
            self.state.event(event)

    def start(self) -> None:
        """Subscribe, and return once an event sent now comes back (events sent earlier are lost)."""
        self._thread.start()
        with self.app.events.default_dispatcher() as dispatcher:
            for _ in range(100):
                dispatcher.send("campus-probe")
                if self._probed.wait(0.1):
                    return
        raise AssertionError("the event subscription did not start within 10 s")

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(timeout=5)

    def tasks_of(self, saga_id: str) -> list:
        """This saga's tasks, in the order they were received."""
        found = [task for _, task in self.state.tasks_by_time(reverse=False) if saga_id in (task.args or "")]
        return sorted(found, key=lambda task: task.received or task.timestamp or 0)

    def settled(self, saga_id: str, count: int, timeout: float = 10.0) -> list:
        """Wait until ``count`` tasks of the saga were seen and all of them reached a final state."""
        deadline = time.monotonic() + timeout
        while True:
            tasks = self.tasks_of(saga_id)
            if len(tasks) >= count and all(task.state in FINAL_STATES for task in tasks):
                time.sleep(0.3)  # a link published after a verdict would show up by now
                return self.tasks_of(saga_id)
            if time.monotonic() > deadline:
                return tasks
            time.sleep(0.05)


@pytest.fixture()
def events(saga_app, worker) -> Iterator[EventLog]:
    log = EventLog(saga_app)
    log.start()
    yield log
    log.stop()


def summary(tasks: list) -> list[tuple[str, str, str]]:
    return [(task.name.rsplit(".", 1)[1], task.state, task.result or task.exception or "") for task in tasks]


def test_a_completed_saga_shows_every_step_task_succeeded(events):
    saga_id = start_saga("create_order", order_payload(create_user("customer"))).saga_id
    assert wait_for_saga(saga_id)["status"] == "COMPLETED"

    tasks = events.settled(saga_id, 6)

    assert summary(tasks) == [("run_step", "SUCCESS", "'continue'")] * 5 + [("run_step", "SUCCESS", "'completed'")]


def test_a_refused_step_ends_its_chain_succeeded_and_compensation_succeeds(events):
    customer = create_user("customer", card_token="tok_chargeDeclined")
    saga_id = start_saga("create_order", order_payload(customer)).saga_id
    assert wait_for_saga(saga_id)["status"] == "COMPENSATED"

    tasks = events.settled(saga_id, 4)

    # authorize_payment (step 2) was refused: steps 3-5 are never published, compensation runs once.
    assert summary(tasks) == [("run_step", "SUCCESS", "'continue'"), ("run_step", "SUCCESS", "'continue'"),
                              ("run_step", "SUCCESS", "'compensate'"), ("compensate", "SUCCESS", "'compensated'")]
    assert [list(ast.literal_eval(task.args)) for task in tasks[:3]] == [[saga_id, index] for index in range(3)]


def test_a_failed_saga_shows_as_a_failure_with_its_error(events, live_participants):
    customer = create_user("customer")
    with live_participants.notification_service.down():  # the last step, after the pivot, cannot finish
        saga = wait_for_saga(start_saga("create_order", order_payload(customer)).saga_id, timeout=60)
    assert saga["status"] == "FAILED"

    tasks = events.settled(saga["saga_id"], 6)

    assert [task.state for task in tasks] == ["SUCCESS"] * 5 + ["FAILURE"]
    assert "is FAILED: notify:" in tasks[-1].exception
    assert not [task for task in tasks if task.name.endswith("on_step_error")], "the failure is not a crash"
    assert tasks[-1].retries >= 1, "the notify step was retried (RETRY) under the same task id before it failed"
