"""One log format for every process: JSON lines carrying the request and saga they belong to.

Context (``request_id``, ``saga_id``, ``saga_type``, ``step``, ``phase``, ``attempt``,
``task_id``) lives in context variables, set by the HTTP services per request and by the saga
workers per task and attempt; a log record factory copies whatever is set onto every record, so
every handler (ours, pytest's, Celery's) sees it, and ``grep <saga_id>`` or ``grep <request_id>``
follows one order across processes.
"""
from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("request_id", "saga_id", "saga_type", "step", "phase", "attempt", "task_id", "task_name")
_context: dict[str, contextvars.ContextVar[Any]] = {
    name: contextvars.ContextVar(f"campus_log_{name}", default=None) for name in CONTEXT_FIELDS}
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is echoed into logs and headers: keep it short and free of log-breaking characters.
_REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def current(name: str) -> Any:
    """The value of one context field in this thread/task (None when unset)."""
    return _context[name].get()


def current_request_id() -> str | None:
    """The request id the current work belongs to (None outside a request or saga)."""
    return _context["request_id"].get()


def bind(**fields: Any) -> dict[str, contextvars.Token]:
    """Set context fields; returns the tokens that ``unbind`` uses to restore the previous values."""
    return {name: _context[name].set(value) for name, value in fields.items()}


def unbind(tokens: dict[str, contextvars.Token]) -> None:
    """Restore the context fields ``bind`` changed."""
    for name, token in tokens.items():
        _context[name].reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Context fields set for the duration of a block."""
    tokens = bind(**fields)
    try:
        yield
    finally:
        unbind(tokens)


def accept_request_id(value: str | None) -> str:
    """The caller's request id when it is well-formed, else a new one."""
    if value and _REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


def json_formatter(process: str) -> logging.Formatter:
    """JSON lines: timestamp, level, service, logger, message, context fields, and any ``extra``."""
    return JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp=True, static_fields={"service": process},
                         rename_fields={"levelname": "level", "name": "logger"})


# Marks on the record factory and the root logger: installed or configured once per process.
_FACTORY_MARK, _CONFIGURED_MARK = "_campus_context", "_campus_configured"


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, _FACTORY_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for name, var in _context.items():
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return record

    setattr(factory, _FACTORY_MARK, True)
    logging.setLogRecordFactory(factory)


def configure_logging(process: str, level: str = "INFO") -> None:
    """Configure the root logger once for ``process``: one JSON handler on stderr."""
    _install_record_factory()
    root = logging.getLogger()
    if getattr(root, _CONFIGURED_MARK, False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter(process))
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings (Celery's, libraries') as JSON lines too
    setattr(root, _CONFIGURED_MARK, True)
