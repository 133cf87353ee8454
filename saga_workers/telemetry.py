"""The workers' logs and metrics of sagas: one line and one histogram sample per attempt, one line per ending.

Every attempt runs with its saga, step, phase, attempt number and the request id that started the
saga bound to the log context, so a participant call carries that request id (X-Request-ID) and
every line logged meanwhile says which order it belongs to.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from campus_common import logs
from campus_common.http import BusinessRefusal
from saga_workers import metrics
from saga_workers.engine.context import StepContext, StepRefused
from saga_workers.engine.observer import StepObserver
from saga_workers.engine.runner import Next
from saga_workers.engine.store import Attempt, SagaStore

log = logging.getLogger("saga_workers.saga")
ENDINGS = {Next.COMPLETED: "completed", Next.COMPENSATED: "compensated", Next.FAILED: "failed"}


class Telemetry(StepObserver):
    """Logs and measures every attempt of every step."""

    @contextmanager
    def attempt(self, ctx: StepContext, attempt: Attempt) -> Iterator[None]:
        fields = dict(saga_id=ctx.saga_id, saga_type=ctx.saga_type, step=ctx.step, phase=ctx.phase,
                      attempt=attempt.number)
        if attempt.request_id:
            fields["request_id"] = attempt.request_id
        outcome, started = "done", time.perf_counter()
        with logs.bound(**fields):
            try:
                yield
            except (BusinessRefusal, StepRefused):
                outcome = "refused"
                raise
            except Exception:
                outcome = "fault"
                raise
            finally:
                seconds = time.perf_counter() - started
                metrics.step_finished(ctx.saga_type, ctx.step, ctx.phase, outcome, seconds)
                log.info("%s %s %s attempt %d: %s in %.1f ms", ctx.saga_type, ctx.step, ctx.phase, attempt.number,
                         outcome, seconds * 1000, extra={"outcome": outcome, "duration_ms": round(seconds * 1000, 1)})

    def retrying(self, ctx: StepContext) -> None:
        metrics.step_retrying(ctx.saga_type, ctx.step, ctx.phase)


TELEMETRY = Telemetry()


def saga_ended(store: SagaStore, saga_id: str, verdict: Next) -> str | None:
    """Count and log a saga that reached an end; returns its error (None when it completed)."""
    outcome = ENDINGS.get(verdict)
    if outcome is None:
        return None
    saga_type = store.definition.saga_type
    metrics.saga_ended(saga_type, outcome)
    if verdict is Next.COMPLETED:
        log.info("%s saga %s completed", saga_type, saga_id, extra={"outcome": outcome})
        return None
    row = store.load(saga_id)  # only for the sagas that did not complete: their error and request
    error = (row.error if row else None) or "unknown error"
    level = logging.ERROR if verdict is Next.FAILED else logging.WARNING
    with logs.bound(request_id=(row.request_id if row else None) or logs.current_request_id()):
        log.log(level, "%s saga %s %s: %s", saga_type, saga_id, outcome.upper(), error,
                extra={"outcome": outcome, "error": error})
    return error
