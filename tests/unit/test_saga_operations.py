"""When an operator may cancel a saga, and which stack a command-line tool acts on."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from campus_common.stackenv import write_env_file
from saga_workers.cli_env import point_at_stack
from saga_workers.sagas import REGISTRY
from datetime import UTC

CREATE = REGISTRY["create_order"]  # create, card, authorize, pivot mark_created (3), arm, notify


def _attempt(index: int, status: str, outcome_unknown: bool = False) -> SimpleNamespace:
    return SimpleNamespace(step_index=index, phase="action", status=status, outcome_unknown=outcome_unknown)


@pytest.mark.parametrize("current_step, attempts", [
    (0, []), (2, [_attempt(0, "DONE"), _attempt(1, "DONE"), _attempt(2, "RUNNING")]),
    (3, [_attempt(3, "FAILED")]),  # the pivot was refused a connection: it surely did not happen
])
def test_a_running_saga_before_its_pivot_can_be_cancelled(current_step: int, attempts: list) -> None:
    assert CREATE.cancel_refusal("STARTED", current_step, attempts) is None


@pytest.mark.parametrize("status, current_step, attempts, says", [
    ("STARTED", 3, [_attempt(3, "RUNNING")], "point of no return (mark_created)"),
    ("STARTED", 3, [_attempt(3, "FAILED", outcome_unknown=True)], "point of no return"),
    ("STARTED", 4, [], "point of no return"),
    ("COMPLETED", 6, [], "is COMPLETED"), ("COMPENSATING", 1, [], "is COMPENSATING"),
    ("FAILED", 2, [], "is FAILED"),
])
def test_past_the_pivot_or_not_running_is_refused(status: str, current_step: int, attempts: list, says: str) -> None:
    refusal = CREATE.cancel_refusal(status, current_step, attempts)
    assert refusal is not None and says in refusal


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    saved = dict(os.environ)  # load_stack_env writes os.environ directly: put it back whole
    for name in ("DATABASE_URL", "REDIS_URL", "PG_PORT", "REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUN_DIR", str(tmp_path))
    write_env_file(tmp_path / "stack.env", {"DATABASE_URL": "postgresql+psycopg2://campus:campus@127.0.0.1:5432/campus",
                                            "REDIS_URL": "redis://127.0.0.1:6379/0", "GATEWAY_PORT": "3100"})
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def test_a_tool_reads_the_stacks_env_file(clean_env: Path) -> None:
    assert point_at_stack() == clean_env / "stack.env"
    assert os.environ["DATABASE_URL"].endswith(":5432/campus") and os.environ["GATEWAY_PORT"] == "3100"


def test_a_port_given_alone_wins_over_another_stacks_url(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "5433")
    monkeypatch.setenv("REDIS_PORT", "6380")
    point_at_stack()
    assert os.environ["DATABASE_URL"] == "postgresql+psycopg2://campus:campus@127.0.0.1:5433/campus"
    assert os.environ["REDIS_URL"] == "redis://127.0.0.1:6380/0"


def test_an_explicit_url_is_kept(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "5433")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://ops@127.0.0.1:7000/ops")
    point_at_stack()
    assert os.environ["DATABASE_URL"] == "postgresql+psycopg2://ops@127.0.0.1:7000/ops"


def test_a_bad_port_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "five")
    with pytest.raises(ValueError, match="PG_PORT must be a port number"):
        point_at_stack()


def test_a_done_step_does_not_show_an_earlier_attempts_error() -> None:
    from datetime import datetime

    from saga_workers.queries import timeline

    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [SimpleNamespace(step_index=0, step_name="notify", phase="action", status=status, error=error,
                            started_at=at, finished_at=at) for status, error in
            [("FAILED", "notify: InfrastructureFault: 503"), ("DONE", None)]]
    assert timeline(rows) == [{"name": "notify", "phase": "action", "status": "DONE", "attempts": 2,
                               "started_at": at, "finished_at": at, "error": None}]
