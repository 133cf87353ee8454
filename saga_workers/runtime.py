"""Wiring for the current process: the runner of a saga type, built from the environment."""
from __future__ import annotations

from campus_common.config import load_settings
from campus_common.db import Database
from saga_workers.engine.runner import SagaRunner
from saga_workers.engine.store import SagaStore
from saga_workers.sagas import REGISTRY


class UnknownSagaType(KeyError):
    """No saga definition is registered under that name."""


def runner_for(saga_type: str) -> SagaRunner:
    """A runner for ``saga_type`` over the database named by DATABASE_URL."""
    try:
        definition = REGISTRY[saga_type]
    except KeyError as exc:
        raise UnknownSagaType(saga_type) from exc
    settings = load_settings()
    return SagaRunner(definition, SagaStore(Database(settings.database_url), definition), settings)
