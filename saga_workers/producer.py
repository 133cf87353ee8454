"""The producers' side of Celery: publishing saga work by task name, without the workers' tasks.

The gateway, beat's scans and the CLI start, retry and cancel sagas by publishing
``saga.<type>.run_step`` / ``.compensate`` by name (``dispatch``); they need the routes and the
broker (``celery_config``), not the task code. A process that also runs tasks (a worker, a test
with an in-process worker or ``task_always_eager``) wires its worker app here instead (``use``),
so eager mode still runs the tasks inside the call.
"""
from __future__ import annotations

import threading

from celery import Celery

from saga_workers import celery_app, dispatch, runtime, sagas
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.status import SagaStatus

_lock = threading.Lock()
_app: Celery | None = None


def publishing_app() -> Celery:
    """A Celery app with the saga routes and queues and no tasks: it only publishes (the current runtime's broker)."""
    app = Celery("saga_workers", set_as_current=False)
    app.conf.update(celery_app.celery_config(runtime.current().settings, list(sagas.REGISTRY)))
    return app


def use(app: Celery) -> None:
    """Publish through ``app`` from now on (bootstrap wires a worker's own app, or a test's)."""
    global _app
    with _lock:
        _app = app


def app() -> Celery:
    """The app this process publishes with: the one wired by ``use``, else a publishing-only app."""
    global _app
    with _lock:
        if _app is None:
            _app = publishing_app()
        return _app


def send_steps(definition: SagaDefinition, saga_id: str, from_index: int = 0) -> bool:
    """Publish the chain of a saga's remaining steps (after its row is committed); False on a broker error."""
    return dispatch.send_steps(app(), definition, saga_id, from_index)


def send_compensation(definition: SagaDefinition, saga_id: str) -> bool:
    """Publish the compensation of a COMPENSATING saga; False on a broker error."""
    return dispatch.send_compensation(app(), definition, saga_id)


def resume(definition: SagaDefinition, saga_id: str, status: str, current_step: int) -> bool:
    """Publish the work a saga in ``status`` waits for: its compensation, or its steps from ``current_step``."""
    if status == SagaStatus.COMPENSATING:
        return send_compensation(definition, saga_id)
    return send_steps(definition, saga_id, current_step)
