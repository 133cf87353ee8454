"""Saga orchestration on Celery: the app, the generic engine, saga definitions and their steps.

``celery -A saga_workers worker -Q create_order_saga`` runs one saga type's queue. The worker app
(every saga type's tasks) is built on first use of ``saga_workers.app`` (``saga_workers.bootstrap``),
not at import: importing a module of this package, such as ``saga_workers.registry``, does not
build it, and a process that only starts sagas (the gateway) publishes through
``saga_workers.producer`` without the tasks.
"""
from __future__ import annotations

from pathlib import Path

from campus_common.db import Database
from campus_common.migrate import migrate as run_migrations
from saga_workers.registry import REGISTRY, TIMERS_SCHEMA

MIGRATIONS = Path(__file__).parent / "migrations"


def __getattr__(name: str) -> object:
    """``saga_workers.app``: the worker app, built once on first use (what ``celery -A`` loads)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from saga_workers.bootstrap import worker_app  # noqa: PLC0415 - built on demand, see the docstring

    return worker_app()


def migrate(database_url: str) -> list[str]:
    """Create or update every saga type's schema and the timers schema."""
    engine = Database(database_url).engine
    applied = []
    for definition in REGISTRY.values():
        applied += [f"{definition.schema}/{name}"
                    for name in run_migrations(engine, definition.schema, MIGRATIONS / "saga")]
    applied += [f"{TIMERS_SCHEMA}/{name}" for name in run_migrations(engine, TIMERS_SCHEMA, MIGRATIONS / "timers")]
    return applied
