"""The generic engine walking a scripted saga forward and backward (no I/O: a fake store)."""
from __future__ import annotations

import pytest

from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.runner import Next, SagaRunner, backoff
from tests.unit.fake_store import FakeStore
from tests.unit.scripted_saga import SETTINGS, Participants, drive


def test_success_runs_every_step_once_in_order(world):
    participants, store, runner = world
    assert drive(runner) is Next.COMPLETED
    assert participants.calls == [(s, "action") for s in ("reserve", "read", "charge", "confirm", "notify")]
    saga = store.load("s1")
    assert saga.status == "COMPLETED"
    assert saga.step_outputs["charge"]["key"] == "s1:charge:action"


@pytest.mark.parametrize("refused, undone", [
    ("reserve", []),
    ("read", ["reserve"]),
    ("charge", ["reserve"]),
    ("confirm", ["charge", "reserve"]),
])
def test_a_refusal_compensates_what_took_effect_in_reverse(world, refused, undone):
    participants, store, runner = world
    participants.answer(refused, "refuse")
    assert drive(runner) is Next.COMPENSATED
    compensations = [step for step, phase in participants.calls if phase == "compensation"]
    assert compensations == undone
    assert participants.calls.count((refused, "action")) == 1, "a refusal is never retried"
    assert store.load("s1").status == "COMPENSATED"
    assert "card_declined" in store.load("s1").error


def test_outage_then_recovery_retries_and_completes(world):
    participants, store, runner = world
    participants.answer("charge", "down", "down")
    assert drive(runner) is Next.COMPLETED
    assert participants.calls.count(("charge", "action")) == 3
    assert store.load("s1").status == "COMPLETED"


def test_outage_past_the_bound_compensates_without_undoing_a_call_that_never_landed(world):
    participants, store, runner = world
    participants.answer("charge", "down", "down", "down")
    assert drive(runner) is Next.COMPENSATED
    assert participants.calls.count(("charge", "action")) == SETTINGS.saga_step_retry_limit
    assert [s for s, p in participants.calls if p == "compensation"] == ["reserve"]


def test_a_timed_out_call_counts_as_maybe_done_and_is_compensated(world):
    participants, store, runner = world
    participants.answer("charge", "timeout", "down", "down")
    assert drive(runner) is Next.COMPENSATED
    assert [s for s, p in participants.calls if p == "compensation"] == ["charge", "reserve"]


def test_compensation_failing_past_its_bound_leaves_the_saga_failed(world):
    participants, store, runner = world
    participants.answer("confirm", "refuse")
    participants.answer("charge", "down", "down", "down", phase="compensation")
    assert drive(runner) is Next.FAILED
    saga = store.load("s1")
    assert (saga.status, saga.failed_phase) == ("FAILED", "compensation")
    assert "compensating charge" in saga.error
    assert ("reserve", "compensation") not in participants.calls, "compensation stops where it failed"


def test_a_refused_compensation_fails_at_once(world):
    participants, store, runner = world
    participants.answer("confirm", "refuse")
    participants.answer("charge", "refuse", phase="compensation")
    assert drive(runner) is Next.FAILED
    assert participants.calls.count(("charge", "compensation")) == 1


def test_steps_after_the_pivot_retry_and_never_compensate(world):
    participants, store, runner = world
    participants.answer("notify", "down", "down", "down", "down")
    assert drive(runner) is Next.COMPLETED
    assert participants.calls.count(("notify", "action")) == 5
    assert not [c for c in participants.calls if c[1] == "compensation"]


def test_a_step_after_the_pivot_that_never_succeeds_fails_visibly(world):
    participants, store, runner = world
    participants.answer("notify", *["down"] * SETTINGS.saga_retriable_step_retry_limit)
    assert drive(runner) is Next.FAILED
    saga = store.load("s1")
    assert (saga.status, saga.failed_phase) == ("FAILED", "action")
    assert not [c for c in participants.calls if c[1] == "compensation"]


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10])
def test_backoff_grows_with_jitter_and_is_capped(attempt):
    ceiling = min(SETTINGS.saga_retry_backoff_max_seconds, SETTINGS.saga_retry_backoff_base_seconds * 2 ** (attempt - 1))
    values = {backoff(attempt, SETTINGS) for _ in range(50)}
    assert all(ceiling / 2 <= v <= ceiling for v in values)
    assert len(values) > 1, "jitter spreads retries"


@pytest.mark.parametrize("faults", [("timeout", "down", "down"), ("down", "down", "down")])
def test_an_unreachable_pivot_is_left_for_an_operator_not_rolled_back(world, faults):
    participants, store, runner = world
    participants.answer("confirm", *faults)
    assert drive(runner) is Next.FAILED
    saga = store.load("s1")
    assert (saga.status, saga.failed_phase) == ("FAILED", "action")
    assert not [c for c in participants.calls if c[1] == "compensation"]
    assert "confirm" in saga.error


def test_a_stop_on_fault_step_is_left_for_an_operator_on_outage_but_rolled_back_on_refusal():
    participants = Participants()
    definition = SagaDefinition("pay", steps=[
        Step("reserve", participants, compensate=participants),
        Step("capture", participants, compensate=participants, stop_on_fault=True),
        Step("confirm", participants, pivot=True),
    ])
    outage, refusal = FakeStore(definition), FakeStore(definition)
    outage.create("s1", {}, None)
    refusal.create("s1", {}, None)
    participants.answer("capture", "timeout", "down", "down")
    assert drive(SagaRunner(definition, outage, SETTINGS)) is Next.FAILED
    assert not [c for c in participants.calls if c[1] == "compensation"]
    participants.calls.clear()
    participants.answer("confirm", "refuse")
    assert drive(SagaRunner(definition, refusal, SETTINGS)) is Next.COMPENSATED
    assert [s for s, p in participants.calls if p == "compensation"] == ["capture", "reserve"]
