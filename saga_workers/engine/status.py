"""The words a saga's record is written in: its statuses and the idempotency key of each attempt."""
from __future__ import annotations

from enum import StrEnum


class SagaStatus(StrEnum):
    """A saga instance's status (a ``str``: it compares equal to, and is stored as, its name)."""

    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    COMPENSATING = "COMPENSATING"
    COMPENSATED = "COMPENSATED"
    FAILED = "FAILED"


ACTION, COMPENSATION = "action", "compensation"  # the two phases of a step, in the step log and the key

IDEMPOTENCY_KEY_FORMAT = "{saga_id}:{step}:{phase}"


def idempotency_key(saga_id: str, step: str, phase: str) -> str:
    """The key every participant call of one step's action or compensation carries (SPEC, engine guarantees)."""
    return IDEMPOTENCY_KEY_FORMAT.format(saga_id=saga_id, step=step, phase=phase)
