"""A Celery app with the saga workers' configuration and two test tasks, for the broker-outage test.

``celery -A tests.integration.outage_app worker`` runs a real worker (the shipped threads pool, event loop,
remote control) exactly as configured in production, but with tasks whose progress shows as files.
"""
from __future__ import annotations

import time
from pathlib import Path

from celery import Celery

from campus_common.config import load_settings
from saga_workers.celery_app import configure

app = Celery("outage_test")
configure(app, load_settings())  # a subprocess, wired from its environment: what the saga workers' app gets: its settings and the broker-outage workaround


@app.task(name="outage.hold")
def hold(marker: str, seconds: float) -> None:
    """Say it started, then keep its message unacknowledged (acks_late) for ``seconds``."""
    Path(marker).touch()
    time.sleep(seconds)


@app.task(name="outage.mark")
def mark(path: str) -> None:
    """Leave a file: the worker consumed this task."""
    Path(path).touch()
