"""What a step's action or compensation is given: ids, the saga's input, the earlier outputs it needs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from campus_common.config import Settings
from saga_workers.engine.status import idempotency_key

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")  # a step output record is a dataclass


class StepRefused(Exception):
    """A business refusal decided inside a step (not by a participant's 4xx): final, compensate."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class UndeclaredNeed(LookupError):
    """A step read the output of a step its definition does not name in ``needs`` (a bug, not a fault)."""


def output_json(output: Any) -> dict[str, Any] | None:
    """What is stored of a step's output: a dataclass record as its fields, a dict as it is."""
    if dataclasses.is_dataclass(output) and not isinstance(output, type):
        return dataclasses.asdict(output)
    return output


def record_from(record: type[R], data: dict[str, Any]) -> R:
    """A typed record from stored JSON; keys it does not declare are ignored, missing ones take defaults."""
    names = {f.name for f in dataclasses.fields(record)}
    return record(**{key: value for key, value in data.items() if key in names})


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
    needs: tuple[str, ...] = ()  # the earlier steps whose outputs this step reads (Step.needs)

    @property
    def idempotency_key(self) -> str:
        """The key every participant call of this attempt carries: ``{saga_id}:{step}:{phase}``."""
        return idempotency_key(self.saga_id, self.step, self.phase)

    @property
    def action_key(self) -> str:
        """The key this step's action carried: what its compensation names as the action it ``undoes``."""
        return idempotency_key(self.saga_id, self.step, "action")

    @overload
    def output_of(self, step: str) -> dict[str, Any]: ...

    @overload
    def output_of(self, step: str, record: type[R]) -> R: ...

    def output_of(self, step: str, record: type[R] | None = None) -> dict[str, Any] | R:
        """The recorded output of an earlier step this one ``needs``, as ``record`` when given.

        Reading a step not declared in the definition's ``needs`` is refused at once: a renamed step
        would otherwise hand this one an empty output, silently.
        """
        if step not in self.needs:
            raise UndeclaredNeed(f"{self.saga_type} step {self.step!r} reads the output of {step!r} but does not "
                                 f"declare it: add needs=({step!r},) to its Step")
        data = self.outputs.get(step) or {}
        return data if record is None else record_from(record, data)
