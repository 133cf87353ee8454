"""Fault-injection runs against the whole stack (devstack in a temporary RUN_DIR on free ports).

The short run is part of ``make test``. The long one is marked ``chaos`` and skipped unless it is
asked for: ``make chaos`` (``CHAOS=1 pytest -m chaos``), ``CHAOS=1``, or ``-m chaos``. Each run's
summary table is printed at the end of the session. ``CHAOS_SEED`` repeats a run's random choices;
``KEEP_CHAOS_RUN_DIR=1`` keeps the run folder; on failure its logs are copied and their path printed.
"""
from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator

import pytest

from tests.chaos.report import render
from tests.chaos.scenario import ChaosPlan, ChaosResult, run_chaos
from tests.chaos.stack import start_stack, stop_stack

REPORTS = pytest.StashKey[list[str]]()


def chaos_requested(config: pytest.Config) -> bool:
    """True when the long run was asked for (CHAOS=1, or a -m expression selecting ``chaos``)."""
    markexpr = (config.getoption("markexpr", default="") or "").replace(" ", "")
    return os.environ.get("CHAOS", "") not in ("", "0") or (
        "chaos" in markexpr and "notchaos" not in markexpr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chaos_requested(config):
        return
    skip = pytest.mark.skip(reason="the long chaos run: `make chaos` (or CHAOS=1)")
    for item in items:
        if item.get_closest_marker("chaos"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for report in config.stash.get(REPORTS, []):
        terminalreporter.write_sep("=", "chaos summary")
        terminalreporter.write_line(report)


@pytest.fixture()
def seed() -> int:
    """CHAOS_SEED, or a fresh one (printed in the report, so a run can be repeated)."""
    return int(os.environ.get("CHAOS_SEED") or random.randrange(1, 1_000_000))


@pytest.fixture()
def chaos_run(request: pytest.FixtureRequest) -> Iterator[Callable[[ChaosPlan], ChaosResult]]:
    """Run a plan on a fresh stack; the stack is always torn down (``devstack down``), also on failure."""
    stacks = []

    def run(plan: ChaosPlan) -> ChaosResult:
        stack = start_stack(plan.env)
        stacks.append(stack)
        try:
            result = run_chaos(stack, plan)
        except Exception:
            request.config.stash.setdefault(REPORTS, []).append(
                f"chaos run '{plan.name}' (seed {plan.seed}) broke off; logs: {_keep_logs(stack.run_dir)}")
            raise
        text = render(result)
        request.config.stash.setdefault(REPORTS, []).append(text)
        if result.violations or any(not s.ok for s in result.settles[-1:]):
            text += f"\n  logs: {_keep_logs(stack.run_dir)}"
            request.config.stash[REPORTS][-1] = text
        return result

    yield run
    for stack in stacks:
        stop_stack(stack, keep_run_dir=bool(os.environ.get("KEEP_CHAOS_RUN_DIR")))


def _keep_logs(run_dir) -> str:
    kept = tempfile.mkdtemp(prefix="campus-chaos-logs-")
    shutil.copytree(run_dir / "logs", kept, dirs_exist_ok=True, symlinks=False,
                    ignore_dangling_symlinks=True)
    return kept
