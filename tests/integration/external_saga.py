"""A saga declared outside saga_workers, loaded through SAGA_DEFINITION_MODULES (test_external_sagas.py)."""
from __future__ import annotations

from typing import Any

from saga_workers.engine.context import StepContext
from saga_workers.engine.definition import SagaDefinition, Step


def greet(ctx: StepContext) -> dict[str, Any]:
    """Build a greeting from the saga's input."""
    return {"greeting": f"hello {ctx.payload['name']}"}


def shout(ctx: StepContext) -> dict[str, Any]:
    """Read the first step's output: the steps ran in order, with the state from Postgres."""
    return {"shouted": ctx.output_of("greet")["greeting"].upper()}


SAGAS = [SagaDefinition("greeting", version="1", steps=[Step("greet", greet), Step("shout", shout, needs=("greet",))])]
