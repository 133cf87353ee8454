"""``status``: what runs, whether it is healthy, and what supervision did (restarts, last exit)."""
from __future__ import annotations

from collections.abc import Callable

from devstack.commands import supervisor
from devstack.config import StackConfig
from devstack.health import CeleryPinger, passing
from devstack.stack import components
from devstack.stack import datastores as datastore_parts
from devstack.supervisor import ProcessState

Say = Callable[[str], None]


def status(cfg: StackConfig, say: Say = print) -> bool:
    """Print each part's state, health and restarts; True when all of it runs and is healthy."""
    sup = supervisor(cfg)
    if not sup.running():
        say(f"supervisord is not running for {cfg.run_dir}: nothing of the stack runs under it (`make up`)")
        return False
    parts = datastore_parts(cfg) + components(cfg)
    states = sup.states()
    pinger = CeleryPinger(cfg.redis_url)
    try:
        healthy = passing({p.name: p.health for p in parts if states[p.name].state == "RUNNING"}, pinger)
    finally:
        pinger.close()
    say(f"{'process':28} {'state':10} {'pid':>7} {'up':>8} {'restarts':>8}  {'last exit':32} where")
    all_ok = True
    for part in parts:
        state = states[part.name]
        shown = _shown(state, part.name in healthy)
        all_ok = all_ok and shown == "healthy"
        say(f"{part.name:28} {shown:10} {state.pid or '-':>7} {_duration(state.uptime):>8} {state.restarts:>8}  "
            f"{state.last_exit or '-':32} {part.url or part.health.target}")
    say(f"logs: {cfg.logs_dir}/<process>.log; every exit and restart: {cfg.logs_dir / 'supervisord.log'}")
    return all_ok


def _shown(state: ProcessState, healthy: bool) -> str:
    if state.state == "RUNNING":
        return "healthy" if healthy else "unhealthy"
    return {"STARTING": "starting", "BACKOFF": "restarting", "FATAL": "gave up"}.get(state.state, state.state.lower())


def _duration(seconds: float) -> str:
    if not seconds:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
