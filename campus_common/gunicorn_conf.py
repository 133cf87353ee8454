"""gunicorn settings every service runs with: ``gunicorn -c python:campus_common.gunicorn_conf ...``.

The public gateway adds ``--worker-class gevent``: each connection is a greenlet, not a thread or a
process, so clients that never finish their request cost a little memory, not the gateway
(``worker_connections`` of them per worker), and reading a request's line and headers is bounded
by ``keepalive`` seconds (gevent's timeout around the parser). The internal participants keep the
sync worker. Malformed requests that never reach Flask are answered in the JSON error format.
"""
from __future__ import annotations

import json
import os
from typing import Any

from gunicorn import util

from campus_common.errors import error_body

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a worker silent this long is restarted
graceful_timeout = 10
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # gevent: also the request line + headers bound
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
errorlog = "-"  # each request is logged by the app itself (campus_common.web), with its request id


def _json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error page (a request it could not parse), as our JSON error instead of HTML."""
    code = "internal_error" if status_int >= 500 else reason.lower().replace(" ", "_")
    body = json.dumps(error_body(code, mesg or reason)).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


# gunicorn has no setting for its error page; its workers call util.write_error at the time of the error.
util.write_error = _json_error


def post_fork(server: Any, worker: Any) -> None:
    """Under gevent, let psycopg2 wait through (patched) select, so a query never blocks every greenlet."""
    if "gevent" in type(worker).__module__:
        from psycopg2.extensions import set_wait_callback
        from psycopg2.extras import wait_select

        set_wait_callback(wait_select)
