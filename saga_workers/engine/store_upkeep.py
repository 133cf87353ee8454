"""The saga store beside the step hot path: starting a saga, operators' retry and cancel, the sweeper,
retention, look-ups, views and gauges.

Part of ``SagaStore`` (a mixin over its connection helpers), kept apart from the step hot path in
``store.py``; every read and write of a saga schema outside that path is here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Executable, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from campus_common.db import Database, rowcount
from saga_workers.engine import order_lock
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.status import ACTION, COMPENSATION, SagaStatus
from saga_workers.engine.tables import instances, step_log

# The partial index on unfinished sagas (updated_at) answers this without reading finished ones;
# ANY(ARRAY(...)) keeps the update to primary-key lookups of what it found.
STALLED = """
UPDATE {schema}.saga_instances SET updated_at = now()
WHERE saga_id = ANY(ARRAY(SELECT saga_id FROM {schema}.saga_instances
    WHERE status IN ('STARTED', 'COMPENSATING') AND updated_at < now() - make_interval(secs => :s)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
RETURNING saga_id, status, current_step, definition_version
"""
# Only finished sagas go; their step log with them (ON DELETE CASCADE). See saga_workers.retention.
PURGE_FINISHED = """
DELETE FROM {schema}.saga_instances WHERE saga_id = ANY(ARRAY(
    SELECT saga_id FROM {schema}.saga_instances
    WHERE status IN ('COMPLETED', 'COMPENSATED') AND updated_at < now() - make_interval(secs => :age)
    ORDER BY updated_at LIMIT :n FOR UPDATE SKIP LOCKED))
"""

T = TypeVar("T")


class SagaUpkeep:
    """Operator and maintenance reads and writes of one saga type's schema."""

    db: Database
    definition: SagaDefinition
    _options: dict[str, Any]
    # SagaStore's connection helpers (store.py)
    _session: Callable[[], AbstractContextManager[Connection]]
    _exec: Callable[[Connection, Executable], CursorResult[Any]]
    _lock: Callable[[Connection, str], Any]
    _touch: Callable[..., int]

    def _run(self, statement: Executable, fetch: Callable[[CursorResult[Any]], T],
             params: dict[str, Any] | None = None) -> T:
        """Run one statement in its own transaction; ``fetch`` reads the result before it commits."""
        with self.db.transaction() as conn:
            return fetch(conn.execute(statement.execution_options(**self._options), params or {}))

    def create(self, saga_id: str, payload: dict[str, Any], idempotency_key: str | None,
               request_id: str | None = None) -> tuple[str, bool]:
        """Insert a STARTED saga; with a known idempotency key return the existing one instead."""
        values: dict[str, Any] = dict(
            saga_id=saga_id, saga_type=self.definition.saga_type, status=SagaStatus.STARTED, current_step=0,
            definition_version=self.definition.version, current_step_name=self.definition.name_at(0),
            payload=payload, step_outputs={}, idempotency_key=idempotency_key,
            order_id=payload.get("order_id"), customer_id=payload.get("customer_id"),
            runner_id=payload.get("runner_id"), round=1, request_id=request_id,
            created_at=func.now(), updated_at=func.now())
        for _ in range(3):  # the lock's holder may finish between the refused insert and the look-up
            try:
                return self._insert(values, idempotency_key)
            except IntegrityError as exc:
                if not order_lock.is_lock_conflict(exc):
                    raise
            holder = self._order_holder(values["order_id"])
            if holder is not None:
                raise order_lock.SagaInProgress(self.definition.saga_type, values["order_id"], *holder)
        raise order_lock.SagaInProgress(self.definition.saga_type, values["order_id"], None, None)

    def _insert(self, values: dict[str, Any], idempotency_key: str | None) -> tuple[str, bool]:
        with self._session() as session:
            stmt = pg_insert(instances).values(**values).on_conflict_do_nothing(
                index_elements=["idempotency_key"]).returning(instances.c.saga_id)
            created = self._exec(session, stmt).scalar()
            if created:
                return str(created), True
            existing = self._exec(session, select(instances.c.saga_id).where(
                instances.c.idempotency_key == idempotency_key)).scalar_one()
            return str(existing), False

    def _order_holder(self, order_id: str) -> tuple[str, str] | None:
        """(saga_id, status) of the saga holding the order's lock, if any."""
        with self._session() as session:
            row = self._exec(session, select(instances.c.saga_id, instances.c.status).where(
                instances.c.order_id == order_id, instances.c.status.in_(order_lock.HOLDING))).first()
            return (str(row.saga_id), row.status) if row else None

    def stop_unrunnable(self, saga_id: str, error: str) -> bool:
        """An unfinished saga no declared definition can run stops FAILED where it was; False if finished."""
        with self._session() as session:
            phase = case((instances.c.status == SagaStatus.COMPENSATING, COMPENSATION), else_=ACTION)
            stmt = update(instances).where(instances.c.saga_id == saga_id,
                                           instances.c.status.in_((SagaStatus.STARTED, SagaStatus.COMPENSATING)))
            return self._exec(session, stmt.values(status=SagaStatus.FAILED, failed_phase=phase, error=error,
                                                   updated_at=func.now())
                              ).rowcount == 1

    def cancel(self, saga_id: str, error: str) -> str | None:
        """An operator's cancel: STARTED before the pivot -> COMPENSATING; else why not (None: done)."""
        with self._session() as session:
            row = self._lock(session, saga_id)  # serializes with begin_action and finish_action
            if row is None:
                return "no such saga"
            attempts = self._exec(session, select(step_log.c.step_index, step_log.c.phase, step_log.c.status,
                                                  step_log.c.outcome_unknown).where(step_log.c.saga_id == saga_id))
            refusal = self.definition.cancel_refusal(row.status, row.current_step, attempts.all())
            if refusal is None:
                self._touch(session, saga_id, status=SagaStatus.COMPENSATING, error=error)
            return refusal

    def exists(self, saga_id: str) -> bool:
        """True when this schema holds a saga with this id."""
        found = self._run(select(instances.c.saga_id).where(instances.c.saga_id == saga_id), _first)
        return found is not None

    def attempts(self, saga_id: str) -> Sequence[Any]:
        """Every attempt in the saga's step log, in the order they were recorded."""
        return self._run(select(step_log).where(step_log.c.saga_id == saga_id).order_by(step_log.c.id), _all)

    def age(self, saga_id: str) -> timedelta | None:
        """How long ago the saga started, by the database's clock (None: no such saga)."""
        return self._run(select(func.now() - instances.c.created_at).where(instances.c.saga_id == saga_id),
                         _scalar)

    def reopen_failed(self, saga_id: str) -> Any:
        """FAILED -> STARTED (or COMPENSATING when it failed compensating) in a new round of attempts.

        Returns (status, current_step) of the reopened saga, or None when it is not FAILED (any more).
        """
        stmt = update(instances).where(instances.c.saga_id == saga_id, instances.c.status == SagaStatus.FAILED).values(
            status=case((instances.c.failed_phase == "compensation", SagaStatus.COMPENSATING),
                        else_=SagaStatus.STARTED),
            failed_phase=None, round=instances.c.round + 1, updated_at=func.now()).returning(
            instances.c.status, instances.c.current_step)
        return self._run(stmt, _first)

    def claim_stalled(self, stall_seconds: float, batch: int) -> Sequence[Any]:
        """Unfinished sagas without progress for ``stall_seconds``, touched so no other sweeper takes them."""
        return self._run(text(STALLED.format(schema=_quoted(self.definition.schema))), _all,
                         {"s": stall_seconds, "n": batch})

    def purge_finished(self, age_seconds: float, batch: int) -> int:
        """Delete up to ``batch`` COMPLETED/COMPENSATED sagas older than ``age_seconds``: how many went."""
        return self._run(text(PURGE_FINISHED.format(schema=_quoted(self.definition.schema))), rowcount,
                         {"age": age_seconds, "n": batch})


def _first(result: Any) -> Any:
    return result.first()


def _all(result: Any) -> Any:
    return result.all()


def _scalar(result: Any) -> Any:
    return result.scalar()


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'
