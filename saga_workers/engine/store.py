"""Saga state in Postgres: every read-modify-write holds the saga row's lock for one short transaction."""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, func, select, update

from campus_common.db import Database
from campus_common import jsonutil
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.status import ACTION, COMPENSATION, SagaStatus
from saga_workers.engine.step_sql import statements_for
from saga_workers.engine.store_upkeep import SagaUpkeep
from saga_workers.engine.tables import instances, step_log, translate
from saga_workers.engine.versions import Pin



class Undone(Enum):
    """``begin_compensation``'s answer when nothing is left to undo: the saga is now COMPENSATED."""

    ALL = "all"


@dataclass(frozen=True)
class Attempt:
    """An attempt just recorded as RUNNING, with the state the step needs."""

    log_id: int
    step_index: int
    number: int
    payload: dict[str, Any]
    outputs: dict[str, Any]
    request_id: str | None = None  # of the request that started the saga (logs, X-Request-ID)


class SagaStore(SagaUpkeep):
    """Reads and writes one saga type's schema: a step's hot path here, operators' and upkeep's in SagaUpkeep."""

    def __init__(self, db: Database, definition: SagaDefinition) -> None:
        self.db, self.definition = db, definition
        self._options = {"schema_translate_map": translate(definition.schema)}
        self._hot = statements_for(definition.schema)

    def _session(self) -> AbstractContextManager[Connection]:
        # A plain connection's transaction: Core statements need no ORM session around them.
        return self.db.transaction()

    def _exec(self, session: Connection, statement: Executable) -> CursorResult[Any]:
        return session.execute(statement.execution_options(**self._options))

    def _lock(self, session: Connection, saga_id: str) -> Any:
        return self._exec(session, select(instances).where(instances.c.saga_id == saga_id).with_for_update()).first()

    def load(self, saga_id: str) -> Any:
        """The saga row, or None."""
        with self._session() as session:
            return self._exec(session, select(instances).where(instances.c.saga_id == saga_id)).first()

    def pin(self, saga_id: str) -> Pin | None:
        """The definition version the saga started on and the steps it ran, or None for no such saga."""
        with self._session() as session:
            row = self._exec(session, select(instances.c.definition_version, instances.c.current_step,
                                             instances.c.current_step_name).where(
                instances.c.saga_id == saga_id)).first()
            if row is None:
                return None
            ran = self._exec(session, select(step_log.c.step_index, step_log.c.step_name).distinct().where(
                step_log.c.saga_id == saga_id)).all()
        return Pin(self.definition.saga_type, row.definition_version, row.current_step, row.current_step_name,
                   frozenset((r.step_index, r.step_name) for r in ran))

    def begin_action(self, saga_id: str, index: int) -> Attempt | None:
        """Record a RUNNING attempt of step ``index`` if the saga is STARTED and waiting for it."""
        with self._session() as session:
            # One conditional UPDATE locks the row, checks the saga waits for this step and records
            # progress (the sweeper reads updated_at); the lock serializes copies of the step.
            row = session.execute(self._hot.claim, {"b_saga_id": saga_id, "b_index": index}).first()
            if row is None:
                return None
            return self._insert_attempt(session, saga_id, row, index, ACTION)

    def _begin(self, session: Connection, row: Any, index: int, phase: str) -> Attempt:
        self._touch(session, row.saga_id)
        return self._insert_attempt(session, row.saga_id, row, index, phase)

    def _insert_attempt(self, session: Connection, saga_id: str, row: Any, index: int, phase: str) -> Attempt:
        """Insert the next attempt of (step, phase) in this round; the caller holds the saga row's lock."""
        log_id, attempt = session.execute(self._hot.insert_attempt, {
            "b_saga_id": saga_id, "b_index": index, "b_phase": phase, "b_round": row.round,
            "b_name": self.definition.step(index).name}).one()
        return Attempt(log_id, index, attempt, row.payload, row.step_outputs, row.request_id)

    def _touch(self, session: Connection, saga_id: str, **values: Any) -> int:
        stmt = update(instances).where(instances.c.saga_id == saga_id).values(
            updated_at=func.now(), **values)
        return self._exec(session, stmt).rowcount

    def _finish_log(self, session: Connection, log_id: int, status: str, error: str | None = None,
                    outcome_unknown: bool = False) -> None:
        session.execute(self._hot.finish_log, {"b_log_id": log_id, "b_status": status, "b_error": error,
                                               "b_unknown": outcome_unknown})

    def finish_action(self, saga_id: str, attempt: Attempt, output: dict[str, Any] | None) -> bool:
        """Record the step done and advance the saga; False when another copy advanced it first."""
        index = attempt.step_index
        last = index == len(self.definition.steps) - 1
        with self.db.autocommit() as conn:  # one statement: its own transaction
            return conn.execute(self._hot.finish_last, self._finish_params(
                saga_id, attempt, output, SagaStatus.COMPLETED if last else SagaStatus.STARTED)).first() is not None

    def _finish_params(self, saga_id: str, attempt: Attempt, output: Any, status: str) -> dict[str, Any]:
        index = attempt.step_index
        return {"log_id": attempt.log_id, "saga_id": saga_id, "index": index, "status": status,
                "next_name": self.definition.name_at(index + 1),
                "recorded": jsonutil.dumps({self.definition.step(index).name: output or {}})}

    def attempt_status(self, saga_id: str, index: int) -> str | None:
        """The status of step ``index``'s latest action attempt in the saga's current round, or None."""
        with self._session() as session:
            current_round = select(instances.c.round).where(instances.c.saga_id == saga_id).scalar_subquery()
            return self._exec(session, select(step_log.c.status).where(
                step_log.c.saga_id == saga_id, step_log.c.step_index == index, step_log.c.phase == ACTION,
                step_log.c.round == current_round).order_by(step_log.c.attempt.desc()).limit(1)).scalar()

    def finish_and_claim_next(self, saga_id: str, attempt: Attempt,
                              output: dict[str, Any] | None) -> tuple[bool, Attempt | None]:
        """Record the step done, advance the saga and record a RUNNING attempt of the next step, in one
        statement: (advanced, the next step's attempt). False when another copy advanced it first.

        The attempt is what ``begin_action`` would record when the next step's task starts, made
        ahead: a step costs one write (one round trip) instead of two transactions. Like any
        RUNNING attempt it counts as maybe done for compensation until it finishes.
        """
        index = attempt.step_index
        params = self._finish_params(saga_id, attempt, output, SagaStatus.STARTED)
        params["claimed_name"] = self.definition.step(index + 1).name
        with self.db.autocommit() as conn:
            row = conn.execute(self._hot.finish_and_claim, params).first()
        if row is None:
            return False, None
        outputs = {**attempt.outputs, self.definition.step(index).name: output or {}}
        return True, Attempt(row.id, index + 1, row.attempt, attempt.payload, outputs, attempt.request_id)

    def adopt(self, saga_id: str, index: int, log_id: int) -> Attempt | None:
        """The attempt ``finish_and_claim_next`` recorded for step ``index``, if the saga still waits
        for it (STARTED there, the attempt RUNNING, same definition version and step name); else None."""
        with self.db.autocommit() as conn:  # a read: no transaction around it
            row = conn.execute(self._hot.adopt, {"b_saga_id": saga_id, "b_index": index, "b_log_id": log_id}).first()
        name = self.definition.step(index).name
        if row is None or row.definition_version != self.definition.version or row.step_name != name or \
                row.current_step_name not in (None, name):
            return None
        return Attempt(log_id, index, row.attempt, row.payload, row.step_outputs, row.request_id)

    def fail_attempt(self, attempt: Attempt, error: str, *, refused: bool, outcome_unknown: bool) -> None:
        """Record a failed attempt (a refusal or a fault)."""
        with self._session() as session:
            self._finish_log(session, attempt.log_id, "REFUSED" if refused else "FAILED", error, outcome_unknown)

    def start_compensating(self, saga_id: str, index: int, error: str) -> bool:
        """STARTED at step ``index`` -> COMPENSATING; False when the saga moved on meanwhile."""
        with self._session() as session:
            row = self._lock(session, saga_id)
            if row is None or row.status != SagaStatus.STARTED or row.current_step != index:
                return False
            self._touch(session, saga_id, status=SagaStatus.COMPENSATING, error=error)
            return True

    def mark_failed(self, saga_id: str, phase: str, error: str) -> None:
        """The saga stops, visibly, for an operator: FAILED with the error and where it failed."""
        with self._session() as session:
            self._touch(session, saga_id, status=SagaStatus.FAILED, failed_phase=phase, error=error)

    def begin_compensation(self, saga_id: str) -> Attempt | Undone | None:
        """The next compensation to run as a RUNNING attempt; ``Undone.ALL`` (now COMPENSATED) when none
        is left; None when the saga is not COMPENSATING."""
        with self._session() as session:
            row = self._lock(session, saga_id)
            if row is None or row.status != SagaStatus.COMPENSATING:
                return None
            pending = self._pending_compensations(session, saga_id)
            if not pending:
                self._touch(session, saga_id, status=SagaStatus.COMPENSATED)
                return Undone.ALL
            return self._begin(session, row, pending[0], COMPENSATION)

    def _pending_compensations(self, session: Connection, saga_id: str) -> list[int]:
        rows = self._exec(session, select(step_log.c.step_index, step_log.c.phase, step_log.c.status,
                                          step_log.c.outcome_unknown).where(step_log.c.saga_id == saga_id)).all()
        return self.definition.compensations_due(rows)

    def finish_compensation(self, attempt: Attempt) -> None:
        """Record one compensation done."""
        with self._session() as session:
            self._finish_log(session, attempt.log_id, "DONE")
