"""A scripted saga for the engine's unit tests: participants answering as told, and the walk that drives it."""
from __future__ import annotations

from collections import defaultdict, deque

from campus_common.config import Settings
from campus_common.http import BusinessRefusal, InfrastructureFault
from saga_workers.engine.context import StepContext
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.runner import Next, SagaRunner
from saga_workers.engine.walk import walk


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


def demo_saga(participants: Participants) -> SagaDefinition:
    """Two compensatable steps around a plain read, then the pivot, then a retriable notify."""
    return SagaDefinition("demo", steps=[
        Step("reserve", participants, compensate=participants),
        Step("read", participants),
        Step("charge", participants, compensate=participants),
        Step("confirm", participants, pivot=True),
        Step("notify", participants),
    ])


def drive(runner: SagaRunner, saga_id: str = "s1") -> Next:
    """Follow every verdict until the saga rests, as the Celery tasks do (the engine's own walk)."""
    return walk(runner, saga_id)
