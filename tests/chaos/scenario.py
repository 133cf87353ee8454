"""One chaos run: workload and faults together, then settle, retry FAILED sagas, check invariants."""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from saga_workers.registry import SAGA_QUEUES, WORKER_QUEUES
from tests.chaos.faults import FaultEvent, FaultInjector, FaultSpec
from tests.chaos.invariants import InvariantResult, check_invariants
from tests.chaos.settle import Retried, Settled, failed, retry_failed, sagas_by_status, wait_settled
from tests.chaos.stack import PARTICIPANTS, ChaosStack
from tests.chaos.workload import Replay, Workload

RETRY_ROUNDS = 3


@dataclass(frozen=True)
class ChaosPlan:
    """What to run: order scripts and their count, the faults in order, and the time bounds."""

    name: str
    seed: int
    scripts: dict[str, int]
    faults: list[FaultSpec]
    launch_seconds: float
    accept_timeout_seconds: int
    customers: int = 8
    runners: int = 4
    gap_seconds: float = 2.0
    settle_timeout: float = 120.0
    script_timeout: float = 150.0

    @property
    def env(self) -> dict[str, str]:
        return {"ORDER_ACCEPT_TIMEOUT_SECONDS": str(self.accept_timeout_seconds)}

    def script_list(self) -> list[str]:
        return [kind for kind, count in self.scripts.items() for _ in range(count)]


@dataclass
class ChaosResult:
    """Everything the report shows."""

    plan: ChaosPlan
    events: list[FaultEvent] = field(default_factory=list)
    failed_before_retry: Counter = field(default_factory=Counter)
    retried: list[Retried] = field(default_factory=list)
    settles: list[Settled] = field(default_factory=list)
    sagas: dict[str, dict[str, int]] = field(default_factory=dict)
    invariants: list[InvariantResult] = field(default_factory=list)
    workload_stats: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    driver_errors: list[str] = field(default_factory=list)
    scripts_unfinished: int = 0
    not_running_at_end: list[str] = field(default_factory=list)  # supervision should leave this empty
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def violations(self) -> int:
        return sum(len(result.violations) for result in self.invariants)


def short_plan(seed: int) -> ChaosPlan:
    """``make test``: ~35 orders (~90 saga runs), every fault kind once or twice, a few minutes."""
    faults = [
        FaultSpec("participant_500", "order_service", hold=6, option="0.5"),
        FaultSpec("worker_sigkill", "create_order_saga", hold=1, option="node"),
        FaultSpec("participant_hang", "payment_service", hold=5),
        FaultSpec("redis_flush"),
        FaultSpec("participant_down", "order_service", hold=3),
        FaultSpec("worker_freeze", "accept_order_saga", hold=9),  # past the stall limit (5 s) and a sweep
        FaultSpec("postgres_restart", hold=3, option="fast"),
        FaultSpec("participant_down", "payment_service", hold=3),
        FaultSpec("redis_restart", hold=2),
        FaultSpec("worker_sigkill", "cancel_order_saga", option="main"),
        FaultSpec("redis_stop", hold=12),  # longer than the publishers' retries and the first reconnects
        FaultSpec("participant_down", "notification_service", hold=8),  # past the retriable bound: FAILED
        FaultSpec("beat_kill"),
        FaultSpec("worker_freeze", "complete_order_saga", hold=9),
    ]
    scripts = {"complete": 14, "cancel": 6, "accept_timeout": 5, "declined": 4, "race_accept": 3,
               "race_cancel_accept": 3, "double_accept": 3, "double_complete_slow": 2}
    return ChaosPlan("short", seed, scripts, faults, launch_seconds=80, accept_timeout_seconds=12)


