"""Faults on the real stack: kill workers mid-step (the node, its main process) or freeze them past
the stall limit, kill beat, stop Redis or lose every Redis message, restart Postgres, and make a
participant hang (SIGSTOP/SIGCONT), answer 500 (the fault proxy) or go down (SIGKILL).

Nothing here runs ``devstack up``: what a fault kills, the stack's supervision restarts; the injector
only waits for it (and records what supervision restarted). The participants' faults are here, the
infrastructure's in ``infra_faults``."""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

from devstack.procs import send_group_signal
from tests.chaos.infra_faults import InfrastructureFaults
from tests.chaos.stack import ChaosStack

SUPERVISOR_NOTICES = 1.5  # seconds: supervisord reaps an exited child within its one-second loop
CRASH_WINDOW = 1.5  # seconds of "acted, but the answer never left" before a participant is killed
KINDS = ("worker_sigkill", "worker_freeze", "beat_kill", "redis_flush", "redis_restart", "redis_stop", "postgres_restart",
         "participant_hang", "participant_500", "participant_down")


@dataclass(frozen=True)
class FaultSpec:
    """One fault of a plan: its kind, what it hits, how long it lasts."""

    kind: str
    target: str = ""
    hold: float = 0.0
    option: str = ""  # worker_sigkill: "node" (the whole worker) or "main" (its main process)


@dataclass
class FaultEvent:
    """What was actually done, for the report."""

    spec: FaultSpec
    started: float
    took: float = 0.0
    detail: str = ""
    restarted: list[str] = field(default_factory=list)  # what supervision restarted after it


@dataclass
class FaultInjector(InfrastructureFaults):
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

    # -- healing --------------------------------------------------------------------------------

    def heal_all(self) -> None:
        """Undo whatever is still in effect (after an error mid-fault): SIGCONT, proxies pass through."""
        with self._lock:
            stopped, self._stopped = set(self._stopped), set()
        for leader in stopped:
            send_group_signal(leader, signal.SIGCONT)
        for proxy in self.stack.proxies.values():
            proxy.fail(0.0)


