"""The statements behind the saga views and gauges, across saga schemas (the store's read side).

A page of sagas is a UNION of one select per saga schema (``queries.page_query``); the versions
report and the FAILED/stalled gauges read each schema's partial indexes.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import MetaData, Select, Table, func, select, tuple_

from saga_workers.engine.status import SagaStatus
from saga_workers.engine.tables import instances

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


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'