def long_plan(seed: int, rounds: int = 3) -> ChaosPlan:
    """``make chaos``: hundreds of sagas, every fault kind in every round on random targets."""
    rng = random.Random(seed)
    faults: list[FaultSpec] = []
    for _ in range(rounds):
        round_faults = [
            FaultSpec("worker_sigkill", rng.choice(SAGA_QUEUES), hold=rng.uniform(0, 3), option="node"),
            FaultSpec("worker_freeze", rng.choice(SAGA_QUEUES), hold=rng.uniform(7, 12)),
            FaultSpec("worker_sigkill", rng.choice(WORKER_QUEUES), option="main"),
            FaultSpec("beat_kill", hold=rng.uniform(0, 5)),
            FaultSpec("redis_flush"),
            FaultSpec("redis_restart", hold=rng.uniform(1, 5)),
            FaultSpec("redis_stop", hold=rng.uniform(20, 45)),
            FaultSpec("postgres_restart", hold=rng.uniform(1, 6), option=rng.choice(("fast", "immediate"))),
            FaultSpec("participant_hang", rng.choice(PARTICIPANTS), hold=rng.uniform(3, 9)),
            FaultSpec("participant_500", rng.choice(PARTICIPANTS), hold=rng.uniform(4, 10),
                      option=f"{rng.uniform(0.3, 0.8):.2f}"),
            FaultSpec("participant_down", rng.choice(PARTICIPANTS), hold=rng.uniform(1, 8)),
        ]
        rng.shuffle(round_faults)
        faults += round_faults
    scripts = {"complete": 50, "cancel": 22, "accept_timeout": 16, "declined": 12, "race_accept": 12,
               "race_cancel_accept": 12, "double_accept": 8, "double_complete_slow": 8}
    return ChaosPlan("long", seed, scripts, faults, launch_seconds=85.0 * rounds, accept_timeout_seconds=15,
                     customers=16, runners=6, gap_seconds=3.0, settle_timeout=240, script_timeout=300)


def run_chaos(stack: ChaosStack, plan: ChaosPlan) -> ChaosResult:
    """Drive the workload while injecting the plan's faults; then settle, retry, and check."""
    result = ChaosResult(plan)
    began = time.monotonic()
    rng = random.Random(plan.seed)
    workload = Workload(stack, rng)
    workload.create_actors(plan.customers, plan.runners)
    workload.start(plan.script_list(), plan.launch_seconds)
    try:
        _inject_all(stack, plan, result)
        result.timings["faults"] = time.monotonic() - began
        result.not_running_at_end = stack.not_running()  # no `devstack up`: supervision brought all back
        result.scripts_unfinished = workload.finish(plan.script_timeout)
    except BaseException:
        workload.abort()
        raise
    result.timings["workload"] = time.monotonic() - began
    _settle_and_retry(stack, plan, result)
    result.timings["settled"] = time.monotonic() - began
    result.sagas = sagas_by_status(stack)
    result.invariants = check_invariants(stack, [_replays_answered_alike(workload.replays)])
    result.workload_stats, result.outcomes = workload.stats, workload.outcomes
    result.driver_errors = workload.errors
    result.timings["total"] = time.monotonic() - began
    return result


def _inject_all(stack: ChaosStack, plan: ChaosPlan, result: ChaosResult) -> None:
    injector = FaultInjector(stack)
    try:
        time.sleep(plan.gap_seconds * 2)  # sagas in flight before the first fault
        for spec in plan.faults:
            injector.inject(spec)
            time.sleep(plan.gap_seconds)
    finally:
        injector.heal_all()
        result.events = injector.events


def _settle_and_retry(stack: ChaosStack, plan: ChaosPlan, result: ChaosResult) -> None:
    settled = wait_settled(stack, plan.settle_timeout)
    result.settles.append(settled)
    for _ in range(RETRY_ROUNDS):
        stuck = failed(stack)
        if not stuck:
            return
        for row in stuck:
            result.failed_before_retry[row.saga_type] += 1
        result.retried += retry_failed(stack, stuck)
        result.settles.append(wait_settled(stack, plan.settle_timeout / 2))


def _replays_answered_alike(replays: list[Replay]) -> InvariantResult:
    """A create-order request replayed with its Idempotency-Key got the saga already started (200)."""
    bad = [{"key": r.key, "first_saga": r.first, "replayed_saga": r.second, "status": r.status}
           for r in replays if r.second is not None and (r.second != r.first or r.status != 200)]
    return InvariantResult("a replayed Idempotency-Key returned the saga already started", len(replays), bad)

