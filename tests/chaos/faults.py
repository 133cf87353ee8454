"""Faults on the real stack: kill workers mid-step (the node, its main process, its pool) and beat,
stop Redis or lose every Redis message, restart Postgres, and make a participant hang
(SIGSTOP/SIGCONT), answer 500 (the fault proxy) or go down (SIGKILL).

Nothing here runs ``devstack up``: what a fault kills, the stack's supervision restarts; the injector
only waits for it (and records what supervision restarted)."""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.procs import live_processes, send_group_signal, send_signal
from saga_workers.registry import REGISTRY

from tests.chaos.stack import ChaosStack

SCHEMA_OF_QUEUE = {definition.queue: definition.schema for definition in REGISTRY.values()}
SUPERVISOR_NOTICES = 1.5  # seconds: supervisord reaps an exited child within its one-second loop
CRASH_WINDOW = 1.5  # seconds of "acted, but the answer never left" before a participant is killed
KINDS = ("worker_sigkill", "beat_kill", "redis_flush", "redis_restart", "redis_stop", "postgres_restart",
         "participant_hang", "participant_500", "participant_down")


@dataclass(frozen=True)
class FaultSpec:
    """One fault of a plan: its kind, what it hits, how long it lasts."""

    kind: str
    target: str = ""
    hold: float = 0.0
    option: str = ""  # worker_sigkill: "node" (the whole worker), "main" (its main process) or "pool"


@dataclass
class FaultEvent:
    """What was actually done, for the report."""

    spec: FaultSpec
    started: float
    took: float = 0.0
    detail: str = ""
    restarted: list[str] = field(default_factory=list)  # what supervision restarted after it


@dataclass
class FaultInjector:
    """Injects faults into ``stack`` one at a time and heals each before the next."""

    stack: ChaosStack
    events: list[FaultEvent] = field(default_factory=list)
    _stopped: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, spec: FaultSpec) -> FaultEvent:
        """Run one fault to its end, wait until supervision has everything running again, record it."""
        event = FaultEvent(spec, time.monotonic())
        before = self.stack.restarts()
        event.detail = getattr(self, spec.kind)(spec)
        time.sleep(SUPERVISOR_NOTICES)
        back = self.stack.wait_supervised()
        after = self.stack.restarts()
        event.restarted = sorted(name for name, count in after.items() if count > before.get(name, 0))
        if event.restarted:
            event.detail += f"; supervision restarted {', '.join(event.restarted)} (all running {back:.1f}s later)"
        event.took = time.monotonic() - event.started
        self.events.append(event)
        return event

    # -- Celery workers -------------------------------------------------------------------------

    def worker_sigkill(self, spec: FaultSpec) -> str:
        """SIGKILL a saga worker while one of its steps is RUNNING: the whole node, its main process
        only (its pool processes are orphaned), or its pool processes."""
        queue = spec.target
        name = f"worker.{queue}"
        schema = SCHEMA_OF_QUEUE.get(queue)  # None: the maintenance worker runs no steps
        running = self._wait_for_running_steps(schema, within=10.0) if schema else []
        leader = self.stack.pid(name)
        if leader is None:
            return f"{queue}: not running"
        if spec.option == "pool":
            victims = live_processes(parent=leader)
            for pid in victims:
                send_signal(pid, signal.SIGKILL)
            what = f"{len(victims)} pool process(es)"
        elif spec.option == "main":
            send_signal(leader, signal.SIGKILL)
            what = "main process"
        else:
            send_group_signal(leader, signal.SIGKILL)
            what = "whole node"
        orphaned = self._still_running(schema, running) if schema else 0
        time.sleep(spec.hold)
        return f"{queue} ({what}); {len(running)} step(s) RUNNING at the kill, {orphaned} left orphaned"

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

    # -- participants ---------------------------------------------------------------------------

    def participant_hang(self, spec: FaultSpec) -> str:
        """SIGSTOP the participant (gunicorn and its workers) past the call timeout, then SIGCONT."""
        leader = self._leader(spec.target)
        with self._lock:
            self._stopped.add(leader)
        send_group_signal(leader, signal.SIGSTOP)
        time.sleep(spec.hold)
        send_group_signal(leader, signal.SIGCONT)
        with self._lock:
            self._stopped.discard(leader)
        return f"{spec.target} stopped {spec.hold:.0f}s"

    def participant_500(self, spec: FaultSpec) -> str:
        """The proxy answers 500 for half of the participant's requests (before or after forwarding)."""
        proxy = self.stack.proxies[spec.target]
        before = (proxy.stats.failed_before, proxy.stats.failed_after)
        proxy.fail(float(spec.option or 0.5))
        time.sleep(spec.hold)
        proxy.fail(0.0)
        failed = (proxy.stats.failed_before - before[0], proxy.stats.failed_after - before[1])
        return f"{spec.target} {spec.hold:.0f}s: {failed[0]} answered 500 unforwarded, {failed[1]} after acting"

    def participant_down(self, spec: FaultSpec) -> str:
        """SIGKILL the participant; supervision restarts it, but it stays unreachable for ``hold``.

        A process killed mid-request may have committed what it was answering: for ``CRASH_WINDOW``
        seconds before the kill the proxy forwards requests but drops their answers (the connection
        closes with no response), the widest form of that window, then the kill comes. For ``hold``
        the proxy then drops every call unforwarded, as with a participant that is not there.
        """
        proxy = self.stack.proxies[spec.target]
        leader = self._leader(spec.target)
        before = proxy.stats.dropped_after
        proxy.fail(1.0, "drop_after")
        time.sleep(CRASH_WINDOW)
        send_group_signal(leader, signal.SIGKILL)
        proxy.fail(1.0, "down")
        lost = proxy.stats.dropped_after - before
        time.sleep(spec.hold)
        proxy.fail(0.0)
        return f"{spec.target} killed ({lost} answer(s) lost after acting), unreachable {spec.hold:.0f}s"

    def _leader(self, name: str) -> int:
        pid = self.stack.pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running:\n{self.stack.log_tail(name)}")
        return pid

    # -- healing --------------------------------------------------------------------------------

    def heal_all(self) -> None:
        """Undo whatever is still in effect (after an error mid-fault): SIGCONT, proxies pass through."""
        with self._lock:
            stopped, self._stopped = set(self._stopped), set()
        for leader in stopped:
            send_group_signal(leader, signal.SIGCONT)
        for proxy in self.stack.proxies.values():
            proxy.fail(0.0)


