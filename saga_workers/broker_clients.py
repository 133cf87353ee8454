"""One Redis client object per kombu channel, not one per command (kombu 5.7.0's Redis transport).

kombu's ``Channel.conn_or_acquire()`` builds a new ``redis.Redis`` on every call that is not
handed one: every publish (a step's next link, each task event) and every ack. The client is
only a front for the channel's connection pool (connections are taken from the pool per command
either way), but building one copies redis-py's table of response callbacks, which was 10% of a
saga worker's main process in a profile. The client built here is the same object kombu would
build (``Channel._create_client``), kept while the channel's pool is the same: a channel rebuilt
after a broker outage gets a new pool, and with it a new client. redis-py clients are safe to
share between threads (each command takes its own connection from the pool).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis

_PATCHED = "_campus_reused_client"


def install() -> None:
    """Make ``conn_or_acquire()`` without a client yield the channel's one client for its current pool."""
    channel = kombu_redis.Channel
    if getattr(channel, _PATCHED, False):
        return

    @contextmanager
    def conn_or_acquire(self: Any, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        cached = self.__dict__.get(_PATCHED)
        if cached is None or cached[0] is not pool:
            cached = self.__dict__[_PATCHED] = (pool, self._create_client())
        yield cached[1]

    setattr(channel, "conn_or_acquire", conn_or_acquire)  # noqa: B010 - mypy refuses assigning a method
    setattr(channel, _PATCHED, True)
