"""A step recorded done together with the next step's attempt (one transaction per step), handed on."""
from __future__ import annotations

from saga_workers.engine.runner import Next, SagaRunner
from saga_workers.engine.walk import walk
from tests.unit.fake_store import FakeStore


def drive_claimed(runner: SagaRunner, saga_id: str = "s1") -> Next:
    """What the Celery step tasks do in a chain: pass each verdict's claim to the next step."""
    return walk(runner, saga_id, claim_next=True)


def attempts(store: FakeStore) -> list[tuple[str, str, int, str]]:
    return [(r.step_name, r.phase, r.attempt, r.status) for r in store.log("s1")]


def test_claimed_steps_run_once_each_with_one_attempt(world) -> None:
    participants, store, runner = world
    assert drive_claimed(runner) is Next.COMPLETED
    names = ["reserve", "read", "charge", "confirm", "notify"]
    assert participants.calls == [(name, "action") for name in names]
    assert attempts(store) == [(name, "action", 1, "DONE") for name in names]
    assert store.load("s1").status == "COMPLETED"


def test_a_claimed_step_refused_is_not_compensated(world) -> None:
    participants, store, runner = world
    participants.answer("charge", "refuse")
    assert drive_claimed(runner) is Next.COMPENSATED
    assert participants.calls == [("reserve", "action"), ("read", "action"), ("charge", "action"),
                                  ("reserve", "compensation")]
    assert ("charge", "action", 1, "REFUSED") in attempts(store)


def test_a_claimed_step_retried_after_a_fault_gets_a_new_attempt(world) -> None:
    participants, store, runner = world
    participants.answer("read", "down")
    assert drive_claimed(runner) is Next.COMPLETED
    assert [(n, a, s) for n, _, a, s in attempts(store) if n == "read"] == [("read", 1, "FAILED"), ("read", 2, "DONE")]


def test_a_claim_the_saga_no_longer_waits_for_calls_nobody(world) -> None:
    participants, store, runner = world
    verdict = runner.run_step("s1", 0, claim_next=True)
    store.start_compensating("s1", 1, "cancelled by an operator")  # e.g. an operator's cancel meanwhile
    assert runner.run_step("s1", 1, verdict.claimed, claim_next=True).next is Next.STOP
    assert participants.calls == [("reserve", "action")]
