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
