"""The saga CLI's text output: aligned tables for people (``--json`` is for scripts)."""
from __future__ import annotations

from typing import Any


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def format_list(items: list[dict[str, Any]]) -> str:
    """A page of sagas, one line each."""
    lines = [f"{'saga_id':<36}  {'type':<15} {'status':<12} {'current step':<22} {'updated':<19}  error"]
    for item in items:
        lines.append(f"{item['saga_id']:<36}  {item['saga_type']:<15} {item['status']:<12} "
                     f"{item['current_step'] or '-':<22} {_when(item['updated_at']):<19}  {item['error'] or ''}")
    lines.append(f"({len(items)} saga{'s' if len(items) != 1 else ''})")
    return "\n".join(lines)


def format_timeline(saga: dict[str, Any]) -> str:
    """The saga and its steps as an aligned text table."""
    lines = [f"saga {saga['saga_id']}  {saga['saga_type']}  {saga['status']}  "
             f"definition version {saga['definition_version']}",
             f"order {saga['order_id']}  current step {saga['current_step'] or '-'}  "
             f"updated {_when(saga['updated_at'])}"]
    if saga.get("error"):
        lines.append(f"error: {saga['error']}")
    lines.append(f"  {'step':<22} {'phase':<13} {'status':<9} {'tries':>5}  {'started':<19}  {'finished':<19}  error")
    for step in saga["steps"]:
        lines.append(f"  {step['name']:<22} {step['phase']:<13} {step['status']:<9} {step['attempts']:>5}  "
                     f"{_when(step['started_at']):<19}  {_when(step['finished_at']):<19}  {step['error'] or ''}")
    return "\n".join(lines)


def format_attempts(saga: dict[str, Any]) -> str:
    """Every attempt of every action and compensation, with the idempotency key its call carried."""
    lines = [f"  {'step':<22} {'phase':<13} {'round':>5} {'try':>3}  {'status':<9} {'started':<19}  {'ms':>8}  "
             "idempotency key / error"]
    for a in saga["attempts"]:
        took = f"{a['duration_ms']:.0f}" if a["duration_ms"] is not None else "-"
        status = a["status"] + ("?" if a["outcome_unknown"] else "")
        lines.append(f"  {a['step']:<22} {a['phase']:<13} {a['round']:>5} {a['attempt']:>3}  {status:<9} "
                     f"{_when(a['started_at']):<19}  {took:>8}  {a['idempotency_key']}")
        if a["error"]:
            lines.append(f"  {'':<22} {'':<13} {'':>5} {'':>3}  {'':<9} {'':<19}  {'':>8}  {a['error']}")
    lines.append("  (? = the outcome is unknown: the call timed out or lost its connection)")
    return "\n".join(lines)
