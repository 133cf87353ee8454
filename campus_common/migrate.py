"""A small, ordered SQL migration runner: one schema, one folder of ``NNN_name.sql`` files.

Each schema records what it has applied in ``<schema>.schema_migrations``; an advisory lock
makes concurrent starts (several workers, several gunicorn processes) apply each file once.
"""
from __future__ import annotations

import logging
import zlib
from pathlib import Path

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


def _lock_id(schema: str) -> int:
    return zlib.crc32(f"migrate:{schema}".encode())


def migrate(engine: Engine, schema: str, folder: Path | str) -> list[str]:
    """Apply the pending ``*.sql`` files of ``folder`` to ``schema``; return their names.

    ``{schema}`` inside a file is replaced by the schema name, so one file can serve several
    schemas (the saga schemas share their layout).
    """
    files = sorted(Path(folder).glob("*.sql"))
    applied: list[str] = []
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(schema)})
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.execute(text(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"))
        done = {row[0] for row in conn.execute(text(f'SELECT name FROM "{schema}".schema_migrations'))}
        for path in files:
            if path.name in done:
                continue
            conn.exec_driver_sql(path.read_text().replace("{schema}", schema))
            conn.execute(text(f'INSERT INTO "{schema}".schema_migrations (name) VALUES (:n)'), {"n": path.name})
            applied.append(path.name)
    if applied:
        log.info("migrated schema %s: %s", schema, ", ".join(applied))
    return applied
