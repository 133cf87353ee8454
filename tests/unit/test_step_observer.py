"""The runner tells its observer about every attempt (how it ended) and every retry; logs and metrics hang on it."""
from __future__ import annotations

from contextlib import contextmanager

from saga_workers.engine.context import StepContext
from saga_workers.engine.observer import StepObserver
from saga_workers.engine.runner import Next, SagaRunner
from saga_workers.engine.store import Attempt
from tests.unit.scripted_saga import SETTINGS, drive


class Recorder(StepObserver):
    def __init__(self) -> None:
        self.attempts: list[tuple[str, str, int, str]] = []
        self.retries: list[tuple[str, str]] = []

    @contextmanager
    def attempt(self, ctx: StepContext, attempt: Attempt):
        try:
            yield
        except Exception as exc:
            self.attempts.append((ctx.step, ctx.phase, attempt.number, type(exc).__name__))
            raise
        self.attempts.append((ctx.step, ctx.phase, attempt.number, "ok"))

    def retrying(self, ctx: StepContext) -> None:
        self.retries.append((ctx.step, ctx.phase))


def test_every_attempt_and_retry_is_observed_forward_and_backward(world):
    participants, store, runner = world
    recorder = Recorder()
    observed = SagaRunner(runner.definition, store, SETTINGS, observer=recorder)
    participants.answer("charge", "down", "refuse")
    participants.answer("reserve", "timeout", phase="compensation")

    assert drive(observed) is Next.COMPENSATED

    assert recorder.attempts == [
        ("reserve", "action", 1, "ok"), ("read", "action", 1, "ok"),
        ("charge", "action", 1, "InfrastructureFault"), ("charge", "action", 2, "BusinessRefusal"),
        ("reserve", "compensation", 1, "InfrastructureFault"), ("reserve", "compensation", 2, "ok")]
    assert recorder.retries == [("charge", "action"), ("reserve", "compensation")]


def test_without_an_observer_the_runner_tells_no_one(world):
    _, _, runner = world

    assert type(runner.observer) is StepObserver
    assert drive(runner) is Next.COMPLETED
