"""SQLAlchemy engine per database URL, and the unit of work every state change runs in."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine
from sqlalchemy.orm import Session, sessionmaker

from campus_common import jsonutil

_engines: dict[tuple[str, bool, bool], Engine] = {}
_factories: dict[tuple[str, bool], sessionmaker] = {}
_lock = threading.Lock()


def get_engine(url: str, pre_ping: bool = True, autocommit: bool = False) -> Engine:
    """Return the pooled engine for ``url``, creating it on first use (never at import time).

    ``pre_ping`` tests each connection with a round trip when it leaves the pool, so a Postgres
    restart costs a caller nothing; callers that retry on connection errors anyway (the saga
    tasks do) save that round trip per transaction with ``pre_ping=False``. ``autocommit``: a pool
    of its own whose connections run each statement as its own transaction (switching one
    connection back and forth costs a round trip each time).
    """
    key = (url, pre_ping, autocommit)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            # recycle bounds a connection's life.
            engine = create_engine(url, pool_pre_ping=pre_ping, pool_size=5, max_overflow=10,
                                   pool_recycle=1800, json_serializer=jsonutil.dumps,
                                   json_deserializer=jsonutil.loads,
                                   **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))
            _engines[key] = engine
        return engine


def _session_factory(url: str, pre_ping: bool) -> sessionmaker:
    """One sessionmaker per engine: building one makes a class, too dear for every unit of work."""
    key = (url, pre_ping)
    factory = _factories.get(key)
    if factory is None or factory.kw.get("bind") is not get_engine(url, pre_ping):
        factory = _factories[key] = sessionmaker(bind=get_engine(url, pre_ping), expire_on_commit=False)
    return factory


def dispose_engines() -> None:
    """Close every pooled connection (after fork, and between test sessions)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()


class Database:
    """One database URL and the sessions (units of work) opened on it."""

    def __init__(self, url: str, pre_ping: bool = True) -> None:
        self.url, self.pre_ping = url, pre_ping

    @property
    def engine(self) -> Engine:
        """The pooled engine behind this database."""
        return get_engine(self.url, self.pre_ping)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction on a plain connection (no ORM session): committed at the end, rolled back on error."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection in autocommit mode: each statement is its own transaction, one round trip.

        For a single statement that does all its writing itself (data-modifying CTEs) or a read.
        """
        with get_engine(self.url, self.pre_ping, autocommit=True).connect() as connection:
            yield connection

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        session = _session_factory(self.url, self.pre_ping)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def rowcount(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE without RETURNING touched.

    Session.execute answers such a statement with a CursorResult but is typed to return a plain Result
    (SQLAlchemy's typing notes for 2.0.44 prescribe this cast).
    """
    return cast(CursorResult[Any], result).rowcount
