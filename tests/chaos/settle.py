"""After the faults: wait (bounded) until every saga ended and every accept-timeout fired or was
disarmed, then resume FAILED sagas the operator's way, ``celery -A saga_workers saga retry <id>``."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.invariants import ALL_SAGAS
from tests.chaos.stack import ChaosStack, Rows


@dataclass
class Settled:
    """How waiting ended: ``pending`` lists what was still moving when time ran out (empty: settled)."""

    seconds: float
    pending: Rows = field(default_factory=list)
    armed_timers: int = 0

    @property
    def ok(self) -> bool:
        return not self.pending and not self.armed_timers


@dataclass
class Retried:
    """One ``saga retry`` run: the saga, its error before, what the CLI said."""

    saga_id: str
    saga_type: str
    error: str
    cli: str
    returncode: int


def unfinished(stack: ChaosStack) -> Rows:
    return stack.query(f"SELECT saga_id, saga_type, status, error FROM ({ALL_SAGAS}) s "
                       "WHERE status IN ('STARTED', 'COMPENSATING') ORDER BY saga_type")


def armed_timers(stack: ChaosStack) -> int:
    return stack.query("SELECT count(*) FROM saga_timers.accept_timeouts WHERE status = 'ARMED'")[0][0]


def failed(stack: ChaosStack) -> Rows:
    return stack.query(f"SELECT saga_id::text, saga_type, error FROM ({ALL_SAGAS}) s WHERE status = 'FAILED'")


def wait_settled(stack: ChaosStack, timeout: float) -> Settled:
    """Poll Postgres until no saga is STARTED/COMPENSATING and no accept-timeout is still ARMED."""
    started = time.monotonic()
    while True:
        pending, armed = unfinished(stack), armed_timers(stack)
        elapsed = time.monotonic() - started
        if (not pending and not armed) or elapsed > timeout:
            return Settled(elapsed, pending, armed)
        time.sleep(1.0)


def retry_failed(stack: ChaosStack, rows: Rows, parallel: int = 3) -> list[Retried]:
    """``celery -A saga_workers saga retry`` for each FAILED saga (a few CLIs at a time)."""

    def retry(row: Any) -> Retried:
        done = stack.celery("saga", "retry", row.saga_id)
        return Retried(row.saga_id, row.saga_type, row.error or "", (done.stdout + done.stderr).strip()[-300:],
                       done.returncode)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(retry, rows))


def sagas_by_status(stack: ChaosStack) -> dict[str, dict[str, int]]:
    """{saga_type: {status: count}} across the four saga schemas."""
    table: dict[str, dict[str, int]] = {}
    for saga_type, status, count in stack.query(
            f"SELECT saga_type, status, count(*) FROM ({ALL_SAGAS}) s GROUP BY saga_type, status"):
        table.setdefault(saga_type, {})[status] = count
    return table
