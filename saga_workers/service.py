"""The saga engine's use cases for callers (gateway, CLI, beat): start, retry, resume."""
from __future__ import annotations

import uuid
from datetime import timedelta
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import func, select, update

from campus_common import logs
from campus_common.config import load_settings
from campus_common.db import Database
from campus_common.key_retention import retry_horizon_seconds
from saga_workers import dispatch, metrics, sagas
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.order_lock import SagaInProgress  # noqa: F401 - raised by start_saga
from saga_workers.engine.store import SagaStore
from saga_workers.engine.tables import instances, translate
from saga_workers.engine.versions import DefinitionUnavailable, definition_for
from saga_workers.runtime import UnknownSagaType
from saga_workers.sagas import REGISTRY


class SagaNotFound(LookupError):
    """No saga has that id."""


class SagaNotRetryable(Exception):
    """Only a FAILED saga can be retried."""


class SagaNotCancellable(Exception):
    """Only a running saga that has not begun its pivot can be cancelled."""


CANCELLED_BY_OPERATOR = "cancelled by an operator"


@dataclass(frozen=True)
class StartedSaga:
    """The saga a start request maps to; ``created`` is False for a repeated idempotency key."""

    saga_id: str
    created: bool
    payload: dict[str, Any]


def _app() -> Celery:
    from saga_workers import app

    return app


def _definition(saga_type: str) -> SagaDefinition:
    """The newest definition of ``saga_type``: new sagas always start on it."""
    if saga_type not in sagas.VERSIONS.newest:
        raise UnknownSagaType(saga_type)
    return sagas.VERSIONS.newest[saga_type]


def pinned_definition(saga_type: str, version: str) -> SagaDefinition:
    """The definition a saga started on; the newest when it is gone (its tasks then stop it FAILED)."""
    try:
        return sagas.VERSIONS.get(saga_type, version)
    except DefinitionUnavailable:
        return _definition(saga_type)


def _database() -> Database:
    return Database(load_settings().database_url)


def start_saga(saga_type: str, payload: dict[str, Any], idempotency_key: str | None = None) -> StartedSaga:
    """Commit a new saga (or find the one started with this key), then enqueue its steps.

    SagaInProgress when a saga of this type is still unfinished for the payload's order (the lock).
    """
    definition = _definition(saga_type)
    store = SagaStore(_database(), definition)
    # The request being served (gateway) is stored with the saga: its participant calls carry it.
    saga_id, created = store.create(str(uuid.uuid4()), payload, idempotency_key, logs.current_request_id())
    if created:
        metrics.saga_started(saga_type)
        dispatch.send_steps(_app(), definition, saga_id)  # after commit: the worker will find the row
        return StartedSaga(saga_id=saga_id, created=True, payload=payload)
    return StartedSaga(saga_id=saga_id, created=False, payload=store.load(saga_id).payload)


def find_saga_type(saga_id: str) -> str:
    """The type of the saga with this id, searching every saga schema."""
    try:
        uuid.UUID(str(saga_id))
    except ValueError as exc:
        raise SagaNotFound(saga_id) from exc
    with _database().unit_of_work() as session:
        for definition in REGISTRY.values():
            stmt = select(instances.c.saga_type).where(instances.c.saga_id == saga_id)
            found = session.execute(stmt.execution_options(schema_translate_map=translate(definition.schema))).scalar()
            if found:
                return found
    raise SagaNotFound(saga_id)


def retry_saga(saga_id: str) -> dict[str, Any]:
    """Resume a FAILED saga where it stopped, with fresh retry bounds; returns what was done."""
    saga_type = find_saga_type(saga_id)
    options = {"schema_translate_map": translate(_definition(saga_type).schema)}
    with _database().unit_of_work() as session:
        row = session.execute(select(instances).where(instances.c.saga_id == saga_id).with_for_update()
                              .execution_options(**options)).one()
        if row.status != "FAILED":
            raise SagaNotRetryable(f"saga {saga_id} is {row.status}; only FAILED sagas can be retried")
        if _older_than_key_window(session, row.created_at):
            raise SagaNotRetryable(
                f"saga {saga_id} started on {row.created_at:%Y-%m-%d}, too long ago to retry: participants forget "
                "idempotency keys after IDEMPOTENCY_KEY_RETENTION_DAYS, so a retry could apply a step twice; "
                "settle it by hand")
        try:
            definition = sagas.VERSIONS.get(saga_type, row.definition_version)
        except DefinitionUnavailable as exc:
            raise SagaNotRetryable(f"saga {saga_id} cannot be retried: {exc}") from None
        resumed = "COMPENSATING" if row.failed_phase == "compensation" else "STARTED"
        session.execute(update(instances).where(instances.c.saga_id == saga_id).values(
            status=resumed, failed_phase=None, round=instances.c.round + 1, version=instances.c.version + 1,
            updated_at=func.now()).execution_options(**options))
    resume(definition, saga_id, resumed, row.current_step)
    return {"saga_id": saga_id, "saga_type": definition.saga_type, "status": resumed,
            "resumed_from_step": definition.step(min(row.current_step, len(definition.steps) - 1)).name}


def _older_than_key_window(session: Any, created_at: Any) -> bool:
    """True when the participants may already have purged this saga's idempotency keys."""
    horizon = timedelta(seconds=retry_horizon_seconds(load_settings()))
    return session.execute(select(func.now())).scalar() - created_at > horizon  # the database's clock


def cancel_saga(saga_id: str) -> dict[str, Any]:
    """Stop a running saga's forward steps and compensate what took effect (before its pivot only)."""
    try:  # where the pivot is depends on the version the saga started on
        definition = definition_for(sagas.VERSIONS, SagaStore(_database(), _definition(find_saga_type(saga_id))),
                                    saga_id)
    except DefinitionUnavailable as exc:
        raise SagaNotCancellable(f"saga {saga_id} cannot be cancelled: {exc}") from None
    refusal = SagaStore(_database(), definition).cancel(saga_id, CANCELLED_BY_OPERATOR)
    if refusal is not None:
        raise SagaNotCancellable(f"saga {saga_id} cannot be cancelled: {refusal}")
    # A step still in flight cannot advance a COMPENSATING saga (its finish is a conditional
    # update), and compensation counts its RUNNING attempt as maybe done, so it is undone too.
    dispatch.send_compensation(_app(), definition, saga_id)
    return {"saga_id": saga_id, "saga_type": definition.saga_type, "status": "COMPENSATING"}


def resume(definition: SagaDefinition, saga_id: str, status: str, current_step: int) -> bool:
    """Publish the work a saga in ``status`` is waiting for."""
    if status == "COMPENSATING":
        return dispatch.send_compensation(_app(), definition, saga_id)
    return dispatch.send_steps(_app(), definition, saga_id, current_step)
