"""The per-stack environment file: secrets made once per stack, tools reading the stack's values."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from campus_common.stackenv import load_stack_env, read_env_file, stack_env_path
from devstack.config import load_stack_config
from devstack.secrets import GENERATORS, stack_secrets


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    saved = dict(os.environ)  # load_stack_env writes os.environ directly: put it back whole
    monkeypatch.setenv("RUN_DIR", str(tmp_path / "run"))
    for name in [*GENERATORS, "DATABASE_URL", "PG_PORT", "REDIS_URL"]:
        monkeypatch.delenv(name, raising=False)
    yield tmp_path / "run"
    os.environ.clear()
    os.environ.update(saved)


def test_secrets_are_random_per_stack_kept_across_calls_and_private(tmp_path: Path) -> None:
    first, other = stack_secrets(tmp_path / "a"), stack_secrets(tmp_path / "b")
    assert stack_secrets(tmp_path / "a") == first
    assert all(first[name] != other[name] for name in GENERATORS)
    assert len(first["GATEWAY_JWT_SECRET"]) >= 32
    assert first["FLOWER_BASIC_AUTH"].startswith("admin:") and len(first["FLOWER_BASIC_AUTH"]) > 20
    assert stat.S_IMODE((tmp_path / "a" / "secrets.env").stat().st_mode) == 0o600


def test_a_secret_missing_from_an_older_file_is_added_without_changing_the_others(tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text("GATEWAY_JWT_SECRET=kept-from-before\n")
    values = stack_secrets(tmp_path)
    assert values["GATEWAY_JWT_SECRET"] == "kept-from-before"
    assert set(values) == set(GENERATORS)


def test_stack_env_holds_addresses_and_secrets_and_the_environment_wins(
        run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "15999")
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "x" * 40)
    cfg = load_stack_config()
    values = read_env_file(cfg.write_stack_env())
    assert values["DATABASE_URL"].endswith(":15999/campus")
    assert values["GATEWAY_JWT_SECRET"] == "x" * 40
    assert values["FLOWER_BASIC_AUTH"] == cfg.child_env()["FLOWER_BASIC_AUTH"]
    assert stat.S_IMODE(stack_env_path(run_dir).stat().st_mode) == 0o600


def test_a_tool_loads_the_stack_it_belongs_to_without_overriding_explicit_settings(
        run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "15998")
    load_stack_config().write_stack_env()
    monkeypatch.delenv("PG_PORT")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert load_stack_env() == stack_env_path(run_dir)
    assert os.environ["DATABASE_URL"].endswith(":15998/campus")
    assert os.environ["REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert len(os.environ["GATEWAY_JWT_SECRET"]) >= 32


def test_no_stack_file_changes_nothing(run_dir: Path) -> None:
    assert load_stack_env() is None
    assert "DATABASE_URL" not in os.environ
