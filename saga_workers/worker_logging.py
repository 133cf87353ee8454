"""Celery's processes log like every other one: JSON lines, each carrying the task it belongs to.

Connected to Celery's logging signals when the app is built (``saga_workers.celery_app``): Celery
leaves the logging set-up to us (``setup_logging``), and every task runs with its ``task_id`` and
``task_name`` bound (``task_prerun``/``task_postrun``); the engine adds the saga and step.

A saga task logs one line per attempt of a step (``saga_workers.telemetry``: saga, step, outcome,
duration, task id), so Celery's own "Task ... received" and "... succeeded in" lines for those
tasks are dropped (above DEBUG): they said the same twice more, and were two of a step's three
JSON lines. Celery's lines for retries, failures, and every maintenance task stay.
"""
from __future__ import annotations

import logging
from typing import Any

from celery.app import trace
from celery.signals import setup_logging, task_postrun, task_prerun

from campus_common import logs
from saga_workers import runtime

_bound: dict[str, dict[str, Any]] = {}  # task id -> the context tokens to restore when it ends


@setup_logging.connect
def _json_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Replace Celery's own formatter (worker, beat, Flower) with the platform's JSON lines."""
    logs.configure_logging("saga_workers", runtime.current().settings.log_level)
    if loglevel:
        logging.getLogger().setLevel(loglevel)  # --loglevel on the command line wins
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in ("celery.worker.strategy", "celery.app.trace"):
            logging.getLogger(name).addFilter(keep_line)


def keep_line(record: logging.LogRecord) -> bool:
    """False for Celery's received/succeeded line of a saga task (its attempt line says it all)."""
    if record.msg is not trace.LOG_RECEIVED and record.msg is not trace.LOG_SUCCESS:
        return True
    name = (record.args or {}).get("name", "") if isinstance(record.args, dict) else ""
    return not (name.startswith("saga.") and not name.startswith("saga.maintenance."))


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    if not task_id:
        return
    name = getattr(task, "name", None) or ""
    fields: dict[str, Any] = dict(task_id=task_id, task_name=name)
    kind, _dot, rest = name.partition(".")
    saga_type = rest.rpartition(".")[0]
    if kind == "saga" and saga_type != "maintenance" and args:  # saga.<type>.<task>(saga_id, ...)
        fields.update(saga_id=str(args[0]), saga_type=saga_type)
    _bound[task_id] = logs.bind(**fields)


@task_postrun.connect
def _unbind_task(task_id: str | None = None, **_: Any) -> None:
    tokens = _bound.pop(task_id, None) if task_id else None
    if tokens:
        logs.unbind(tokens)
