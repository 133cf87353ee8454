"""What a definition refuses when it is built, and what a step may read of earlier steps."""
from __future__ import annotations

import pytest

from saga_workers.engine.context import StepContext
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.runner import Next, SagaRunner
from tests.unit.fake_store import FakeStore
from tests.unit.scripted_saga import SETTINGS


def test_definitions_reject_compensation_after_the_pivot():
    noop = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="cannot compensate"):
        SagaDefinition("bad", steps=[Step("pivot", noop, pivot=True), Step("after", noop, compensate=noop)])
    with pytest.raises(ValueError, match="unique"):
        SagaDefinition("bad", steps=[Step("a", noop), Step("a", noop)])


def test_a_step_needing_a_step_that_is_not_before_it_fails_at_definition():
    noop = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="'charge' needs 'quote', which is not an earlier step"):
        SagaDefinition("bad", steps=[Step("charge", noop, needs=("quote",)), Step("quote", noop)])
    with pytest.raises(ValueError, match="needs 'renamed'"):
        SagaDefinition("bad", steps=[Step("quote", noop), Step("charge", noop, needs=("renamed",))])



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
    assert store.sagas["s1"].step_outputs["create"] == {"order_id": "o1", "status": "PENDING", "total": "12.50"}
    assert runner.run_step("s1", 1).next is Next.COMPLETED
    assert seen == [OrderSummary("o1", "PENDING", "12.50")]
