"""A Redis outage must not stop a worker holding unacknowledged messages (celery 5.7.0, kombu 5.7.0).

When the broker connection breaks, Celery tears it down with ``connection.collect()`` and (new in
celery 5.7.0) ``connection.close()``. kombu's ``collect()`` closes the channels one by one, gives up
at the first that fails (the remote-control channel's auto-delete queue cannot be deleted while
Redis is down), and then drops the transport's client. Whatever later touches a channel of that
connection, the task channel's close restoring its unacked messages, or the ack of a task that
finished during the outage, builds a new Redis pool from that client, and kombu's
``Channel._connparams`` raises ``AttributeError: 'NoneType' object has no attribute 'hostname'``.
Celery only expects connection errors there (``ignore_errors``, ``ack_log_error``), so the worker
stops: "Unrecoverable error".

The workaround says what happened in the terms Celery handles: a connection error. Nothing is lost:
unacked messages stay in Redis's unacked set and come back after the visibility timeout, and the
steps are idempotent.
"""
from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

_PATCHED = "_campus_closed_connection_guard"


def install() -> None:
    """Make a channel of a torn-down connection raise a connection error instead of AttributeError."""
    channel = kombu_redis.Channel
    if getattr(channel, _PATCHED, False):
        return
    original = channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("this channel's broker connection was closed (Redis went away)")
        return original(self, asynchronous=asynchronous)

    # Replacing kombu's method is the workaround itself (every Channel, sentinel ones included), not a slip.
    channel._connparams = _connparams  # type: ignore[method-assign]
    setattr(channel, _PATCHED, True)
