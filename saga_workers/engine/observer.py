"""What the runner tells the outside about each attempt: a hook for logs and metrics.

The engine stays free of both; ``saga_workers.telemetry`` implements this for the workers, and
the default tells no one (unit tests with fakes).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from saga_workers.engine.context import StepContext
from saga_workers.engine.store import Attempt


class StepObserver:
    """Told about every attempt of an action or compensation; the base class ignores it all."""

    @contextmanager
    def attempt(self, ctx: StepContext, attempt: Attempt) -> Iterator[None]:
        """Wraps one call of a step's action or compensation (it re-raises what the call raised)."""
        yield

    def retrying(self, ctx: StepContext) -> None:
        """The attempt failed with a fault and will be tried again."""
