"""Celery's processes log like every other one: JSON lines, each carrying the task it belongs to.

Connected to Celery's logging signals when the app is built (``saga_workers.celery_app``): Celery
leaves the logging set-up to us (``setup_logging``), and every task runs with its ``task_id`` and
``task_name`` bound (``task_prerun``/``task_postrun``); the engine adds the saga and step.
"""
from __future__ import annotations

import logging
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun

from campus_common import logs
from campus_common.config import load_settings

_bound: dict[str, dict[str, Any]] = {}  # task id -> the context tokens to restore when it ends


@setup_logging.connect
def _json_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Replace Celery's own formatter (worker, beat, Flower) with the platform's JSON lines."""
    logs.configure_logging("saga_workers", load_settings().log_level)
    if loglevel:
        logging.getLogger().setLevel(loglevel)  # --loglevel on the command line wins


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id:
        _bound[task_id] = logs.bind(task_id=task_id, task_name=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task(task_id: str | None = None, **_: Any) -> None:
    tokens = _bound.pop(task_id, None) if task_id else None
    if tokens:
        logs.unbind(tokens)
