"""The stack under chaos: started by ``python -m devstack up`` in a temporary RUN_DIR on free ports.

Same approach as tests/e2e/conftest.py, plus: small engine bounds passed through the environment,
and a fault proxy in front of every participant (``*_SERVICE_URL`` points at it, the real port stays
the participant's own, so devstack's health checks still see the real process).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import Engine, Row, create_engine, text

from devstack.commands import supervisor
from devstack.config import REPO_ROOT, SERVICES, StackConfig, load_stack_config
from devstack.procs import free_port
from devstack.supervisor import Supervisor
from tests.chaos.fault_proxy import FaultProxy

Rows = Sequence[Row[*tuple[Any, ...]]]  # what a query answers: rows of any columns

PORT_VARIABLES = ("PG_PORT", "REDIS_PORT", "USER_SERVICE_PORT", "ORDER_SERVICE_PORT", "PAYMENT_SERVICE_PORT",
                  "NOTIFICATION_SERVICE_PORT", "GATEWAY_PORT")
# Other fixtures of the session export these for in-process tests; the stack derives its own.
INHERITED_ADDRESSES = ("DATABASE_URL", "REDIS_URL", "USER_SERVICE_URL", "ORDER_SERVICE_URL",
                       "PAYMENT_SERVICE_URL", "NOTIFICATION_SERVICE_URL")
PARTICIPANTS = tuple(SERVICES)
JWT_SECRET = "chaos-run-secret-not-for-production-use"

# Small bounds so that faults turn into retries, compensations, FAILED sagas and sweeps within seconds.
ENGINE_BOUNDS = {
    "SAGA_STALL_SECONDS": "5",
    "SAGA_SWEEP_SECONDS": "2",
    "PARTICIPANT_TIMEOUT_SECONDS": "2",
    "SAGA_RETRY_BACKOFF_BASE_SECONDS": "0.2",
    "SAGA_RETRY_BACKOFF_MAX_SECONDS": "2",
    "BROKER_VISIBILITY_TIMEOUT_SECONDS": "15",  # > the backoff max and the DB autoretry countdowns seen
    "SAGA_STEP_RETRY_LIMIT": "5",
    "SAGA_RETRIABLE_STEP_RETRY_LIMIT": "8",
    "SAGA_COMPENSATION_RETRY_LIMIT": "6",
    "ACCEPT_TIMEOUT_SCAN_SECONDS": "1",
}


@dataclass
class ChaosStack:
    """A running stack: its environment, its devstack config, its proxies, and a SQL engine on its database."""

    run_dir: Path
    env: dict[str, str]
    proxies: dict[str, FaultProxy]
    cfg: StackConfig = field(init=False)
    sup: Supervisor = field(init=False)
    _engine: Engine | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        with mock.patch.dict(os.environ, self.env, clear=True):
            self.cfg = load_stack_config()
            self.sup = supervisor(self.cfg)

    @property
    def gateway_url(self) -> str:
        return self.cfg.gateway_url

    @property
    def database_url(self) -> str:
        return self.cfg.database_url

    @property
    def redis_port(self) -> int:
        return self.cfg.redis_port

    def devstack(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``python -m devstack <args>`` against this stack."""
        return subprocess.run([sys.executable, "-m", "devstack", *args], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def not_running(self) -> list[str]:
        """The processes supervision has not (yet) brought back."""
        return sorted(name for name, state in self.sup.states().items() if state.state != "RUNNING")

    def wait_supervised(self, timeout: float = 90.0) -> float:
        """Wait until supervision has every process RUNNING again; the seconds it took."""
        began = time.monotonic()
        while (down := self.not_running()) and time.monotonic() - began < timeout:
            time.sleep(0.2)
        if down:
            raise RuntimeError(f"supervision did not bring back {down} within {timeout:.0f}s:\n"
                               + "\n".join(f"--- {name}\n{self.log_tail(name)}" for name in down))
        return time.monotonic() - began

    def restarts(self) -> dict[str, int]:
        """{process: unexpected exits supervision restarted} since the stack started."""
        return {name: state.restarts for name, state in self.sup.states().items()}

    def celery(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """``celery -A saga_workers <args>`` with this stack's environment (the operators' CLI)."""
        env = {**self.env, "DATABASE_URL": self.database_url, "REDIS_URL": self.cfg.redis_url}
        return subprocess.run([sys.executable, "-m", "celery", "-A", "saga_workers", *args], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)

    def pid(self, name: str) -> int | None:
        """The leader pid of the stack process ``name`` (``payment_service``, ``worker.create_order_saga``...)."""
        return self.sup.pid(name)

    def log_tail(self, name: str, lines: int = 40) -> str:
        return self.sup.tail(name, lines)

    @property
    def engine(self) -> Engine:
        """A small pool of our own on the stack's database (the checker's and the driver's reads)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_pre_ping=True, pool_size=4, max_overflow=8)
        return self._engine

    def query(self, sql: str, params: dict[str, Any] | None = None, retry_for: float = 30.0) -> Rows:
        """Rows of ``sql``; retried while the database restarts."""
        deadline = time.monotonic() + retry_for
        while True:
            try:
                with self.engine.connect() as conn:
                    return conn.execute(text(sql), params or {}).all()
            except Exception:  # noqa: BLE001 - Postgres may be down on purpose
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def stack_environment(run_dir: Path, ports: dict[str, str], proxies: dict[str, FaultProxy],
                      extra: dict[str, str]) -> dict[str, str]:
    """The environment of ``devstack up``: free ports, small bounds, participants reached through proxies."""
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_ADDRESSES}
    env.update(ports)
    env.update(RUN_DIR=str(run_dir), FLOWER_PORT="0", GATEWAY_JWT_SECRET=JWT_SECRET, STACK_START_TIMEOUT="150",
               PYTHONDONTWRITEBYTECODE="1", LOG_LEVEL="INFO", **ENGINE_BOUNDS)
    env.update(extra)
    for package, proxy in proxies.items():
        _, _, url_var = SERVICES[package]
        env[url_var] = proxy.url
    return env


def start_stack(extra_env: dict[str, str]) -> ChaosStack:
    """Proxies first (their ports go into the environment), then ``devstack up``."""
    run_dir = Path(tempfile.mkdtemp(prefix="campus-chaos-"))
    run_dir.chmod(0o755)  # the postgres user must reach its data folder
    proxies: dict[str, FaultProxy] = {}
    ports = {name: str(free_port()) for name in PORT_VARIABLES}
    for package, (port_var, _, _) in SERVICES.items():
        proxies[package] = FaultProxy(package, int(ports[port_var]))
        proxies[package].start()
    env = stack_environment(run_dir, ports, proxies, extra_env)
    stack = ChaosStack(run_dir, env, proxies)
    started = stack.devstack("up")
    if started.returncode != 0:
        stop_stack(stack)
        raise RuntimeError(f"python -m devstack up failed ({started.returncode}):\n{started.stdout}\n{started.stderr}")
    return stack


def stop_stack(stack: ChaosStack, keep_run_dir: bool = False) -> str:
    """``devstack down`` (every process, Postgres and Redis), then the proxies; the folder unless kept."""
    stack.close()
    stopped = stack.devstack("down", timeout=180)
    for proxy in stack.proxies.values():
        proxy.stop()
    if not keep_run_dir:
        shutil.rmtree(stack.run_dir, ignore_errors=True)
    return stopped.stdout + stopped.stderr
