"""``up``, ``down`` and ``status``: bring the declared stack to a state, idempotently."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable

from devstack import datastores, service_keys
from campus_common.stackenv import stack_env_path
from devstack.config import REPO_ROOT, StackConfig
from devstack.errors import StackError
from devstack.health import CeleryPinger, passing
from devstack.procs import port_open
from devstack.stack import SAGA_QUEUES, Component, components, shutdown_waves
from devstack.supervisor import Supervisor

Say = Callable[[str], None]
ALIVE_GRACE_SECONDS = 3.0  # a process judged only by staying alive must survive its start-up this long


def supervisor(cfg: StackConfig) -> Supervisor:
    return Supervisor(cfg.pids_dir, cfg.logs_dir)


def up(cfg: StackConfig, say: Say = print, show_addresses: bool = True) -> None:
    """Start whatever of the stack is not running and wait until all of it is healthy."""
    from devstack.system import ensure_system_packages

    ensure_system_packages(say)
    say(f"postgres  127.0.0.1:{cfg.pg_port}: {datastores.start_postgres(cfg)}")
    say(f"redis     127.0.0.1:{cfg.redis_port}: {datastores.start_redis(cfg)}")
    say(f"migrate   {datastores.migrate(cfg)}")
    sup, env = supervisor(cfg), cfg.child_env()
    say(f"env       {cfg.write_stack_env()} (addresses and this stack's secrets, for CLI tools)")
    parts = components(cfg)
    running = {part.name: pid for part in parts if (pid := sup.pid(part.program)) is not None}
    for part in parts:
        if part.name not in running and part.port and port_open(part.port):
            raise StackError(f"{part.name} cannot start: 127.0.0.1:{part.port} is taken by another process "
                             f"(another stack? `make down`, or choose other ports)")
    for part in parts:
        if part.name in running:
            say(f"running   {part.name} (pid {running[part.name]})")
        else:
            pid = sup.start(part.program, service_keys.env_for(part.name, env), REPO_ROOT)
            say(f"start     {part.name} (pid {pid})")
    wait_healthy(cfg, sup, parts, say)
    if show_addresses:
        print_addresses(cfg, say)


def wait_healthy(cfg: StackConfig, sup: Supervisor, parts: list[Component], say: Say) -> None:
    """Poll every part's check until all pass; fail fast, naming the log, when one dies or time runs out."""
    pending = {part.name: part for part in parts}
    pinger = CeleryPinger(cfg.redis_url)
    deadline = time.monotonic() + cfg.start_timeout
    try:
        while pending:
            for part in pending.values():
                if sup.pid(part.program) is None:
                    raise StackError(_died(sup, part))
            ready = passing({n: p.health for n, p in pending.items() if p.health.kind != "alive"}, pinger)
            ready |= {n for n, p in pending.items()
                      if p.health.kind == "alive" and sup.uptime(p.program) >= ALIVE_GRACE_SECONDS}
            for name in sorted(ready):
                say(f"healthy   {name}")
                del pending[name]
            if pending and time.monotonic() > deadline:
                raise StackError(_late(cfg, sup, list(pending.values())))
            if pending:
                time.sleep(0.5)
    finally:
        pinger.close()
    for part in parts:  # one that passed its check early may have died since
        if sup.pid(part.program) is None:
            raise StackError(_died(sup, part))


def _died(sup: Supervisor, part: Component) -> str:
    return (f"{part.name} exited during start-up; its log is {sup.log_file(part.program)}:\n"
            f"{sup.tail(part.program)}\n(stop the rest with `make down`)")


def _late(cfg: StackConfig, sup: Supervisor, late: list[Component]) -> str:
    names = "\n".join(f"  {p.name}: {p.health.kind} {p.health.target} (log: {sup.log_file(p.program)})" for p in late)
    return (f"not healthy within {cfg.start_timeout:.0f}s (STACK_START_TIMEOUT):\n{names}\n"
            f"--- last lines of {sup.log_file(late[0].program)}\n{sup.tail(late[0].program)}")


def down(cfg: StackConfig, say: Say = print) -> None:
    """Stop every process of the stack, then Redis and Postgres; quiet when nothing runs."""
    sup = supervisor(cfg)
    stopped = [name for wave in shutdown_waves(cfg) for name in sup.stop([c.program for c in wave])]
    stopped += datastores.stop_datastores(cfg)
    shutil.rmtree(cfg.metrics_dir, ignore_errors=True)  # counters start again with the next `up`
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


def status(cfg: StackConfig, say: Say = print) -> bool:
    """Print each part's state and health; True when all of it runs and is healthy."""
    sup, parts = supervisor(cfg), components(cfg)
    pg, redis = datastores.postgres_for(cfg), datastores.redis_for(cfg)
    all_ok = pg.owns_port() and redis.owns_port()
    say(f"{'postgres':28} {'running' if pg.owns_port() else 'stopped':9} 127.0.0.1:{cfg.pg_port}")
    say(f"{'redis':28} {'running' if redis.owns_port() else 'stopped':9} 127.0.0.1:{cfg.redis_port}")
    pinger = CeleryPinger(cfg.redis_url)
    try:
        running = {p.name: p for p in parts if sup.pid(p.program) is not None}
        healthy = passing({n: p.health for n, p in running.items() if p.health.kind != "alive"}, pinger)
        healthy |= {n for n, p in running.items() if p.health.kind == "alive"}
    finally:
        pinger.close()
    for part in parts:
        state = "stopped" if part.name not in running else "healthy" if part.name in healthy else "unhealthy"
        all_ok = all_ok and state == "healthy"
        say(f"{part.name:28} {state:9} {part.url or part.health.target:28} {sup.log_file(part.program)}")
    return all_ok


def print_addresses(cfg: StackConfig, say: Say = print) -> None:
    """Where to reach each part of the running stack."""
    say("\nThe stack is up:")
    say(f"  API gateway          {cfg.gateway_url}   (GET /healthz)")
    say(f"  Metrics              {cfg.gateway_url}/metrics   (Prometheus text; rules and dashboard in ops/)")
    say("  Tokens               python -m api_gateway.token --sub <uuid> --role admin|customer|runner")
    say(f"  Saga console         {cfg.gateway_url}/console/   (sign in with an admin token)")
    say(f"  API documentation    {cfg.gateway_url}/docs   (OpenAPI 3.1: {cfg.gateway_url}/openapi.json)")
    say(f"  Stack environment    {stack_env_path(cfg.run_dir)}   (secrets; the CLIs read it)")
    if cfg.flower_port:
        user, _, password = cfg.stack_vars()["FLOWER_BASIC_AUTH"].partition(":")
        say(f"  Flower               http://127.0.0.1:{cfg.flower_port}   (user {user}, password {password})")
    for package, port in cfg.service_ports.items():
        say(f"  {package:20} http://127.0.0.1:{port}")
    say(f"  Postgres             {cfg.database_url}")
    say(f"  Redis                {cfg.redis_url}")
    say(f"  Saga workers         {', '.join(SAGA_QUEUES)} (celery -A saga_workers inspect ping)")
    say(f"  Logs                 {cfg.logs_dir}/<name>.log    pids {cfg.pids_dir}")
    say("  Stop it with `make down` (or python -m devstack down)")
