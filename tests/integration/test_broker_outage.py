"""A real worker outlives Redis stopping while it holds unacknowledged messages, and consumes again after."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.config import CELERY_THREADS, REPO_ROOT
from devstack.procs import free_port, wait_until
from devstack.redis import RedisServer

ROUNDS = (signal.SIGKILL, signal.SIGTERM)  # a crash and a clean stop of Redis


@pytest.fixture()
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own: it is stopped and started again."""
    server = RedisServer(tmp_path / "redis", free_port(), persistent=False)
    server.start()
    yield server
    if (pid := server.server_pid()) is not None:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture()
def worker(broker: RedisServer, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``celery worker`` with the production configuration (the threads pool as shipped, prefetch 1)."""
    env = {**os.environ, "REDIS_URL": broker.url(), "PYTHONPATH": str(REPO_ROOT)}
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tests.integration.outage_app", "worker",
                             "-Q", "saga_maintenance", "--pool", "threads", "-c", str(CELERY_THREADS),
                             "--prefetch-multiplier", "1", "-l", "INFO"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.kill()
    proc.wait()
    log.close()


def consumed(path: Path, timeout: float, worker: subprocess.Popen, log: Path) -> None:
    """Publish ``mark(path)`` (again, while Redis comes back) until the worker has run it."""
    from tests.integration.outage_app import mark

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"nothing consumed within {timeout}s:\n{log.read_text()[-3000:]}"
        try:
            mark.apply_async((str(path),), retry=False)
        except Exception:  # noqa: BLE001 - Redis is still starting
            pass
        time.sleep(1.0)


def test_the_worker_survives_redis_stopping_under_unacked_messages(broker, worker, tmp_path, monkeypatch):
    from tests.integration.outage_app import app, hold

    monkeypatch.setattr(app.conf, "broker_url", broker.url())
    log = tmp_path / "worker.log"
    consumed(tmp_path / "ready", 60, worker, log)
    for round_, stop in enumerate(ROUNDS):
        started = tmp_path / f"held-{round_}"
        hold.delay(str(started), 4.0)
        wait_until(started.exists, 20, "the held task to start")
        os.kill(broker.server_pid(), stop)  # the worker holds the task unacked and waits for more
        wait_until(lambda: not broker.running(), 10, "redis to stop")
        time.sleep(2.0)
        broker.start()
        consumed(tmp_path / f"after-{round_}", 45, worker, log)
    assert worker.poll() is None
    assert "Unrecoverable error" not in log.read_text()
