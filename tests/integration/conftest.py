"""Participants as real HTTP servers on free loopback ports, for sagas to call."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devstack.procs import free_port
from devstack.threaded import ThreadedServer

PARTICIPANTS = {  # package -> environment variable that points the sagas at it
    "user_service": "USER_SERVICE_URL",
    "order_service": "ORDER_SERVICE_URL",
    "payment_service": "PAYMENT_SERVICE_URL",
    "notification_service": "NOTIFICATION_SERVICE_URL",
}


@dataclass
class Participants:
    """The running participant servers, by package name (``participants.payment_service.stop()``)."""

    servers: dict[str, ThreadedServer]

    def __getattr__(self, name: str) -> ThreadedServer:
        try:
            return self.servers[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def start_all(self) -> None:
        for server in self.servers.values():
            server.start()


@pytest.fixture(scope="session")
def participants(database_url: str) -> Iterator[Participants]:
    """Every participant service, served over real HTTP; URLs exported to the environment."""
    import importlib

    servers = {}
    for package, env_var in PARTICIPANTS.items():
        app = importlib.import_module(package).create_app({"DATABASE_URL": database_url})
        server = ThreadedServer(app, free_port())
        server.start()
        os.environ[env_var] = server.url
        servers[package] = server
    yield Participants(servers)
    for server in servers.values():
        server.stop()


@pytest.fixture()
def live_participants(participants: Participants, clean_db: str) -> Participants:
    """All participants up (a test that stopped one gets it back) over an empty database."""
    participants.start_all()
    return participants


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    """A test client of the participant that the test's package or module builds as ``app``."""
    return app.test_client()


FAST_RETRIES = {  # bounds small enough for tests, same code paths as production
    "SAGA_STEP_RETRY_LIMIT": "4",
    "SAGA_COMPENSATION_RETRY_LIMIT": "6",
    "SAGA_RETRIABLE_STEP_RETRY_LIMIT": "8",
    "SAGA_RETRY_BACKOFF_BASE_SECONDS": "0.2",
    "SAGA_RETRY_BACKOFF_MAX_SECONDS": "1",
    "PARTICIPANT_TIMEOUT_SECONDS": "2",
}


@pytest.fixture(scope="session")
def saga_app(database_url: str, redis_url: str):
    """The real Celery app, configured for the test Postgres and Redis."""
    for name, value in FAST_RETRIES.items():
        os.environ.setdefault(name, value)
    from saga_workers import app
    from saga_workers.celery_app import configure

    configure(app)
    return app


@pytest.fixture()
def eager(saga_app):
    """Run sagas inside the call (``task_always_eager``), as a unit test of a saga would."""
    saga_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield saga_app
    saga_app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture(scope="session")
def saga_worker(saga_app, participants):
    """A real in-process Celery worker consuming every saga queue and the maintenance queue."""
    import celery.contrib.testing.tasks  # noqa: F401 - registers the ping task start_worker expects
    from celery.contrib.testing.worker import start_worker

    from saga_workers.registry import WORKER_QUEUES

    with start_worker(saga_app, pool="threads", concurrency=4, queues=list(WORKER_QUEUES), perform_ping_check=False,
                      shutdown_timeout=20, loglevel="WARNING") as worker:
        yield worker


@pytest.fixture()
def worker(saga_worker, live_participants):
    """A running worker over an empty database with every participant up."""
    return saga_worker
