"""A step task that crashed, failed to publish, or was delivered again: the saga still ends right."""
from __future__ import annotations

from saga_workers.engine.runner import Next


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
