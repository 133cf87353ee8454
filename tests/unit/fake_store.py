"""An in-memory SagaStore with the same contract as the Postgres one, for engine unit tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.store import ACTION, COMPENSATION, Attempt, Undone
from saga_workers.engine.versions import Pin


@dataclass
class LogRow:
    step_index: int
    step_name: str
    phase: str
    round: int
    attempt: int
    status: str = "RUNNING"
    outcome_unknown: bool = False
    error: str | None = None


@dataclass
class FakeStore:
    definition: SagaDefinition
    sagas: dict[str, SimpleNamespace] = field(default_factory=dict)
    rows: list[tuple[str, LogRow]] = field(default_factory=list)  # log_id is the index

    def log(self, saga_id: str) -> list[LogRow]:
        return [row for owner, row in self.rows if owner == saga_id]

    def create(self, saga_id: str, payload: dict[str, Any], idempotency_key: str | None) -> tuple[str, bool]:
        self.sagas[saga_id] = SimpleNamespace(saga_id=saga_id, status="STARTED", current_step=0, payload=payload,
                                              step_outputs={}, error=None, failed_phase=None, round=1,
                                              definition_version=self.definition.version,
                                              current_step_name=self.definition.name_at(0))
        return saga_id, True

    def of_version(self, definition: SagaDefinition) -> FakeStore:
        """The same state seen through another definition version (as a SagaStore per version)."""
        return FakeStore(definition, self.sagas, self.rows)

    def pin(self, saga_id: str) -> Pin | None:
        saga = self.sagas.get(saga_id)
        if saga is None:
            return None
        return Pin(self.definition.saga_type, saga.definition_version, saga.current_step, saga.current_step_name,
                   frozenset((r.step_index, r.step_name) for r in self.log(saga_id)))

    def stop_unrunnable(self, saga_id: str, error: str) -> bool:
        saga = self.sagas[saga_id]
        if saga.status not in ("STARTED", "COMPENSATING"):
            return False
        saga.failed_phase = COMPENSATION if saga.status == "COMPENSATING" else ACTION
        saga.status, saga.error = "FAILED", error
        return True

    def load(self, saga_id: str) -> SimpleNamespace | None:
        return self.sagas.get(saga_id)

    def _begin(self, saga: SimpleNamespace, index: int, phase: str) -> Attempt:
        number = 1 + sum(1 for r in self.log(saga.saga_id)
                         if (r.step_index, r.phase, r.round) == (index, phase, saga.round))
        self.rows.append((saga.saga_id, LogRow(index, self.definition.step(index).name, phase, saga.round, number)))
        return Attempt(len(self.rows) - 1, index, number, saga.payload, dict(saga.step_outputs))

    def begin_action(self, saga_id: str, index: int) -> Attempt | None:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.status != "STARTED" or saga.current_step != index:
            return None
        return self._begin(saga, index, ACTION)

    def finish_action(self, saga_id: str, attempt: Attempt, output: dict[str, Any] | None) -> bool:
        self.rows[attempt.log_id][1].status = "DONE"
        saga = self.sagas[saga_id]
        if saga.status != "STARTED" or saga.current_step != attempt.step_index:
            return False
        saga.step_outputs[self.definition.step(attempt.step_index).name] = output or {}
        saga.current_step += 1
        saga.current_step_name = self.definition.name_at(saga.current_step)
        if saga.current_step == len(self.definition.steps):
            saga.status = "COMPLETED"
        return True

    def finish_and_claim_next(self, saga_id: str, attempt: Attempt,
                              output: dict[str, Any] | None) -> tuple[bool, Attempt | None]:
        if not self.finish_action(saga_id, attempt, output):
            return False, None
        saga = self.sagas[saga_id]
        return True, self._begin(saga, saga.current_step, ACTION)

    def adopt(self, saga_id: str, index: int, log_id: int) -> Attempt | None:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.status != "STARTED" or saga.current_step != index or log_id >= len(self.rows):
            return None
        owner, row = self.rows[log_id]
        if owner != saga_id or row.status != "RUNNING" or (row.step_index, row.phase, row.round) != (
                index, ACTION, saga.round):
            return None
        return Attempt(log_id, index, row.attempt, saga.payload, dict(saga.step_outputs))

    def attempt_status(self, saga_id: str, index: int) -> str | None:
        saga = self.sagas[saga_id]
        rows = [r for r in self.log(saga_id) if (r.step_index, r.phase, r.round) == (index, ACTION, saga.round)]
        return max(rows, key=lambda r: r.attempt).status if rows else None

    def fail_attempt(self, attempt: Attempt, error: str, *, refused: bool, outcome_unknown: bool) -> None:
        row = self.rows[attempt.log_id][1]
        row.status, row.error, row.outcome_unknown = ("REFUSED" if refused else "FAILED"), error, outcome_unknown

    def start_compensating(self, saga_id: str, index: int, error: str) -> bool:
        saga = self.sagas[saga_id]
        if saga.status != "STARTED" or saga.current_step != index:
            return False
        saga.status, saga.error = "COMPENSATING", error
        return True

    def mark_failed(self, saga_id: str, phase: str, error: str) -> None:
        saga = self.sagas[saga_id]
        saga.status, saga.failed_phase, saga.error = "FAILED", phase, error

    def begin_compensation(self, saga_id: str) -> Attempt | Undone | None:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.status != "COMPENSATING":
            return None
        pending = self.definition.compensations_due(self.log(saga_id))
        if not pending:
            saga.status = "COMPENSATED"
            return Undone.ALL
        return self._begin(saga, pending[0], COMPENSATION)

    def finish_compensation(self, attempt: Attempt) -> None:
        self.rows[attempt.log_id][1].status = "DONE"
