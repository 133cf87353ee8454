"""The gateway as devstack serves it (gunicorn, its config and worker class), over the test Postgres,
Redis and participants, for what only a real HTTP server shows: chunked bodies, slow clients, raw bytes.

Import the fixture into a test module: ``from tests.integration.gunicorn_gateway import served_gateway``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from devstack.config import REPO_ROOT
from devstack.procs import free_port
from devstack.stack import gunicorn_argv
from tests.integration.gateway_fixtures import SECRET


@dataclass
class ServedGateway:
    """A gunicorn gateway on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(self, data: bytes, timeout: float = 10.0) -> bytes:
        """Send ``data`` as is on a fresh connection and return everything the server answers."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture(scope="module")
def served_gateway(participants, database_url: str, redis_url: str, tmp_path_factory) -> Iterator[ServedGateway]:
    """``api_gateway`` under gunicorn with devstack's argv (one worker, so its limits are what we probe)."""
    port = free_port()
    env = {**os.environ, "GATEWAY_JWT_SECRET": SECRET, "PYTHONPATH": str(REPO_ROOT), "GUNICORN_KEEPALIVE": "2",
           "RATE_LIMIT_ENABLED": "0"}
    log = tmp_path_factory.mktemp("gunicorn") / "gateway.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(gunicorn_argv("api_gateway", f"127.0.0.1:{port}", 1), cwd=REPO_ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    served = ServedGateway(port, process)
    try:
        _wait_healthy(served, log)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_healthy(served: ServedGateway, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"gunicorn exited {served.process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the gateway did not become healthy:\n{log.read_text()}")
