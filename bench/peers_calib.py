"""The peers benchmark's saga (``calib``), declared outside the product: SAGA_DEFINITION_MODULES=peers_calib.

Six steps, no compensations; each POSTs the harness's body ``{"saga_id", "step", "payload": 64 x "x"}``
to its participant through ``saga_workers.steps.call`` (idempotency key, service token, refusal/fault
classification and timeout as for every product step; the harness's participant ignores the token). The participant's URL comes from CALIB_PARTICIPANT_URL.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from saga_workers.engine.context import StepContext
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.steps import call

N_STEPS = 6
PAYLOAD = "x" * 64


def _post_step(number: int) -> Callable[[StepContext], Any]:
    url = os.environ.get("CALIB_PARTICIPANT_URL", "http://127.0.0.1:18080/step")

    def post(ctx: StepContext) -> Any:
        # The harness's saga id rides in the input, so every variant sends the same body.
        return call(ctx, "calib", "POST", url, {"saga_id": ctx.payload["calib_id"], "step": number, "payload": PAYLOAD})

    post.__name__ = post.__qualname__ = f"post_step_{number}"
    return post


SAGAS = [SagaDefinition("calib", steps=[Step(f"step_{n}", _post_step(n)) for n in range(1, N_STEPS + 1)])]
