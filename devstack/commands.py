"""``up`` and ``down``: bring the declared stack to a state, idempotently, under its supervisord."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable

from campus_common.stackenv import stack_env_path
from devstack import datastores
from devstack.config import REPO_ROOT, StackConfig
from devstack.errors import StackError
from devstack.health import CeleryPinger, passing
from devstack.procs import port_open
from devstack.stack import Component, components, running_worker_queues, shutdown_waves, worker_queues
from devstack.stack import datastores as datastore_parts
from devstack.supervisor import Supervisor

Say = Callable[[str], None]


def supervisor(cfg: StackConfig) -> Supervisor:
    """This stack's supervisord and every program it runs (Postgres and Redis included)."""
    return Supervisor(cfg.run_dir, cfg.logs_dir, [c.program for c in datastore_parts(cfg) + components(cfg)])


def up(cfg: StackConfig, say: Say = print, show_addresses: bool = True) -> None:
    """Start whatever of the stack is not running and wait until all of it is healthy."""
    from devstack.system import ensure_system_packages

    ensure_system_packages(say)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    sup = supervisor(cfg)
    started = sup.ensure_running(*_environments(cfg, sup), REPO_ROOT)
    say(f"supervise {'started' if started else 'running'} supervisord ({sup.logs_dir / 'supervisord.log'})")
    say(f"postgres  127.0.0.1:{cfg.pg_port}: {datastores.start_postgres(cfg, sup)}")
    say(f"redis     127.0.0.1:{cfg.redis_port}: {datastores.start_redis(cfg, sup)}")
    say(f"migrate   {datastores.migrate(cfg)}")
    say(f"env       {cfg.write_stack_env()} (addresses and this stack's secrets, for CLI tools)")
    parts = components(cfg)
    # Flower last: it lists the workers and queues that are there when it starts.
    for batch in ([p for p in parts if p.name != "flower"], [p for p in parts if p.name == "flower"]):
        _start(sup, batch, say)
        wait_healthy(cfg, sup, batch, say)
    if show_addresses:
        print_addresses(cfg, say)


def _environments(cfg: StackConfig, sup: Supervisor) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """supervisord's environment (every program inherits it: no private key in it), and what each
    program gets on top (its own service key, devstack.service_keys)."""
    from devstack import service_keys

    env = cfg.child_env()
    common = service_keys.env_for("supervisord", env)
    own = {p.name: {k: v for k, v in service_keys.env_for(p.name, env).items() if k not in common}
           for p in sup.programs}
    return common, own


def _start(sup: Supervisor, parts: list[Component], say: Say) -> None:
    states = sup.states()
    for part in parts:
        if not states[part.name].running and part.port and port_open(part.port):
            raise StackError(f"{part.name} cannot start: 127.0.0.1:{part.port} is taken by another process "
                             f"(another stack? `make down`, or choose other ports)")
    for part in parts:
        state = states[part.name]
        if state.running:
            say(f"running   {part.name} ({f'pid {state.pid}' if state.pid else state.state.lower()})")
    sup.start([part.name for part in parts if not states[part.name].running])
    for part in parts:
        if not states[part.name].running:
            say(f"start     {part.name}")


def wait_healthy(cfg: StackConfig, sup: Supervisor, parts: list[Component], say: Say) -> None:
    """Poll every part's check until all pass; fail fast, naming the log, when supervision gave up on one."""
    pending = {part.name: part for part in parts}
    pinger = CeleryPinger(cfg.redis_url)
    deadline = time.monotonic() + cfg.start_timeout
    try:
        while pending:
            states = sup.states()
            for part in pending.values():
                if states[part.name].state in ("FATAL", "STOPPED"):
                    raise StackError(_died(sup, part, states[part.name].state))
            ready = passing({n: p.health for n, p in pending.items() if states[n].state == "RUNNING"}, pinger)
            for name in sorted(ready):
                say(f"healthy   {name}")
                del pending[name]
            if pending and time.monotonic() > deadline:
                raise StackError(_late(cfg, sup, list(pending.values())))
            if pending:
                time.sleep(0.5)
    finally:
        pinger.close()


def _died(sup: Supervisor, part: Component, state: str) -> str:
    what = "kept exiting during start-up (supervision gave up)" if state == "FATAL" else "was stopped"
    return (f"{part.name} {what}; its log is {sup.log_file(part.program)}:\n"
            f"{sup.tail(part.program)}\n(stop the rest with `make down`)")


def _late(cfg: StackConfig, sup: Supervisor, late: list[Component]) -> str:
    names = "\n".join(f"  {p.name}: {p.health.kind} {p.health.target} (log: {sup.log_file(p.program)})" for p in late)
    return (f"not healthy within {cfg.start_timeout:.0f}s (STACK_START_TIMEOUT):\n{names}\n"
            f"--- last lines of {sup.log_file(late[0].program)}\n{sup.tail(late[0].program)}")


def down(cfg: StackConfig, say: Say = print) -> None:
    """Stop every process of the stack in waves, Redis and Postgres last, then supervisord; quiet when
    nothing runs."""
    sup = Supervisor(cfg.run_dir, cfg.logs_dir)
    stopped = datastores.stop_legacy_processes(cfg)
    # The workers supervisord runs, not the registry's: `down` needs no virtualenv (nor the saga definitions).
    queues = running_worker_queues(sup.states()) if sup.running() else []
    stopped += [name for wave in shutdown_waves(cfg, queues) for name in sup.stop([c.name for c in wave])]
    if sup.shutdown():
        stopped.append("supervisord")
    stopped += datastores.stop_leftover_datastores(cfg)
    shutil.rmtree(cfg.metrics_dir, ignore_errors=True)  # counters start again with the next `up`
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


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
    say(f"  Saga workers         {', '.join(worker_queues())} (celery -A saga_workers inspect ping)")
    say(f"  Logs                 {cfg.logs_dir}/<name>.log   (supervisord.log: every exit and restart)")
    say("  Supervision          every process is restarted when it exits; `make status` shows restarts")
    say("  Stop it with `make down` (or python -m devstack down)")
