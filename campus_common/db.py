"""SQLAlchemy engine per database URL, and the unit of work every state change runs in."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from campus_common import jsonutil

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """Return the pooled engine for ``url``, creating it on first use (never at import time)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            # pre_ping survives a Postgres restart; recycle bounds a connection's life.
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                   pool_recycle=1800, json_serializer=jsonutil.dumps,
                                   json_deserializer=jsonutil.loads)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after fork, and between test sessions)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


class Database:
    """One database URL and the sessions (units of work) opened on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        """The pooled engine behind this database."""
        return get_engine(self.url)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
