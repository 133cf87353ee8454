"""The worker's wiring point (Celery worker and beat): settings, databases, runners and the Celery app, once.

``celery -A saga_workers`` loads ``saga_workers.app``, which bootstraps from the environment on
first use. ``bootstrap(settings)`` installs the process's ``SagaRuntime`` (its databases and one
runner per saga definition, so a step builds nothing) and the app with every saga type's tasks,
through which this process also publishes (eager mode and in-process workers run what it sends).
The gateway and the CLI never import this module: they publish through ``saga_workers.producer``.
Tests call ``bootstrap`` with a ``Settings`` they built: the same door, their own parts.
"""
from __future__ import annotations

import threading

from celery import Celery

from campus_common.config import Settings, load_settings
from saga_workers import producer, runtime
from saga_workers.celery_app import configure
from saga_workers.sagas import REGISTRY
from saga_workers.tasks import register_maintenance_tasks, register_saga_tasks

_lock = threading.Lock()
_worker_app: Celery | None = None


def create_celery_app(settings: Settings) -> Celery:
    """Build the app with every saga type's tasks registered."""
    celery = Celery("saga_workers")
    configure(celery, settings)
    for definition in REGISTRY.values():
        register_saga_tasks(celery, definition)
    register_maintenance_tasks(celery)
    return celery


def bootstrap(settings: Settings | None = None) -> Celery:
    """Wire this worker process with ``settings`` (the environment's by default); return its Celery app.

    Called again (tests), it re-wires: a new runtime, and the one app reconfigured before it publishes.
    """
    global _worker_app
    settings = settings or load_settings()
    with _lock:
        wired = runtime.install(runtime.SagaRuntime.from_settings(settings))
        for definition in REGISTRY.values():
            wired.runner(definition)  # built now, once: a step only looks its runner up
        if _worker_app is None:
            _worker_app = create_celery_app(settings)
        else:
            configure(_worker_app, settings)
        producer.use(_worker_app)
        return _worker_app


def worker_app() -> Celery:
    """The worker app of this process, bootstrapped from the environment on first use (``celery -A``)."""
    return _worker_app if _worker_app is not None else bootstrap()
