"""One invariant of the chaos suite: a name, the SQL for what it covers and the SQL for what breaks it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saga_workers.registry import SAGA_SCHEMAS

# Every saga of every type, one row each: what the rules about sagas read.
ALL_SAGAS = " UNION ALL ".join(
    f"SELECT saga_id, saga_type, status, order_id, runner_id, error FROM {s}.saga_instances" for s in SAGA_SCHEMAS)


@dataclass(frozen=True)
class Invariant:
    """A named rule: ``checked`` counts the rows it covers, ``violations`` lists the rows that break it."""

    name: str
    checked: str
    violations: str


@dataclass
class InvariantResult:
    name: str
    checked: int
    violations: list[dict[str, Any]] = field(default_factory=list)

