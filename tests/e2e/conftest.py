"""A whole stack, started the way ``make up`` starts it, in a temporary RUN_DIR on free ports.

Nothing is shared with the rest of the suite: its own Postgres, Redis, services, saga workers,
beat and Flower, torn down (``python -m devstack down``) at the end. Set KEEP_E2E_RUN_DIR=1 to
keep the run folder (logs) afterwards.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.config import REPO_ROOT
from devstack.gateway_client import Gateway, mint_token
from devstack.procs import free_port
from tests.e2e.actors import Actor, new_customer

PORT_VARIABLES = ("PG_PORT", "REDIS_PORT", "USER_SERVICE_PORT", "ORDER_SERVICE_PORT", "PAYMENT_SERVICE_PORT",
                  "NOTIFICATION_SERVICE_PORT", "GATEWAY_PORT", "FLOWER_PORT")
# Other fixtures of the session export these for in-process tests; the stack derives its own.
INHERITED_ADDRESSES = ("DATABASE_URL", "REDIS_URL", "USER_SERVICE_URL", "ORDER_SERVICE_URL",
                       "PAYMENT_SERVICE_URL", "NOTIFICATION_SERVICE_URL")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs against a whole stack started by devstack (tests/e2e)")


@dataclass
class Stack:
    """The running stack: its environment, and helpers to call it as it is called in production."""

    run_dir: Path
    env: dict[str, str]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def devstack(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``python -m devstack <args>`` against this stack."""
        return subprocess.run([sys.executable, "-m", "devstack", *args], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def token(self, sub: str, role: str) -> str:
        """A JWT signed with this stack's secret."""
        return mint_token(sub, role, self.env)

    def gateway(self, token: str | None = None) -> Gateway:
        return Gateway(self.gateway_url, token)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """``python -m devstack up`` in a temporary RUN_DIR with every port free; ``down`` at the end."""
    run_dir = Path(tempfile.mkdtemp(prefix="campus-e2e-"))
    run_dir.chmod(0o755)  # the postgres user must reach its data folder
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_ADDRESSES}
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    # No GATEWAY_JWT_SECRET: devstack generates the stack's own, and the token CLI reads it from RUN_DIR.
    env.pop("GATEWAY_JWT_SECRET", None)
    # PG_DURABLE=0: a throw-away stack's Postgres without fsync, for speed (benchmarks keep it on).
    env.update(RUN_DIR=str(run_dir), STACK_START_TIMEOUT="150", PYTHONDONTWRITEBYTECODE="1", PG_DURABLE="0")
    running = Stack(run_dir, env)
    try:
        started = running.devstack("up")  # must work the first time: supervision restarts a process that exits
        if started.returncode != 0:
            pytest.fail(f"python -m devstack up failed ({started.returncode}):\n{started.stdout}\n{started.stderr}",
                        pytrace=False)
        yield running
    finally:
        stopped = running.devstack("down", timeout=120)
        if stopped.returncode != 0:
            print(f"devstack down failed:\n{stopped.stdout}\n{stopped.stderr}", file=sys.stderr)
        if not os.environ.get("KEEP_E2E_RUN_DIR"):
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Gateway:
    """An admin's client of the stack's gateway."""
    return stack.gateway(stack.token(str(uuid.uuid4()), "admin"))


@pytest.fixture(scope="module")
def customer(stack: Stack, admin: Gateway) -> Actor:
    """A customer paying with an approving card."""
    return new_customer(stack, admin, "tok_visa")


@pytest.fixture(scope="module")
def runner(stack: Stack, admin: Gateway) -> Actor:
    """A runner with a payout account."""
    user = admin.create_user("E2E Runner", "runner", payout_account="acct_e2e_runner")
    return Actor(user["user_id"], stack.gateway(stack.token(user["user_id"], "runner")))
