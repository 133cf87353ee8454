"""Participants as real HTTP servers on free loopback ports, for sagas to call."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient

from campus_common.config import Settings

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
        app = importlib.import_module(package).create_app(settings=Settings(database_url=database_url))
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


FAST_RETRIES: dict[str, Any] = {  # bounds small enough for tests, same code paths as production
    "saga_step_retry_limit": 4,
    "saga_compensation_retry_limit": 6,
    "saga_retriable_step_retry_limit": 8,
    "saga_retry_backoff_base_seconds": 0.2,
    "saga_retry_backoff_max_seconds": 1.0,
    "participant_timeout_seconds": 2.0,
}


@pytest.fixture(scope="session")
def worker_settings(database_url: str, redis_url: str, participants: Participants) -> Settings:
    """The settings the tests' worker is wired with: test Postgres, Redis and participants, fast retries."""
    fields: dict[str, Any] = {f"{package}_url": server.url for package, server in participants.servers.items()}
    return Settings(database_url=database_url, redis_url=redis_url, **fields, **FAST_RETRIES)


@pytest.fixture(scope="session")
def saga_app(worker_settings: Settings) -> Celery:
    """The real Celery app, wired by the worker's bootstrap with the test settings."""
    from saga_workers.bootstrap import bootstrap

    return bootstrap(worker_settings)


@pytest.fixture()
def rewire(saga_app: Celery) -> Iterator[Callable[..., Settings]]:
    """Change the worker's settings for one test: ``rewire(order_service_url=...)``; restored after it.

    The process's runtime is rebuilt with them (the door the bootstrap uses), so the in-process
    worker and eager sagas run with them; the Celery app itself keeps its configuration.
    """
    from saga_workers import runtime

    before = runtime.current()

    def change(**fields: Any) -> Settings:
        settings = dataclasses.replace(runtime.current().settings, **fields)
        runtime.install(runtime.SagaRuntime.from_settings(settings))
        return settings

    yield change
    runtime.install(before)


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
