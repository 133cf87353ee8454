"""What comes next after an attempt: the engine's one decision, with explicit result types.

Pure functions of the definition, the settings and what the attempt did: no store, no Celery. The
runner records what they decide; the Celery tasks and the unit tests' driver act on the verdict.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import DBAPIError

from campus_common.config import Settings
from campus_common.http import BusinessRefusal, InfrastructureFault
from saga_workers.engine.context import StepRefused
from saga_workers.engine.definition import SagaDefinition

log = logging.getLogger("saga_workers.engine.runner")


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
    claimed: int | None = None  # log id of the next step's attempt, recorded ahead (see SagaRunner.run_step)


class Failure(Enum):
    """How an attempt failed: a refusal is final; a fault may be retried."""

    REFUSAL = "refusal"  # a participant's 4xx, or a StepRefused: never retried
    FAULT = "fault"      # nothing happened (connection refused): retried
    UNKNOWN = "unknown"  # may have happened (timeout, 5xx, connection lost after sending): retried

    @property
    def refused(self) -> bool:
        """A business refusal."""
        return self is Failure.REFUSAL

    @property
    def outcome_unknown(self) -> bool:
        """The call may have taken effect: it counts as maybe done for compensation."""
        return self is Failure.UNKNOWN


def classify(exc: Exception) -> Failure:
    """Which kind of failure ``exc`` is; anything unexpected is a fault that may have happened."""
    if isinstance(exc, (BusinessRefusal, StepRefused)):
        return Failure.REFUSAL
    if isinstance(exc, InfrastructureFault):
        return Failure.UNKNOWN if exc.outcome_unknown else Failure.FAULT
    if isinstance(exc, DBAPIError):
        return Failure.UNKNOWN
    log.exception("unexpected error in a saga step; treated as a fault", exc_info=exc)
    return Failure.UNKNOWN


def backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    ceiling = min(settings.saga_retry_backoff_max_seconds,
                  settings.saga_retry_backoff_base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def after_action_failure(definition: SagaDefinition, index: int, attempt: int, failure: Failure,
                         settings: Settings) -> Verdict:
    """A step's action failed: RETRY within its bound, else COMPENSATE (before the pivot) or FAILED."""
    rolls_back = definition.compensates_on_failure(index)
    limit = settings.saga_step_retry_limit if rolls_back else settings.saga_retriable_step_retry_limit
    if not failure.refused and attempt < limit:
        return Verdict(Next.RETRY, backoff(attempt, settings))
    step = definition.step(index)
    if rolls_back and (failure.refused or not (step.pivot or step.stop_on_fault)):
        return Verdict(Next.COMPENSATE)
    # Past the pivot nothing is undone. Neither is anything when the pivot itself cannot be
    # reached: only a participant's "no" rolls a saga back from its point of no return (an
    # outage there would undo work, such as a payout, that an operator's retry completes).
    return Verdict(Next.FAILED)


def after_compensation_failure(attempt: int, failure: Failure, settings: Settings) -> Verdict:
    """A compensation failed: RETRY within its bound, else FAILED for an operator."""
    if not failure.refused and attempt < settings.saga_compensation_retry_limit:
        return Verdict(Next.RETRY, backoff(attempt, settings))
    return Verdict(Next.FAILED)


def after_crash(definition: SagaDefinition, index: int, attempt_status: str | None) -> Next:
    """A step task crashed around step ``index`` (its latest attempt's status, None if none): what now.

    STOP when the attempt was recorded, or past the pivot the step never ran: the task failed
    around the step, publishing its retry or the next step (a broker outage), and the sweeper
    publishes it again. A crash mid-step at the pivot may have done it: FAILED for an operator
    (no refunded payouts); a step before it that crashed or never ran is rolled back (COMPENSATE).
    """
    rolls_back = definition.compensates_on_failure(index)
    if (attempt_status is not None and attempt_status != "RUNNING") or (attempt_status is None and not rolls_back):
        return Next.STOP
    step = definition.step(index)
    if rolls_back and (attempt_status is None or not (step.pivot or step.stop_on_fault)):
        return Next.COMPENSATE
    return Next.FAILED
