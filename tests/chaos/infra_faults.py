"""Faults on the stack's infrastructure: kill a saga worker mid-step (the node or its main process) or
freeze it past the stall limit, kill beat, lose every Redis message, crash or stop Redis, restart or
crash Postgres."""
from __future__ import annotations

import contextlib
import signal
import time
from typing import TYPE_CHECKING

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.procs import send_group_signal, send_signal
from saga_workers.registry import REGISTRY
from tests.chaos.stack import ChaosStack

if TYPE_CHECKING:
    from tests.chaos.faults import FaultSpec

SCHEMA_OF_QUEUE = {definition.queue: definition.schema for definition in REGISTRY.values()}


class InfrastructureFaults:
    """The faults of workers, beat, Redis and Postgres, each a method named after its kind."""

    stack: ChaosStack

    def worker_sigkill(self, spec: FaultSpec) -> str:
        """SIGKILL a saga worker while one of its steps is RUNNING: the whole node (its process group)
        or its main process only (what a prefork pool leaves orphaned; the shipped threads pool has none)."""
        queue = spec.target
        name = f"worker.{queue}"
        schema = SCHEMA_OF_QUEUE.get(queue)  # None: the maintenance worker runs no steps
        running = self._wait_for_running_steps(schema, within=10.0) if schema else []
        leader = self.stack.pid(name)
        if leader is None:
            return f"{queue}: not running"
        if spec.option == "main":
            send_signal(leader, signal.SIGKILL)
            what = "main process"
        elif spec.option == "node":
            send_group_signal(leader, signal.SIGKILL)
            what = "whole node"
        else:
            raise ValueError(f"worker_sigkill: unknown option {spec.option!r} (node or main)")
        orphaned = self._still_running(schema, running) if schema else 0
        time.sleep(spec.hold)
        return f"{queue} ({what}); {len(running)} step(s) RUNNING at the kill, {orphaned} left orphaned"

    def worker_freeze(self, spec: FaultSpec) -> str:
        """SIGSTOP a saga worker while one of its steps is RUNNING, past SAGA_STALL_SECONDS, then SIGCONT.

        Its process lives, so supervision sees nothing; the sweeper meanwhile republishes the stalled
        sagas, and when the worker wakes its frozen steps finish beside their re-runs: at-least-once
        delivery at its sharpest, which the claims and idempotency keys must turn into one effect.
        """
        queue = spec.target
        running = self._wait_for_running_steps(SCHEMA_OF_QUEUE[queue], within=10.0)
        leader = self._leader(f"worker.{queue}")
        send_group_signal(leader, signal.SIGSTOP)
        try:
            time.sleep(spec.hold)
        finally:
            send_group_signal(leader, signal.SIGCONT)
        return f"{queue} frozen {spec.hold:.0f}s; {len(running)} step(s) RUNNING at the freeze"

    def beat_kill(self, spec: FaultSpec) -> str:
        """SIGKILL beat: no accept-timeout fires and no sweep runs until supervision restarts it."""
        leader = self._leader("beat")
        send_group_signal(leader, signal.SIGKILL)
        time.sleep(spec.hold)
        return "beat killed"

    def _wait_for_running_steps(self, schema: str, within: float) -> list[int]:
        deadline = time.monotonic() + within
        rows: list[int] = []
        while time.monotonic() < deadline:
            rows = [r[0] for r in self.stack.query(
                f"SELECT id FROM {schema}.saga_step_log WHERE status = 'RUNNING'", retry_for=2)]
            if rows:
                break
            time.sleep(0.02)
        return rows

    def _still_running(self, schema: str, ids: list[int]) -> int:
        if not ids:
            return 0
        time.sleep(1.0)  # a live worker finishes a step in milliseconds; a dead one never does
        return len(self.stack.query(f"SELECT id FROM {schema}.saga_step_log WHERE status = 'RUNNING' "
                                    "AND id = ANY(:ids)", {"ids": ids}))

    # -- Redis ----------------------------------------------------------------------------------

    def _redis(self) -> redis.Redis:
        # No retries: redis-py's default would send SHUTDOWN again, to the Redis supervision restarted.
        return redis.Redis(host="127.0.0.1", port=self.stack.redis_port, socket_timeout=5,
                           retry=Retry(NoBackoff(), 0))

    def redis_flush(self, spec: FaultSpec) -> str:
        """FLUSHALL: every queued, reserved (unacked) and scheduled (ETA retry) message is gone."""
        client = self._redis()
        keys = client.dbsize()
        client.flushall()
        client.close()
        return f"{keys} key(s) flushed"

    def redis_restart(self, spec: FaultSpec) -> str:
        """Lose every message and crash Redis: FLUSHALL, SHUTDOWN NOSAVE; supervision starts it again."""
        client = self._redis()
        keys = client.dbsize()
        client.flushall()
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        client.close()
        time.sleep(spec.hold)
        return f"{keys} key(s) lost"

    def redis_stop(self, spec: FaultSpec) -> str:
        """Stop Redis (its data kept) for ``hold`` seconds, longer than any publisher's retries and the
        workers' first reconnects, while orders keep arriving; then start it again."""
        self.stack.sup.stop(["redis"])
        time.sleep(spec.hold)
        self.stack.sup.start(["redis"])
        return f"stopped {spec.hold:.0f}s"

    # -- Postgres -------------------------------------------------------------------------------

    def postgres_restart(self, spec: FaultSpec) -> str:
        """``fast``: stop Postgres, keep it down for ``hold``, start it again; ``immediate``: crash it
        (SIGQUIT: no shutdown checkpoint) and let supervision restart it."""
        if spec.option == "immediate":
            send_signal(self._leader("postgres"), signal.SIGQUIT)
            time.sleep(spec.hold)
            return "crashed (SIGQUIT)"
        self.stack.sup.stop(["postgres"])
        time.sleep(spec.hold)
        self.stack.sup.start(["postgres"])
        return f"stop -m fast, down {spec.hold:.0f}s"

    def _leader(self, name: str) -> int:
        pid = self.stack.pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running:\n{self.stack.log_tail(name)}")
        return pid
