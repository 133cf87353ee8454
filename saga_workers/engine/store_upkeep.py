"""The saga store's operator and maintenance side: retry, the sweeper, retention, look-ups and views.

Part of ``SagaStore`` (a mixin over its connection helpers), kept apart from the step hot path in
``store.py``; every read and write of a saga schema outside that path is here.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import MetaData, Select, Table, case, func, select, text, tuple_, update

from campus_common.db import Database
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.status import SagaStatus
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


class SagaUpkeep:
    """Operator and maintenance reads and writes of one saga type's schema."""

    db: Database
    definition: SagaDefinition
    _options: dict[str, Any]

    def _run(self, statement: Any, fetch: Callable[[Any], Any], params: dict[str, Any] | None = None) -> Any:
        """Run one statement in its own transaction; ``fetch`` reads the result before it commits."""
        with self.db.transaction() as conn:
            return fetch(conn.execute(statement.execution_options(**self._options), params or {}))

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
        return self._run(text(PURGE_FINISHED.format(schema=_quoted(self.definition.schema))), _rowcount,
                         {"age": age_seconds, "n": batch})


SUMMARY_COLUMNS = ("saga_id", "saga_type", "status", "order_id", "customer_id", "runner_id", "current_step",
                   "definition_version", "error", "created_at", "updated_at")
LIVE = (SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED)  # FAILED sagas can be retried: they still need their version


@functools.cache
def _instances_in(schema: str) -> Table:
    """The instances table bound to one saga schema (a UNION names several schemas at once)."""
    return instances.to_metadata(MetaData(), schema=schema)


def page_select(schema: str, filters: dict[str, str | None], created: tuple[datetime | None, datetime | None],
                after: tuple[datetime, str] | None, limit: int) -> Select:
    """One schema's part of a page of saga summaries, newest first (``limit`` + 1 rows)."""
    table = _instances_in(schema)
    columns = [table.c[name] for name in (*SUMMARY_COLUMNS, "current_step_name")]
    conditions = [table.c[name] == value for name, value in filters.items() if value]
    if created[0]:
        conditions.append(table.c.created_at >= created[0])
    if created[1]:
        conditions.append(table.c.created_at < created[1])
    if after:
        created_at, saga_id = after
        # A row comparison is one range bound on the (created_at, saga_id) index: a deep page costs
        # what the first does (the equivalent OR is a filter over every newer row).
        conditions.append(tuple_(table.c.created_at, table.c.saga_id)
                          < tuple_(created_at, saga_id, types=[table.c.created_at.type, table.c.saga_id.type]))
    stmt = select(*columns).where(*conditions)
    return stmt.order_by(table.c.created_at.desc(), table.c.saga_id.desc()).limit(limit + 1)


def versions_select(schema: str) -> Select:
    """Live sagas per (definition version, status): the partial index on live sagas answers it."""
    table = _instances_in(schema)
    return select(table.c.definition_version, table.c.status, func.count()).where(
        table.c.status.in_(LIVE)).group_by(table.c.definition_version, table.c.status)


def failed_and_stalled_sql(schema: str, saga_type: str) -> str:
    """One row (saga_type, FAILED sagas, sagas without progress for ``:stall`` seconds) over the partial indexes.

    The names come from the registry, never from a request; the metrics gauges UNION one per type.
    """
    quoted, label = _quoted(schema), saga_type.replace("'", "''")
    return (f"SELECT '{label}', (SELECT count(*) FROM {quoted}.saga_instances WHERE status = 'FAILED'), "
            f"(SELECT count(*) FROM {quoted}.saga_instances WHERE status IN ('STARTED', 'COMPENSATING') "
            "AND updated_at < now() - make_interval(secs => :stall))")


def _first(result: Any) -> Any:
    return result.first()


def _all(result: Any) -> Any:
    return result.all()


def _scalar(result: Any) -> Any:
    return result.scalar()


def _rowcount(result: Any) -> int:
    return result.rowcount


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'
