"""Wiring of the saga side of a process: which Celery app it publishes with, built once.

A worker (``celery -A saga_workers``: ``saga_workers.app``) builds the app with every saga type's
tasks and publishes through it; the gateway, beat's scans run by a worker, and the CLI publish
through ``saga_workers.producer``, which without a worker app here uses a publishing-only app
(routes, no tasks). Tests wire their app through ``producer.use`` (the door bootstrap uses too).
"""
from __future__ import annotations

import threading

from celery import Celery

from saga_workers import producer
from saga_workers.celery_app import configure
from saga_workers.sagas import REGISTRY
from saga_workers.tasks import register_maintenance_tasks, register_saga_tasks

_lock = threading.Lock()
_worker_app: Celery | None = None


def create_celery_app() -> Celery:
    """Build the app with every saga type's tasks registered."""
    celery = Celery("saga_workers")
    configure(celery)
    for definition in REGISTRY.values():
        register_saga_tasks(celery, definition)
    register_maintenance_tasks(celery)
    return celery


def worker_app() -> Celery:
    """The worker app of this process (every saga type's tasks), built on first use; producers use it too."""
    global _worker_app
    with _lock:
        if _worker_app is None:
            _worker_app = create_celery_app()
            producer.use(_worker_app)  # eager mode and in-process workers run what this process publishes
        return _worker_app
