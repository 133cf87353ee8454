"""The run's summary as plain-text tables: faults injected, sagas by final status, invariants, violations."""
from __future__ import annotations

from collections import Counter

from saga_workers.registry import SAGA_TYPES, SagaStatus
from tests.chaos.scenario import ChaosResult

STATUSES = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED, SagaStatus.STARTED,
            SagaStatus.COMPENSATING)  # the outcomes first
MAX_ROWS_SHOWN = 8


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = lambda row: "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    return [line(header), line(tuple("-" * w for w in widths)), *map(line, rows)]


def render(result: ChaosResult) -> str:
    """The whole report, ready to print."""
    plan = result.plan
    lines = [f"chaos run '{plan.name}' (seed {plan.seed}): {result.timings.get('total', 0):.0f}s in all, "
             f"faults over {result.timings.get('faults', 0):.0f}s, settled at {result.timings.get('settled', 0):.0f}s",
             "", "Faults injected"]
    kinds = Counter(event.spec.kind for event in result.events)
    restarted: dict[str, Counter] = {kind: Counter() for kind in kinds}
    for event in result.events:
        restarted[event.spec.kind].update(event.restarted)
    lines += _table(("fault", "count", "restarted by supervision"),
                    [(kind, str(n), ", ".join(f"{name}" + (f" x{c}" if c > 1 else "")
                                              for name, c in sorted(restarted[kind].items())) or "-")
                     for kind, n in kinds.items()])
    lines += ["", "  " + "details:"] + [f"    {e.spec.kind:<17} {e.took:5.1f}s  {e.detail}" for e in result.events]
    lines += ["", "Sagas by final status"]
    rows = []
    for saga_type in SAGA_TYPES:
        counts = result.sagas.get(saga_type, {})
        rows.append((saga_type, *(str(counts.get(s, 0)) for s in STATUSES),
                     str(result.failed_before_retry.get(saga_type, 0)), str(sum(counts.values()))))
    totals = [sum(int(row[i]) for row in rows) for i in range(1, len(STATUSES) + 3)]
    rows.append(("all", *map(str, totals)))
    lines += _table(("saga", *STATUSES, "FAILED->retried", "total"), rows)
    for retry in result.retried[:MAX_ROWS_SHOWN]:
        said = " ".join(retry.cli.split())[-120:]
        lines.append(f"    saga retry {retry.saga_type} {retry.saga_id} (was: {retry.error[:80]}) -> "
                     f"{'' if retry.returncode == 0 else f'exit {retry.returncode}: '}{said}")
    waits = ", ".join(f"{s.seconds:.0f}s{'' if s.ok else ' (NOT settled)'}" for s in result.settles)
    not_running = ", ".join(result.not_running_at_end) or "none"
    lines += [f"  settling: {waits}; order scripts still running at the end: {result.scripts_unfinished}; "
              f"not running after the faults (no `devstack up` was run): {not_running}", "",
              "Invariants checked"]
    lines += _table(("invariant", "rows checked", "violations"),
                    [(r.name, str(r.checked), str(len(r.violations))) for r in result.invariants])
    lines += ["", f"Violations: {result.violations}"]
    for r in result.invariants:
        for row in r.violations[:MAX_ROWS_SHOWN]:
            lines.append(f"  VIOLATION {r.name}: {row}")
        if len(r.violations) > MAX_ROWS_SHOWN:
            lines.append(f"  ... and {len(r.violations) - MAX_ROWS_SHOWN} more")
    lines += ["", "Workload (driver's view)"]
    lines += [f"    {what}: {n}" for what, n in sorted(result.outcomes.items())]
    lines += [f"    {what}: {n}" for what, n in sorted(result.workload_stats.items())]
    lines += [f"    driver error: {e}" for e in result.driver_errors[:MAX_ROWS_SHOWN]]
    return "\n".join(lines)
