"""The saga engine's use cases for callers (gateway, CLI, beat): start, retry, cancel.

Every read and write of saga state goes through the saga type's ``SagaStore``; publishing goes
through ``producer`` (by task name, without the workers' tasks).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from campus_common import logs
from campus_common.key_retention import retry_horizon_seconds
from saga_workers import metrics, producer, runtime, sagas
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.order_lock import SagaInProgress  # noqa: F401 - raised by start_saga
from saga_workers.engine.status import SagaStatus
from saga_workers.engine.store import SagaStore
from saga_workers.engine.versions import DefinitionUnavailable, definition_for
from saga_workers.runtime import UnknownSagaType


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


def newest_definition(saga_type: str) -> SagaDefinition:
    """The newest definition of ``saga_type``: new sagas always start on it."""
    if saga_type not in sagas.VERSIONS.newest:
        raise UnknownSagaType(saga_type)
    return sagas.VERSIONS.newest[saga_type]


def pinned_definition(saga_type: str, version: str) -> SagaDefinition:
    """The definition a saga started on; the newest when it is gone (its tasks then stop it FAILED)."""
    try:
        return sagas.VERSIONS.get(saga_type, version)
    except DefinitionUnavailable:
        return newest_definition(saga_type)


def store_of(definition: SagaDefinition) -> SagaStore:
    """The store of ``definition``'s saga type, the process's (any version's store reads the same schema)."""
    return runtime.current().store(definition)


def start_saga(saga_type: str, payload: dict[str, Any], idempotency_key: str | None = None) -> StartedSaga:
    """Commit a new saga (or find the one started with this key), then enqueue its steps.

    SagaInProgress when a saga of this type is still unfinished for the payload's order (the lock).
    """
    store = store_of(newest_definition(saga_type))
    # The request being served (gateway) is stored with the saga: its participant calls carry it.
    saga_id, created = store.create(str(uuid.uuid4()), payload, idempotency_key, logs.current_request_id())
    if created:
        metrics.saga_started(saga_type)
        producer.send_steps(store.definition, saga_id)  # after commit: the worker will find the row
        return StartedSaga(saga_id=saga_id, created=True, payload=payload)
    return StartedSaga(saga_id=saga_id, created=False, payload=store.load(saga_id).payload)


def find_store(saga_id: str) -> SagaStore:
    """The store of the saga type holding ``saga_id`` (looked up in every saga schema)."""
    try:
        uuid.UUID(str(saga_id))
    except ValueError as exc:
        raise SagaNotFound(saga_id) from exc
    for definition in sagas.REGISTRY.values():
        store = store_of(definition)
        if store.exists(saga_id):
            return store
    raise SagaNotFound(saga_id)


def retry_saga(saga_id: str) -> dict[str, Any]:
    """Resume a FAILED saga where it stopped, with fresh retry bounds; returns what was done."""
    store = find_store(saga_id)
    row = store.load(saga_id)
    if row is None:  # purged since it was found
        raise SagaNotFound(saga_id)
    if row.status != SagaStatus.FAILED:
        raise SagaNotRetryable(f"saga {saga_id} is {row.status}; only FAILED sagas can be retried")
    age = store.age(saga_id)
    if age is None:  # purged since it was loaded
        raise SagaNotFound(saga_id)
    if age > timedelta(seconds=retry_horizon_seconds(runtime.current().settings)):
        raise SagaNotRetryable(
            f"saga {saga_id} started on {row.created_at:%Y-%m-%d}, too long ago to retry: participants forget "
            "idempotency keys after IDEMPOTENCY_KEY_RETENTION_DAYS, so a retry could apply a step twice; "
            "settle it by hand")
    try:
        definition = sagas.VERSIONS.get(store.definition.saga_type, row.definition_version)
    except DefinitionUnavailable as exc:
        raise SagaNotRetryable(f"saga {saga_id} cannot be retried: {exc}") from None
    reopened = store.reopen_failed(saga_id)  # conditional: a second retry racing this one finds it STARTED
    if reopened is None:
        raise SagaNotRetryable(f"saga {saga_id} is {store.load(saga_id).status}; only FAILED sagas can be retried")
    producer.resume(definition, saga_id, reopened.status, reopened.current_step)
    return {"saga_id": saga_id, "saga_type": definition.saga_type, "status": reopened.status,
            "resumed_from_step": definition.step(min(reopened.current_step, len(definition.steps) - 1)).name}


def cancel_saga(saga_id: str) -> dict[str, Any]:
    """Stop a running saga's forward steps and compensate what took effect (before its pivot only)."""
    try:  # where the pivot is depends on the version the saga started on
        definition = definition_for(sagas.VERSIONS, find_store(saga_id), saga_id)
    except DefinitionUnavailable as exc:
        raise SagaNotCancellable(f"saga {saga_id} cannot be cancelled: {exc}") from None
    refusal = store_of(definition).cancel(saga_id, CANCELLED_BY_OPERATOR)
    if refusal is not None:
        raise SagaNotCancellable(f"saga {saga_id} cannot be cancelled: {refusal}")
    # A step still in flight cannot advance a COMPENSATING saga (its finish is a conditional
    # update), and compensation counts its RUNNING attempt as maybe done, so it is undone too.
    producer.send_compensation(definition, saga_id)
    return {"saga_id": saga_id, "saga_type": definition.saga_type, "status": SagaStatus.COMPENSATING}
