"""`devstack system` installs what the tests need: the stack's servers, and chromium for the console test."""
from __future__ import annotations

import pytest

from devstack import system


def test_the_tests_browser_is_installed_for_the_tests_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "_present", lambda binary: binary not in ("chromium", "chromedriver"))
    assert system.missing_packages() == []
    assert system.missing_packages(test_tools=True) == ["chromium", "chromium-driver"]


def test_a_browser_that_cannot_be_installed_does_not_stop_the_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(system, "_present", lambda binary: binary != "chromium")
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)  # not root: nothing can be installed
    system.ensure_system_packages(said.append, test_tools=True)
    assert "chromium missing" in said[0] and "browser test will be skipped" in said[0]
    monkeypatch.setattr(system, "_present", lambda binary: binary != "initdb")
    with pytest.raises(system.StackError, match="postgresql missing"):
        system.ensure_system_packages(said.append, test_tools=True)
