"""The project's image as a real saga worker, in containers (pytest-celery).

Builds the repository's Dockerfile, starts a Redis broker container and one saga worker
container running the production worker command, and checks that the worker answers a ping
and consumes its saga queue. Needs a Docker engine: without one the module is skipped.

pytest-celery's plugin stays disabled (``-p no:celery`` in pyproject.toml, so it cannot shadow
Celery's in-process fixtures used elsewhere); this module imports its fixtures for itself.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _docker_engine_answers() -> bool:
    """True when a Docker engine answers ``docker info`` (a client alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


if not _docker_engine_answers():
    pytest.skip("no Docker engine answers `docker info`; the container suite needs one",
                allow_module_level=True)

from pytest_celery import *  # noqa: E402,F401,F403 - pytest-celery's fixtures, for this module only
from pytest_celery import (  # noqa: E402
    CeleryBrokerCluster,
    CeleryTestSetup,
    CeleryWorkerContainer,
    RedisTestBroker,
)
from pytest_docker_tools import build, container, fxtr  # noqa: E402

pytestmark = pytest.mark.docker

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUE = "create_order_saga"
NODE = "create_order"


class SagaWorkerContainer(CeleryWorkerContainer):
    """A create_order saga worker from the project's image, started as in docker-compose.yml."""

    @classmethod
    def command(cls, *args: str, **kwargs: object) -> list[str]:
        """The compose/k8s worker command (plus INFO logs, whose "ready." line marks start-up)."""
        return ["celery", "-A", "saga_workers", "worker", "-Q", QUEUE, "-n", f"{NODE}@%h", "--pool", "threads",
                "--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair", "--loglevel", "INFO"]

    @classmethod
    def worker_name(cls) -> str:
        return NODE

    @classmethod
    def worker_queue(cls) -> str:
        return QUEUE

    @classmethod
    def initial_env(cls, celery_worker_cluster_config: dict, initial: dict | None = None) -> dict:
        """Point the app's own setting (REDIS_URL) at the broker container."""
        env = super().initial_env(celery_worker_cluster_config, initial)
        env["REDIS_URL"] = env["CELERY_BROKER_URL"]
        # Nothing listens here: a ping must not need the database.
        env["DATABASE_URL"] = "postgresql+psycopg2://campus:campus@postgres.invalid:5432/campus"
        return env


saga_worker_image = build(path=str(REPO_ROOT), tag="campus-delivery-sagas:pytest")

default_worker_container = container(
    image="{saga_worker_image.id}",
    environment=fxtr("default_worker_env"),
    network="{default_pytest_celery_network.name}",
    wrapper_class=SagaWorkerContainer,
    timeout=120,
    command=fxtr("default_worker_command"),
)


@pytest.fixture
def default_worker_container_cls() -> type[CeleryWorkerContainer]:
    return SagaWorkerContainer


@pytest.fixture(scope="session")
def default_worker_container_session_cls() -> type[CeleryWorkerContainer]:
    return SagaWorkerContainer


@pytest.fixture
def celery_broker_cluster(celery_redis_broker: RedisTestBroker) -> CeleryBrokerCluster:
    """Redis only: the broker the platform runs on."""
    cluster = CeleryBrokerCluster(celery_redis_broker)
    yield cluster
    cluster.teardown()


@pytest.fixture
def celery_backend_cluster() -> None:
    """No result backend: saga state lives in Postgres, and control replies use the broker."""
    return None


def test_saga_worker_container_answers_ping_and_consumes_its_queue(celery_setup: CeleryTestSetup) -> None:
    node = celery_setup.worker.hostname()

    replies = celery_setup.app.control.ping(destination=[node], timeout=10)
    queues = celery_setup.app.control.inspect(destination=[node], timeout=10).active_queues() or {}

    assert replies == [{node: {"ok": "pong"}}]
    assert [queue["name"] for queue in queues.get(node, [])] == [QUEUE]
