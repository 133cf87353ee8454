"""SAGA_DEFINITION_MODULES: which modules are read, what they must declare, what is refused."""
from __future__ import annotations

import sys
import types

import pytest

from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.sagas import REGISTRY, external


def _noop(ctx):
    return None


def _module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, name, module)


def test_module_names_are_comma_separated_and_blanks_dropped() -> None:
    assert external.module_names(" team.sagas, ,other.sagas ") == ["team.sagas", "other.sagas"]
    assert external.module_names("") == []


def test_a_module_adds_its_sagas_and_older_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    newest = SagaDefinition("refund", version="2", steps=[Step("refund", _noop)])
    older = SagaDefinition("refund", version="1", steps=[Step("pay_back", _noop)])
    _module(monkeypatch, "team_sagas", SAGAS=[newest], OLDER_VERSIONS=(older,))
    assert external.load(["team_sagas"], REGISTRY) == ([newest], [older])


def test_a_module_without_sagas_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _module(monkeypatch, "empty_sagas")
    with pytest.raises(ValueError, match="empty_sagas must declare SAGAS"):
        external.load(["empty_sagas"], REGISTRY)


def test_a_saga_type_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    clash = SagaDefinition("create_order", steps=[Step("other", _noop)])
    _module(monkeypatch, "clashing_sagas", SAGAS=[clash])
    with pytest.raises(ValueError, match="'create_order', which is already declared"):
        external.load(["clashing_sagas"], REGISTRY)


def test_a_missing_module_stops_the_start_up() -> None:
    with pytest.raises(ImportError):
        external.load(["no_such_saga_module"], REGISTRY)
