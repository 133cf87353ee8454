"""A saga task's step logs one line per attempt: Celery's own received/succeeded lines for it are dropped."""
from __future__ import annotations

import logging

from celery.app import trace

from saga_workers.worker_logging import keep_line


def record(fmt: str, name: str) -> logging.LogRecord:
    context = {"id": "t-1", "name": name, "args": "['s-1', 0]", "kwargs": "{}", "eta": None, "runtime": 0.01,
               "return_value": "'continue'", "exc": "boom", "return": ""}
    return logging.LogRecord("celery.app.trace", logging.INFO, __file__, 1, fmt, (context,), None)


def test_celery_received_and_succeeded_lines_of_saga_tasks_are_dropped() -> None:
    for task in ("saga.calib.run_step", "saga.create_order.compensate", "saga.create_order.on_step_error"):
        assert not keep_line(record(trace.LOG_RECEIVED, task))
        assert not keep_line(record(trace.LOG_SUCCESS, task))


def test_maintenance_tasks_retries_and_failures_keep_celery_lines() -> None:
    assert keep_line(record(trace.LOG_SUCCESS, "saga.maintenance.resume_stalled"))
    assert keep_line(record(trace.LOG_RECEIVED, "saga.maintenance.fire_due_timeouts"))
    assert keep_line(record(trace.LOG_RETRY, "saga.calib.run_step"))
    assert keep_line(record(trace.LOG_FAILURE, "saga.calib.run_step"))
    assert str(record(trace.LOG_SUCCESS, "saga.calib.run_step").getMessage()).startswith("Task saga.calib.run_step")
