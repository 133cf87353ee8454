"""Read models for the saga views (gateway, CLI): one saga with its timeline, or a page of sagas."""
from __future__ import annotations

import base64
import functools
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import MetaData, Table, func, select, tuple_, union_all

from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers.engine.status import SagaStatus, idempotency_key
from saga_workers.engine.tables import instances, step_log, translate
from saga_workers.sagas import REGISTRY
from saga_workers.service import SagaNotFound, find_saga_type, pinned_definition

SUMMARY_COLUMNS = ("saga_id", "saga_type", "status", "order_id", "customer_id", "runner_id", "current_step",
                   "definition_version", "error", "created_at", "updated_at")


def _database() -> Database:
    return Database(load_settings().database_url)


def _summary(row: Any) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in SUMMARY_COLUMNS}
    # The name recorded with the index; rows from before names were kept ran on version "1".
    data["current_step"] = row.current_step_name or pinned_definition(
        row.saga_type, row.definition_version).name_at(row.current_step)
    return data


def get_saga(saga_id: str, detail: bool = False) -> dict[str, Any] | None:
    """The saga and its step timeline (one entry per step and phase, attempts counted), or None.

    ``detail`` (operators: console, CLI) adds the saga's input, each step's output and every attempt.
    """
    try:
        definition = REGISTRY[find_saga_type(saga_id)]
    except SagaNotFound:
        return None
    options = {"schema_translate_map": translate(definition.schema)}
    with _database().unit_of_work() as session:
        row = session.execute(select(instances).where(instances.c.saga_id == saga_id)
                              .execution_options(**options)).one()
        attempts = session.execute(select(step_log).where(step_log.c.saga_id == saga_id).order_by(step_log.c.id)
                                   .execution_options(**options)).all()
    saga = {**_summary(row), "steps": timeline(attempts)}
    if detail:
        order = {step.name: index for index, step in enumerate(definition.steps)}  # JSONB keeps no order
        outputs = dict(sorted(row.step_outputs.items(), key=lambda item: order.get(item[0], len(order))))
        saga.update(input=row.payload, outputs=outputs, attempts=[_attempt(a) for a in attempts])
    return saga


def _attempt(a: Any) -> dict[str, Any]:
    """One attempt of an action or compensation, with the idempotency key its calls carried."""
    duration = (a.finished_at - a.started_at).total_seconds() * 1000 if a.finished_at else None
    return {"step": a.step_name, "phase": a.phase, "round": a.round, "attempt": a.attempt, "status": a.status,
            "started_at": a.started_at, "finished_at": a.finished_at,
            "duration_ms": None if duration is None else round(duration, 1), "error": a.error,
            "outcome_unknown": a.outcome_unknown, "idempotency_key": idempotency_key(str(a.saga_id), a.step_name, a.phase)}


def timeline(attempts: list[Any]) -> list[dict[str, Any]]:
    """Fold attempt rows into one entry per (step, phase) in the order they first ran."""
    entries: dict[tuple[int, str], dict[str, Any]] = {}
    for a in attempts:
        entry = entries.setdefault((a.step_index, a.phase), {
            "name": a.step_name, "phase": a.phase, "status": a.status, "attempts": 0,
            "started_at": a.started_at, "finished_at": None, "error": None})
        # The latest attempt speaks for the step: a DONE step shows no earlier attempt's error.
        entry.update(status=a.status, attempts=entry["attempts"] + 1, finished_at=a.finished_at, error=a.error)
    return list(entries.values())


def _encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row["created_at"].isoformat(), str(row["saga_id"])]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, saga_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        # Both go into SQL: a forged cursor must fail here, not as a database error.
        return datetime.fromisoformat(created_at), str(UUID(saga_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError("invalid cursor") from exc


def list_sagas(*, saga_type: str | None = None, status: str | None = None, customer_id: str | None = None,
               limit: int = 50, cursor: str | None = None, order_id: str | None = None,
               created: tuple[datetime | None, datetime | None] = (None, None)) -> tuple[list[dict[str, Any]], str | None]:
    """A page of sagas across every type, newest first, and the cursor of the next page.

    ``created`` is a time range (from, until), either end open.
    """
    ordered = page_query(saga_type=saga_type, status=status, customer_id=customer_id, limit=limit, cursor=cursor,
                         order_id=order_id, created=created)
    with _database().unit_of_work() as session:
        rows = session.execute(ordered).all()
    items = [_summary(row) for row in rows[:limit]]
    return items, (_encode_cursor(items[-1]) if len(rows) > limit else None)


def page_query(*, saga_type: str | None, status: str | None, customer_id: str | None, limit: int,
               cursor: str | None, order_id: str | None, created: tuple[datetime | None, datetime | None]):
    """The statement of one page (``limit`` + 1 rows, to know whether another page follows)."""
    types = [saga_type] if saga_type else list(REGISTRY)
    if any(t not in REGISTRY for t in types):
        raise ValueError(f"unknown saga type {saga_type!r}")
    after = _decode_cursor(cursor) if cursor else None
    filters = {"status": status, "customer_id": customer_id, "order_id": order_id}
    parts = [_select_page(REGISTRY[t].schema, filters, created, after, limit) for t in types]
    query = union_all(*parts).subquery()
    return select(query).order_by(query.c.created_at.desc(), query.c.saga_id.desc()).limit(limit + 1)


@functools.cache
def _instances_in(schema: str) -> Table:
    """The instances table bound to one saga schema (a UNION names several schemas at once)."""
    return instances.to_metadata(MetaData(), schema=schema)


def _select_page(schema: str, filters: dict[str, str | None], created: tuple[datetime | None, datetime | None],
                 after: tuple | None, limit: int):
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


LIVE = (SagaStatus.STARTED, SagaStatus.COMPENSATING, SagaStatus.FAILED)  # FAILED sagas can be retried: they still need their version


def versions_query(schema: str):
    """Live sagas per (definition version, status): the partial index on live sagas answers it."""
    table = _instances_in(schema)
    return select(table.c.definition_version, table.c.status, func.count()).where(
        table.c.status.in_(LIVE)).group_by(table.c.definition_version, table.c.status)


def versions_in_use() -> list[dict[str, Any]]:
    """Per saga type and definition version: declared here? newest? how many live sagas need it."""
    from saga_workers import sagas

    report = []
    with _database().unit_of_work() as session:
        for saga_type, definition in REGISTRY.items():
            counted = session.execute(versions_query(definition.schema)).all()
            in_use: dict[str, dict[str, int]] = {}
            for version, status, count in counted:
                in_use.setdefault(version, dict.fromkeys(LIVE, 0))[status] = count
            declared = sagas.VERSIONS.declared(saga_type)
            for version in dict.fromkeys([*declared, *in_use]):
                report.append({"saga_type": saga_type, "version": version, "declared": version in declared,
                               "newest": version == sagas.VERSIONS.newest[saga_type].version,
                               "sagas": in_use.get(version, dict.fromkeys(LIVE, 0))})
    return report
