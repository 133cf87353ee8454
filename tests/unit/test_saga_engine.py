"""The generic engine walking a scripted saga forward and backward (no I/O: a fake store)."""
from __future__ import annotations

from collections import defaultdict, deque

import pytest

from campus_common.config import Settings
from campus_common.http import BusinessRefusal, InfrastructureFault
from saga_workers.engine.context import StepContext
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.runner import Next, SagaRunner, backoff
from saga_workers.engine.walk import walk
from tests.unit.fake_store import FakeStore

SETTINGS = Settings(saga_step_retry_limit=3, saga_compensation_retry_limit=3, saga_retriable_step_retry_limit=5,
                    saga_retry_backoff_base_seconds=0.5, saga_retry_backoff_max_seconds=4.0)


class Participants:
    """Scripted answers per (step, phase): "ok", "refuse", "down" (connection refused), "timeout"."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.script: dict[tuple[str, str], deque[str]] = defaultdict(deque)

    def answer(self, step: str, *outcomes: str, phase: str = "action") -> None:
        self.script[(step, phase)].extend(outcomes)

    def __call__(self, ctx: StepContext) -> dict:
        self.calls.append((ctx.step, ctx.phase))
        queue = self.script[(ctx.step, ctx.phase)]
        outcome = queue.popleft() if queue else "ok"
        if outcome == "refuse":
            raise BusinessRefusal(402, "card_declined", "declined")
        if outcome in ("down", "timeout"):
            raise InfrastructureFault(outcome, outcome_unknown=outcome == "timeout")
        return {"done": ctx.step, "key": ctx.idempotency_key}


@pytest.fixture()
def world():
    participants = Participants()
    definition = SagaDefinition("demo", steps=[
        Step("reserve", participants, compensate=participants),
        Step("read", participants),
        Step("charge", participants, compensate=participants),
        Step("confirm", participants, pivot=True),
        Step("notify", participants),
    ])
    store = FakeStore(definition)
    store.create("s1", {"order_id": "o1"}, None)
    return participants, store, SagaRunner(definition, store, SETTINGS)


def drive(runner: SagaRunner, saga_id: str = "s1") -> Next:
    """Follow every verdict until the saga rests, as the Celery tasks do (the engine's own walk)."""
    return walk(runner, saga_id)


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


def test_a_step_task_that_failed_publishing_the_next_step_leaves_the_saga_for_the_sweeper(world):
    participants, store, runner = world
    for index in range(4):  # up to the pivot, done; then publishing "notify" fails (a broker outage)
        runner.run_step("s1", index)
    assert runner.recover("s1").next is Next.STOP
    assert store.load("s1").status == "STARTED", "a step that never ran needs no operator"
    assert runner.run_step("s1", 4).next is Next.COMPLETED  # what the sweeper's resume runs


def test_a_step_task_that_failed_publishing_its_retry_leaves_the_saga_for_the_sweeper(world):
    participants, store, runner = world
    participants.answer("confirm", "timeout")  # the pivot may have happened: never rolled back
    for index in range(3):
        runner.run_step("s1", index)
    assert runner.run_step("s1", 3).next is Next.RETRY  # ...and publishing that retry fails
    assert runner.recover("s1").next is Next.STOP
    assert store.load("s1").status == "STARTED"
    assert runner.run_step("s1", 3).next is Next.CONTINUE  # the sweeper's resume
    assert not [c for c in participants.calls if c[1] == "compensation"]


def test_a_step_task_that_crashed_mid_pivot_stops_for_an_operator_not_a_rollback(world):
    participants, store, runner = world
    for index in range(3):
        runner.run_step("s1", index)
    store.begin_action("s1", 3)  # the pivot RUNNING, then its task crashed: it may have happened
    assert runner.recover("s1").next is Next.FAILED
    assert store.load("s1").status == "FAILED"


def test_a_step_task_that_crashed_mid_step_before_the_pivot_is_rolled_back(world):
    participants, store, runner = world
    runner.run_step("s1", 0)
    store.begin_action("s1", 1)
    assert runner.recover("s1").next is Next.COMPENSATE
    assert store.load("s1").status == "COMPENSATING"


def test_a_step_task_that_crashed_mid_step_after_the_pivot_stops_for_an_operator(world):
    participants, store, runner = world
    for index in range(4):
        runner.run_step("s1", index)
    store.begin_action("s1", 4)  # RUNNING, then its task crashed
    assert runner.recover("s1").next is Next.FAILED
    assert store.load("s1").status == "FAILED"


def test_a_redelivered_step_is_skipped_and_the_chain_goes_on(world):
    participants, store, runner = world
    assert runner.run_step("s1", 0).next is Next.CONTINUE
    assert runner.run_step("s1", 0).next is Next.CONTINUE, "redelivery of a done step"
    assert participants.calls == [("reserve", "action")]


def test_a_step_of_a_compensating_saga_stops_the_chain(world):
    participants, store, runner = world
    participants.answer("reserve", "refuse")
    assert runner.run_step("s1", 0).next is Next.COMPENSATE
    assert runner.run_step("s1", 1).next is Next.STOP
    assert participants.calls == [("reserve", "action")]


def test_definitions_reject_compensation_after_the_pivot():
    noop = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="cannot compensate"):
        SagaDefinition("bad", steps=[Step("pivot", noop, pivot=True), Step("after", noop, compensate=noop)])
    with pytest.raises(ValueError, match="unique"):
        SagaDefinition("bad", steps=[Step("a", noop), Step("a", noop)])


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


