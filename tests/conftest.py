"""Real parts for the whole suite: a throw-away Postgres and Redis on free loopback ports.

Session fixtures start them once; ``clean_db`` empties every table between tests. Participant
services run as real HTTP servers (``participants``), on free ports, in this process.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from devstack.postgres import PostgresCluster
from devstack.procs import free_port
from devstack.redis import RedisServer
from saga_workers import registry
from tests.service_credentials import install_session_keys

SCHEMAS = ("user_service", "order_service", "payment_service", "notification_service", *registry.SCHEMAS)


@pytest.fixture(scope="session", autouse=True)
def service_keys() -> dict[str, str]:
    """Real service key pairs for this session (participants refuse to start without them)."""
    return install_session_keys()


# The suites' traffic comes from one address, many users and quick calls, and stacks started by the
# e2e and chaos tests inherit this environment: limits that never throttle it. The rate-limit tests
# set low ones to prove the limits work.
SUITE_RATE_LIMITS = {"RATE_LIMIT_USER_WRITES": "100000 per minute", "RATE_LIMIT_AUTH_FAILURES": "100000 per minute"}


@pytest.fixture(scope="session", autouse=True)
def suite_rate_limits() -> None:
    """High rate limits for the whole session, unless the environment sets its own."""
    for name, value in SUITE_RATE_LIMITS.items():
        os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    """A temporary folder the postgres user can enter."""
    path = Path(tempfile.mkdtemp(prefix="campus-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(run_dir: Path) -> Iterator[PostgresCluster]:
    """A Postgres cluster for this test session, with database ``campus_test`` (fsync off: throw-away data)."""
    cluster = PostgresCluster(run_dir / "pg", free_port(), run_dir / "pglog" / "postgres.log", durable=False)
    cluster.start()
    cluster.create_database("campus_test")
    yield cluster
    cluster.stop("immediate")


@pytest.fixture(scope="session")
def redis_server(run_dir: Path) -> Iterator[RedisServer]:
    """A Redis server for this test session (no persistence)."""
    server = RedisServer(run_dir / "redis", free_port(), persistent=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres: PostgresCluster) -> str:
    """The migrated test database's URL, also exported as DATABASE_URL."""
    from devstack.migrate import migrate_all

    url = postgres.url("campus_test")
    os.environ["DATABASE_URL"] = url
    migrate_all(url)
    return url


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """The test Redis URL, also exported as REDIS_URL."""
    url = redis_server.url()
    os.environ["REDIS_URL"] = url
    return url


@pytest.fixture()
def clean_db(database_url: str) -> str:
    """Empty every table of every schema (migration records kept) before the test."""
    from campus_common.db import get_engine

    with get_engine(database_url).begin() as conn:
        tables = conn.execute(text(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = ANY(:schemas) AND tablename <> 'schema_migrations'"),
            {"schemas": list(SCHEMAS)}).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    return database_url
