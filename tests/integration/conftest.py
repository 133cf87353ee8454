"""Participants as real HTTP servers on free loopback ports, for sagas to call."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

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
