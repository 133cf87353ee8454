"""A saga is data: an ordered list of steps, each with an action and maybe a compensation."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from saga_workers.engine.context import StepContext
from saga_workers.engine.status import SagaStatus

Action = Callable[[StepContext], Any]  # a step record, a dict, or None


@dataclass(frozen=True)
class Step:
    """One step: ``action`` runs forward; ``compensate`` undoes it; ``pivot`` is the point of no return.

    ``stop_on_fault``: when faults outlast the retry bound, stop the saga FAILED at this step for an
    operator's retry instead of rolling back (the pivot always does). For a step whose undo does
    harm when the outcome is merely unknown, such as refunding a payout that may have gone through.
    A refusal still rolls back.
    """

    name: str
    action: Action
    compensate: Action | None = None
    pivot: bool = False
    stop_on_fault: bool = False
    needs: tuple[str, ...] = ()  # earlier steps whose outputs this one reads (checked at definition)


@dataclass(frozen=True)
class SagaDefinition:
    """A saga type: compensatable steps, then at most one pivot, then retriable steps.

    ``version`` names this list of steps; a saga runs with the version it started on. Left out, it
    is a digest of the steps' names and kinds, so any change to them is a new version.
    """

    saga_type: str
    steps: list[Step] = field(default_factory=list)
    version: str = ""

    def __post_init__(self) -> None:
        if not self.version:
            object.__setattr__(self, "version", self.digest)
        names = [step.name for step in self.steps]
        if not self.steps or len(set(names)) != len(names):
            raise ValueError(f"{self.saga_type}: steps must be non-empty with unique names")
        if sum(step.pivot for step in self.steps) > 1:
            raise ValueError(f"{self.saga_type}: at most one pivot step")
        if any(step.compensate for step in self.steps[self.pivot_index:]):
            raise ValueError(f"{self.saga_type}: the pivot and the steps after it cannot compensate")
        for index, step in enumerate(self.steps):
            if isinstance(step.needs, str):
                raise ValueError(f"{self.saga_type}: step {step.name!r}: needs is a tuple of step names")
            missing = [need for need in step.needs if need not in names[:index]]
            if missing:
                raise ValueError(f"{self.saga_type}: step {step.name!r} needs {', '.join(map(repr, missing))}, "
                                 f"which is not an earlier step (earlier: {', '.join(names[:index]) or 'none'})")

    @property
    def digest(self) -> str:
        """A stable digest of the step names and kinds (what a saga's recorded progress depends on)."""
        shape = [[s.name, "pivot" if s.pivot else "compensatable" if s.compensate else "retriable", s.stop_on_fault]
                 for s in self.steps]
        return "sha-" + hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:12]

    @property
    def schema(self) -> str:
        """The Postgres schema holding this saga type's state."""
        return f"{self.saga_type}_saga"

    @property
    def queue(self) -> str:
        """The Celery queue this saga type's tasks run on."""
        return f"{self.saga_type}_saga"

    @property
    def pivot_index(self) -> int:
        """Index of the pivot; with no pivot, the steps after the last compensatable one."""
        for index, step in enumerate(self.steps):
            if step.pivot:
                return index
        compensatable = [i for i, step in enumerate(self.steps) if step.compensate]
        return compensatable[-1] + 1 if compensatable else 0

    def compensates_on_failure(self, index: int) -> bool:
        """True when a step failing at ``index`` rolls the saga back (it is at or before the pivot)."""
        return index <= self.pivot_index

    def compensations_due(self, attempts: Iterable[Any]) -> list[int]:
        """Compensatable steps that took effect (or may have) and are not undone yet, last first.

        ``attempts`` are step-log rows (step_index, phase, status, outcome_unknown). An action left
        RUNNING (its worker died) or failed with an unknown outcome (a timeout) may have taken effect.
        """
        attempts = list(attempts)
        undone = {a.step_index for a in attempts if a.phase == "compensation" and a.status == "DONE"}
        return sorted((i for i in self.touched_steps(attempts) - undone if self.steps[i].compensate), reverse=True)

    @staticmethod
    def touched_steps(attempts: Iterable[Any]) -> set[int]:
        """Steps whose action took effect or may have (DONE, left RUNNING, or an unknown outcome)."""
        return {a.step_index for a in attempts if a.phase == "action" and (
            a.status in ("DONE", "RUNNING") or a.outcome_unknown)}

    def cancel_refusal(self, status: str, current_step: int, attempts: Iterable[Any]) -> str | None:
        """Why an operator cannot cancel the saga now, or None when it may still be rolled back.

        Only a STARTED saga that has not begun crossing its pivot can be: once the pivot's action ran
        (or may have: RUNNING, an unknown outcome) its effect is not undone by compensation.
        """
        if status != SagaStatus.STARTED:
            return f"the saga is {status}; only a running (STARTED) saga can be cancelled"
        pivot = self.pivot_index
        if current_step > pivot or (current_step == pivot and pivot in self.touched_steps(attempts)):
            name = self.steps[min(pivot, len(self.steps) - 1)].name
            return f"the saga has passed its point of no return ({name}); it can no longer be cancelled"
        return None

    def step(self, index: int) -> Step:
        """The step at ``index``."""
        return self.steps[index]

    def name_at(self, index: int) -> str | None:
        """The name of the step at ``index``; None past the last step (the saga is done)."""
        return self.steps[index].name if index < len(self.steps) else None
