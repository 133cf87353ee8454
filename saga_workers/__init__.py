"""Saga orchestration on Celery: the app, the generic engine, saga definitions and their steps.

``celery -A saga_workers worker -Q create_order_saga`` runs one saga type's queue. The app (with
every task) is built on first use of ``saga_workers.app``, so importing a module of this package,
such as ``saga_workers.registry``, does not build it.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery import Celery

MIGRATIONS = Path(__file__).parent / "migrations"


@cache
def _app() -> Celery:
    from saga_workers.celery_app import create_celery_app

    return create_celery_app()


def __getattr__(name: str) -> object:
    # `celery -A saga_workers` looks up `app` here, as do the producers and the tests.
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def migrate(database_url: str) -> list[str]:
    """Create or update every saga type's schema and the timers schema."""
    from campus_common.db import Database
    from campus_common.migrate import migrate as run
    from saga_workers.registry import REGISTRY, TIMERS_SCHEMA

    engine = Database(database_url).engine
    applied = []
    for definition in REGISTRY.values():
        applied += [f"{definition.schema}/{name}" for name in run(engine, definition.schema, MIGRATIONS / "saga")]
    applied += [f"{TIMERS_SCHEMA}/{name}" for name in run(engine, TIMERS_SCHEMA, MIGRATIONS / "timers")]
    return applied
