"""Hundreds of sagas of every type against the real stack while workers, Redis, Postgres and the
participants fail; afterwards every saga has ended and the money is where it must be."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.chaos.faults import KINDS
from tests.chaos.scenario import ChaosPlan, ChaosResult, long_plan, short_plan
from tests.chaos.stack import start_stack, stop_stack
from tests.stack_kill import kill_everything

Run = Callable[[ChaosPlan], ChaosResult]


def assert_survived(result: ChaosResult, min_sagas: int) -> None:
    """Every fault kind ran, enough sagas ran, all of them ended, and no invariant is broken."""
    injected = {event.spec.kind for event in result.events}
    assert injected == set(KINDS), f"fault kinds not injected: {set(KINDS) - injected}"
    total = sum(sum(counts.values()) for counts in result.sagas.values())
    assert total >= min_sagas, f"only {total} saga runs"
    assert set(result.sagas) == {"create_order", "accept_order", "cancel_order", "complete_order"}, result.sagas
    assert not result.driver_errors, result.driver_errors
    assert not result.not_running_at_end, f"supervision left {result.not_running_at_end} down"
    killed = {e.spec.kind for e in result.events if e.restarted}
    assert {"worker_sigkill", "beat_kill", "redis_restart", "participant_down"} <= killed, \
        f"supervision restarted nothing after {sorted({'worker_sigkill', 'beat_kill', 'redis_restart', 'participant_down'} - killed)}"
    assert result.settles[0].ok, f"not settled within the bound: {result.settles[0]}"
    assert all(r.returncode == 0 for r in result.retried), [r for r in result.retried if r.returncode]
    broken = {r.name: r.violations[:5] for r in result.invariants if r.violations}
    assert not broken, f"{result.violations} invariant violation(s) (see the chaos summary): {broken}"


def test_every_saga_ends_and_invariants_hold_under_faults(chaos_run: Run, seed: int) -> None:
    """The short run (``make test``): ~90 saga runs, every fault kind, a few minutes."""
    assert_survived(chaos_run(short_plan(seed)), min_sagas=60)


@pytest.mark.chaos
def test_long_chaos_run(chaos_run: Run, seed: int) -> None:
    """The long run (``make chaos``): hundreds of sagas, three rounds of every fault kind."""
    assert_survived(chaos_run(long_plan(seed)), min_sagas=300)


@pytest.mark.chaos
def test_up_after_killing_everything_works_every_time() -> None:
    """``make up`` after a power cut of the whole stack (supervisord included) succeeds, five times running."""
    stack = start_stack({})
    try:
        for round_ in range(5):
            kill_everything(stack.env)
            done = stack.devstack("up")
            assert done.returncode == 0, f"round {round_}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    finally:
        stop_stack(stack)
