"""The one log format: JSON lines with whatever request and saga context is bound, in every process."""
from __future__ import annotations

import io
import json
import logging

from gunicorn.config import Config

from campus_common import logs
from campus_common.gunicorn_logging import JsonLogger


def emit(message: str, *args: object) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.json_formatter("order_service"))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_a_line_is_json_with_the_bound_context_and_only_while_bound() -> None:
    logs.configure_logging("order_service")  # installs the record factory

    with logs.bound(request_id="req-1", saga_id="s-1", step="authorize_payment", attempt=2):
        inside = emit("calling %s", "payments")
    outside = emit("after")

    assert inside | {"message": "calling payments", "level": "WARNING", "service": "order_service",
                     "logger": "test.logs", "request_id": "req-1", "saga_id": "s-1",
                     "step": "authorize_payment", "attempt": 2} == inside
    assert "timestamp" in inside
    assert not {"request_id", "saga_id", "step", "attempt"} & set(outside)


def test_nested_bindings_restore_the_outer_values() -> None:
    with logs.bound(request_id="outer", saga_id="a"):
        with logs.bound(saga_id="b"):
            assert (logs.current_request_id(), logs.current("saga_id")) == ("outer", "b")
        assert logs.current("saga_id") == "a"
    assert logs.current_request_id() is None


def test_a_caller_request_id_is_kept_only_when_well_formed() -> None:
    assert logs.accept_request_id("checkout-42.retry_1") == "checkout-42.retry_1"
    for bad in (None, "", "has space", "a" * 129, "line\nbreak", "<script>"):
        generated = logs.accept_request_id(bad)
        assert generated != bad and len(generated) == 32


def test_gunicorn_lines_are_json_too() -> None:
    config = Config()
    config.set("errorlog", "-")
    config.set("proc_name", "payment_service")
    logger = JsonLogger(config)

    formatters = {type(handler.formatter).__name__ for handler in logger.error_log.handlers}

    assert formatters == {"JsonFormatter"}
    assert logger.error_log.handlers[0].formatter.static_fields == {"service": "payment_service"}
