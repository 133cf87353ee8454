"""A saga type declared by a module outside the package runs like a built-in one.

Worker, migration and starter are separate processes given ``SAGA_DEFINITION_MODULES``, as a
deployment would run them; the test process itself does not know the saga type.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[2]
START = "from saga_workers.service import start_saga; print(start_saga('greeting', {'name': 'Ada'}).saga_id)"


def _saga_row(database_url: str, saga_id: str, timeout: float = 60):
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                row = conn.execute(text("SELECT status, step_outputs FROM greeting_saga.saga_instances "
                                        "WHERE saga_id = :id"), {"id": saga_id}).one()
            if row.status != "STARTED" or time.monotonic() > deadline:
                return row
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_a_saga_from_an_external_module_migrates_and_runs_on_a_worker(database_url: str, redis_url: str) -> None:
    env = {**os.environ, "SAGA_DEFINITION_MODULES": "tests.integration.external_saga",
           "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PYTHONPATH": str(REPO)}
    # The migration run creates the new type's schema (greeting_saga) from the same registry.
    subprocess.run([sys.executable, "-m", "devstack.migrate"], cwd=REPO, env=env, capture_output=True, check=True)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "saga_workers", "worker", "-P", "solo",
                               "-Q", "greeting_saga", "-n", "greeting@%h", "--loglevel", "WARNING"],
                              cwd=REPO, env=env, start_new_session=True)
    try:
        saga_id = subprocess.run([sys.executable, "-c", START], cwd=REPO, env=env, capture_output=True,
                                 text=True, check=True).stdout.strip()
        row = _saga_row(database_url, saga_id)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    assert row.status == "COMPLETED"
    assert row.step_outputs == {"greet": {"greeting": "hello Ada"}, "shout": {"shouted": "HELLO ADA"}}
