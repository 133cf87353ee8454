"""The walk: run one step forward, or the compensations backward, and say what comes next.

Pure orchestration over a ``SagaStore``: no Celery here, so it is unit-tested with fakes and
driven by Celery tasks (or anything else) in production.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import DBAPIError

from campus_common.config import Settings
from campus_common.http import BusinessRefusal, InfrastructureFault
from saga_workers.engine.context import StepContext, StepRefused
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.observer import StepObserver
from saga_workers.engine.store import ACTION, COMPENSATION, Attempt, SagaStore

log = logging.getLogger(__name__)


class Next(Enum):
    """What the caller does after one call into the engine."""

    CONTINUE = "continue"        # the step is done (now or before): run the next one
    COMPLETED = "completed"      # the saga finished
    STOP = "stop"                # nothing to do here (the saga is elsewhere or finished)
    RETRY = "retry"              # try the same call again after ``countdown``
    COMPENSATE = "compensate"    # start compensation
    COMPENSATED = "compensated"  # compensation finished
    FAILED = "failed"            # stopped for an operator


@dataclass(frozen=True)
class Verdict:
    """The engine's answer: what next, and after how long for a retry."""

    next: Next
    countdown: float = 0.0
    claimed: int | None = None  # log id of the next step's attempt, recorded ahead (see run_step)


def classify(exc: Exception) -> tuple[bool, bool]:
    """Return (refused, outcome_unknown): a refusal is final; a fault may be retried."""
    if isinstance(exc, (BusinessRefusal, StepRefused)):
        return True, False
    if isinstance(exc, InfrastructureFault):
        return False, exc.outcome_unknown
    if isinstance(exc, DBAPIError):
        return False, True
    log.exception("unexpected error in a saga step; treated as a fault", exc_info=exc)
    return False, True


def backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    ceiling = min(settings.saga_retry_backoff_max_seconds,
                  settings.saga_retry_backoff_base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def describe(exc: Exception) -> str:
    """A one-line error for the saga row and the step log."""
    return f"{type(exc).__name__}: {exc}"


class SagaRunner:
    """Runs one saga type's steps and compensations against its store."""

    def __init__(self, definition: SagaDefinition, store: SagaStore, settings: Settings,
                 observer: StepObserver | None = None) -> None:
        self.definition, self.store, self.settings = definition, store, settings
        self.observer = observer or StepObserver()

    def _context(self, saga_id: str, attempt: Attempt, phase: str) -> StepContext:
        return StepContext(saga_id=saga_id, saga_type=self.definition.saga_type,
                           step=self.definition.step(attempt.step_index).name, phase=phase,
                           payload=attempt.payload, outputs=attempt.outputs, settings=self.settings)

    def run_step(self, saga_id: str, index: int, claimed: int | None = None, claim_next: bool = False) -> Verdict:
        """Run step ``index`` once (if it is due) and record the outcome.

        ``claimed``: the attempt a previous step recorded ahead for this one (its log id); used when
        the saga still waits for it, else a new attempt is recorded as usual. ``claim_next``: the
        caller hands the next step its attempt (the verdict's ``claimed``), so recording this step
        done and the next one RUNNING is one transaction.
        """
        attempt = self.store.adopt(saga_id, index, claimed) if claimed is not None else None
        if attempt is None:
            attempt = self.store.begin_action(saga_id, index)
        if attempt is None:
            return self._not_due(saga_id, index)
        step = self.definition.step(index)
        ctx = self._context(saga_id, attempt, ACTION)
        try:
            with self.observer.attempt(ctx, attempt):
                output = step.action(ctx)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            return self._action_failed(saga_id, attempt, exc)
        last = index == len(self.definition.steps) - 1
        if claim_next and not last:
            advanced, following = self.store.finish_and_claim_next(saga_id, attempt, output)
            return Verdict(Next.CONTINUE, claimed=following.log_id if advanced and following else None)
        if not self.store.finish_action(saga_id, attempt, output):
            return Verdict(Next.CONTINUE)
        return Verdict(Next.COMPLETED if last else Next.CONTINUE)

    def _not_due(self, saga_id: str, index: int) -> Verdict:
        row = self.store.load(saga_id)
        if row is not None and row.status in ("STARTED", "COMPLETED") and row.current_step > index:
            return Verdict(Next.CONTINUE)  # a redelivered step already done: the chain goes on
        return Verdict(Next.STOP)

    def _action_failed(self, saga_id: str, attempt: Attempt, exc: Exception) -> Verdict:
        refused, unknown = classify(exc)
        error = f"{self.definition.step(attempt.step_index).name}: {describe(exc)}"
        self.store.fail_attempt(attempt, error, refused=refused, outcome_unknown=unknown)
        rolls_back = self.definition.compensates_on_failure(attempt.step_index)
        limit = (self.settings.saga_step_retry_limit if rolls_back
                 else self.settings.saga_retriable_step_retry_limit)
        if not refused and attempt.number < limit:
            self.observer.retrying(self._context(saga_id, attempt, ACTION))
            return Verdict(Next.RETRY, backoff(attempt.number, self.settings))
        step = self.definition.step(attempt.step_index)
        if rolls_back and (refused or not (step.pivot or step.stop_on_fault)):
            started = self.store.start_compensating(saga_id, attempt.step_index, error)
            return Verdict(Next.COMPENSATE if started else Next.STOP)
        # Past the pivot nothing is undone. Neither is anything when the pivot itself cannot be
        # reached: only a participant's "no" rolls a saga back from its point of no return (an
        # outage there would undo work, such as a payout, that an operator's retry completes).
        self.store.mark_failed(saga_id, ACTION, error)
        return Verdict(Next.FAILED)

    def compensate(self, saga_id: str) -> Verdict:
        """Run the pending compensations, last step first, until done, a retry, or failure."""
        while True:
            attempt = self.store.begin_compensation(saga_id)
            if attempt is None:
                return Verdict(Next.STOP)
            if attempt == "COMPENSATED":
                return Verdict(Next.COMPENSATED)
            step = self.definition.step(attempt.step_index)
            ctx = self._context(saga_id, attempt, COMPENSATION)
            try:
                with self.observer.attempt(ctx, attempt):
                    step.compensate(ctx)
            except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
                return self._compensation_failed(saga_id, attempt, exc)
            self.store.finish_compensation(attempt)

    def _compensation_failed(self, saga_id: str, attempt: Attempt, exc: Exception) -> Verdict:
        refused, unknown = classify(exc)
        error = f"compensating {self.definition.step(attempt.step_index).name}: {describe(exc)}"
        self.store.fail_attempt(attempt, error, refused=refused, outcome_unknown=unknown)
        if not refused and attempt.number < self.settings.saga_compensation_retry_limit:
            self.observer.retrying(self._context(saga_id, attempt, COMPENSATION))
            return Verdict(Next.RETRY, backoff(attempt.number, self.settings))
        self.store.mark_failed(saga_id, COMPENSATION, error)
        return Verdict(Next.FAILED)

    def recover(self, saga_id: str) -> Verdict:
        """After a step task failed: resume, roll back or stop for an operator, by what the step did."""
        row = self.store.load(saga_id)
        if row is None:
            return Verdict(Next.STOP)
        if row.status == "COMPENSATING":
            return Verdict(Next.COMPENSATE)
        if row.status != "STARTED":
            return Verdict(Next.STOP)
        index = row.current_step
        step = self.definition.step(index)
        attempt = self.store.attempt_status(saga_id, index)
        rolls_back = self.definition.compensates_on_failure(index)
        if (attempt is not None and attempt != "RUNNING") or (attempt is None and not rolls_back):
            # The step's attempt was recorded, or past the pivot the step never ran: the task failed
            # around the step, publishing its retry or the next step (a broker outage). Nothing needs
            # an operator or a rollback; the sweeper publishes the step again.
            log.warning("saga %s: a step task failed around step %s (attempt %s); left for the sweeper",
                        saga_id, step.name, attempt or "none")
            return Verdict(Next.STOP)
        error = f"{step.name}: the step task failed unexpectedly"
        # A crash mid-step at the pivot may have done it: as for an outage there, only an operator
        # decides (no refunded payouts); a step that never ran is rolled back like any other.
        if rolls_back and (attempt is None or not (step.pivot or step.stop_on_fault)):
            started = self.store.start_compensating(saga_id, index, error)
            return Verdict(Next.COMPENSATE if started else Next.STOP)
        self.store.mark_failed(saga_id, ACTION, error)
        return Verdict(Next.FAILED)
