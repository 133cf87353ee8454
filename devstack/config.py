"""The local stack's settings: run folder, ports and sizes, each from the environment with a default."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from campus_common.config import env_float, env_int, env_str
from campus_common.stackenv import stack_env_path, write_env_file

REPO_ROOT = Path(__file__).resolve().parents[1]

# package -> (port variable, default port, URL variable the saga workers and gateway read)
SERVICES: dict[str, tuple[str, int, str]] = {
    "user_service": ("USER_SERVICE_PORT", 3001, "USER_SERVICE_URL"),
    "order_service": ("ORDER_SERVICE_PORT", 3002, "ORDER_SERVICE_URL"),
    "payment_service": ("PAYMENT_SERVICE_PORT", 3003, "PAYMENT_SERVICE_URL"),
    "notification_service": ("NOTIFICATION_SERVICE_PORT", 3006, "NOTIFICATION_SERVICE_URL"),
}
# A saga worker's threads (its --concurrency on the threads pool): steps mostly wait on participants.
CELERY_THREADS = 8
MAINTENANCE_THREADS = 2  # the maintenance worker's: beat's scans are few
# How every worker runs, in devstack, compose and k8s alike (devstack.manifests writes these too):
# the threads pool, one message prefetched per thread (acks_late: it holds only what it runs).
WORKER_POOL_OPTIONS = ("--pool", "threads", "--prefetch-multiplier", "1", "-O", "fair")


@dataclass(frozen=True)
class StackConfig:
    """Where the stack keeps its files and on which loopback ports it listens."""

    run_dir: Path
    pg_port: int
    redis_port: int
    service_ports: dict[str, int]
    gateway_port: int
    flower_port: int  # 0 leaves Flower out
    gunicorn_workers: int
    celery_concurrency: int
    start_timeout: float
    database_url: str
    redis_url: str

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def metrics_dir(self) -> Path:
        """prometheus_client's multiprocess files, one per process (removed by ``down``)."""
        return self.run_dir / "metrics"

    @property
    def pids_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service_url(self, package: str) -> str:
        """Where the saga workers reach ``package`` (an explicit *_SERVICE_URL wins)."""
        _, _, url_var = SERVICES[package]
        return env_str(url_var, f"http://127.0.0.1:{self.service_ports[package]}")

    def stack_vars(self) -> dict[str, str]:
        """What the stack sets for its processes: one consistent set of addresses, and its secrets.

        Also written to ``<RUN_DIR>/stack.env`` for tools run by hand (campus_common.stackenv).
        """
        # Imported here: `down` runs without the virtualenv, and these need PyJWT and cryptography.
        from devstack import service_keys
        from devstack.secrets import stack_secrets

        values = {name: os.environ.get(name) or value for name, value in stack_secrets(self.run_dir).items()}
        values.update(service_keys.public_keys(values, os.environ))
        values.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, RUN_DIR=str(self.run_dir),
                      PG_PORT=str(self.pg_port), REDIS_PORT=str(self.redis_port),
                      GATEWAY_PORT=str(self.gateway_port), FLOWER_PORT=str(self.flower_port))
        for package, (port_var, _, url_var) in SERVICES.items():
            values[port_var] = str(self.service_ports[package])
            values[url_var] = self.service_url(package)
        return values

    def write_stack_env(self) -> Path:
        """Write ``<RUN_DIR>/stack.env`` (mode 0600) and return its path."""
        path = stack_env_path(self.run_dir)
        write_env_file(path, self.stack_vars(),
                       header="The environment of this stack's processes (devstack); tools read it.")
        return path

    def child_env(self) -> dict[str, str]:
        """The environment every process of the stack starts with."""
        env = dict(os.environ)
        env.update(self.stack_vars(), PYTHONUNBUFFERED="1")
        # Every process records saga metrics into files here; the gateway's /metrics sums them.
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        # Processes run from the repository root: its packages import even without an editable install.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        return env


def load_stack_config() -> StackConfig:
    """Read the stack's settings from the environment now."""
    pg_port = env_int("PG_PORT", 5432)
    redis_port = env_int("REDIS_PORT", 6379)
    return StackConfig(
        run_dir=Path(env_str("RUN_DIR", str(REPO_ROOT / ".run"))).resolve(),
        pg_port=pg_port,
        redis_port=redis_port,
        service_ports={pkg: env_int(var, default) for pkg, (var, default, _) in SERVICES.items()},
        gateway_port=env_int("GATEWAY_PORT", 3100),
        flower_port=env_int("FLOWER_PORT", 5555),
        gunicorn_workers=env_int("GUNICORN_WORKERS", 2),
        celery_concurrency=env_int("CELERY_CONCURRENCY", CELERY_THREADS),
        start_timeout=env_float("STACK_START_TIMEOUT", 120.0),
        database_url=env_str("DATABASE_URL", f"postgresql+psycopg2://campus:campus@127.0.0.1:{pg_port}/campus"),
        redis_url=env_str("REDIS_URL", f"redis://127.0.0.1:{redis_port}/0"),
    )


def python() -> str:
    """The interpreter of this environment (the project's virtualenv under make)."""
    return sys.executable
