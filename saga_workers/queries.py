"""Read models for the saga views (gateway, CLI): one saga with its timeline, or a page of sagas.

The statements are the store's (``engine.store_upkeep``); this module folds rows into views.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select, union_all

from campus_common.db import Database
from saga_workers import runtime, sagas
from saga_workers.engine.status import idempotency_key
from saga_workers.engine.store_views import LIVE, SUMMARY_COLUMNS, page_select, versions_select
from saga_workers.service import SagaNotFound, find_store, pinned_definition

__all__ = ["LIVE", "get_saga", "list_sagas", "page_query", "timeline", "versions_in_use"]


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
        store = find_store(saga_id)
    except SagaNotFound:
        return None
    row, attempts = store.load(saga_id), store.attempts(saga_id)
    if row is None:
        return None  # purged between the look-up and the read
    saga = {**_summary(row), "steps": timeline(list(attempts))}
    if detail:
        order = {step.name: index for index, step in enumerate(store.definition.steps)}  # JSONB keeps no order
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


def _database() -> Database:
    return runtime.current().database


def list_sagas(*, saga_type: str | None = None, status: str | None = None, customer_id: str | None = None,
               limit: int = 50, cursor: str | None = None, order_id: str | None = None,
               created: tuple[datetime | None, datetime | None] = (None, None)) -> tuple[list[dict[str, Any]], str | None]:
    """A page of sagas across every type, newest first, and the cursor of the next page.

    ``created`` is a time range (from, until), either end open.
    """
    ordered = page_query(saga_type=saga_type, status=status, customer_id=customer_id, limit=limit, cursor=cursor,
                         order_id=order_id, created=created)
    with _database().transaction() as conn:
        rows = conn.execute(ordered).all()
    items = [_summary(row) for row in rows[:limit]]
    return items, (_encode_cursor(items[-1]) if len(rows) > limit else None)


def page_query(*, saga_type: str | None, status: str | None, customer_id: str | None, limit: int,
               cursor: str | None, order_id: str | None, created: tuple[datetime | None, datetime | None]) -> Select:
    """The statement of one page (``limit`` + 1 rows, to know whether another page follows)."""
    types = [saga_type] if saga_type else list(sagas.REGISTRY)
    if any(t not in sagas.REGISTRY for t in types):
        raise ValueError(f"unknown saga type {saga_type!r}")
    after = _decode_cursor(cursor) if cursor else None
    filters = {"status": status, "customer_id": customer_id, "order_id": order_id}
    parts = [page_select(sagas.REGISTRY[t].schema, filters, created, after, limit) for t in types]
    query = union_all(*parts).subquery()
    return select(query).order_by(query.c.created_at.desc(), query.c.saga_id.desc()).limit(limit + 1)


def versions_in_use() -> list[dict[str, Any]]:
    """Per saga type and definition version: declared here? newest? how many live sagas need it."""
    report = []
    with _database().transaction() as conn:
        for saga_type, definition in sagas.REGISTRY.items():
            in_use: dict[str, dict[str, int]] = {}
            for version, status, count in conn.execute(versions_select(definition.schema)).all():
                in_use.setdefault(version, dict.fromkeys(LIVE, 0))[status] = count
            declared = sagas.VERSIONS.declared(saga_type)
            for version in dict.fromkeys([*declared, *in_use]):
                report.append({"saga_type": saga_type, "version": version, "declared": version in declared,
                               "newest": version == sagas.VERSIONS.newest[saga_type].version,
                               "sagas": in_use.get(version, dict.fromkeys(LIVE, 0))})
    return report
