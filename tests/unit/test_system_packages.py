"""`devstack system` installs what the tests need: the stack's servers, and chromium for the console test."""
from __future__ import annotations

import pytest

from devstack import system


def test_the_tests_browser_is_installed_for_the_tests_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "_present", lambda binary: binary not in ("chromium", "chromedriver"))
    assert system.missing_packages() == []
    assert system.missing_packages(test_tools=True) == ["chromium", "chromium-driver"]
