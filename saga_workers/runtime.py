"""Wiring for the current process: the runner of a saga, built from the environment."""
from __future__ import annotations

from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers import sagas
from saga_workers.engine.runner import SagaRunner
from saga_workers.engine.store import SagaStore
from saga_workers.engine.versions import definition_for
from saga_workers.telemetry import TELEMETRY


class UnknownSagaType(KeyError):
    """No saga definition is registered under that name."""


def runner_for(saga_type: str, saga_id: str | None = None, version: str | None = None) -> SagaRunner:
    """A runner for ``saga_type`` over DATABASE_URL; given a saga, with the definition it started on.

    ``version``: the definition version a claimed step was recorded with (``SagaStore.adopt``
    checks it against the saga's row); when it is declared here the saga's pin is not read again.
    Raises DefinitionUnavailable (after stopping the saga FAILED) when no declared version can run it.
    """
    versions = sagas.VERSIONS  # read at call time: a test swaps it as a deploy would
    try:
        definition = versions.newest[saga_type]
    except KeyError as exc:
        raise UnknownSagaType(saga_type) from exc
    if version is not None and version in versions.declared(saga_type):
        definition, saga_id = versions.get(saga_type, version), None
    settings = load_settings()
    # No pre-ping: a connection that died with a Postgres restart fails its statement, and the
    # task is retried (tasks.DB_RETRY), so each transaction saves that extra round trip.
    db = Database(settings.database_url, pre_ping=False)
    if saga_id is not None:
        definition = definition_for(versions, SagaStore(db, definition), saga_id)
    return SagaRunner(definition, SagaStore(db, definition), settings, observer=TELEMETRY)
