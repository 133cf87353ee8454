"""The whole local stack, declared as data: which processes run, how each is started and checked."""
from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

from campus_common.config import env_str
from devstack.config import MAINTENANCE_THREADS, SERVICES, WORKER_POOL_OPTIONS, StackConfig, python
from devstack.health import Health
from devstack.postgres import PostgresCluster
from devstack.procs import find_binary as _find_binary
from devstack.supervisord import Program

BEAT_HEARTBEAT_MAX_AGE = 30.0  # seconds: beat ticks at least every ACCEPT_TIMEOUT_SCAN_SECONDS
# supervisord's priorities: when it shuts down on its own, higher numbers stop first
DATASTORES, PARTICIPANTS, WORKERS, ENTRY = 100, 200, 300, 400

WORKER_PREFIX = "worker."  # a saga worker's program is named after its queue: worker.create_order_saga
CELERY_APP = "saga_workers"
# Gunicorn's own lines as JSON; each request is logged by the app (campus_common.web), with its request id.
GUNICORN_LOGGER = "campus_common.gunicorn_logging.JsonLogger"


@dataclass(frozen=True)
class Component:
    """A process of the stack, its readiness check, and the address shown to the user."""

    program: Program
    health: Health
    url: str = ""
    port: int = 0  # the loopback port it listens on, if any

    @property
    def name(self) -> str:
        return self.program.name


# The public gateway runs gevent workers: slow or unfinished requests cannot tie it up (see the config).
GEVENT_APPS = ("api_gateway",)


def gunicorn_argv(package: str, bind: str, workers: int) -> tuple[str, ...]:
    """How every Flask app is served: gunicorn with the shared config, gevent for the gateway."""
    worker_class = ("--worker-class", "gevent") if package in GEVENT_APPS else ()
    return (python(), "-m", "gunicorn", "-c", "python:campus_common.gunicorn_conf", *worker_class,
            "--bind", bind, "--workers", str(workers), "--name", package, "--logger-class", GUNICORN_LOGGER,
            f"{package}:create_app()")


def flask_app(cfg: StackConfig, package: str, port: int) -> Component:
    """``package:create_app()`` under gunicorn, healthy when ``/healthz`` answers 200."""
    argv = gunicorn_argv(package, f"127.0.0.1:{port}", cfg.gunicorn_workers)
    url = f"http://127.0.0.1:{port}"
    priority = ENTRY if package == "api_gateway" else PARTICIPANTS
    return Component(Program(package, argv, priority=priority), Health.http(f"{url}/healthz"), url, port)


def saga_worker(cfg: StackConfig, queue: str) -> Component:
    """One Celery worker consuming only ``queue``, healthy when its node answers a ping."""
    from saga_workers.registry import MAINTENANCE_QUEUE  # here: `make down` imports no saga code

    argv = worker_argv(queue, MAINTENANCE_THREADS if queue == MAINTENANCE_QUEUE else cfg.celery_concurrency)
    return Component(Program(f"{WORKER_PREFIX}{queue}", argv, priority=WORKERS), Health.celery(f"{queue}@{socket.gethostname()}"))


def worker_argv(queue: str, concurrency: int) -> tuple[str, ...]:
    """How a saga worker is started (also by bench/peers_engine.py, so it measures the same worker).

    The threads pool: one process whose ``concurrency`` threads overlap their steps' waits (HTTP,
    fsync, Redis) and take tasks straight from the consumer, with no hand-off through a pipe to a
    pool process; a step cost 25-30% less worker CPU than on prefork (README, Benchmarks).
    """
    return (python(), "-m", "celery", "-A", CELERY_APP, "worker", "-Q", queue, "-n", f"{queue}@%h",
            *WORKER_POOL_OPTIONS, "--concurrency", str(concurrency), "--loglevel", _log_level())


def beat(cfg: StackConfig) -> Component:
    """Celery beat with its schedule file in RUN_DIR (periodic saga maintenance), healthy while its
    heartbeat file (touched on every scheduler tick, saga_workers.beat_health) is fresh."""
    argv = (python(), "-m", "celery", "-A", CELERY_APP, "beat", "--schedule", str(cfg.run_dir / "celerybeat-schedule"),
            "--loglevel", _log_level())
    return Component(Program("beat", argv, priority=ENTRY),
                     Health.fresh(str(cfg.run_dir / "beat.heartbeat"), BEAT_HEARTBEAT_MAX_AGE))


