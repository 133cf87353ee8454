"""What a step's action or compensation is given: ids, the saga's input, earlier outputs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campus_common.config import Settings


class StepRefused(Exception):
    """A business refusal decided inside a step (not by a participant's 4xx): final, compensate."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class StepContext:
    """Everything one attempt of a step needs; immutable, rebuilt from Postgres for each attempt."""

    saga_id: str
    saga_type: str
    step: str
    phase: str  # "action" or "compensation"
    payload: dict[str, Any]
    outputs: dict[str, Any]
    settings: Settings

    @property
    def idempotency_key(self) -> str:
        """The key every participant call of this attempt carries: ``{saga_id}:{step}:{phase}``."""
        return f"{self.saga_id}:{self.step}:{self.phase}"

    @property
    def action_key(self) -> str:
        """The key this step's action carried: what its compensation names as the action it ``undoes``."""
        return f"{self.saga_id}:{self.step}:action"

    def output_of(self, step: str) -> dict[str, Any]:
        """The recorded output of an earlier step (empty when it returned nothing)."""
        return self.outputs.get(step) or {}
