"""What a process that works with sagas is wired with: settings, databases, stores and runners.

Each process kind's wiring point builds one ``SagaRuntime``: the worker's ``bootstrap`` installs
it for the process (``install``); the gateway keeps its app's and binds it to each of its requests,
the CLI to its command (``bind``). Code deep inside asks ``current()`` (the steps: ``process()``)
instead of reading the environment. Tests wire theirs through the same door: a ``SagaRuntime``
built from a ``Settings`` object they made.
"""
from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field

from campus_common.config import Settings, load_settings
from campus_common.db import Database
from saga_workers import sagas
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.runner import SagaRunner
from saga_workers.engine.store import SagaStore
from saga_workers.engine.versions import definition_for
from saga_workers.telemetry import TELEMETRY


class UnknownSagaType(KeyError):
    """No saga definition is registered under that name."""


@dataclass
class SagaRuntime:
    """One process's wiring: its settings, its databases, and a store and runner per definition, built once."""

    settings: Settings
    database: Database  # pre-ping: producers, views, maintenance and the timers' steps
    # No pre-ping on the steps' path: a connection that died with a Postgres restart fails its
    # statement and the task is retried (tasks.DB_RETRY), so each transaction saves that round trip.
    step_database: Database
    _runners: dict[int, tuple[SagaDefinition, SagaRunner]] = field(default_factory=dict, repr=False)
    _stores: dict[int, tuple[SagaDefinition, SagaStore]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SagaRuntime:
        """The runtime over ``settings``' database (engines are pooled per URL, opened on first use)."""
        return cls(settings, Database(settings.database_url), Database(settings.database_url, pre_ping=False))

    def runner(self, definition: SagaDefinition) -> SagaRunner:
        """The runner of ``definition`` (one per definition object: a test may swap VERSIONS as a deploy would)."""
        cached = self._runners.get(id(definition))
        if cached is None or cached[0] is not definition:
            runner = SagaRunner(definition, SagaStore(self.step_database, definition), self.settings,
                                observer=TELEMETRY)
            cached = self._runners[id(definition)] = (definition, runner)
        return cached[1]

    def store(self, definition: SagaDefinition) -> SagaStore:
        """The store of ``definition``'s saga type for callers outside the step path (pre-ping)."""
        cached = self._stores.get(id(definition))
        if cached is None or cached[0] is not definition:
            cached = self._stores[id(definition)] = (definition, SagaStore(self.database, definition))
        return cached[1]


_lock = threading.Lock()
_process: SagaRuntime | None = None
# A gateway request runs with its app's runtime (several apps may share a test process).
_request: contextvars.ContextVar[SagaRuntime | None] = contextvars.ContextVar("saga_runtime", default=None)


def install(runtime: SagaRuntime) -> SagaRuntime:
    """Make ``runtime`` this process's wiring (a bootstrap does this once; tests to re-wire)."""
    global _process
    with _lock:
        _process = runtime
    return runtime


def process() -> SagaRuntime:
    """The process's runtime (steps run on it); a process that never bootstrapped (a script) is wired from the environment."""
    global _process
    runtime = _process
    if runtime is None:
        with _lock:
            if _process is None:
                _process = SagaRuntime.from_settings(load_settings())
            runtime = _process
    return runtime


def current() -> SagaRuntime:
    """The runtime of the request being served (a gateway's app), else the process's."""
    return _request.get() or process()


def bind(runtime: SagaRuntime) -> contextvars.Token[SagaRuntime | None]:
    """Serve this request with ``runtime`` (the gateway's app's) until ``unbind``; the process's stays as it is."""
    return _request.set(runtime)


def unbind(token: contextvars.Token[SagaRuntime | None]) -> None:
    """End what ``bind`` began."""
    _request.reset(token)


def runner_for(saga_type: str, saga_id: str | None = None, version: str | None = None) -> SagaRunner:
    """The runner of ``saga_type``'s newest definition; given a saga, of the definition it started on.

    ``version``: the definition version a claimed step was recorded with (``SagaStore.adopt``
    checks it against the saga's row); when it is declared here the saga's pin is not read again.
    Raises DefinitionUnavailable (after stopping the saga FAILED) when no declared version can run it.
    Builds nothing: the runners are the process's, built once per definition.
    """
    versions = sagas.VERSIONS  # read at call time: a test swaps it as a deploy would
    try:
        definition = versions.newest[saga_type]
    except KeyError as exc:
        raise UnknownSagaType(saga_type) from exc
    if version is not None and version in versions.declared(saga_type):
        definition, saga_id = versions.get(saga_type, version), None
    runtime = process()
    if saga_id is not None:
        definition = definition_for(versions, runtime.runner(definition).store, saga_id)
    return runtime.runner(definition)
