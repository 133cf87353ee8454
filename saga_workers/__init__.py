"""Saga orchestration on Celery: the app, the generic engine, saga definitions and their steps.

``celery -A saga_workers worker -Q create_order_saga`` runs one saga type's queue.
"""
from __future__ import annotations

from pathlib import Path

from saga_workers.celery_app import create_celery_app

app = create_celery_app()

MIGRATIONS = Path(__file__).parent / "migrations"
TIMERS_SCHEMA = "saga_timers"


def migrate(database_url: str) -> list[str]:
    """Create or update every saga type's schema and the timers schema."""
    from campus_common.db import Database
    from campus_common.migrate import migrate as run
    from saga_workers.sagas import REGISTRY

    engine = Database(database_url).engine
    applied = []
    for definition in REGISTRY.values():
        applied += [f"{definition.schema}/{name}" for name in run(engine, definition.schema, MIGRATIONS / "saga")]
    applied += [f"{TIMERS_SCHEMA}/{name}" for name in run(engine, TIMERS_SCHEMA, MIGRATIONS / "timers")]
    return applied