def flower(cfg: StackConfig) -> Component:
    """Flower on loopback, healthy when its port accepts connections.

    Its login comes from FLOWER_BASIC_AUTH in the stack's environment, which Flower reads as its
    ``--basic-auth`` option: on the command line the password would show in ``ps``.
    """
    argv = (python(), "-m", "celery", "-A", CELERY_APP, "flower", f"--port={cfg.flower_port}", "--address=127.0.0.1")
    url = f"http://127.0.0.1:{cfg.flower_port}"
    return Component(Program("flower", argv, priority=ENTRY), Health.port(cfg.flower_port), url, cfg.flower_port)


def postgres(cfg: StackConfig, cluster: PostgresCluster) -> Component:
    """The stack's PostgreSQL in the foreground (as the postgres user), healthy when its port accepts."""
    argv = (find_binary("postgres"), "-D", str(cluster.data_dir), *cluster.server_options())
    # INT: PostgreSQL's fast shutdown (TERM would wait for every client to leave).
    return Component(Program("postgres", argv, user="postgres", stop_signal="INT", priority=DATASTORES),
                     Health.port(cfg.pg_port), port=cfg.pg_port)


def redis(cfg: StackConfig, data_dir: str) -> Component:
    """The stack's Redis in the foreground, append-only persistence in ``data_dir``."""
    argv = (find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(cfg.redis_port), "--dir", data_dir,
            "--daemonize", "no", "--pidfile", f"{data_dir}/redis.pid", "--appendonly", "yes", "--logfile", "")
    return Component(Program("redis", argv, priority=DATASTORES), Health.port(cfg.redis_port), port=cfg.redis_port)


def worker_queues() -> tuple[str, ...]:
    """Every queue that needs a worker, from the saga registry (this imports the saga definitions)."""
    from saga_workers.registry import WORKER_QUEUES

    return WORKER_QUEUES


def running_worker_queues(program_names: Iterable[str]) -> list[str]:
    """The queues of the saga workers among ``program_names`` (what a supervisord runs)."""
    return [name.removeprefix(WORKER_PREFIX) for name in program_names if name.startswith(WORKER_PREFIX)]


def components(cfg: StackConfig, queues: Iterable[str] | None = None) -> list[Component]:
    """Every process of the stack but Postgres and Redis, participants first, Flower after the workers;
    a worker for each of ``queues`` (default: every queue of the saga registry)."""
    parts = [flask_app(cfg, package, cfg.service_ports[package]) for package in SERVICES]
    parts.append(flask_app(cfg, "api_gateway", cfg.gateway_port))
    parts += [saga_worker(cfg, queue) for queue in (worker_queues() if queues is None else queues)]
    parts.append(beat(cfg))
    if cfg.flower_port:
        parts.append(flower(cfg))
    return parts


def datastores(cfg: StackConfig) -> list[Component]:
    """Postgres and Redis, supervised like the rest."""
    from devstack.datastores import postgres_for, redis_for

    return [postgres(cfg, postgres_for(cfg)), redis(cfg, str(redis_for(cfg).data_dir))]


def shutdown_waves(cfg: StackConfig, queues: Iterable[str]) -> list[list[Component]]:
    """Stop order: entry points first, then the workers of ``queues`` (they still call the participants),
    then the participants, then Redis and Postgres."""
    parts = components(cfg, queues)
    entry = [c for c in parts if c.program.priority == ENTRY]
    workers = [c for c in parts if c.program.priority == WORKERS]
    return [entry, workers, [c for c in parts if c not in entry and c not in workers], datastores(cfg)]


def find_binary(name: str) -> str:
    """The binary's path; its bare name when absent (``down`` and ``status`` never run it)."""
    try:
        return _find_binary(name)
    except FileNotFoundError:
        return name


def _log_level() -> str:
    return env_str("LOG_LEVEL", "INFO").upper()
