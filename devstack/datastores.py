"""The stack's own Postgres and Redis under the run folder, its role and database, its migrations."""
from __future__ import annotations

import hashlib
import os
import pwd
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from campus_common.config import env_str
from devstack.config import REPO_ROOT, StackConfig, python
from devstack.errors import StackError
from devstack.postgres import PostgresCluster
from devstack.procs import as_postgres_user, port_open, send_group_signal, wait_until
from devstack.redis import RedisServer
from devstack.supervisor import Supervisor, is_alive, tail


def _postgres_can_enter(folder: Path) -> bool:
    return subprocess.run([*as_postgres_user(), "test", "-x", str(folder)], capture_output=True).returncode == 0


def postgres_for(cfg: StackConfig) -> PostgresCluster:
    """The cluster in ``RUN_DIR/pg``; when the postgres user cannot reach RUN_DIR (a repository
    under a private home folder, say), in a folder of its own home named after RUN_DIR."""
    durable = env_str("PG_DURABLE", "1") != "0"  # 0: fsync and synchronous_commit off (test stacks only)
    preferred = PostgresCluster(cfg.run_dir / "pg", cfg.pg_port, cfg.logs_dir / "postgres.log", durable)
    if os.geteuid() != 0 or not cfg.run_dir.exists() or _postgres_can_enter(cfg.run_dir):
        return preferred
    try:
        home = Path(pwd.getpwnam("postgres").pw_dir)
    except KeyError:
        return preferred
    folder = home / "campus-devstack" / hashlib.sha1(str(cfg.run_dir).encode()).hexdigest()[:12]
    return PostgresCluster(folder / "pg", cfg.pg_port, folder / "postgres.log", durable)


def redis_for(cfg: StackConfig) -> RedisServer:
    """Redis with append-only persistence in ``RUN_DIR/redis``."""
    return RedisServer(cfg.run_dir / "redis", cfg.redis_port, persistent=True,
                       log_file=cfg.logs_dir / "redis.log")


def start_postgres(cfg: StackConfig, sup: Supervisor) -> str:
    """Start our cluster under supervision unless it runs; create the role and database of DATABASE_URL."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    cluster = postgres_for(cfg)
    state = _start_supervised(sup, "postgres", cfg.pg_port, cluster.init,
                              f"a system PostgreSQL? stop it with `service postgresql stop`), or run the stack on "
                              f"another port: PG_PORT={cfg.pg_port + 1} make up")
    try:
        wait_until(cluster.accepting, 120, "postgres to accept connections (crash recovery?)")
    except TimeoutError as exc:
        raise StackError(f"{exc}\n--- {sup.log_file('postgres')}\n{sup.tail('postgres')}") from exc
    _ensure_database(cfg, cluster)
    return f"{state}, data in {cluster.data_dir}"


def _start_supervised(sup: Supervisor, name: str, port: int, prepare: Callable[[], object], taken_hint: str) -> str:
    """Start the datastore ``name`` under supervisord unless it runs; wait until its port accepts."""
    if sup.pid(name) is not None:
        wait_until(lambda: port_open(port), 60, f"{name} on port {port}")
        return "already running"
    if port_open(port):
        raise StackError(f"127.0.0.1:{port} is taken by another server ({taken_hint}")
    try:
        prepare()
    except subprocess.CalledProcessError as exc:
        raise StackError(f"{name} could not be prepared: {(exc.stderr or '').strip()}") from exc
    sup.start([name])
    try:
        wait_until(lambda: port_open(port), 60, f"{name} on port {port}")
    except TimeoutError as exc:
        raise StackError(f"{name} did not start\n--- {sup.log_file(name)}\n{sup.tail(name)}") from exc
    return "started"


def _ensure_database(cfg: StackConfig, cluster: PostgresCluster) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(cfg.database_url)
    if url.host not in ("127.0.0.1", "localhost") or (url.port or 5432) != cfg.pg_port:
        return  # DATABASE_URL names a server we do not manage: its owner created role and database
    if url.username and url.username != "postgres":
        cluster.ensure_role(url.username, url.password)
    cluster.create_database(url.database or "campus", owner=url.username)


def start_redis(cfg: StackConfig, sup: Supervisor) -> str:
    """Start our Redis under supervision unless it runs."""
    server = redis_for(cfg)
    return _start_supervised(sup, "redis", cfg.redis_port, lambda: server.data_dir.mkdir(parents=True, exist_ok=True),
                             f"a system Redis? stop it with `service redis-server stop`), or run the stack on "
                             f"another port: REDIS_PORT={cfg.redis_port + 1} make up")


def migrate(cfg: StackConfig) -> str:
    """Apply every schema's migrations (``python -m devstack.migrate``); its output goes to migrate.log."""
    log = cfg.logs_dir / "migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([python(), "-m", "devstack.migrate"], cwd=REPO_ROOT, env=cfg.child_env(),
                          capture_output=True, text=True)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise StackError(f"migrations failed (see {log}):\n{tail(log, 15)}")
    pending = [line for line in done.stdout.splitlines() if not line.endswith("up to date")]
    return "; ".join(pending) if pending else "up to date"


def stop_leftover_datastores(cfg: StackConfig) -> list[str]:
    """Stop a Redis or Postgres of this RUN_DIR that runs outside supervision (started by an older
    devstack); say which."""
    stopped = []
    redis_pid = redis_for(cfg).server_pid()
    if redis_pid is not None:
        os.kill(redis_pid, signal.SIGTERM)  # Redis shuts down cleanly on TERM, flushing its append-only file
        wait_until(lambda: not is_alive(redis_pid), 30, "redis to stop")
        stopped.append("redis")
    cluster = postgres_for(cfg)
    if cluster.server_pid() is not None:
        cluster.stop()
        stopped.append("postgres")
    return stopped


def stop_legacy_processes(cfg: StackConfig) -> list[str]:
    """Stop processes an older devstack started with pid files in ``RUN_DIR/pids`` (before supervisord).

    A pid counts only when that process's environment names this RUN_DIR: a reused pid is left alone.
    """
    stopped = []
    for pid_file in sorted(cfg.pids_dir.glob("*.pid")) if cfg.pids_dir.is_dir() else []:
        try:
            pid = int(pid_file.read_text().strip())
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            environ = []
        if f"RUN_DIR={cfg.run_dir}".encode() in environ and is_alive(pid):
            send_group_signal(pid, signal.SIGTERM)
            try:
                wait_until(lambda: not is_alive(pid), 20, f"{pid_file.stem} to stop")  # noqa: B023
            except TimeoutError:
                send_group_signal(pid, signal.SIGKILL)
            stopped.append(pid_file.stem)
        pid_file.unlink(missing_ok=True)
    return stopped