def test_a_step_needing_a_step_that_is_not_before_it_fails_at_definition():
    noop = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="'charge' needs 'quote', which is not an earlier step"):
        SagaDefinition("bad", steps=[Step("charge", noop, needs=("quote",)), Step("quote", noop)])
    with pytest.raises(ValueError, match="needs 'renamed'"):
        SagaDefinition("bad", steps=[Step("quote", noop), Step("charge", noop, needs=("renamed",))])


@pytest.mark.parametrize("saga_type", ["create_order", "accept_order", "cancel_order", "complete_order"])
def test_every_registered_saga_names_only_earlier_steps_it_needs(saga_type):
    from saga_workers.sagas import REGISTRY

    definition = REGISTRY[saga_type]
    for index, step in enumerate(definition.steps):
        assert set(step.needs) <= {s.name for s in definition.steps[:index]}


def test_a_step_reading_an_output_it_did_not_declare_is_refused_not_given_nothing():
    from saga_workers.engine.context import UndeclaredNeed

    read = []
    definition = SagaDefinition("typed", steps=[
        Step("quote", lambda ctx: {"amount": "4.20"}),
        Step("charge", lambda ctx: read.append(ctx.output_of("quote")), needs=("quote",)),
        Step("notify", lambda ctx: ctx.output_of("charge")),  # reads "charge" without declaring it
    ])
    store = FakeStore(definition)
    store.create("s1", {}, None)
    runner = SagaRunner(definition, store, SETTINGS)
    assert runner.run_step("s1", 0).next is Next.CONTINUE
    assert runner.run_step("s1", 1).next is Next.CONTINUE
    assert read == [{"amount": "4.20"}]
    ctx = StepContext("s1", "typed", "notify", "action", {}, {"charge": {"paid": True}}, SETTINGS,
                      needs=definition.step(2).needs)
    with pytest.raises(UndeclaredNeed, match="add needs=\\('charge',\\)"):
        definition.step(2).action(ctx)


def test_a_typed_record_is_stored_as_its_fields_and_read_back_as_the_record():
    from saga_workers.steps.records import OrderSummary

    seen = []
    definition = SagaDefinition("typed", steps=[
        Step("create", lambda ctx: OrderSummary("o1", "PENDING", "12.50")),
        Step("pay", lambda ctx: seen.append(ctx.output_of("create", OrderSummary)), needs=("create",)),
    ])
    store = FakeStore(definition)
    store.create("s1", {}, None)
    runner = SagaRunner(definition, store, SETTINGS)
    assert runner.run_step("s1", 0).next is Next.CONTINUE
    assert store.load("s1").step_outputs["create"] == {"order_id": "o1", "status": "PENDING", "total": "12.50"}
    assert runner.run_step("s1", 1).next is Next.COMPLETED
    assert seen == [OrderSummary("o1", "PENDING", "12.50")]
