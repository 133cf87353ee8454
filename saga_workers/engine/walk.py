"""A saga walked to rest in one process: what the Celery tasks do with each verdict, without a broker.

The tasks (``saga_workers.tasks``) act on the same verdicts across messages: CONTINUE publishes the
next link, RETRY re-delivers the call after its countdown, COMPENSATE publishes the compensation
task, anything else ends the chain. This is that loop in one call, for unit tests with fakes and
for tools; retries run at once, as under ``task_always_eager``.
"""
from __future__ import annotations

from collections.abc import Callable

from saga_workers.engine.decision import Next, Verdict
from saga_workers.engine.runner import SagaRunner


def walk(runner: SagaRunner, saga_id: str, index: int = 0, *, claim_next: bool = False) -> Next:
    """Run the saga from step ``index`` until it rests: COMPLETED, COMPENSATED, FAILED or STOP.

    ``claim_next``: hand each next step the attempt its predecessor recorded ahead, as a chain's
    links do (a retry records a new attempt instead).
    """
    claimed: int | None = None
    while True:
        verdict = runner.run_step(saga_id, index, claimed, claim_next=claim_next)
        if verdict.next is Next.RETRY:
            claimed = None
            continue
        if verdict.next is Next.CONTINUE:
            index, claimed = index + 1, verdict.claimed
            continue
        if verdict.next is Next.COMPENSATE:
            verdict = _until_not_retry(lambda: runner.compensate(saga_id))
        return verdict.next


def _until_not_retry(call: Callable[[], Verdict]) -> Verdict:
    verdict = call()
    while verdict.next is Next.RETRY:
        verdict = call()
    return verdict
