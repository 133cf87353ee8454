"""The walk: run one step forward, or the compensations backward, and say what comes next.

Pure orchestration over a ``StepStore`` (SagaStore in production): no Celery here, so it is unit-tested with fakes and
driven by Celery tasks (or anything else) in production.
"""
from __future__ import annotations

import logging
from typing import Generic, TypeVar

from campus_common.config import Settings
from saga_workers.engine.context import StepContext, output_json
from saga_workers.engine.decision import (Failure, Next, Verdict, after_action_failure, after_compensation_failure,
                                          after_crash, backoff, classify)
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.observer import StepObserver
from saga_workers.engine.status import SagaStatus
from saga_workers.engine.step_store import StepStore
from saga_workers.engine.store import ACTION, COMPENSATION, Attempt, Undone

__all__ = ["Failure", "Next", "SagaRunner", "Verdict", "backoff", "classify", "describe"]
log = logging.getLogger(__name__)
S = TypeVar("S", bound=StepStore)  # SagaStore in production, a fake in unit tests


def describe(exc: Exception) -> str:
    """A one-line error for the saga row and the step log."""
    return f"{type(exc).__name__}: {exc}"


class SagaRunner(Generic[S]):
    """Runs one saga type's steps and compensations against its store."""

    def __init__(self, definition: SagaDefinition, store: S, settings: Settings,
                 observer: StepObserver | None = None) -> None:
        self.definition, self.store, self.settings = definition, store, settings
        self.observer = observer or StepObserver()

    def _context(self, saga_id: str, attempt: Attempt, phase: str) -> StepContext:
        step = self.definition.step(attempt.step_index)
        return StepContext(saga_id=saga_id, saga_type=self.definition.saga_type, step=step.name, phase=phase,
                           payload=attempt.payload, outputs=attempt.outputs, settings=self.settings,
                           needs=step.needs)

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
                output = output_json(step.action(ctx))  # a typed record is stored as its fields
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
        if row is not None and row.status in (SagaStatus.STARTED, SagaStatus.COMPLETED) and row.current_step > index:
            return Verdict(Next.CONTINUE)  # a redelivered step already done: the chain goes on
        return Verdict(Next.STOP)

    def _action_failed(self, saga_id: str, attempt: Attempt, exc: Exception) -> Verdict:
        failure = classify(exc)
        error = f"{self.definition.step(attempt.step_index).name}: {describe(exc)}"
        self.store.fail_attempt(attempt, error, refused=failure.refused, outcome_unknown=failure.outcome_unknown)
        verdict = after_action_failure(self.definition, attempt.step_index, attempt.number, failure, self.settings)
        if verdict.next is Next.RETRY:
            self.observer.retrying(self._context(saga_id, attempt, ACTION))
        elif verdict.next is Next.COMPENSATE:
            started = self.store.start_compensating(saga_id, attempt.step_index, error)
            return verdict if started else Verdict(Next.STOP)
        elif verdict.next is Next.FAILED:
            self.store.mark_failed(saga_id, ACTION, error)
        return verdict

    def compensate(self, saga_id: str) -> Verdict:
        """Run the pending compensations, last step first, until done, a retry, or failure."""
        while True:
            attempt = self.store.begin_compensation(saga_id)
            if attempt is None:
                return Verdict(Next.STOP)
            if attempt is Undone.ALL:
                return Verdict(Next.COMPENSATED)
            undo = self.definition.step(attempt.step_index).compensate
            assert undo is not None, "begin_compensation picks only steps that compensate"
            ctx = self._context(saga_id, attempt, COMPENSATION)
            try:
                with self.observer.attempt(ctx, attempt):
                    undo(ctx)
            except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
                return self._compensation_failed(saga_id, attempt, exc)
            self.store.finish_compensation(attempt)

    def _compensation_failed(self, saga_id: str, attempt: Attempt, exc: Exception) -> Verdict:
        failure = classify(exc)
        error = f"compensating {self.definition.step(attempt.step_index).name}: {describe(exc)}"
        self.store.fail_attempt(attempt, error, refused=failure.refused, outcome_unknown=failure.outcome_unknown)
        verdict = after_compensation_failure(attempt.number, failure, self.settings)
        if verdict.next is Next.RETRY:
            self.observer.retrying(self._context(saga_id, attempt, COMPENSATION))
        else:
            self.store.mark_failed(saga_id, COMPENSATION, error)
        return verdict

    def recover(self, saga_id: str) -> Verdict:
        """After a step task failed: resume, roll back or stop for an operator, by what the step did."""
        row = self.store.load(saga_id)
        if row is None:
            return Verdict(Next.STOP)
        if row.status == SagaStatus.COMPENSATING:
            return Verdict(Next.COMPENSATE)
        if row.status != SagaStatus.STARTED:
            return Verdict(Next.STOP)
        index = row.current_step
        step = self.definition.step(index)
        attempt = self.store.attempt_status(saga_id, index)
        decided = after_crash(self.definition, index, attempt)
        if decided is Next.STOP:
            log.warning("saga %s: a step task failed around step %s (attempt %s); left for the sweeper",
                        saga_id, step.name, attempt or "none")
            return Verdict(Next.STOP)
        error = f"{step.name}: the step task failed unexpectedly"
        if decided is Next.COMPENSATE:
            started = self.store.start_compensating(saga_id, index, error)
            return Verdict(Next.COMPENSATE if started else Next.STOP)
        self.store.mark_failed(saga_id, ACTION, error)
        return Verdict(Next.FAILED)
