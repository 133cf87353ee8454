"""Definition versions: a saga runs with the definition it started on, or not at all.

A deploy that inserts, removes or renames a step changes a definition's version. The worker keeps
every version still declared; a saga is run with the one recorded in its row, after checking
that the steps it already ran carry the same names at the same places (a version label reused
for different steps is caught instead of running the wrong step).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from saga_workers.engine.definition import SagaDefinition

log = logging.getLogger(__name__)


class DefinitionUnavailable(Exception):
    """No declared definition can run this saga; the message names the type and version."""


@dataclass(frozen=True)
class Pin:
    """What a saga was started with and where it stands, as recorded in Postgres."""

    saga_type: str
    version: str
    current_step: int
    current_step_name: str | None  # None for sagas recorded before step names were kept
    steps_run: frozenset[tuple[int, str]]  # (index, name) of every attempt in the step log


class DefinitionVersions:
    """Every declared definition by type and version; the newest of each type starts new sagas."""

    def __init__(self, newest: Iterable[SagaDefinition], older: Iterable[SagaDefinition] = ()) -> None:
        self.newest = {d.saga_type: d for d in newest}
        self._declared: dict[str, dict[str, SagaDefinition]] = {t: {d.version: d} for t, d in self.newest.items()}
        for definition in older:
            if definition.saga_type not in self.newest:
                raise ValueError(f"{definition.saga_type}: an older version without a newest one")
            known = self._declared[definition.saga_type].setdefault(definition.version, definition)
            if known is not definition:
                raise ValueError(f"{definition.saga_type}: version {definition.version!r} declared twice")

    def declared(self, saga_type: str) -> list[str]:
        """The versions of ``saga_type`` this process can run, newest first."""
        return list(self._declared.get(saga_type, {}))

    def get(self, saga_type: str, version: str) -> SagaDefinition:
        """The definition ``version`` of ``saga_type``; DefinitionUnavailable when it is not declared."""
        found = self._declared.get(saga_type, {}).get(version)
        if found is None:
            raise DefinitionUnavailable(
                f"{saga_type} saga definition version {version!r} is not deployed here (declared: "
                f"{', '.join(self.declared(saga_type)) or 'none'}); deploy workers that declare it, then retry")
        return found

    def for_saga(self, pin: Pin) -> SagaDefinition:
        """The definition this saga started on, checked step by step against what it ran."""
        definition = self.get(pin.saga_type, pin.version)
        expected = set(pin.steps_run)
        if pin.current_step_name is not None:
            expected.add((pin.current_step, pin.current_step_name))
        for index, name in sorted(expected):
            if definition.name_at(index) != name:
                raise DefinitionUnavailable(
                    f"{pin.saga_type} saga definition version {pin.version!r} does not match this saga: "
                    f"step {index} is {definition.name_at(index)!r} there, the saga has {name!r}")
        return definition


class PinnedStore(Protocol):
    """What ``definition_for`` reads and writes: a SagaStore of the saga's type, of any version."""

    definition: SagaDefinition

    def pin(self, saga_id: str) -> Pin | None: ...

    def stop_unrunnable(self, saga_id: str, error: str) -> bool: ...


def definition_for(versions: DefinitionVersions, store: PinnedStore, saga_id: str) -> SagaDefinition:
    """The definition to run a saga with; one that none can run is stopped FAILED, and this raises.

    ``store`` is a SagaStore of the saga's type (any version: ``pin`` and ``stop_unrunnable`` read
    and write only the saga row and its log).
    """
    saga_type = store.definition.saga_type
    pin = store.pin(saga_id)
    if pin is None:
        return versions.newest[saga_type]
    try:
        return versions.for_saga(pin)
    except DefinitionUnavailable as exc:
        if store.stop_unrunnable(saga_id, str(exc)):
            log.error("saga %s stopped FAILED: %s", saga_id, exc)
        raise
